#!/usr/bin/env node
// Node stdio shim for the sframe-conformance wire protocol, version 1
// (harness/PROTOCOL.md). One JSON request per stdin line, one JSON response
// per stdout line, in request order, even though WebCrypto work completes
// out of order.

import { createInterface } from 'node:readline';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import * as sf from './sframe.mjs';

const NAME = 'sframe-js';
const VERSION = '0.1.0';
const CAPABILITIES = ['encode_header', 'decode_header', 'derive', 'aead_encrypt', 'aead_decrypt', 'shutdown',
  'context', 'ratchet', 'mls', 'replay'];

class ArgError extends sf.SFrameError {
  constructor(message) { super('invalid_argument', message); }
}

// --- request field accessors ----------------------------------------------

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function field(req, name) {
  if (!Object.prototype.hasOwnProperty.call(req, name) || req[name] === null || req[name] === undefined) {
    throw new ArgError(`missing field "${name}"`);
  }
  return req[name];
}

function hexField(req, name) {
  const v = field(req, name);
  if (typeof v !== 'string' || !HEX_RE.test(v)) throw new ArgError(`field "${name}" is not hex`);
  const b = Buffer.from(v, 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function u64Field(req, name) {
  const v = field(req, name);
  if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) {
    return sf.toU64(v, name);
  }
  throw new ArgError(`field "${name}" must be a decimal string`);
}

function suiteField(req) {
  const v = field(req, 'suite');
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ArgError('field "suite" must be an integer');
  return sf.getSuite(v).id; // unsupported for unknown suites
}

const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');

function intField(req, name, fallback) {
  if (fallback !== undefined && (req[name] === undefined || req[name] === null)) return fallback;
  const v = field(req, name);
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ArgError(`field "${name}" must be an integer`);
  return v;
}

function optionalInt(req, name) {
  return req[name] === undefined || req[name] === null ? undefined : intField(req, name);
}

// --- contexts (stateful ops) ---------------------------------------------------
//
// Live contexts are bounded: past MAX_CONTEXTS the least recently used one is
// freed (its handle then answers invalid_argument like any freed handle). The
// harness keeps at most a few hundred in use at once, so a bound this large
// only stops a client that never frees from growing the shim without limit.
const MAX_CONTEXTS = 4096;
const contexts = new Map(); // handle -> {ctx, queue: Promise}
let nextHandle = 1;

function newContext(ctx) {
  const handle = `c${nextHandle++}`;
  contexts.set(handle, { ctx, queue: Promise.resolve() });
  while (contexts.size > MAX_CONTEXTS) contexts.delete(contexts.keys().next().value);
  return handle;
}

// Look the handle up now, in request order, then run `fn` after every earlier
// op on the same context: state changes follow request order even though the
// shim starts each request's async work as soon as it reads the line.
function onContext(req, kind, fn) {
  const handle = field(req, 'ctx');
  const slot = typeof handle === 'string' ? contexts.get(handle) : undefined;
  if (!slot) throw new ArgError(`unknown or freed context ${JSON.stringify(handle)}`);
  contexts.delete(handle); // LRU: most recently used last
  contexts.set(handle, slot);
  if (kind && !(slot.ctx instanceof kind)) throw new ArgError(`context ${handle} is not a ${kind.name}`);
  const run = slot.queue.then(() => fn(slot.ctx));
  slot.queue = run.catch(() => {});
  return run;
}

function replayOption(req) {
  const w = optionalInt(req, 'replay_window');
  return w === undefined ? undefined : w;
}

// --- ops --------------------------------------------------------------------

const OPS = {
  hello: () => ({
    name: NAME, version: VERSION, protocol: 1,
    suites: sf.SUPPORTED_SUITES.slice(), capabilities: CAPABILITIES.slice(),
  }),

  async encrypt(req) {
    const suite = suiteField(req);
    const ct = await sf.encrypt(suite, hexField(req, 'base_key'), u64Field(req, 'kid'),
      u64Field(req, 'ctr'), hexField(req, 'metadata'), hexField(req, 'plaintext'));
    return { ciphertext: hex(ct) };
  },

  async decrypt(req) {
    const suite = suiteField(req);
    const pt = await sf.decrypt(suite, hexField(req, 'base_key'), u64Field(req, 'kid'),
      hexField(req, 'metadata'), hexField(req, 'ciphertext'));
    return { plaintext: hex(pt) };
  },

  encode_header(req) {
    return { header: hex(sf.encodeHeader(u64Field(req, 'kid'), u64Field(req, 'ctr'))) };
  },

  decode_header(req) {
    const h = sf.decodeHeader(hexField(req, 'data'));
    return { kid: h.kid.toString(), ctr: h.ctr.toString(), length: h.length, minimal: h.minimal };
  },

  async derive(req) {
    const suite = suiteField(req);
    const { key, salt } = await sf.deriveKeySalt(suite, hexField(req, 'base_key'), u64Field(req, 'kid'));
    return { key: hex(key), salt: hex(salt) };
  },

  async aead_encrypt(req) {
    const suite = suiteField(req);
    const ct = await sf.aeadEncrypt(suite, hexField(req, 'key'), hexField(req, 'nonce'),
      hexField(req, 'aad'), hexField(req, 'plaintext'));
    return { ciphertext: hex(ct) };
  },

  async aead_decrypt(req) {
    const suite = suiteField(req);
    const pt = await sf.aeadDecrypt(suite, hexField(req, 'key'), hexField(req, 'nonce'),
      hexField(req, 'aad'), hexField(req, 'ciphertext'));
    return { plaintext: hex(pt) };
  },

  shutdown: () => ({}),

  // context capability (RFC 9605 §4.4.1)
  context_new(req) {
    const ctx = new sf.SFrameContext(suiteField(req), { replayWindow: replayOption(req) });
    return { ctx: newContext(ctx) };
  },

  context_add_key(req) {
    const kid = u64Field(req, 'kid');
    const baseKey = hexField(req, 'base_key');
    const usage = field(req, 'usage');
    if (usage !== 'send' && usage !== 'recv') throw new ArgError('field "usage" must be "send" or "recv"');
    const next = req.next_ctr === undefined || req.next_ctr === null ? undefined : u64Field(req, 'next_ctr');
    return onContext(req, null, (ctx) => {
      if (usage === 'send') ctx.addSendKey(kid, baseKey, { ctr: next });
      else ctx.addRecvKey(kid, baseKey);
      return {};
    });
  },

  context_remove_key(req) {
    const kid = u64Field(req, 'kid');
    return onContext(req, null, (ctx) => {
      if (!ctx.removeKey(kid)) throw new sf.SFrameError('unknown_kid', `no key for KID ${kid}`);
      return {};
    });
  },

  context_encrypt(req) {
    // A ratchet sender may omit kid: its current step's KID is used.
    const kid = req.kid === undefined || req.kid === null ? undefined : u64Field(req, 'kid');
    const metadata = hexField(req, 'metadata');
    const plaintext = hexField(req, 'plaintext');
    return onContext(req, null, async (ctx) => {
      if (kid === undefined && !(ctx instanceof sf.RatchetSender)) throw new ArgError('missing field "kid"');
      const r = await ctx.encryptFrame(kid, metadata, plaintext);
      return { ciphertext: hex(r.ciphertext), ctr: r.ctr.toString() };
    });
  },

  context_decrypt(req) {
    const metadata = hexField(req, 'metadata');
    const ciphertext = hexField(req, 'ciphertext');
    return onContext(req, null, async (ctx) => {
      const r = await ctx.decryptFrame(metadata, ciphertext);
      return { plaintext: hex(r.plaintext), kid: r.kid.toString(), ctr: r.ctr.toString() };
    });
  },

  context_free(req) {
    const handle = field(req, 'ctx');
    if (typeof handle !== 'string' || !contexts.delete(handle)) {
      throw new ArgError(`unknown or freed context ${JSON.stringify(handle)}`);
    }
    return {};
  },

  // ratchet capability (RFC 9605 §5.1)
  async ratchet_derive(req) {
    const suite = suiteField(req);
    const key = await sf.ratchetBaseKey(suite, hexField(req, 'base_key'), intField(req, 'steps'));
    return { base_key: hex(key) };
  },

  ratchet_sender_new(req) {
    const ctx = new sf.RatchetSender(suiteField(req), hexField(req, 'base_key'), {
      generation: u64Field(req, 'generation'), ratchetBits: intField(req, 'ratchet_bits'),
    });
    return { ctx: newContext(ctx), kid: ctx.kid.toString() };
  },

  ratchet_advance(req) {
    return onContext(req, sf.RatchetSender, async (ctx) => {
      const r = await ctx.advance();
      return { kid: r.kid.toString(), step: Number(r.step) };
    });
  },

  ratchet_receiver_new(req) {
    const ctx = new sf.RatchetReceiver(suiteField(req), hexField(req, 'base_key'), {
      generation: u64Field(req, 'generation'), ratchetBits: intField(req, 'ratchet_bits'),
      step: intField(req, 'step', 0), replayWindow: replayOption(req),
    });
    return { ctx: newContext(ctx) };
  },

  // mls capability (RFC 9605 §5.2)
  mls_context_new(req) {
    const ctx = new sf.MlsContext(suiteField(req), {
      epochBits: intField(req, 'epoch_bits'), senderBits: intField(req, 'sender_bits'),
      replayWindow: replayOption(req),
    });
    return { ctx: newContext(ctx) };
  },

  mls_add_epoch(req) {
    const epoch = u64Field(req, 'epoch');
    const secret = hexField(req, 'epoch_secret');
    return onContext(req, sf.MlsContext, (ctx) => {
      ctx.addEpoch(epoch, secret);
      return {};
    });
  },

  mls_remove_epoch(req) {
    const epoch = u64Field(req, 'epoch');
    return onContext(req, sf.MlsContext, (ctx) => {
      if (!ctx.removeEpoch(epoch)) throw new sf.SFrameError('unknown_kid', `epoch ${epoch} is not installed`);
      return {};
    });
  },

  mls_encrypt(req) {
    const epoch = u64Field(req, 'epoch');
    const senderIndex = u64Field(req, 'sender_index');
    const contextId = u64Field(req, 'context_id');
    const metadata = hexField(req, 'metadata');
    const plaintext = hexField(req, 'plaintext');
    return onContext(req, sf.MlsContext, async (ctx) => {
      const r = await ctx.encryptMls(epoch, senderIndex, contextId, metadata, plaintext);
      return { ciphertext: hex(r.ciphertext), kid: r.kid.toString(), ctr: r.ctr.toString() };
    });
  },

  mls_decrypt(req) {
    const metadata = hexField(req, 'metadata');
    const ciphertext = hexField(req, 'ciphertext');
    return onContext(req, sf.MlsContext, async (ctx) => {
      const r = await ctx.decryptMls(metadata, ciphertext);
      return {
        plaintext: hex(r.plaintext), epoch: r.epoch.toString(), sender_index: r.senderIndex.toString(),
        context_id: r.contextId.toString(), kid: r.kid.toString(), ctr: r.ctr.toString(),
      };
    });
  },
};

function errorResponse(id, e) {
  if (e instanceof sf.SFrameError) return { id, ok: false, error: e.code, message: e.message };
  return { id, ok: false, error: 'internal', message: String((e && e.stack) || e) };
}

async function handle(req) {
  const id = req.id === undefined ? null : req.id;
  try {
    if (typeof req.op !== 'string') throw new ArgError('missing field "op"');
    const fn = Object.prototype.hasOwnProperty.call(OPS, req.op) ? OPS[req.op] : null;
    if (!fn) return { id, ok: false, error: 'unsupported', message: `unsupported op "${req.op}"` };
    const result = await fn(req);
    return { id, ok: true, ...result };
  } catch (e) {
    return errorResponse(id, e);
  }
}

// --- ordered output -----------------------------------------------------------

const slots = []; // FIFO of {text: string|null}
let head = 0;
let closing = false;
let exiting = false;

function flush() {
  let out = '';
  while (head < slots.length && slots[head].text !== null) {
    out += slots[head].text;
    slots[head] = undefined;
    head++;
  }
  if (head > 4096 && head * 2 > slots.length) { slots.splice(0, head); head = 0; }
  if (out) process.stdout.write(out);
  if (closing && head === slots.length) finish();
}

function finish() {
  if (exiting) return;
  exiting = true;
  // Exit once stdout has drained.
  process.stdout.write('', () => process.exit(0));
}

function stringify(resp) {
  try {
    return JSON.stringify(resp) + '\n';
  } catch (e) {
    return JSON.stringify(errorResponse(null, e)) + '\n';
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });

rl.on('line', (line) => {
  if (closing) return;
  if (line.trim() === '') return; // not a request
  const slot = { text: null };
  slots.push(slot);
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    slot.text = stringify({ id: null, ok: false, error: 'invalid_argument', message: `bad JSON: ${e.message}` });
    flush();
    return;
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) {
    slot.text = stringify({ id: null, ok: false, error: 'invalid_argument', message: 'request is not a JSON object' });
    flush();
    return;
  }
  if (req.op === 'shutdown') {
    closing = true;
    rl.close();
  }
  handle(req).then(
    (resp) => { slot.text = stringify(resp); flush(); },
    (e) => { slot.text = stringify(errorResponse(req.id ?? null, e)); flush(); },
  );
});

rl.on('close', () => {
  closing = true;
  flush();
});

process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`stdout error: ${e}\n`);
  process.exit(1);
});

process.on('uncaughtException', (e) => {
  process.stderr.write(`uncaught: ${(e && e.stack) || e}\n`);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`unhandled rejection: ${(e && e.stack) || e}\n`);
});
