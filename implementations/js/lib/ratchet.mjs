// Sender-key ratchet (RFC 9605 §5.1).
//
// Rules of this module:
// - ratchet(base_key) = HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh).
// - A sender's KID is (generation << R) + (step mod 2^R); (generation << R)
//   must fit in 64 bits and 1 <= R <= 63, else invalid_argument.
// - A sender that advances drops the old step's key (it can never be reused)
//   and its CTR restarts at 0.
// - A receiver keeps, with W = 2^(R-1), its newest step c and the W-1 before
//   it. A step field it does not keep is read as c + ((s - c) mod 2^R); it
//   derives forward, at most MAX_RATCHET_STEPS, and only an authenticated
//   frame moves c (and prunes older keys). Another generation is unknown_kid.
import { SFrameContext, hooks } from './context.mjs';
import { ErrorCode, fail } from './errors.mjs';
import { hkdfBits, hkdfKey } from './kdf.mjs';
import { getSuite } from './suites.mjs';
import { U64_MAX, toBytes, toU64 } from './values.mjs';

const { NEW_ENTRY, RECV_ENTRY, GET_ENTRY, PUT_ENTRY, DROP_ENTRY } = hooks;

const RATCHET_LABEL = new TextEncoder().encode('SFrame 1.0 Ratchet');

/** Upper bound on ratchet steps derived in one call, so a forged KID cannot make a receiver spin. */
export const MAX_RATCHET_STEPS = 1 << 14; // ~1.6 s of HKDF in Node; covers every legal gap for R <= 15

/** One ratchet step: HKDF-Expand(HKDF-Extract("", key), "SFrame 1.0 Ratchet", Nh). */
async function ratchetOnce(s, key) {
  return hkdfBits(s, await hkdfKey(key), RATCHET_LABEL, s.Nh);
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
