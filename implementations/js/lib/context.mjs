// An SFrame context (RFC 9605 §4.4.1): a key store with managed counters.
//
// Rules of this module:
// - A KID holds one key, send-only or receive-only, never both (KEY-02).
//   Adding a KID that already holds a key is key_usage, even with the same
//   usage: it would reset a send counter (nonce reuse).
// - A send key's CTR starts at its first CTR (0 by default), is reserved
//   synchronously (concurrent calls get distinct CTRs) and, once 2^64-1 has
//   been used, the key refuses to encrypt (counter_exhausted): it never wraps.
// - Decryption uses receive keys only, chosen by the header's KID (DEC-06).
// - Receiver state (replay window, and the hooks' `accept`) changes only
//   after a frame has authenticated.
// The sender-key ratchet (ratchet.mjs) and MLS epochs (mls.mjs) subclass
// SFrameContext and choose or derive the key for a KID through the hooks, so
// counters, usage checks, the replay window and the AEAD path are one code.
import { ErrorCode, fail } from './errors.mjs';
import { FrameKey } from './frame.mjs';
import { decodeHeader } from './header.mjs';
import { ReplayWindow } from './replay.mjs';
import { getSuite } from './suites.mjs';
import { U64_MAX, toBytes, toU64 } from './values.mjs';

// Hooks through which the key schedules (ratchet.mjs, mls.mjs) plug into
// SFrameContext. Symbols keep them out of the public API (sframe.mjs does not
// export `hooks`) while letting those subclasses override them.
const NEW_ENTRY = Symbol('newEntry');
const SEND_ENTRY = Symbol('sendEntry');
const RECV_ENTRY = Symbol('recvEntry');
const GET_ENTRY = Symbol('getEntry');
const PUT_ENTRY = Symbol('putEntry');
const DROP_ENTRY = Symbol('dropEntry');
export const hooks = Object.freeze({ NEW_ENTRY, SEND_ENTRY, RECV_ENTRY, GET_ENTRY, PUT_ENTRY, DROP_ENTRY });

/**
 * Keys are installed for sending or for receiving, never both. Each send key
 * has a managed counter starting at 0 (or `options.ctr`); after CTR 2^64-1 has
 * been used the key refuses to encrypt (counter_exhausted) and never wraps.
 * With `options.replayWindow` = N every receive key gets a ReplayWindow of N.
 */
export class SFrameContext {
  #suite;
  #keys = new Map(); // bigint kid -> entry {kid, usage, key: Promise<FrameKey>, next: bigint, window, meta}
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
    const key = FrameKey.derive(this.#suite, toBytes(baseKey, 'baseKey').slice(), kid);
    key.catch(() => {}); // surfaced on use
    const window = this.#replayWindow === null || usage === 'send' ? null : new ReplayWindow(this.#replayWindow);
    return { kid, usage, key, next, window, meta: null };
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
    const ciphertext = await (await e.key).seal(ctr, metadata, plaintext);
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
    const plaintext = await (await entry.key).open(hdr, metadata, ciphertext);
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
