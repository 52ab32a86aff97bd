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
  REPLAY: 'replay',
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
// Replay window (RFC 9605 §9.3, in the style of RFC 3711 §3.3.2)

/**
 * Receiver-side anti-replay for one key: the highest CTR accepted so far and
 * the CTRs accepted within `size` of it. `check` never changes state; the
 * caller runs `accept` only once the frame has authenticated, so a forged
 * frame cannot move the window.
 */
export class ReplayWindow {
  #size;
  #top = -1n; // highest accepted CTR, -1 before the first frame
  #seen = new Set(); // accepted CTRs; entries below the window are pruned lazily
  #pruneAt = 64;

  constructor(size) {
    if (typeof size === 'number' && Number.isSafeInteger(size)) size = BigInt(size);
    if (typeof size !== 'bigint' || size < 1n) fail(ErrorCode.INVALID_ARGUMENT, 'replay window size must be an integer >= 1');
    this.#size = size;
  }

  get size() { return this.#size; }

  /** Throws `replay` if a frame at `ctr` must be rejected. */
  check(ctr) {
    if (ctr > this.#top) return;
    if (this.#top - ctr >= this.#size) fail(ErrorCode.REPLAY, `CTR ${ctr} is older than the replay window`);
    if (this.#seen.has(ctr)) fail(ErrorCode.REPLAY, `CTR ${ctr} was already accepted`);
  }

  /** Record an authenticated frame; re-checks, because another frame may have been accepted meanwhile. */
  accept(ctr) {
    this.check(ctr);
    this.#seen.add(ctr);
    if (ctr > this.#top) this.#top = ctr;
    if (this.#seen.size > this.#pruneAt) {
      const floor = this.#top - this.#size + 1n;
      for (const c of this.#seen) if (c < floor) this.#seen.delete(c);
      this.#pruneAt = Math.max(64, 2 * this.#seen.size); // amortised: no O(n) scan per frame
    }
  }
}

// ---------------------------------------------------------------------------
// Contexts: a key store with managed counters (RFC 9605 §4.4.1)

// Hooks through which the key schedules below (ratchet, MLS) plug into
// SFrameContext. Symbols keep them out of the public API while letting
// subclasses in this module override them.
const NEW_ENTRY = Symbol('newEntry');
const SEND_ENTRY = Symbol('sendEntry');
const RECV_ENTRY = Symbol('recvEntry');
const GET_ENTRY = Symbol('getEntry');
const PUT_ENTRY = Symbol('putEntry');
const DROP_ENTRY = Symbol('dropEntry');

/**
 * Keys are installed for sending or for receiving, never both. Each send key
 * has a managed counter starting at 0 (or `options.ctr`); after CTR 2^64-1 has
 * been used the key refuses to encrypt (counter_exhausted) and never wraps.
 * With `options.replayWindow` = N every receive key gets a ReplayWindow of N.
 */
export class SFrameContext {
  #suite;
  #keys = new Map(); // bigint kid -> entry {kid, usage, material: Promise, next: bigint, window, meta}
  #replayWindow; // bigint or null

  constructor(suite, options = {}) {
    this.#suite = getSuite(suite);
    const w = options ? options.replayWindow : undefined;
    this.#replayWindow = w == null ? null : new ReplayWindow(w).size;
  }

  get suite() { return this.#suite.id; }

  /** The replay window size (BigInt), or null when anti-replay is off. */
  get replayWindow() { return this.#replayWindow; }

  [NEW_ENTRY](kid, baseKey, usage, next = 0n) {
    const material = keyMaterial(this.#suite, toBytes(baseKey, 'baseKey').slice(), kid);
    material.catch(() => {}); // surfaced on use
    const window = this.#replayWindow === null || usage === 'send' ? null : new ReplayWindow(this.#replayWindow);
    return { kid, usage, material, next, window, meta: null };
  }

  [GET_ENTRY](kid) { return this.#keys.get(kid); }
  [PUT_ENTRY](kid, entry) { this.#keys.set(kid, entry); }
  [DROP_ENTRY](kid) { return this.#keys.delete(kid); }

  #install(kid, entry) {
    const existing = this.#keys.get(kid);
    if (existing) {
      // Re-adding even with the same usage is refused: it would reset a send counter (nonce reuse).
      fail(ErrorCode.KEY_USAGE, `KID ${kid} already holds a ${existing.usage} key`);
    }
    this.#keys.set(kid, entry);
  }

  /** Install a send key. `options.ctr` = first CTR to use (default 0). */
  addSendKey(kid, baseKey, options = {}) {
    kid = toU64(kid, 'kid');
    const next = options.ctr === undefined ? 0n : toU64(options.ctr, 'ctr');
    this.#install(kid, this[NEW_ENTRY](kid, baseKey, 'send', next));
  }

  /** Install a receive key. */
  addRecvKey(kid, baseKey) {
    kid = toU64(kid, 'kid');
    this.#install(kid, this[NEW_ENTRY](kid, baseKey, 'recv'));
  }

  /** Remove a key; returns whether one was installed. */
  removeKey(kid) {
    return this.#keys.delete(toU64(kid, 'kid'));
  }

  hasKey(kid) {
    return this.#keys.has(toU64(kid, 'kid'));
  }

  /** 'send', 'recv' or null. */
  keyUsage(kid) {
    const e = this.#keys.get(toU64(kid, 'kid'));
    return e ? e.usage : null;
  }

  /** Next CTR a send key would use, or null once exhausted / not a send key. */
  nextCounter(kid) {
    const e = this.#keys.get(toU64(kid, 'kid'));
    if (!e || e.usage !== 'send' || e.next > U64_MAX) return null;
    return e.next;
  }

  /** The entry that encrypts under `kid` (hook). */
  [SEND_ENTRY](kid) {
    const e = this.#keys.get(kid);
    if (!e) fail(ErrorCode.UNKNOWN_KID, `no key for KID ${kid}`);
    if (e.usage === 'recv') fail(ErrorCode.KEY_USAGE, `KID ${kid} is a receive key`);
    return e;
  }

  /**
   * The entry that decrypts a frame under `kid` (hook; may return a promise).
   * `accept`, if set, runs only after the frame authenticated.
   * @returns {{entry: object, accept: (() => void) | null}}
   */
  [RECV_ENTRY](kid) {
    const e = this.#keys.get(kid);
    if (!e) fail(ErrorCode.UNKNOWN_KID, `no key for KID ${kid}`);
    if (e.usage === 'send') fail(ErrorCode.KEY_USAGE, `KID ${kid} is a send key`);
    return { entry: e, accept: null };
  }

  /**
   * Encrypt with send key `kid` at its next CTR.
   * @returns {Promise<{ciphertext: Uint8Array, kid: bigint, ctr: bigint}>}
   */
  async encryptFrame(kid, metadata, plaintext) {
    kid = toU64(kid, 'kid');
    metadata = toBytes(metadata, 'metadata', true);
    plaintext = toBytes(plaintext, 'plaintext', true);
    const e = this[SEND_ENTRY](kid);
    if (e.next > U64_MAX) fail(ErrorCode.COUNTER_EXHAUSTED, `counter exhausted for KID ${kid}`);
    const ctr = e.next; // reserved synchronously: concurrent calls get distinct CTRs
    e.next = ctr + 1n;
    const ciphertext = await encryptWith(this.#suite, await e.material, kid, ctr, metadata, plaintext);
    return { ciphertext, kid, ctr };
  }

  /**
   * Decrypt with the receive key named by the header's KID.
   * @returns {Promise<{plaintext: Uint8Array, kid: bigint, ctr: bigint}>} (MLS adds epoch, senderIndex, contextId)
   */
  async decryptFrame(metadata, ciphertext) {
    metadata = toBytes(metadata, 'metadata', true);
    ciphertext = toBytes(ciphertext, 'ciphertext');
    const hdr = decodeHeader(ciphertext);
    const { entry, accept } = await this[RECV_ENTRY](hdr.kid);
    const s = this.#suite;
    if (ciphertext.length - hdr.length < s.Nt) {
      fail(ErrorCode.MALFORMED, `ciphertext shorter than the ${s.Nt}-byte tag`);
    }
    if (entry.window) entry.window.check(hdr.ctr);
    const plaintext = await decryptWith(s, await entry.material, hdr, ciphertext, metadata);
    // Only an authenticated frame may change receiver state.
    if (entry.window) entry.window.accept(hdr.ctr);
    if (accept) accept();
    return { plaintext, kid: hdr.kid, ctr: hdr.ctr, ...(entry.meta || {}) };
  }

  /** Encrypt with send key `kid` at its next CTR; returns the ciphertext. */
  async encrypt(kid, metadata, plaintext) {
    return (await this.encryptFrame(kid, metadata, plaintext)).ciphertext;
  }

  /** Decrypt with the receive key named by the header's KID; returns the plaintext. */
  async decrypt(metadata, ciphertext) {
    return (await this.decryptFrame(metadata, ciphertext)).plaintext;
  }
}

// ---------------------------------------------------------------------------
// Sender-key ratchet (RFC 9605 §5.1)

const RATCHET_LABEL = new TextEncoder().encode('SFrame 1.0 Ratchet');

/** Upper bound on ratchet steps derived in one call, so a forged KID cannot make a receiver spin. */
export const MAX_RATCHET_STEPS = 1 << 14; // ~1.6 s of HKDF in Node; covers every legal gap for R <= 15

async function ratchetOnce(s, key) {
  const sub = requireSubtle();
  const ikm = await sub.importKey('raw', key, 'HKDF', false, ['deriveBits']);
  // WebCrypto HKDF = Extract(salt, ikm) then Expand(info, L): exactly §5.1 with salt "".
  const out = await sub.deriveBits({ name: 'HKDF', hash: s.hash, salt: new Uint8Array(0), info: RATCHET_LABEL }, ikm, s.Nh * 8);
  return new Uint8Array(out);
}

function stepCount(steps, name = 'steps') {
  if (typeof steps === 'bigint' && steps >= 0n && steps <= BigInt(Number.MAX_SAFE_INTEGER)) steps = Number(steps);
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer >= 0`);
  }
  return steps;
}

/**
 * base_key after `steps` ratchet steps:
 * base_key' = HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh).
 * @returns {Promise<Uint8Array>} Nh bytes (or the input, copied, for 0 steps)
 */
export async function ratchetBaseKey(suite, baseKey, steps = 1) {
  const s = getSuite(suite);
  let key = toBytes(baseKey, 'baseKey').slice();
  steps = stepCount(steps);
  if (steps > MAX_RATCHET_STEPS) fail(ErrorCode.UNSUPPORTED, `more than ${MAX_RATCHET_STEPS} ratchet steps`);
  for (let i = 0; i < steps; i++) key = await ratchetOnce(s, key);
  return key;
}

function ratchetParams(generation, ratchetBits) {
  if (typeof ratchetBits !== 'number' || !Number.isInteger(ratchetBits) || ratchetBits < 1 || ratchetBits > 63) {
    fail(ErrorCode.INVALID_ARGUMENT, 'ratchet_bits must be an integer in 1..63');
  }
  const gen = toU64(generation, 'generation');
  const R = BigInt(ratchetBits);
  if ((gen << R) > U64_MAX) fail(ErrorCode.INVALID_ARGUMENT, `generation ${gen} << ${R} does not fit in 64 bits`);
  return { gen, R, mask: (1n << R) - 1n };
}

/** KID = (generation << R) + (step mod 2^R). */
export function ratchetKid(generation, ratchetBits, step) {
  const p = ratchetParams(generation, ratchetBits);
  return (p.gen << p.R) + (BigInt(stepCount(step, 'step')) & p.mask);
}

/**
 * A sender with a ratcheting key: KID (generation << R) + (step mod 2^R).
 * `advance()` moves to the next step; the new key's CTR starts at 0.
 * `encrypt(undefined, ...)` uses the current KID.
 */
export class RatchetSender extends SFrameContext {
  #p;
  #step = 0n;
  #key;
  #kid;
  #busy = Promise.resolve(); // advances run one at a time

  constructor(suite, baseKey, { generation = 0n, ratchetBits } = {}) {
    super(suite);
    this.#p = ratchetParams(generation, ratchetBits);
    this.#key = toBytes(baseKey, 'baseKey').slice();
    this.#kid = this.#p.gen << this.#p.R;
    this.addSendKey(this.#kid, this.#key);
  }

  get kid() { return this.#kid; }
  get step() { return this.#step; }
  get generation() { return this.#p.gen; }
  get ratchetBits() { return Number(this.#p.R); }

  encryptFrame(kid, metadata, plaintext) {
    return super.encryptFrame(kid ?? this.#kid, metadata, plaintext);
  }

  /** @returns {Promise<{kid: bigint, step: bigint}>} */
  advance() {
    const run = async () => {
      const next = await ratchetOnce(getSuite(this.suite), this.#key);
      this.removeKey(this.#kid); // the old step's key is gone: it can never be reused
      this.#step += 1n;
      this.#key = next;
      this.#kid = (this.#p.gen << this.#p.R) + (this.#step & this.#p.mask);
      this.addSendKey(this.#kid, next);
      return { kid: this.#kid, step: this.#step };
    };
    const p = this.#busy.then(run);
    this.#busy = p.catch(() => {});
    return p;
  }
}

/**
 * A receiver for one ratcheting sender. With W = 2^(R-1) it keeps the keys of
 * its newest step c and the W-1 steps before it. A frame whose step field is
 * not kept is taken as step c + ((s - c) mod 2^R): the receiver derives
 * forward, and only if the frame authenticates does c move there (older keys
 * are then deleted).
 */
export class RatchetReceiver extends SFrameContext {
  #p;
  #W;
  #c;
  #steps = new Map(); // bigint step -> {kid, baseKey}

  constructor(suite, baseKey, { generation = 0n, ratchetBits, step = 0, replayWindow } = {}) {
    super(suite, { replayWindow });
    this.#p = ratchetParams(generation, ratchetBits);
    this.#W = 1n << (this.#p.R - 1n);
    this.#c = BigInt(stepCount(step, 'step'));
    this.#keep(this.#c, toBytes(baseKey, 'baseKey').slice());
  }

  get step() { return this.#c; }
  get generation() { return this.#p.gen; }
  get ratchetBits() { return Number(this.#p.R); }
  /** Steps whose keys are currently kept, ascending. */
  get keptSteps() { return [...this.#steps.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); }

  #kidOf(step) { return (this.#p.gen << this.#p.R) + (step & this.#p.mask); }

  #keep(step, baseKey, entry) {
    const kid = this.#kidOf(step);
    const e = entry || this[NEW_ENTRY](kid, baseKey, 'recv');
    e.step = step;
    // Kept steps span W <= 2^(R-1) values, so their KIDs are distinct; a KID
    // still held by a step about to be pruned is simply taken over.
    this[PUT_ENTRY](kid, e);
    this.#steps.set(step, { kid, baseKey });
  }

  #prune() {
    const floor = this.#c - this.#W + 1n;
    for (const [step, { kid }] of this.#steps) {
      if (step >= floor) continue;
      this.#steps.delete(step);
      const e = this[GET_ENTRY](kid);
      if (e && e.step === step) this[DROP_ENTRY](kid);
    }
  }

  async [RECV_ENTRY](kid) {
    const { gen, R, mask } = this.#p;
    if ((kid >> R) !== gen) fail(ErrorCode.UNKNOWN_KID, `KID ${kid} is not from generation ${gen}`);
    const e = this[GET_ENTRY](kid);
    if (e) {
      if (e.usage === 'send') fail(ErrorCode.KEY_USAGE, `KID ${kid} is a send key`);
      return { entry: e, accept: null };
    }
    const c = this.#c;
    const d = ((kid & mask) - c) & mask; // two's-complement & = mod 2^R
    if (d > BigInt(MAX_RATCHET_STEPS)) {
      fail(ErrorCode.AUTH_FAILED, `KID ${kid} is ${d} ratchet steps ahead, more than this receiver will derive`);
    }
    const s = getSuite(this.suite);
    const target = c + d;
    const floor = target - this.#W + 1n;
    const derived = []; // [step, key] within the window the receiver will have if the frame authenticates
    let key = this.#steps.get(c).baseKey;
    for (let step = c + 1n; step <= target; step++) {
      key = await ratchetOnce(s, key);
      if (step >= floor) derived.push([step, key]);
    }
    const entry = this[NEW_ENTRY](kid, key, 'recv');
    entry.step = target;
    return { entry, accept: () => this.#moveTo(target, key, derived, entry) };
  }

  #moveTo(target, key, derived, entry) {
    if (target <= this.#c) {
      // Another frame moved the receiver while this one was being verified.
      if (target > this.#c - this.#W && !this.#steps.has(target)) this.#keep(target, key, entry);
      return;
    }
    this.#c = target;
    for (const [step, key] of derived) {
      if (!this.#steps.has(step)) this.#keep(step, key, step === target ? entry : undefined);
    }
    this.#prune();
  }
}

// ---------------------------------------------------------------------------
// MLS-based key management (RFC 9605 §5.2)

function bitCount(v, name) {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 64) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer in 0..64`);
  }
  return BigInt(v);
}

/** KID = (contextId << (S + E)) + (senderIndex << E) + (epoch mod 2^E). */
export function mlsKid(epochBits, senderBits, epoch, senderIndex, contextId = 0n) {
  const E = bitCount(epochBits, 'epoch_bits');
  const S = bitCount(senderBits, 'sender_bits');
  if (E + S > 64n) fail(ErrorCode.INVALID_ARGUMENT, 'epoch_bits + sender_bits must be <= 64');
  epoch = toU64(epoch, 'epoch');
  senderIndex = toU64(senderIndex, 'sender_index');
  contextId = toU64(contextId, 'context_id');
  if (senderIndex >> S) fail(ErrorCode.INVALID_ARGUMENT, `sender_index ${senderIndex} needs more than ${S} bits`);
  const high = contextId << (S + E);
  if (high > U64_MAX) fail(ErrorCode.INVALID_ARGUMENT, `context_id ${contextId} pushes the KID past 64 bits`);
  return high + (senderIndex << E) + (epoch & ((1n << E) - 1n));
}

/**
 * MLS epochs as a key store. Each epoch's base key is the MLS exporter output
 * `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`; every member derives every
 * member's KID keys from it. At most 2^E epochs are live: adding an epoch
 * evicts the installed one with the same low E bits. Each KID has its own
 * counter and (with `replayWindow`) its own replay window, and is send-only
 * or receive-only in an epoch, decided by its first (successful) use.
 */
export class MlsContext extends SFrameContext {
  #E;
  #S;
  #epochs = new Map(); // bigint (epoch mod 2^E) -> {epoch, secret, entries: Map<kid, entry>}

  constructor(suite, { epochBits, senderBits, replayWindow } = {}) {
    super(suite, { replayWindow });
    this.#E = bitCount(epochBits, 'epoch_bits');
    this.#S = bitCount(senderBits, 'sender_bits');
    if (this.#E + this.#S > 64n) fail(ErrorCode.INVALID_ARGUMENT, 'epoch_bits + sender_bits must be <= 64');
  }

  get epochBits() { return Number(this.#E); }
  get senderBits() { return Number(this.#S); }

  // Keys come from epochs only; a raw KID key would bypass eviction.
  addSendKey() { fail(ErrorCode.INVALID_ARGUMENT, 'an MLS context takes epochs, not keys'); }
  addRecvKey() { fail(ErrorCode.INVALID_ARGUMENT, 'an MLS context takes epochs, not keys'); }

  #slot(epoch) { return epoch & ((1n << this.#E) - 1n); }

  /** Install an epoch's SFrame base key, evicting the epoch that shares its low E bits. */
  addEpoch(epoch, epochSecret) {
    epoch = toU64(epoch, 'epoch');
    const secret = toBytes(epochSecret, 'epochSecret').slice();
    // Map.set replaces the old slot: its keys, counters and windows all go.
    this.#epochs.set(this.#slot(epoch), { epoch, secret, entries: new Map() });
  }

  /** Remove an installed epoch; returns whether it was installed. */
  removeEpoch(epoch) {
    epoch = toU64(epoch, 'epoch');
    const slot = this.#slot(epoch);
    const cur = this.#epochs.get(slot);
    if (!cur || cur.epoch !== epoch) return false;
    this.#epochs.delete(slot);
    return true;
  }

  hasEpoch(epoch) {
    epoch = toU64(epoch, 'epoch');
    const cur = this.#epochs.get(this.#slot(epoch));
    return !!cur && cur.epoch === epoch;
  }

  kid(epoch, senderIndex, contextId = 0n) {
    return mlsKid(Number(this.#E), Number(this.#S), epoch, senderIndex, contextId);
  }

  #epochFor(kid, epoch) {
    const ep = this.#epochs.get(this.#slot(kid));
    if (!ep || (epoch !== undefined && ep.epoch !== epoch)) {
      fail(ErrorCode.UNKNOWN_KID, epoch !== undefined ? `epoch ${epoch} is not installed` : `no epoch installed for KID ${kid}`);
    }
    return ep;
  }

  #newEntry(ep, kid, usage) {
    const e = this[NEW_ENTRY](kid, ep.secret, usage);
    e.meta = {
      epoch: ep.epoch,
      senderIndex: (kid >> this.#E) & ((1n << this.#S) - 1n),
      contextId: kid >> (this.#S + this.#E),
    };
    return e;
  }

  // Within an epoch a KID is send-only or receive-only, like any SFrame key
  // (§4.4.1): the first use decides. A KID this member sends under is its own,
  // so a frame carrying it is refused (key_usage), and vice versa.
  [SEND_ENTRY](kid) {
    const ep = this.#epochFor(kid);
    let e = ep.entries.get(kid);
    if (e && e.usage !== 'send') fail(ErrorCode.KEY_USAGE, `KID ${kid} receives in this context`);
    if (!e) {
      e = this.#newEntry(ep, kid, 'send');
      ep.entries.set(kid, e);
    }
    return e;
  }

  [RECV_ENTRY](kid) {
    const ep = this.#epochFor(kid);
    const e = ep.entries.get(kid);
    if (e) {
      if (e.usage !== 'recv') fail(ErrorCode.KEY_USAGE, `KID ${kid} is one this context sends under`);
      return { entry: e, accept: null };
    }
    // Kept only once a frame authenticates: a forged KID must leave no trace
    // (it would otherwise stop this member from sending under that KID).
    const fresh = this.#newEntry(ep, kid, 'recv');
    return { entry: fresh, accept: () => { if (!ep.entries.has(kid)) ep.entries.set(kid, fresh); } };
  }

  /**
   * Encrypt as member `senderIndex` in `epoch` under stream `contextId`.
   * @returns {Promise<{ciphertext: Uint8Array, kid: bigint, ctr: bigint}>}
   */
  async encryptMls(epoch, senderIndex, contextId, metadata, plaintext) {
    epoch = toU64(epoch, 'epoch');
    const kid = this.kid(epoch, senderIndex, contextId);
    this.#epochFor(kid, epoch); // unknown_kid unless this very epoch is installed
    return this.encryptFrame(kid, metadata, plaintext);
  }

  /**
   * @returns {Promise<{plaintext: Uint8Array, kid: bigint, ctr: bigint, epoch: bigint, senderIndex: bigint, contextId: bigint}>}
   */
  async decryptMls(metadata, ciphertext) {
    return this.decryptFrame(metadata, ciphertext);
  }
}
