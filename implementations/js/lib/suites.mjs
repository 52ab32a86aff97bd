// Cipher suites (RFC 9605 §4.5 and the IANA registry; 6-8 from
// draft-barnes-sframe-iana-256).
//
// Rules of this module: a suite is data, never code. Nh: hash output size,
// Nka: CTR encryption key size (CTR suites only), Nk: AEAD key size, Nn:
// nonce size, Nt: tag size, all in bytes. A suite id that is not an integer
// is invalid_argument; an integer that names no suite is unsupported.
import { ErrorCode, fail } from './errors.mjs';

export const SUITES = Object.freeze(Object.fromEntries([
  { id: 1, name: 'AES_128_CTR_HMAC_SHA256_80', hash: 'SHA-256', Nh: 32, Nka: 16, Nk: 48, Nn: 12, Nt: 10, aead: 'ctr-hmac' },
  { id: 2, name: 'AES_128_CTR_HMAC_SHA256_64', hash: 'SHA-256', Nh: 32, Nka: 16, Nk: 48, Nn: 12, Nt: 8, aead: 'ctr-hmac' },
  { id: 3, name: 'AES_128_CTR_HMAC_SHA256_32', hash: 'SHA-256', Nh: 32, Nka: 16, Nk: 48, Nn: 12, Nt: 4, aead: 'ctr-hmac' },
  { id: 4, name: 'AES_128_GCM_SHA256_128', hash: 'SHA-256', Nh: 32, Nka: 0, Nk: 16, Nn: 12, Nt: 16, aead: 'gcm' },
  { id: 5, name: 'AES_256_GCM_SHA512_128', hash: 'SHA-512', Nh: 64, Nka: 0, Nk: 32, Nn: 12, Nt: 16, aead: 'gcm' },
  { id: 6, name: 'AES_256_CTR_HMAC_SHA512_80', hash: 'SHA-512', Nh: 64, Nka: 32, Nk: 96, Nn: 12, Nt: 10, aead: 'ctr-hmac' },
  { id: 7, name: 'AES_256_CTR_HMAC_SHA512_64', hash: 'SHA-512', Nh: 64, Nka: 32, Nk: 96, Nn: 12, Nt: 8, aead: 'ctr-hmac' },
  { id: 8, name: 'AES_256_CTR_HMAC_SHA512_32', hash: 'SHA-512', Nh: 64, Nka: 32, Nk: 96, Nn: 12, Nt: 4, aead: 'ctr-hmac' },
].map((s) => [s.id, Object.freeze(s)])));

export const SUPPORTED_SUITES = Object.freeze(Object.keys(SUITES).map(Number));

/** Look up a suite (an id, a BigInt id or a suite object). */
export function getSuite(suite) {
  if (typeof suite === 'object' && suite !== null && typeof suite.id === 'number') suite = suite.id;
  if (typeof suite === 'bigint') suite = Number(suite);
  if (typeof suite !== 'number' || !Number.isInteger(suite)) {
    fail(ErrorCode.INVALID_ARGUMENT, 'cipher suite must be an integer');
  }
  const s = Object.prototype.hasOwnProperty.call(SUITES, suite) ? SUITES[suite] : undefined;
  return s || fail(ErrorCode.UNSUPPORTED, `unsupported cipher suite ${suite}`);
}
