// The two AEAD constructions of RFC 9605 §4.5: AES-GCM, and AES-CTR with a
// truncated HMAC (§4.5.1), both on WebCrypto.
//
// Rules of this module: an AeadKey is imported once per key and reused for
// every frame under it; it holds CryptoKeys only, never the raw key. open()
// releases no plaintext unless the tag verified: GCM's OperationError becomes
// auth_failed, and the CTR+HMAC tag is compared in constant time before any
// decryption. A nonce that is not Nn bytes is invalid_argument; input shorter
// than the tag is malformed.
import { ErrorCode, SFrameError, fail } from './errors.mjs';
import { getSuite } from './suites.mjs';
import { toBytes } from './values.mjs';
import { subtle } from './webcrypto.mjs';

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function checkNonce(s, nonce) {
  if (nonce.length !== s.Nn) fail(ErrorCode.INVALID_ARGUMENT, `nonce must be ${s.Nn} bytes`);
}

function checkLength(s, data) {
  if (data.length < s.Nt) fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
}

class GcmKey {
  constructor(s, key) {
    this.suite = s;
    this.key = key;
  }

  async seal(nonce, aad, plaintext) {
    checkNonce(this.suite, nonce);
    const params = { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 };
    return new Uint8Array(await subtle().encrypt(params, this.key, plaintext));
  }

  async open(nonce, aad, data) {
    checkNonce(this.suite, nonce);
    checkLength(this.suite, data);
    const params = { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 };
    try {
      return new Uint8Array(await subtle().decrypt(params, this.key, data));
    } catch (e) {
      if (e && e.name === 'OperationError') {
        throw new SFrameError(ErrorCode.AUTH_FAILED, 'authentication tag mismatch', { cause: e });
      }
      throw e;
    }
  }
}

/** §4.5.1: AES-CTR with counter block nonce || 00000000 (a 32-bit block counter), HMAC truncated to Nt. */
class CtrHmacKey {
  constructor(s, ctr, mac) {
    this.suite = s;
    this.ctr = ctr;
    this.mac = mac;
  }

  static counterParams(nonce) {
    const counter = new Uint8Array(16);
    counter.set(nonce, 0);
    return { name: 'AES-CTR', counter, length: 32 };
  }

  /** HMAC input: u64(|aad|) || u64(|ct|) || u64(Nt) || nonce || aad || ct. */
  macInput(nonce, aad, ct) {
    const out = new Uint8Array(24 + nonce.length + aad.length + ct.length);
    const dv = new DataView(out.buffer);
    dv.setBigUint64(0, BigInt(aad.length));
    dv.setBigUint64(8, BigInt(ct.length));
    dv.setBigUint64(16, BigInt(this.suite.Nt));
    out.set(nonce, 24);
    out.set(aad, 24 + nonce.length);
    out.set(ct, 24 + nonce.length + aad.length);
    return out;
  }

  async tag(nonce, aad, ct) {
    const full = new Uint8Array(await subtle().sign('HMAC', this.mac, this.macInput(nonce, aad, ct)));
    return full.subarray(0, this.suite.Nt);
  }

  async seal(nonce, aad, plaintext) {
    checkNonce(this.suite, nonce);
    const ct = new Uint8Array(await subtle().encrypt(CtrHmacKey.counterParams(nonce), this.ctr, plaintext));
    const tag = await this.tag(nonce, aad, ct);
    const out = new Uint8Array(ct.length + tag.length);
    out.set(ct, 0);
    out.set(tag, ct.length);
    return out;
  }

  async open(nonce, aad, data) {
    checkNonce(this.suite, nonce);
    checkLength(this.suite, data);
    const Nt = this.suite.Nt;
    const ct = data.subarray(0, data.length - Nt);
    if (!constantTimeEqual(await this.tag(nonce, aad, ct), data.subarray(data.length - Nt))) {
      fail(ErrorCode.AUTH_FAILED, 'authentication tag mismatch');
    }
    return new Uint8Array(await subtle().decrypt(CtrHmacKey.counterParams(nonce), this.ctr, ct));
  }
}

/**
 * Import an Nk-byte AEAD key for suite object `s` (the caller checked the length).
 * @returns {Promise<{seal(nonce, aad, pt): Promise<Uint8Array>, open(nonce, aad, ct): Promise<Uint8Array>}>}
 */
export async function importAeadKey(s, key) {
  const sub = subtle();
  if (s.aead === 'gcm') {
    return new GcmKey(s, await sub.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
  }
  // SUITE-02: the AEAD key is enc_key (Nka bytes) || auth_key (Nh bytes).
  const [ctr, mac] = await Promise.all([
    sub.importKey('raw', key.slice(0, s.Nka), { name: 'AES-CTR' }, false, ['encrypt', 'decrypt']),
    sub.importKey('raw', key.slice(s.Nka, s.Nka + s.Nh), { name: 'HMAC', hash: s.hash }, false, ['sign']),
  ]);
  return new CtrHmacKey(s, ctr, mac);
}

/** A raw AEAD key for `suite`: Nk bytes, else invalid_argument. */
export async function aeadKey(suite, key) {
  const s = getSuite(suite);
  key = toBytes(key, 'key');
  if (key.length !== s.Nk) fail(ErrorCode.INVALID_ARGUMENT, `key must be ${s.Nk} bytes for suite ${s.id}`);
  return importAeadKey(s, key);
}

/**
 * Raw AEAD with a one-use Nk-byte key: `seal` of a plaintext (null is empty) or
 * `open` of ciphertext || tag. Every argument is checked before the key is imported.
 */
async function rawAead(method, inputName, suite, key, nonce, aad, input) {
  const s = getSuite(suite);
  key = toBytes(key, 'key');
  nonce = toBytes(nonce, 'nonce');
  aad = toBytes(aad, 'aad', true);
  input = toBytes(input, inputName, method === 'seal');
  return (await aeadKey(s, key))[method](nonce, aad, input);
}

/** Raw AEAD encryption with an Nk-byte key: returns ciphertext || tag. */
export async function aeadEncrypt(suite, key, nonce, aad, plaintext) {
  return rawAead('seal', 'plaintext', suite, key, nonce, aad, plaintext);
}

/** Raw AEAD decryption with an Nk-byte key of ciphertext || tag. */
export async function aeadDecrypt(suite, key, nonce, aad, ciphertext) {
  return rawAead('open', 'ciphertext', suite, key, nonce, aad, ciphertext);
}
