// The shim's key cache: derived FrameKeys and imported raw AEAD keys.
//
// Rules of this module: the cache belongs to one adapter instance (the
// library keeps none). It holds promises, so concurrent requests for one key
// share one derivation; a derivation that fails is dropped so it can be
// retried. It is a bounded LRU: the harness reuses a few keys for thousands of
// frames, and a client cycling through keys cannot grow it without limit.
import * as sf from '../sframe.mjs';

export class KeyCache {
  #max;
  #entries = new Map(); // string -> Promise

  constructor(max = 512) {
    this.#max = max;
  }

  get size() { return this.#entries.size; }

  #get(cacheKey, make) {
    let p = this.#entries.get(cacheKey);
    if (p) {
      this.#entries.delete(cacheKey); // LRU: move to the back
      this.#entries.set(cacheKey, p);
      return p;
    }
    p = make();
    p.catch(() => { if (this.#entries.get(cacheKey) === p) this.#entries.delete(cacheKey); });
    this.#entries.set(cacheKey, p);
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value);
    return p;
  }

  /** @returns {Promise<sf.FrameKey>} for validated (suite id, baseKey bytes, BigInt kid) */
  frameKey(suite, baseKey, kid) {
    return this.#get(`f:${suite}:${kid}:${sf.bytesToHex(baseKey)}`, () => sf.FrameKey.derive(suite, baseKey.slice(), kid));
  }

  /** Imported CryptoKeys for a raw AEAD key; a wrong length is invalid_argument (and not cached). */
  aeadKey(suite, key) {
    return this.#get(`a:${suite}:${sf.bytesToHex(key)}`, () => sf.aeadKey(suite, key.slice()));
  }

  clear() { this.#entries.clear(); }
}
