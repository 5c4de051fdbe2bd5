import { LogSpan, suggestedSpan } from '../../../src/chain/log-range.js';

describe('LogSpan: adaptive eth_getLogs ranges', () => {
  it('grows while requests succeed with few logs and shrinks on large responses', () => {
    const span = new LogSpan(100, 1000, 10_000);
    span.succeeded(100, 10);
    expect(span.span).toBe(200);
    span.succeeded(200, 10);
    span.succeeded(400, 10);
    span.succeeded(800, 10);
    expect(span.span).toBe(1000);
    expect(span.settled).toBe(true);
    span.succeeded(1000, 30_000);
    expect(span.span).toBe(333); // straight to ~10,000 logs per response
    expect(span.settled).toBe(false);
  });

  it.each([
    ['query returned more than 10000 results', 250],
    ['Log response size exceeded. ... this block range should work: [0x64, 0x95]', 50],
    ['exceed maximum block range: 50', 50],
    ['eth_getLogs is limited to a 10,000 range', 499],
    ['You can make eth_getLogs requests with up to a 2K block range', 499],
    ['block range is too wide', 250],
    ['Query timeout exceeded. Consider reducing your block range', 250],
    ['HTTP response body exceeded the size limit.', 250],
    ['HTTP response body exceeded the size limit.\n\nMax: 10485760 bytes\nReceived: 41943040 bytes', 62],
  ])('understands %j', (message, expected) => {
    const span = new LogSpan(500);
    expect(span.refused(new Error(message), 100, 599)).toBe(expected);
  });

  it('never goes below one block and ignores errors that are not about size', () => {
    const span = new LogSpan(2);
    expect(span.refused(new Error('response size exceeded'), 7, 7)).toBe(1);
    expect(span.refused(new Error('ECONNREFUSED'), 7, 7)).toBeNull();
    expect(span.span).toBe(1);
  });

  it('reads hints', () => {
    expect(suggestedSpan('this block range should work: [0x1, 0x7d0]', 1)).toBe(2000);
    expect(suggestedSpan('nothing useful', 1)).toBeNull();
  });
});
