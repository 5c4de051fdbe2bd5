// bench/black-scholes: cost of one option pricing, float64 (with its decimal fallback)
// and 40-digit decimal.
//
//   node bin/run-ts.js bench/black-scholes.ts [--float 100000] [--decimal 1000]
import { parseArgs } from 'node:util';
import {
  ERROR_BUDGET, NOISE_FLOOR, blackScholes, blackScholesFloat64, naturalScale, type OptionGreeks, type OptionInputs,
} from '../src/risk/black-scholes.js';
import { blackScholesDecimal } from '../src/risk/black-scholes-decimal.js';

const { values } = parseArgs({ options: { float: { type: 'string', default: '100000' }, decimal: { type: 'string', default: '1000' } } });

// A fixed-seed generator, so runs compare like with like.
let seed = 42;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const logUniform = (lo: number, hi: number) => lo * (hi / lo) ** random();

/** The test's wide domain, spread over orders of magnitude (many short, low-volatility options). */
function wide(): OptionInputs {
  const spot = logUniform(1, 1e6);
  return {
    kind: random() < 0.5 ? 'CALL' : 'PUT', spot, strike: spot * logUniform(0.2, 5),
    volatility: logUniform(0.01, 3), years: logUniform(1 / 8760, 5), rate: -0.02 + 0.22 * random(),
  };
}

/** What a venue lists: strikes within 2x, a day to a year, volatility 30-150%. */
function typical(): OptionInputs {
  return {
    kind: random() < 0.5 ? 'CALL' : 'PUT', spot: 3000, strike: 3000 * logUniform(0.5, 2),
    volatility: 0.3 + 1.2 * random(), years: logUniform(1 / 365, 1), rate: 0.05 * random(),
  };
}

function nsPer(inputs: OptionInputs[], price: (i: OptionInputs) => unknown): number {
  for (const i of inputs.slice(0, 1000)) price(i); // warm up the JIT
  const start = process.hrtime.bigint();
  for (const i of inputs) price(i);
  return Number(process.hrtime.bigint() - start) / inputs.length;
}

function fallbackShare(inputs: OptionInputs[]): number {
  // The rule of blackScholes: an output whose error bound exceeds the budget.
  let count = 0;
  for (const i of inputs) {
    const { greeks, error } = blackScholesFloat64(i);
    const scale = naturalScale(i.spot);
    const keys = Object.keys(scale) as Array<keyof OptionGreeks>;
    if (keys.some((k) => !(error[k] <= ERROR_BUDGET * Math.max(Math.abs(greeks[k]), NOISE_FLOOR * scale[k])))) count++;
  }
  return count / inputs.length;
}

const nFloat = Number(values.float);
const nDecimal = Number(values.decimal);
for (const [name, make] of [['wide', wide], ['typical', typical]] as const) {
  const inputs = Array.from({ length: nFloat }, make);
  console.log(`${name} domain, ${nFloat} inputs:`);
  console.log(`  float64 only           ${nsPer(inputs, blackScholesFloat64).toFixed(0)} ns/evaluation`);
  console.log(`  blackScholes           ${nsPer(inputs, blackScholes).toFixed(0)} ns/evaluation (decimal fallback on ${(100 * fallbackShare(inputs)).toFixed(2)}% of inputs)`);
  console.log(`  decimal (40 digits)    ${(nsPer(inputs.slice(0, nDecimal), blackScholesDecimal) / 1e3).toFixed(0)} µs/evaluation over ${nDecimal}`);
}
