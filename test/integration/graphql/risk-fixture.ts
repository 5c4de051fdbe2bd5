// A venue whose accounts span every risk case, block after block (risk-engine and stress
// tests): prices, volatilities, funding and books move; ties, zero and negative equity,
// equity tiny against exposure, and a market never priced.
import { ORACLE_1, ev, type EventDraft } from '../../support/ledger.js';
import { random } from '../../support/operation-generator.js';
import { YEAR } from './queries-fixture.js';

export const owner = (i: number) => `0x${(0xb000 + i).toString(16).padStart(40, '0')}`;

export function blocks(seed: number): { time: number; events: EventDraft[] }[] {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const accounts = 160;
  const list: { time: number; events: EventDraft[] }[] = [];
  list.push({
    time: 1000,
    events: [
      ev.perp('ETH-PERP', 'ETH', { interval: 60, maxRate: '0.01' }),
      ev.perp('BTC-PERP', 'BTC', { imf: '0.2', mmf: '0.1' }),
      ev.option('ETH-C', 'ETH', 'CALL', 3000, 1000 + YEAR / 4),
      ev.option('ETH-P', 'ETH', 'PUT', 2800, 1000 + YEAR / 2),
      ev.perp('SOL-PERP', 'SOL'), // never priced: marked at entry
      ev.price('ETH', 3000), ev.price('BTC', 100), ev.vol('ETH-C', '0.6'),
      ...Array.from({ length: accounts }, (_, i) => ev.deposit(owner(i), int(4) === 0 ? 1 : 100 + int(20000))),
    ],
  });
  const markets = ['ETH-PERP', 'BTC-PERP', 'ETH-C', 'ETH-P', 'SOL-PERP'];
  const price = (m: string) => (m === 'BTC-PERP' ? 95 + int(10) : m === 'ETH-C' ? 150 + int(100) : m === 'ETH-P' ? 40 + int(40) : m === 'SOL-PERP' ? 20 + int(5) : 2900 + int(200));
  let time = 1000;
  for (let b = 0; b < 3; b++) {
    time += 30 + int(100);
    const events: EventDraft[] = [];
    for (let k = 0; k < 80; k++) {
      const i = int(accounts);
      const m = markets[int(markets.length)]!;
      events.push(ev.fill(m, owner(i), `${int(2) ? '-' : ''}${1 + int(5)}.${int(10)}`, price(m)));
    }
    // Twins (same book: ties in every order) and an account left at exactly zero equity.
    if (b === 0) events.push(ev.deposit(owner(200), 500), ev.deposit(owner(201), 500), ev.fill('ETH-PERP', owner(200), 1, 3000), ev.fill('ETH-PERP', owner(201), 1, 3000));
    // A cluster whose exact equities differ by 1e-15 each, far below what float64 resolves
    // at their size (about 1e-10 at 1e6), with the same book filled in a different order each:
    // their float sums round differently, so their float order is noise; the exact one is not.
    if (b === 0) {
      const book = [['ETH-PERP', '300.123457', '3000.654321'], ['BTC-PERP', '-901.777777', '100.333333'], ['ETH-C', '-77.5', '201.123']] as const;
      for (let i = 0; i < 30; i++) {
        events.push(ev.deposit(owner(300 + i), `1000000.${String(i).padStart(15, '0')}`));
        for (let k = 0; k < book.length; k++) {
          const [market, size, at] = book[(i + k) % book.length]!;
          events.push(ev.fill(market, owner(300 + i), size, at));
        }
      }
    }
    events.push(ev.price('ETH', 2700 + int(600), ORACLE_1), ev.price('BTC', 80 + int(40), ORACLE_1), ev.vol('ETH-C', `0.${3 + int(6)}`));
    if (int(2)) events.push(ev.withdraw(owner(int(accounts)), 1 + int(500)));
    list.push({ time, events });
  }
  return list;
}
