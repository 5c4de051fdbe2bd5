// Issue 3: a scripted scenario on a real anvil chain whose final positions, collateral,
// funding and margin states equal values computed by hand from SPEC section 3.
import { div, divRound, mul, parseFixed, toSql as formatFixed18 } from '../../../src/fixed/index.js';
import { alignedTime, startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';

const [ALICE, BOB] = TRADERS as [`0x${string}`, `0x${string}`];
const HOUR = 3600;
const x = (v: string | number) => parseFixed(String(v));

describe('ingesting a scripted scenario', () => {
  let net: Devnet;
  beforeAll(async () => {
    net = await startDevnet();
  });
  afterAll(async () => {
    await net?.close();
  });

  it('ends with the hand-computed ledger', async () => {
    const { venue, db } = net;
    const c = venue.call;
    const now = Number((await net.deployment.publicClient.getBlock()).timestamp);
    const t0 = alignedTime(now + 60, HOUR);
    const following = net.follow();

    // A: markets, index 2000, collateral.
    await venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: HOUR, maxFundingRate: '0.01' }),
      c.listOption('ETH-C-1800', 'ETH', 'CALL', 1800, t0 + 7000, { imf: '0.1', mmf: '0.05' }),
      c.volatility('ETH-C-1800', '0.5'),
      c.price('ETH', 2000),
      c.depositFor(ALICE, 0, 1100),
      c.depositFor(BOB, 0, 1100),
    ], { timestamp: t0 });
    // B: Alice buys 2 perps from Bob at 2020 (fee 1 each) and 1 call at premium 150.
    await venue.send([
      c.trade('ETH-PERP', { trader: ALICE, sub: 0, fee: 1 }, { trader: BOB, sub: 0, fee: 1 }, 2, 2020),
      c.trade('ETH-C-1800', { trader: ALICE, sub: 0 }, { trader: BOB, sub: 0 }, 1, 150),
    ], { timestamp: t0 + 600 });
    // C: the first funding period ends.
    await venue.mine({ timestamp: t0 + HOUR });
    // D: the index falls to 1700.
    const d = await venue.send([c.price('ETH', 1700)], { timestamp: t0 + HOUR + 100 });
    // E: Alice sells 1 perp back to Bob at 1700.
    const e = await venue.send([c.trade('ETH-PERP', { trader: BOB, sub: 0 }, { trader: ALICE, sub: 0 }, 1, 1700)], { timestamp: t0 + HOUR + 200 });
    // F: the second period ends; the call (expiry t0 + 7000) settles out of the money.
    const f = await venue.mine({ timestamp: t0 + 2 * HOUR });
    await following.reached(f);

    // Funding, by hand. Period 1: premium (2020 - 2000) / 2000 = 0.01 over 3000 covered s.
    const f1 = mul(x('0.01'), x(2000));
    expect(f1).toBe(x(20));
    // Period 2: 0.01 for 100 s, (2020 - 1700) / 1700 for 100 s, 0 (last fill 1700) for 3400 s.
    const premiumD = div(x(2020) - x(1700), x(1700));
    const rate2 = divRound(x('0.01') * 100n + premiumD * 100n, 3600n);
    const f2 = f1 + mul(rate2, x(1700));

    const market = await db.prisma.market.findUniqueOrThrow({ where: { id: 'ETH-PERP' } });
    expect(market.cumulativeFunding.toFixed(18)).toBe(formatFixed18(f2));
    expect(market.lastFundingRate!.toFixed(18)).toBe(formatFixed18(rate2));

    // Collateral: Alice 1100 - 1 fee - 150 premium - 40 funding settled at E - 320 realized at E.
    // Bob 1100 - 1 + 150 + 40 + 320; the call settles at 1700 < 1800: no payout.
    const accounts = await db.prisma.account.findMany({ orderBy: { id: 'asc' } });
    const byOwner = Object.fromEntries(accounts.map((a) => [a.owner, a]));
    expect(byOwner[ALICE]!.collateral.toFixed(18)).toBe(formatFixed18(x(589)));
    expect(byOwner[BOB]!.collateral.toFixed(18)).toBe(formatFixed18(x(1609)));
    expect(byOwner[ALICE]!.marginState).toBe('HEALTHY');
    expect(byOwner[BOB]!.marginState).toBe('HEALTHY');

    const positions = await db.prisma.position.findMany({ orderBy: [{ accountId: 'asc' }, { marketId: 'asc' }] });
    const perpOf = (owner: string) => positions.find((p) => p.accountId === `${owner}:0` && p.marketId === 'ETH-PERP')!;
    expect(perpOf(ALICE)).toMatchObject({ seq: 1, closedBlock: null });
    expect(perpOf(ALICE).size.toFixed(18)).toBe(formatFixed18(x(1)));
    expect(perpOf(ALICE).entryPrice!.toFixed(18)).toBe(formatFixed18(x(2020)));
    expect(perpOf(ALICE).realizedPnl.toFixed(18)).toBe(formatFixed18(x(-320)));
    expect(perpOf(ALICE).settledFunding.toFixed(18)).toBe(formatFixed18(x(-40)));
    expect(perpOf(ALICE).fundingSnapshot.toFixed(18)).toBe(formatFixed18(f1));
    expect(perpOf(BOB).size.toFixed(18)).toBe(formatFixed18(x(-1)));
    expect(perpOf(BOB).realizedPnl.toFixed(18)).toBe(formatFixed18(x(320)));
    const call = positions.filter((p) => p.marketId === 'ETH-C-1800');
    expect(call.map((p) => [p.accountId, p.realizedPnl.toFixed(0), Number(p.closedBlock)])).toEqual(
      expect.arrayContaining([[`${ALICE}:0`, '-150', f], [`${BOB}:0`, '150', f]]),
    );
    const settlement = await db.prisma.optionSettlement.findMany();
    expect(settlement.map((s) => s.settlementPrice.toFixed(0))).toEqual(['1700', '1700']);

    // Margin transitions: Alice to MARGIN_CALL when the index fell (equity 269.x: IM 340, MM 170),
    // back to HEALTHY when she halved the position (IM 170).
    const transitions = await db.prisma.marginTransition.findMany({ orderBy: { blockNumber: 'asc' } });
    expect(transitions.map((t) => [t.accountId, Number(t.blockNumber), t.from, t.to])).toEqual([
      [`${ALICE}:0`, d.blockNumber, 'HEALTHY', 'MARGIN_CALL'],
      [`${ALICE}:0`, e.blockNumber, 'MARGIN_CALL', 'HEALTHY'],
    ]);
    expect(transitions[0]!.initialMargin.toFixed(18)).toBe(formatFixed18(x(340)));
    expect(transitions[0]!.maintenanceMargin.toFixed(18)).toBe(formatFixed18(x(170)));
    // Equity: 949 - 640 - 40 + the call's value (~0 this far out of the money, 55 minutes to expiry).
    expect(Number(transitions[0]!.equity.toFixed(6))).toBeCloseTo(269, 3);
  });
});
