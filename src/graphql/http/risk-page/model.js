// The risk page's pure part: what it derives from the API's answers, with no DOM and no
// network, so it runs in Node too (test/unit/graphql/risk-page-model.test.ts). Amounts
// stay exact Decimal strings (decimal.js); numbers appear only where uPlot needs them, to
// draw the equity chart.
import Decimal from 'decimal.js';

/** Exact arithmetic on the API's 18-decimal strings: enough digits that no sum or difference rounds. */
const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });

/**
 * How far an account is from liquidation, in quote units: equity - maintenanceMargin
 * (negative: liquidatable now).
 */
export function marginBuffer(account) {
  return new D(account.equity).minus(account.maintenanceMargin).toFixed();
}

/**
 * How far the index of a position's underlying may move before the account is liquidatable:
 * (liquidationPrice - markPrice) / markPrice, a fraction ("-0.081": an 8.1% fall); null
 * when either price is missing or the mark is 0.
 */
export function priceDistance(position) {
  if (position.liquidationPrice == null || position.markPrice == null) return null;
  const mark = new D(position.markPrice);
  if (mark.isZero()) return null;
  return new D(position.liquidationPrice).minus(mark).div(mark).toDecimalPlaces(18).toFixed();
}

/** A Decimal string for reading: `places` decimals, thousands grouped ("-1,234.50"); an em dash for null. */
export function formatAmount(value, places = 2) {
  if (value == null) return '\u2014';
  const fixed = new D(value).toFixed(places);
  const negative = fixed.startsWith('-');
  const [whole, fraction] = (negative ? fixed.slice(1) : fixed).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

/** A fraction as a percentage ("0.0815" -> "8.15%"); an em dash for null. */
export function formatPercent(value, places = 2) {
  if (value == null) return '\u2014';
  return `${formatAmount(new D(value).times(100).toFixed(), places)}%`;
}

/** An account id as short text: "0x1234…abcd:0". */
export function shortAccount(id) {
  const [owner, subaccount] = id.split(':');
  return `${owner.slice(0, 6)}\u2026${owner.slice(-4)}:${subaccount}`;
}

/** Margin transitions, newest first, the list kept to `limit`: `incoming` are newer than `list`. */
export function addTransitions(list, incoming, limit = 50) {
  return [...incoming.slice().reverse(), ...list].slice(0, limit);
}

/**
 * Where a margin transition feed resumes, so that none is lost or shown twice across
 * reconnects (live.js, followTransitions): it starts after the block the first list was
 * read at, and resumes after the block before the newest transition delivered (that
 * block's transitions may have been cut short by the disconnection), skipping those it
 * has delivered (an account changes state at most once per block).
 */
export class TransitionCursor {
  constructor(afterBlock) {
    /** The `afterBlock` to subscribe with now. */
    this.afterBlock = afterBlock;
    this.newest = -1;
    this.delivered = new Set();
  }

  /** Whether `transition` is new (then it moves the cursor), or one delivered already. */
  accept(transition) {
    const key = `${transition.account.id}@${transition.blockNumber}`;
    // Another block: a later one, or, lower, a reorg's new branch; either way a new start.
    if (transition.blockNumber !== this.newest) {
      this.newest = transition.blockNumber;
      this.delivered = new Set();
    }
    if (this.delivered.has(key)) return false;
    this.delivered.add(key);
    this.afterBlock = Math.max(this.newest - 1, 0);
    return true;
  }
}

/**
 * An account's equity over time, one sample per block, for the chart: samples from
 * `Account.history` once it exists (live.js, equityHistory), then the page's own, taken
 * from `accountUpdated` (a new equity) and `blockCommitted` (the equity held through that
 * block). A block seen again (a reorg replaced it) replaces its sample and drops the later ones.
 */
export class EquitySamples {
  constructor(limit = 5000) {
    this.limit = limit;
    /** { block, timestamp, equity } in block order; equity a Decimal string. */
    this.samples = [];
  }

  /** The equity at `block` (number) and `timestamp` (seconds since the epoch). */
  add(block, timestamp, equity) {
    while (this.samples.length > 0 && this.samples[this.samples.length - 1].block >= block) this.samples.pop();
    this.samples.push({ block, timestamp, equity });
    if (this.samples.length > this.limit) this.samples.splice(0, this.samples.length - this.limit);
  }

  /** The last equity sampled, or null. */
  get last() {
    return this.samples.length > 0 ? this.samples[this.samples.length - 1].equity : null;
  }

  /** uPlot's data: [timestamps, equities], as numbers (drawing only). */
  series() {
    return [this.samples.map((s) => s.timestamp), this.samples.map((s) => Number(s.equity))];
  }
}
