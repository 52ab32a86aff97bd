// Key derivation (RFC 9605 §4.4.2): base_key and KID to sframe_key and
// sframe_salt, and the HKDF both it and the ratchet (§5.1) use.
//
// Rules of this module: no cache and no state. WebCrypto's HKDF is
// Extract(salt, ikm) then Expand(info, L) in one call, so every derivation
// here passes the RFC's empty salt. Who derives keys for many frames keeps the
// result (frame.mjs's FrameKey); caching across calls is the caller's choice.
import { subtle } from './webcrypto.mjs';
import { concat, toBytes, toU64 } from './values.mjs';
import { getSuite } from './suites.mjs';

const EMPTY = new Uint8Array(0);
const KEY_PREFIX = new TextEncoder().encode('SFrame 1.0 Secret key ');
const SALT_PREFIX = new TextEncoder().encode('SFrame 1.0 Secret salt ');

/** An HKDF key for `ikm`, from which several outputs can be derived. */
export function hkdfKey(ikm) {
  return subtle().importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
}

/** HKDF-Expand(HKDF-Extract("", ikm), info, length) with the suite's hash. */
export async function hkdfBits(s, ikmKey, info, length) {
  return new Uint8Array(await subtle().deriveBits({ name: 'HKDF', hash: s.hash, salt: EMPTY, info }, ikmKey, length * 8));
}

/** label = prefix || KID as 8 bytes || suite id as 2 bytes, all big-endian. */
function label(prefix, kid, suiteId) {
  const tail = new Uint8Array(10);
  const dv = new DataView(tail.buffer);
  dv.setBigUint64(0, kid);
  dv.setUint16(8, suiteId);
  return concat(prefix, tail);
}

/** sframe_key and sframe_salt for validated inputs (suite object, bytes, BigInt kid). */
export async function deriveMaterial(s, baseKey, kid) {
  const secret = await hkdfKey(baseKey);
  const [key, salt] = await Promise.all([
    hkdfBits(s, secret, label(KEY_PREFIX, kid, s.id), s.Nk),
    hkdfBits(s, secret, label(SALT_PREFIX, kid, s.id), s.Nn),
  ]);
  return { key, salt };
}

/**
 * sframe_key and sframe_salt for (suite, baseKey, kid).
 * @returns {Promise<{key: Uint8Array, salt: Uint8Array}>}
 */
export async function deriveKeySalt(suite, baseKey, kid) {
  return deriveMaterial(getSuite(suite), toBytes(baseKey, 'baseKey'), toU64(kid, 'kid'));
}
