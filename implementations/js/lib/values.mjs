// Input values at the library boundary: u64 and bytes, plus the byte helpers
// every module shares.
//
// Rules of this module: KID, CTR and every other u64 are BigInt inside the
// library; callers may pass a BigInt, a safe non-negative integer Number or a
// decimal string, and anything outside 0..2^64-1 is invalid_argument. Binary
// inputs are taken as Uint8Array views without copying (ArrayBuffer and other
// views are accepted); a module that keeps bytes beyond the call copies them
// itself. Binary outputs are always fresh Uint8Arrays.
import { ErrorCode, fail } from './errors.mjs';

export const U64_MAX = (1n << 64n) - 1n;

/** Coerce a u64 (BigInt, safe non-negative integer Number, or decimal string). */
export function toU64(v, name = 'value') {
  let b;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(ErrorCode.INVALID_ARGUMENT, `${name} is not a safe integer`);
    b = BigInt(v);
  } else if (typeof v === 'string') {
    if (!/^[0-9]{1,40}$/.test(v)) fail(ErrorCode.INVALID_ARGUMENT, `${name} is not a decimal u64`);
    b = BigInt(v);
  } else fail(ErrorCode.INVALID_ARGUMENT, `${name} must be a u64`);
  if (b < 0n || b > U64_MAX) fail(ErrorCode.INVALID_ARGUMENT, `${name} out of range 0..2^64-1`);
  return b;
}

/** Coerce binary input to a Uint8Array view (no copy). null/undefined -> empty when optional. */
export function toBytes(x, name = 'bytes', optional = false) {
  if (x instanceof Uint8Array) return x;
  if (x == null && optional) return new Uint8Array(0);
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return fail(ErrorCode.INVALID_ARGUMENT, `${name} must be a Uint8Array`);
}

// Hex goes through tables and one TextDecoder call: adapters hex-encode every
// frame they pass over JSON lines, so a per-character string build would show.
const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef');
const NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const ASCII = new TextDecoder('latin1');

/** Lowercase hex of `bytes`. */
export function bytesToHex(bytes) {
  const b = toBytes(bytes);
  const out = new Uint8Array(b.length * 2);
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = HEX_DIGITS[b[i] >> 4];
    out[2 * i + 1] = HEX_DIGITS[b[i] & 15];
  }
  return ASCII.decode(out);
}

/** Bytes of an even-length hex string (either case); anything else is invalid_argument. */
export function hexToBytes(hex, name = 'hex') {
  const bad = () => fail(ErrorCode.INVALID_ARGUMENT, `${name} is not an even-length hex string`);
  if (typeof hex !== 'string' || hex.length % 2 !== 0) bad();
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hex.charCodeAt(2 * i);
    const lo = hex.charCodeAt(2 * i + 1);
    const v = hi < 256 && lo < 256 ? (NIBBLE[hi] << 4) | NIBBLE[lo] : -1;
    if (v < 0) bad(); // a -1 nibble makes the whole value negative
    out[i] = v;
  }
  return out;
}

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
