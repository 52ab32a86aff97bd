// Live contexts of the stateful ops, named by opaque handles.
//
// Rules of this module:
// - Handles are strings c1, c2, ...; an unknown or freed handle is
//   invalid_argument, as is a handle of the wrong kind of context.
// - The table is bounded: past `max` the least recently used context is
//   freed (its handle then answers like any freed handle). The harness keeps a
//   few hundred in use, so the bound only stops a client that never frees.
// - Requests on one context run one after another in request order, although
//   the shim starts each request's work as soon as it reads it: the handle is
//   looked up at once, the work is queued behind the context's earlier ops.
import { ArgError, field } from './fields.mjs';

const shown = (handle) => (typeof handle === 'bigint' ? `${handle}` : JSON.stringify(handle));

export class ContextTable {
  #max;
  #slots = new Map(); // handle -> {ctx, queue: Promise}
  #next = 1;

  constructor(max = 4096) {
    this.#max = max;
  }

  add(ctx) {
    const handle = `c${this.#next++}`;
    this.#slots.set(handle, { ctx, queue: Promise.resolve() });
    while (this.#slots.size > this.#max) this.#slots.delete(this.#slots.keys().next().value);
    return handle;
  }

  /** Run `fn(ctx)` after every earlier op on the context named by `req.ctx`, if it is of one of `kind`'s classes. */
  run(req, kind, fn) {
    const handle = field(req, 'ctx');
    const slot = typeof handle === 'string' ? this.#slots.get(handle) : undefined;
    if (!slot) throw new ArgError(`unknown or freed context ${shown(handle)}`);
    this.#slots.delete(handle); // LRU: most recently used last
    this.#slots.set(handle, slot);
    // Exact kinds: a ratchet sender is an SFrameContext too, but plain-context ops must refuse it (PROTOCOL.md).
    const kinds = Array.isArray(kind) ? kind : [kind];
    if (kind && !kinds.includes(slot.ctx.constructor)) {
      throw new ArgError(`context ${handle} is a ${slot.ctx.constructor.name}, not for this op`);
    }
    const run = slot.queue.then(() => fn(slot.ctx));
    slot.queue = run.catch(() => {});
    return run;
  }

  free(req) {
    const handle = field(req, 'ctx');
    if (typeof handle !== 'string' || !this.#slots.delete(handle)) {
      throw new ArgError(`unknown or freed context ${shown(handle)}`);
    }
  }
}
