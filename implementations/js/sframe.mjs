// SFrame (RFC 9605) on WebCrypto.
//
// Portable ES module: no Node-specific imports. It runs unchanged in
// Node >= 20 (globalThis.crypto.subtle), in browsers and in workers
// (including an RTCRtpScriptTransform worker).
//
// KID and CTR are u64 values handled as BigInt. Binary inputs are
// Uint8Array (ArrayBuffer and other ArrayBufferViews are accepted too);
// binary outputs are fresh Uint8Arrays.

const subtle = globalThis.crypto && globalThis.crypto.subtle;

export const U64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------
// Errors

/** Error codes, equal to the conformance protocol's error class names. */
export const ErrorCode = Object.freeze({
  MALFORMED: 'malformed',
  AUTH_FAILED: 'auth_failed',
  UNKNOWN_KID: 'unknown_kid',
  UNSUPPORTED: 'unsupported',
  INVALID_ARGUMENT: 'invalid_argument',
  COUNTER_EXHAUSTED: 'counter_exhausted',
  KEY_USAGE: 'key_usage',
});

export class SFrameError extends Error {
  /**
   * @param {string} code one of ErrorCode
   * @param {string} [message]
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message || code, options);
    this.name = 'SFrameError';
    this.code = code;
  }
}

function fail(code, message) {
  throw new SFrameError(code, message);
}

// ---------------------------------------------------------------------------
// Cipher suites (RFC 9605 §4.5 / IANA; 6-8 from draft-barnes-sframe-iana-256)

/**
 * Nh: hash output size, Nka: CTR encryption key size (CTR suites only),
 * Nk: AEAD key size, Nn: nonce size, Nt: tag size (all in bytes).
 */
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

/** Look up a suite; a non-integer is invalid_argument, an unknown id unsupported. */
export function getSuite(suite) {
  if (typeof suite === 'object' && suite !== null && typeof suite.id === 'number') suite = suite.id;
  if (typeof suite === 'bigint') suite = Number(suite);
  if (typeof suite !== 'number' || !Number.isInteger(suite)) {
    fail(ErrorCode.INVALID_ARGUMENT, 'cipher suite must be an integer');
  }
  const s = Object.prototype.hasOwnProperty.call(SUITES, suite) ? SUITES[suite] : undefined;
  if (!s) fail(ErrorCode.UNSUPPORTED, `unsupported cipher suite ${suite}`);
  return s;
}

// ---------------------------------------------------------------------------
// Small helpers

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
  fail(ErrorCode.INVALID_ARGUMENT, `${name} must be a Uint8Array`);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(bytes) {
  const b = toBytes(bytes);
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

export function hexToBytes(hex, name = 'hex') {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} is not an even-length hex string`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function u64be(v) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v));
  return out;
}

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function requireSubtle() {
  if (!subtle) fail(ErrorCode.UNSUPPORTED, 'WebCrypto (crypto.subtle) is not available');
  return subtle;
}

// ---------------------------------------------------------------------------
// Header (RFC 9605 §4.3)

function minLen(v) {
  let n = 1;
  while (v > 0xffn) { v >>= 8n; n++; }
  return n;
}

/**
 * Minimal header encoding of (kid, ctr). Synchronous (no crypto involved);
 * awaiting it works too.
 * @returns {Uint8Array}
 */
export function encodeHeader(kid, ctr) {
  kid = toU64(kid, 'kid');
  ctr = toU64(ctr, 'ctr');
  const kidLen = kid < 8n ? 0 : minLen(kid);
  const ctrLen = ctr < 8n ? 0 : minLen(ctr);
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
 * Accepts non-minimal encodings and reports them with `minimal: false`.
 * `header` is a view of the bytes as received: use it (never a re-encoding)
 * as the AAD prefix.
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

// ---------------------------------------------------------------------------
// Key derivation (RFC 9605 §4.4.2) and key import, with a CryptoKey cache

function label(kind, kid, suiteId) {
  const prefix = new TextEncoder().encode(`SFrame 1.0 Secret ${kind} `);
  const tail = new Uint8Array(10);
  const dv = new DataView(tail.buffer);
  dv.setBigUint64(0, kid);
  dv.setUint16(8, suiteId);
  return concat(prefix, tail);
}

async function deriveRaw(s, baseKey, kid) {
  const sub = requireSubtle();
  const ikm = await sub.importKey('raw', baseKey, 'HKDF', false, ['deriveBits']);
  const empty = new Uint8Array(0);
  const [key, salt] = await Promise.all([
    sub.deriveBits({ name: 'HKDF', hash: s.hash, salt: empty, info: label('key', kid, s.id) }, ikm, s.Nk * 8),
    sub.deriveBits({ name: 'HKDF', hash: s.hash, salt: empty, info: label('salt', kid, s.id) }, ikm, s.Nn * 8),
  ]);
  return { key: new Uint8Array(key), salt: new Uint8Array(salt) };
}

async function importAeadKey(s, key) {
  const sub = requireSubtle();
  if (s.aead === 'gcm') {
    return { gcm: await sub.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']) };
  }
  const [ctr, mac] = await Promise.all([
    sub.importKey('raw', key.slice(0, s.Nka), { name: 'AES-CTR' }, false, ['encrypt', 'decrypt']),
    sub.importKey('raw', key.slice(s.Nka, s.Nka + s.Nh), { name: 'HMAC', hash: s.hash }, false, ['sign']),
  ]);
  return { ctr, mac };
}

const CACHE_MAX = 512;
const cache = new Map(); // cacheKey -> Promise<{key, salt, aead}>

function cached(cacheKey, make) {
  let p = cache.get(cacheKey);
  if (p) {
    cache.delete(cacheKey); // LRU: move to the back
    cache.set(cacheKey, p);
    return p;
  }
  p = make();
  p.catch(() => { if (cache.get(cacheKey) === p) cache.delete(cacheKey); });
  cache.set(cacheKey, p);
  while (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value);
  return p;
}

/** Derived material + imported CryptoKeys for (suite, baseKey, kid), cached. */
function keyMaterial(s, baseKey, kid) {
  return cached(`d:${s.id}:${kid}:${bytesToHex(baseKey)}`, async () => {
    const { key, salt } = await deriveRaw(s, baseKey, kid);
    return { key, salt, aead: await importAeadKey(s, key) };
  });
}

/** Imported CryptoKeys for a raw AEAD key, cached. */
function rawAeadKeys(s, key) {
  return cached(`r:${s.id}:${bytesToHex(key)}`, () => importAeadKey(s, key));
}

/** Clear the CryptoKey cache (e.g. after a key rotation). */
export function clearKeyCache() {
  cache.clear();
}

/**
 * sframe_key and sframe_salt for (suite, baseKey, kid).
 * @returns {Promise<{key: Uint8Array, salt: Uint8Array}>}
 */
export async function deriveKeySalt(suite, baseKey, kid) {
  const s = getSuite(suite);
  baseKey = toBytes(baseKey, 'baseKey');
  kid = toU64(kid, 'kid');
  const m = await keyMaterial(s, baseKey, kid);
  return { key: m.key.slice(), salt: m.salt.slice() };
}

// ---------------------------------------------------------------------------
// AEAD (RFC 9605 §4.5, §4.5.1)

function macInput(s, nonce, aad, ct) {
  const out = new Uint8Array(24 + nonce.length + aad.length + ct.length);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(aad.length));
  dv.setBigUint64(8, BigInt(ct.length));
  dv.setBigUint64(16, BigInt(s.Nt));
  out.set(nonce, 24);
  out.set(aad, 24 + nonce.length);
  out.set(ct, 24 + nonce.length + aad.length);
  return out;
}

function ctrParams(nonce) {
  const counter = new Uint8Array(16);
  counter.set(nonce, 0); // nonce || 00000000, 32-bit block counter
  return { name: 'AES-CTR', counter, length: 32 };
}

async function seal(s, keys, nonce, aad, pt) {
  const sub = requireSubtle();
  if (s.aead === 'gcm') {
    return new Uint8Array(await sub.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, keys.gcm, pt));
  }
  const ct = new Uint8Array(await sub.encrypt(ctrParams(nonce), keys.ctr, pt));
  const tag = new Uint8Array(await sub.sign('HMAC', keys.mac, macInput(s, nonce, aad, ct)));
  const out = new Uint8Array(ct.length + s.Nt);
  out.set(ct, 0);
  out.set(tag.subarray(0, s.Nt), ct.length);
  return out;
}

async function open(s, keys, nonce, aad, data) {
  const sub = requireSubtle();
  if (data.length < s.Nt) fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
  if (s.aead === 'gcm') {
    try {
      return new Uint8Array(await sub.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, keys.gcm, data));
    } catch (e) {
      if (e && e.name === 'OperationError') {
        throw new SFrameError(ErrorCode.AUTH_FAILED, 'authentication tag mismatch', { cause: e });
      }
      throw e;
    }
  }
  const ct = data.subarray(0, data.length - s.Nt);
  const tag = data.subarray(data.length - s.Nt);
  const full = new Uint8Array(await sub.sign('HMAC', keys.mac, macInput(s, nonce, aad, ct)));
  if (!constantTimeEqual(full.subarray(0, s.Nt), tag)) {
    fail(ErrorCode.AUTH_FAILED, 'authentication tag mismatch');
  }
  return new Uint8Array(await sub.decrypt(ctrParams(nonce), keys.ctr, ct));
}

function checkRawKeyNonce(s, key, nonce) {
  if (key.length !== s.Nk) fail(ErrorCode.INVALID_ARGUMENT, `key must be ${s.Nk} bytes for suite ${s.id}`);
  if (nonce.length !== s.Nn) fail(ErrorCode.INVALID_ARGUMENT, `nonce must be ${s.Nn} bytes`);
}

/** Raw AEAD encryption with an Nk-byte key: returns ciphertext || tag. */
export async function aeadEncrypt(suite, key, nonce, aad, plaintext) {
  const s = getSuite(suite);
  key = toBytes(key, 'key');
  nonce = toBytes(nonce, 'nonce');
  aad = toBytes(aad, 'aad', true);
  plaintext = toBytes(plaintext, 'plaintext', true);
  checkRawKeyNonce(s, key, nonce);
  return seal(s, await rawAeadKeys(s, key), nonce, aad, plaintext);
}

/** Raw AEAD decryption with an Nk-byte key of ciphertext || tag. */
export async function aeadDecrypt(suite, key, nonce, aad, ciphertext) {
  const s = getSuite(suite);
  key = toBytes(key, 'key');
  nonce = toBytes(nonce, 'nonce');
  aad = toBytes(aad, 'aad', true);
  ciphertext = toBytes(ciphertext, 'ciphertext');
  checkRawKeyNonce(s, key, nonce);
  if (ciphertext.length < s.Nt) fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
  return open(s, await rawAeadKeys(s, key), nonce, aad, ciphertext);
}

// ---------------------------------------------------------------------------
// SFrame encryption / decryption (RFC 9605 §4.4.3, §4.4.4)

function makeNonce(salt, ctr) {
  const nonce = salt.slice();
  const c = u64be(ctr);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i] ^= c[i];
  return nonce;
}

async function encryptWith(s, m, kid, ctr, metadata, plaintext) {
  const header = encodeHeader(kid, ctr);
  const nonce = makeNonce(m.salt, ctr);
  const body = await seal(s, m.aead, nonce, concat(header, metadata), plaintext);
  return concat(header, body);
}

async function decryptWith(s, m, hdr, ciphertext, metadata) {
  const nonce = makeNonce(m.salt, hdr.ctr);
  // AAD = header bytes exactly as received, then metadata.
  return open(s, m.aead, nonce, concat(hdr.header, metadata), ciphertext.subarray(hdr.length));
}

/**
 * Stateless SFrame encryption at exactly `ctr`.
 * @returns {Promise<Uint8Array>} header || AEAD ciphertext || tag
 */
export async function encrypt(suite, baseKey, kid, ctr, metadata, plaintext) {
  const s = getSuite(suite);
  baseKey = toBytes(baseKey, 'baseKey');
  kid = toU64(kid, 'kid');
  ctr = toU64(ctr, 'ctr');
  metadata = toBytes(metadata, 'metadata', true);
  plaintext = toBytes(plaintext, 'plaintext', true);
  return encryptWith(s, await keyMaterial(s, baseKey, kid), kid, ctr, metadata, plaintext);
}

/**
 * Stateless SFrame decryption; `baseKey` under `kid` is the only installed key.
 * @returns {Promise<Uint8Array>} plaintext
 */
export async function decrypt(suite, baseKey, kid, metadata, ciphertext) {
  const s = getSuite(suite);
  baseKey = toBytes(baseKey, 'baseKey');
  kid = toU64(kid, 'kid');
  metadata = toBytes(metadata, 'metadata', true);
  ciphertext = toBytes(ciphertext, 'ciphertext');
  const hdr = decodeHeader(ciphertext);
  if (hdr.kid !== kid) fail(ErrorCode.UNKNOWN_KID, `no key for KID ${hdr.kid}`);
  if (ciphertext.length - hdr.length < s.Nt) {
    fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
  }
  return decryptWith(s, await keyMaterial(s, baseKey, kid), hdr, ciphertext, metadata);
}

// ---------------------------------------------------------------------------
// A small stateful context (one cipher suite, many KIDs)

/**
 * Keys are installed for sending or for receiving, never both. Each send key
 * has a managed counter starting at 0 (or `options.ctr`); after CTR 2^64-1 has
 * been used the key refuses to encrypt (counter_exhausted) and never wraps.
 */
export class SFrameContext {
  #suite;
  #keys = new Map(); // bigint kid -> {usage, material: Promise, next: bigint}

  constructor(suite) {
    this.#suite = getSuite(suite);
  }

  get suite() { return this.#suite.id; }

  #add(kid, baseKey, usage, next) {
    kid = toU64(kid, 'kid');
    baseKey = toBytes(baseKey, 'baseKey').slice();
    const existing = this.#keys.get(kid);
    if (existing && existing.usage !== usage) {
      fail(ErrorCode.KEY_USAGE, `KID ${kid} is already installed as a ${existing.usage} key`);
    }
    if (existing && usage === 'send') {
      fail(ErrorCode.INVALID_ARGUMENT, `send KID ${kid} already installed; remove it first (counter reuse risk)`);
    }
    const material = keyMaterial(this.#suite, baseKey, kid);
    material.catch(() => {}); // surfaced on use
    this.#keys.set(kid, { usage, material, next });
  }

  /** Install a send key. `options.ctr` = first CTR to use (default 0). */
  addSendKey(kid, baseKey, options = {}) {
    const next = options.ctr === undefined ? 0n : toU64(options.ctr, 'ctr');
    this.#add(kid, baseKey, 'send', next);
  }

  /** Install a receive key. */
  addRecvKey(kid, baseKey) {
    this.#add(kid, baseKey, 'recv', 0n);
  }

  /** Remove a key; returns whether one was installed. */
  removeKey(kid) {
    return this.#keys.delete(toU64(kid, 'kid'));
  }

  hasKey(kid) {
    return this.#keys.has(toU64(kid, 'kid'));
  }

  /** Next CTR a send key would use, or null once exhausted / not a send key. */
  nextCounter(kid) {
    const e = this.#keys.get(toU64(kid, 'kid'));
    if (!e || e.usage !== 'send' || e.next > U64_MAX) return null;
    return e.next;
  }

  /** Encrypt with send key `kid` at its next CTR. */
  async encrypt(kid, metadata, plaintext) {
    kid = toU64(kid, 'kid');
    metadata = toBytes(metadata, 'metadata', true);
    plaintext = toBytes(plaintext, 'plaintext', true);
    const e = this.#keys.get(kid);
    if (!e) fail(ErrorCode.UNKNOWN_KID, `no key for KID ${kid}`);
    if (e.usage !== 'send') fail(ErrorCode.KEY_USAGE, `KID ${kid} is a receive key`);
    if (e.next > U64_MAX) fail(ErrorCode.COUNTER_EXHAUSTED, `counter exhausted for KID ${kid}`);
    const ctr = e.next; // reserved synchronously: concurrent calls get distinct CTRs
    e.next = ctr + 1n;
    return encryptWith(this.#suite, await e.material, kid, ctr, metadata, plaintext);
  }

  /** Decrypt with the receive key named by the header's KID. */
  async decrypt(metadata, ciphertext) {
    metadata = toBytes(metadata, 'metadata', true);
    ciphertext = toBytes(ciphertext, 'ciphertext');
    const hdr = decodeHeader(ciphertext);
    const e = this.#keys.get(hdr.kid);
    if (!e) fail(ErrorCode.UNKNOWN_KID, `no key for KID ${hdr.kid}`);
    if (e.usage !== 'recv') fail(ErrorCode.KEY_USAGE, `KID ${hdr.kid} is a send key`);
    const s = this.#suite;
    if (ciphertext.length - hdr.length < s.Nt) {
      fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
    }
    return decryptWith(s, await e.material, hdr, ciphertext, metadata);
  }
}
