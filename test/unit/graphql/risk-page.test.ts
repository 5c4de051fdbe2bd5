// The risk page's pure part (src/graphql/http/risk-page/model.js) in Node, and its
// operations against the schema: a schema change that breaks the page fails here, not
// only in the browser test. The page itself is tested in a browser
// (test/integration/graphql/risk-page-browser.test.ts).
import { parse, validate } from 'graphql';
import { OPERATIONS } from '../../../src/graphql/http/risk-page/live.js';
import {
  addTransitions,
  EquitySamples,
  formatAmount,
  formatPercent,
  marginBuffer,
  priceDistance,
  shortAccount,
  TransitionCursor,
} from '../../../src/graphql/http/risk-page/model.js';
import { buildSchema } from '../../../src/graphql/schema.js';

describe('the risk page', () => {
  it("sends only operations the schema accepts", () => {
    const schema = buildSchema();
    expect(Object.keys(OPERATIONS)).toHaveLength(6);
    for (const [name, text] of Object.entries(OPERATIONS)) expect([name, validate(schema, parse(text)).map((e) => e.message)]).toEqual([name, []]);
  });

  it('derives the distance to liquidation exactly, from the decimal strings', () => {
    expect(marginBuffer({ equity: '150.000000000000000001', maintenanceMargin: '92.5' })).toBe('57.500000000000000001');
    expect(marginBuffer({ equity: '-3', maintenanceMargin: '10' })).toBe('-13');
    // Alice: long 1 at 2000 on 300, liquidated at 1700 / 0.95, marked at 1850.
    expect(priceDistance({ liquidationPrice: '1789.473684210526315789', markPrice: '1850' })).toBe('-0.032716927453769559');
    expect(priceDistance({ liquidationPrice: null, markPrice: '1850' })).toBeNull();
    expect(priceDistance({ liquidationPrice: '10', markPrice: '0' })).toBeNull();
  });

  it('formats amounts and fractions for reading', () => {
    expect(formatAmount('1234567.891')).toBe('1,234,567.89');
    expect(formatAmount('-1000')).toBe('-1,000.00');
    expect(formatAmount('0.5', 4)).toBe('0.5000');
    expect(formatAmount(null)).toBe('\u2014');
    expect(formatPercent('-0.032716927453769559')).toBe('-3.27%');
    expect(formatPercent('0.3333')).toBe('33.33%');
    expect(shortAccount('0x70997970c51812dc3a010c7d01b50e0d17dc79c8:0')).toBe('0x7099\u202679c8:0');
  });

  it('keeps transitions newest first, up to a limit', () => {
    expect(addTransitions([3, 2, 1], [4, 5], 4)).toEqual([5, 4, 3, 2]);
  });

  it('resumes the transition feed with no gap and no repeat', () => {
    const t = (account: string, blockNumber: number) => ({ account: { id: account }, blockNumber });
    const cursor = new TransitionCursor(100); // the list was read at block 100
    expect(cursor.afterBlock).toBe(100);
    expect(cursor.accept(t('a', 103))).toBe(true);
    // Cut short within block 103: resume after 102, so 103's others come again.
    expect(cursor.afterBlock).toBe(102);
    expect([cursor.accept(t('a', 103)), cursor.accept(t('b', 103)), cursor.accept(t('a', 104))]).toEqual([false, true, true]);
    expect(cursor.afterBlock).toBe(103);
    // A reorg's new branch: block 103 again, below the newest; a new start.
    expect(cursor.accept(t('c', 103))).toBe(true);
    expect(cursor.afterBlock).toBe(102);
  });

  it('samples equity per block; a block seen again replaces its sample and drops the later ones', () => {
    const samples = new EquitySamples(3);
    expect(samples.last).toBeNull();
    samples.add(10, 1000, '300');
    samples.add(11, 1001, '300');
    samples.add(11, 1001, '150'); // accountUpdated after blockCommitted in the same block
    samples.add(12, 1002, '150');
    expect(samples.series()).toEqual([[1000, 1001, 1002], [300, 150, 150]]);
    samples.add(11, 1003, '200'); // a reorg replaced block 11
    expect(samples.samples).toEqual([{ block: 10, timestamp: 1000, equity: '300' }, { block: 11, timestamp: 1003, equity: '200' }]);
    for (const block of [12, 13, 14]) samples.add(block, 1000 + block, '1');
    expect(samples.samples.map((s) => s.block)).toEqual([12, 13, 14]); // the limit
    expect(samples.last).toBe('1');
  });
});
