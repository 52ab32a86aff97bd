// Optional receiver replay window (RFC 9605 §9.3, in the style of RFC 3711 §3.3.2).
//
// Rules of this module: a window keeps the highest CTR accepted so far and
// the CTRs accepted within `size` of it. check() never changes state;
// accept() runs only once a frame has authenticated, and re-checks, so a
// forged frame cannot move the window and a concurrent duplicate still loses.
// A frame N or more below the highest, or already accepted, is `replay`.
import { ErrorCode, fail } from './errors.mjs';

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
