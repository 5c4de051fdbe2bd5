// Market ids and underlyings travel as bytes32: an ASCII name right-padded with zero
// bytes ("ETH-PERP", "ETH"); the API shows the name (SPEC section 2).
import type { Hex } from 'viem';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** "ETH-PERP" -> 0x4554482d50455250 followed by 24 zero bytes. Throws on non-ASCII or > 32 chars. */
export function toBytes32Name(name: string): Hex {
  if (!PRINTABLE_ASCII.test(name)) throw new RangeError(`name must be printable ASCII: ${JSON.stringify(name)}`);
  if (name.length > 32) throw new RangeError(`name longer than 32 bytes: ${JSON.stringify(name)}`);
  return `0x${Buffer.from(name, 'latin1').toString('hex').padEnd(64, '0')}`;
}

/**
 * bytes32 -> name, stripping the trailing zero bytes. Chain data is untrusted and this
 * must not stop ingestion, so a value that is not a zero-padded printable ASCII name
 * (a control or non-ASCII byte, a zero byte inside the name) comes back as its
 * lower-case 0x hex: still a stable, unique id, and it cannot collide with a real
 * name (66 characters, while a name has at most 32). Throws only when `hex` is not
 * 32 bytes of hex, which is a programming error.
 */
export function fromBytes32Name(hex: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError(`not a bytes32 hex string: ${hex}`);
  const bytes = Buffer.from(hex.slice(2), 'hex');
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const name = bytes.subarray(0, end).toString('latin1');
  return PRINTABLE_ASCII.test(name) ? name : hex.toLowerCase();
}
