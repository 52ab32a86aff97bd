// MLS-based key management (RFC 9605 §5.2).
//
// Rules of this module:
// - Each epoch's SFrame base_key is MLS-Exporter("SFrame 1.0 Base Key", "", Nk),
//   computed by the caller; every member derives every member's KID keys from it.
// - KID = (context_id << (S + E)) + (sender_index << E) + (epoch mod 2^E);
//   sender_index >= 2^S, a context_id that pushes the KID past 64 bits, or
//   E + S > 64 is invalid_argument.
// - At most 2^E epochs are live: adding an epoch evicts the installed one with
//   the same low E bits, with its keys, counters and windows (a MUST).
// - Each KID has its own counter from 0 and is send-only or receive-only in an
//   epoch, fixed by its first successful use; a frame that fails to
//   authenticate fixes nothing.
import { SFrameContext, hooks } from './context.mjs';
import { ErrorCode, fail } from './errors.mjs';
import { U64_MAX, toBytes, toU64 } from './values.mjs';

const { NEW_ENTRY, SEND_ENTRY, RECV_ENTRY } = hooks;

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
