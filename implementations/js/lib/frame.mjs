// SFrame encryption and decryption of one frame (RFC 9605 §4.4.3, §4.4.4).
//
// Rules of this module: a FrameKey holds everything derived from one
// (suite, base_key, KID) and is derived once for many frames; it has no
// counter, so the caller owns nonce uniqueness (contexts in context.mjs do).
// nonce = sframe_salt XOR CTR as a 12-byte big-endian integer; AAD = the
// header bytes as received, then metadata. A frame under another KID is
// unknown_kid. The stateless encrypt/decrypt derive a FrameKey per call and
// cache nothing: an adapter that wants a cache keeps FrameKeys itself.
import { importAeadKey } from './aead.mjs';
import { ErrorCode, fail } from './errors.mjs';
import { decodeHeader, encodeHeader } from './header.mjs';
import { deriveMaterial } from './kdf.mjs';
import { getSuite } from './suites.mjs';
import { concat, toBytes, toU64 } from './values.mjs';

export class FrameKey {
  #salt;
  #kidHeader; // encodeHeader(kid, 0): the config byte's KID half and the KID bytes, reused per frame

  /** Use FrameKey.derive; the constructor takes already derived parts. */
  constructor(suite, kid, key, salt, aead) {
    this.suite = suite;
    this.kid = kid;
    this.key = key;
    this.#salt = salt;
    this.#kidHeader = encodeHeader(kid, 0n);
    this.aead = aead;
  }

  /** sframe_key, sframe_salt and the imported AEAD key for (suite, baseKey, kid). */
  static async derive(suite, baseKey, kid) {
    const s = getSuite(suite);
    baseKey = toBytes(baseKey, 'baseKey');
    kid = toU64(kid, 'kid');
    const { key, salt } = await deriveMaterial(s, baseKey, kid);
    return new FrameKey(s, kid, key, salt, await importAeadKey(s, key));
  }

  get salt() { return this.#salt.slice(); }

  // The per-frame helpers below allocate one array each and keep BigInt work
  // to a few operations: in Chromium, where a WebCrypto call is cheaper than in
  // Node, the JS around the call is a visible share of a frame (README, "Performance").

  /** sframe_salt XOR CTR, CTR as a 12-byte big-endian integer (so only the last 8 bytes change). */
  nonce(ctr) {
    const nonce = this.#salt.slice();
    const n = nonce.length;
    const lo = Number(ctr & 0xffffffffn);
    const hi = Number(ctr >> 32n);
    for (let i = 0; i < 4; i++) {
      nonce[n - 1 - i] ^= lo >>> (8 * i);
      nonce[n - 5 - i] ^= hi >>> (8 * i);
    }
    return nonce;
  }

  /** encodeHeader(this.kid, ctr), reusing the KID half. */
  header(ctr) {
    const kidHeader = this.#kidHeader;
    if (ctr < 8n) {
      const out = kidHeader.slice();
      out[0] |= Number(ctr);
      return out;
    }
    let ctrLen = 1;
    for (let v = ctr >> 8n; v > 0n; v >>= 8n) ctrLen++;
    const out = new Uint8Array(kidHeader.length + ctrLen);
    out.set(kidHeader);
    out[0] |= 0x8 | (ctrLen - 1);
    for (let i = out.length - 1, v = ctr; i >= kidHeader.length; i--, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  }

  /**
   * Encrypt one frame at exactly `ctr`.
   * @returns {Promise<Uint8Array>} header || AEAD ciphertext || tag
   */
  async seal(ctr, metadata, plaintext) {
    ctr = toU64(ctr, 'ctr');
    metadata = toBytes(metadata, 'metadata', true);
    plaintext = toBytes(plaintext, 'plaintext', true);
    const header = this.header(ctr);
    const aad = metadata.length ? concat(header, metadata) : header;
    return concat(header, await this.aead.seal(this.nonce(ctr), aad, plaintext));
  }

  /** Decrypt `ciphertext` (header included) whose header was parsed as `hdr`. */
  async open(hdr, metadata, ciphertext) {
    const aad = metadata.length ? concat(hdr.header, metadata) : hdr.header;
    return this.aead.open(this.nonce(hdr.ctr), aad, ciphertext.subarray(hdr.length));
  }

  /** Decrypt as a receiver holding only this key: any other KID is unknown_kid. */
  async decrypt(metadata, ciphertext) {
    metadata = toBytes(metadata, 'metadata', true);
    ciphertext = toBytes(ciphertext, 'ciphertext');
    const hdr = checkFrame(this.suite, this.kid, ciphertext);
    return this.open(hdr, metadata, ciphertext);
  }
}

/** The parsed header of a frame for a receiver holding only `kid`, checked before any crypto. */
function checkFrame(s, kid, ciphertext) {
  const hdr = decodeHeader(ciphertext);
  if (hdr.kid !== kid) fail(ErrorCode.UNKNOWN_KID, `no key for KID ${hdr.kid}`);
  if (ciphertext.length - hdr.length < s.Nt) fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
  return hdr;
}

/**
 * Stateless SFrame encryption at exactly `ctr`: keys derived for this call only.
 * @returns {Promise<Uint8Array>} header || AEAD ciphertext || tag
 */
export async function encrypt(suite, baseKey, kid, ctr, metadata, plaintext) {
  const s = getSuite(suite);
  baseKey = toBytes(baseKey, 'baseKey');
  kid = toU64(kid, 'kid');
  ctr = toU64(ctr, 'ctr');
  metadata = toBytes(metadata, 'metadata', true);
  plaintext = toBytes(plaintext, 'plaintext', true);
  return (await FrameKey.derive(s, baseKey, kid)).seal(ctr, metadata, plaintext);
}

/**
 * Stateless SFrame decryption; `baseKey` under `kid` is the only installed key.
 * The frame is checked before any key is derived.
 * @returns {Promise<Uint8Array>} plaintext
 */
export async function decrypt(suite, baseKey, kid, metadata, ciphertext) {
  const s = getSuite(suite);
  baseKey = toBytes(baseKey, 'baseKey');
  kid = toU64(kid, 'kid');
  metadata = toBytes(metadata, 'metadata', true);
  ciphertext = toBytes(ciphertext, 'ciphertext');
  const hdr = checkFrame(s, kid, ciphertext);
  return (await FrameKey.derive(s, baseKey, kid)).open(hdr, metadata, ciphertext);
}
