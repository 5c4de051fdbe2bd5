import { median } from '../../../src/ledger/oracle.js';
import { LedgerChain, ORACLE_1, ORACLE_2, ORACLE_3, ev, x } from '../../support/ledger.js';

describe('index price (SPEC 3, oracle)', () => {
  it('is the median of the sources, the mean of the middle two for an even count', () => {
    expect(median([x(3), x(1), x(2)])).toBe(x(2));
    expect(median([x(4), x(1), x(2), x(3)])).toBe(x('2.5'));
    expect(median([x(1), x('0.000000000000000001')])).toBe(x('0.5')); // half to even at 1e-18
  });

  it('uses the latest report of each source and drops stale ones', () => {
    const chain = new LedgerChain({ oracleStalenessSeconds: 100, riskFreeRate: 0n });
    chain.block(1000, [ev.price('ETH', 100, ORACLE_1), ev.price('ETH', 110, ORACLE_2), ev.price('ETH', 130, ORACLE_3)]);
    expect(chain.state.underlyings.get('ETH')).toMatchObject({ indexPrice: x(110), indexStale: false });
    chain.block(1050, [ev.price('ETH', 90, ORACLE_1), ev.price('ETH', 95, ORACLE_1)]);
    expect(chain.state.underlyings.get('ETH')!.indexPrice).toBe(x(110)); // 95, 110, 130
    // At 1101 the reports of 1000 are 101 s old: only ORACLE_1's 95 of 1050 is fresh.
    const moved = chain.block(1101);
    expect(chain.state.underlyings.get('ETH')).toMatchObject({ indexPrice: x(95), indexStale: false });
    expect(moved.indexPrices).toEqual([{ underlying: 'ETH', blockNumber: 3, timestamp: 1101, price: x(95), stale: false }]);
  });

  it('keeps the last index, flagged stale, when no source is fresh', () => {
    const chain = new LedgerChain({ oracleStalenessSeconds: 100, riskFreeRate: 0n });
    chain.block(1000, [ev.price('ETH', 100)]);
    chain.block(1100);
    expect(chain.state.underlyings.get('ETH')).toMatchObject({ indexPrice: x(100), indexStale: false });
    const stale = chain.block(1101);
    expect(chain.state.underlyings.get('ETH')).toMatchObject({ indexPrice: x(100), indexStale: true });
    expect(stale.indexPrices[0]).toMatchObject({ price: x(100), stale: true });
    chain.block(1102, [ev.price('ETH', 105)]);
    expect(chain.state.underlyings.get('ETH')).toMatchObject({ indexPrice: x(105), indexStale: false });
  });
});
