// Which coding an Accept-Encoding header gets (RFC 9110 section 12.5.3): the acceptable one
// with the highest q-value, brotli on a tie, identity when nothing we make is acceptable.
import { acceptedEncoding } from '../../../src/graphql/http/compression.js';

describe('acceptedEncoding', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['identity', null],
    ['deflate', null],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['GZIP, BR', 'br'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['gzip;q=0.5, br;q=0.9', 'br'],
    ['gzip ; q=0.8 , br ; q=0.8', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', null],
    ['gzip;q=0.000', null],
    ['*', 'br'],
    ['*;q=0', null],
    ['br;q=0, *', 'gzip'],
    ['gzip;q=0.2, *;q=0.5', 'br'],
    ['gzip, *;q=0', 'gzip'],
    ['identity;q=0', null],
    // A q-value we cannot read is no preference for that coding.
    ['br;q=high, gzip', 'gzip'],
    ['br;q=2', null],
  ])('%j -> %j', (header, expected) => {
    expect(acceptedEncoding(header)).toBe(expected);
  });

  it('reads a header sent several times as one list', () => {
    expect(acceptedEncoding(['gzip', 'br;q=0'])).toBe('gzip');
  });
});
