// SFrame header codec (RFC 9605 §4.3).
//
// Rules of this module: the encoder always produces the minimal form. The
// parser accepts every well-formed header, non-minimal ones included (the RFC
// does not require rejecting them), reports minimality, and keeps a view of
// the exact bytes received: the AAD is those bytes, never a re-encoding.
// Empty or truncated input is malformed. Both functions are synchronous.
import { ErrorCode, fail } from './errors.mjs';
import { toBytes, toU64 } from './values.mjs';

/** Bytes needed for v >= 8 in big-endian (1..8). */
function byteLength(v) {
  let n = 1;
  while (v > 0xffn) { v >>= 8n; n++; }
  return n;
}

/**
 * Minimal header encoding of (kid, ctr).
 * @returns {Uint8Array}
 */
export function encodeHeader(kid, ctr) {
  kid = toU64(kid, 'kid');
  ctr = toU64(ctr, 'ctr');
  const kidLen = kid < 8n ? 0 : byteLength(kid);
  const ctrLen = ctr < 8n ? 0 : byteLength(ctr);
  const out = new Uint8Array(1 + kidLen + ctrLen);
  const kn = kidLen ? 0x8 | (kidLen - 1) : Number(kid);
  const cn = ctrLen ? 0x8 | (ctrLen - 1) : Number(ctr);
  out[0] = (kn << 4) | cn;
  let o = 1;
  for (let i = kidLen - 1; i >= 0; i--) out[o++] = Number((kid >> BigInt(8 * i)) & 0xffn);
  for (let i = ctrLen - 1; i >= 0; i--) out[o++] = Number((ctr >> BigInt(8 * i)) & 0xffn);
  return out;
}

/**
 * Parse a header at the start of `data` (more bytes may follow).
 * `header` is a view of the bytes as received: use it as the AAD prefix.
 * @returns {{kid: bigint, ctr: bigint, length: number, minimal: boolean, header: Uint8Array}}
 */
export function decodeHeader(data) {
  const b = toBytes(data, 'data');
  if (b.length === 0) fail(ErrorCode.MALFORMED, 'empty header');
  const cfg = b[0];
  let o = 1;
  let minimal = true;
  const field = (nibble, what) => {
    if ((nibble & 0x8) === 0) return BigInt(nibble);
    const n = (nibble & 0x7) + 1;
    if (o + n > b.length) fail(ErrorCode.MALFORMED, `truncated header: ${what} needs ${n} bytes`);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[o + i]);
    o += n;
    if (v < 8n || (n > 1 && b[o - n] === 0)) minimal = false;
    return v;
  };
  const kid = field(cfg >> 4, 'KID');
  const ctr = field(cfg & 0xf, 'CTR');
  return { kid, ctr, length: o, minimal, header: b.subarray(0, o) };
}
