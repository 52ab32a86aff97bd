#!/usr/bin/env node
// sframe-conformance wire-protocol shim (protocol 1) for npm `sframe` 0.1.0
// (github.com/medooze/sframe, a pre-RFC-9605 draft format).
//
// Reads one JSON request per line on stdin and writes one JSON response per
// line on stdout, strictly in request order. Requests are handled
// concurrently (the library is async, WebCrypto based); responses are queued
// and written in order. See README.md for the op -> library mapping, the
// library internals this shim touches, and the format departures from RFC 9605.

import { register } from "node:module";
import readline from "node:readline";

// ---------------------------------------------------------------------------
// Loading the library.
//
// sframe@0.1.0's package.json has `"main": "index.js"` (the file does not
// exist) and no `"type": "module"`, although lib/*.js are ES modules. Node
// 20.19+ detects ESM syntax on its own; for older Node 20 releases we register
// a tiny load hook that forces the "module" format for files in
// node_modules/sframe/lib/. The library source itself is not modified.
// ---------------------------------------------------------------------------
try {
  const hook = `
    import { readFile } from "node:fs/promises";
    export async function load(url, context, nextLoad) {
      if (url.startsWith("file:") && url.includes("/node_modules/sframe/lib/") && url.endsWith(".js"))
        return { format: "module", source: await readFile(new URL(url)), shortCircuit: true };
      return nextLoad(url, context);
    }`;
  register("data:text/javascript," + encodeURIComponent(hook));
} catch (e) {
  process.stderr.write(`medooze shim: module.register unavailable (${e && e.message}); relying on ESM syntax detection\n`);
}

const { Context } = await import("sframe/lib/Context.js");
const { Header } = await import("sframe/lib/Header.js");
const { AesCm128HmacSha256EncryptionKey } = await import("sframe/lib/AesCm128HmacSha256EncryptionKey.js");

const NAME = "medooze-sframe";
const VERSION = "0.1.0";
const PROTOCOL = 1;

// RFC 9605 suite id -> the library's media "type" argument.
// The library has a single cipher: AES-128-CTR + HMAC-SHA-256 with keys from
// HKDF-SHA-256, the tag truncated to 10 bytes for type "video" and to 4 bytes
// for anything else ("audio"); see AesCm128HmacSha256EncryptionKey.getAuthTagLen.
// Suite 2 (64-bit tag) and the GCM suites have no counterpart.
const SUITES = new Map([
  [1, { type: "video", tagLen: 10 }], // AES_128_CTR_HMAC_SHA256_80
  [3, { type: "audio", tagLen: 4 }],  // AES_128_CTR_HMAC_SHA256_32
]);
// Stateful capabilities, mapped onto the library's own objects (see README
// "Stateful ops"): `context` = Context with one Sender per send KID and
// Receivers; `ratchet` = only ratchet_derive (the library's own ratchet
// chain); `replay` = only replay_window 128 (the library's fixed window).
const CAPABILITIES = ["encode_header", "decode_header", "shutdown", "context", "ratchet", "replay"];

const U64_MAX = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class ProtoError extends Error {
  constructor(cls, message) {
    super(message);
    this.cls = cls;
  }
}

// ---------------------------------------------------------------------------
// Field parsing
// ---------------------------------------------------------------------------
function hexField(req, field, { optional = false } = {}) {
  const v = req[field];
  if (v === undefined || v === null) {
    if (optional) return new Uint8Array(0);
    throw new ProtoError("invalid_argument", `missing field ${field}`);
  }
  if (typeof v !== "string" || v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v))
    throw new ProtoError("invalid_argument", `${field} is not a hex string`);
  return new Uint8Array(Buffer.from(v, "hex"));
}

function u64Field(req, field) {
  const v = req[field];
  if (v === undefined || v === null) throw new ProtoError("invalid_argument", `missing field ${field}`);
  if (typeof v !== "string" || !/^[0-9]+$/.test(v))
    throw new ProtoError("invalid_argument", `${field} must be a decimal string`);
  const b = BigInt(v);
  if (b > U64_MAX) throw new ProtoError("invalid_argument", `${field} ${v} is outside 0..2^64-1`);
  return b;
}

function suiteField(req) {
  const s = req.suite;
  if (s === undefined || s === null) throw new ProtoError("invalid_argument", "missing field suite");
  if (!Number.isInteger(s)) throw new ProtoError("invalid_argument", "suite must be an integer");
  const m = SUITES.get(s);
  if (!m)
    throw new ProtoError("unsupported",
      `suite ${s} not implemented: the library only has AES-128-CTR+HMAC-SHA-256 with a 10-byte ("video") or 4-byte ("audio") tag, mapped to suites 1 and 3`);
  return m;
}

// The library keeps KIDs as JS Numbers and Header.checkKeyId rejects anything
// above Header.MaxKeyId (2^40-1); Number(kid) of a larger value is still above
// that limit, so the library's own check decides. See libError().
function kidNumber(kid) {
  return Number(kid);
}

// The library's frame counter (Sender.counter, Header counter) is a JS Number.
// Values above 2^53-1 cannot be handed to it exactly.
function ctrNumber(ctr) {
  if (ctr > MAX_SAFE)
    throw new ProtoError("unsupported",
      `ctr ${ctr} > 2^53-1: the library's frame counter is a JS Number (Sender.js this.counter), which cannot hold it exactly`);
  return Number(ctr);
}

// Map an exception thrown by the library to a protocol error.
function libError(e, fallbackCls = "internal") {
  if (e instanceof ProtoError) return e;
  const msg = (e && e.message) || String(e);
  if (/keyId must be/.test(msg))
    return new ProtoError("unsupported", `library rejects this KID (Header.checkKeyId: ${msg}; Header.MaxKeyId = 2^40-1)`);
  if (/Counter is too big/.test(msg))
    return new ProtoError("unsupported", `library rejects this CTR (Header.generate: ${msg})`);
  if (/No receiver found for keyId/.test(msg)) return new ProtoError("unknown_kid", `library: ${msg}`);
  if (/Replay check failed/.test(msg)) return new ProtoError("replay", `library: ${msg}`);
  if (/Decryption failed|Authentication error/.test(msg)) return new ProtoError("auth_failed", `library: ${msg}`);
  return new ProtoError(fallbackCls, `library threw ${(e && e.name) || "error"}: ${msg}`);
}

// Shim-side structural check of a ciphertext in the library's own header
// layout (Header.js: S|LEN|X|K, then KLEN key-id bytes if X, then LEN counter
// bytes). Used only to *label* a rejection the library already made: the
// library itself does no length checks (see README).
// Optional request field `skip` (README "Clear prefix"): how many leading frame
// bytes the library sends in clear in front of the header. Default 0.
function skipField(req) {
  const v = req.skip;
  if (v === undefined || v === null) return 0;
  if (!Number.isInteger(v) || v < 0) throw new ProtoError("invalid_argument", "skip must be a non-negative integer");
  return v;
}

function structuralProblem(ct, tagLen) {
  if (ct.length === 0) return "empty ciphertext";
  const b = ct[0];
  const len = (b >> 4) & 7, x = (b & 0x08) !== 0, k = b & 7;
  const hlen = x ? 1 + k + len : 1 + len;
  if (ct.length < hlen) return `truncated header: config byte ${b.toString(16).padStart(2, "0")} announces ${hlen} header bytes, got ${ct.length}`;
  if (ct.length - hlen < tagLen) return `body of ${ct.length - hlen} bytes is shorter than the ${tagLen}-byte tag`;
  return null;
}

// ---------------------------------------------------------------------------
// Key cache. The library's key schedule (AesCm128HmacSha256EncryptionKey
// .setKey) depends only on the base key: neither the KID nor the tag length
// (suite) enters the HKDF. The derived key objects are never mutated after
// creation (ratchet() returns a new object), so one object per base key can be
// shared by every request. Contexts, which hold mutable per-frame state
// (Sender.counter, Receiver.maxReceivedCounter, Receiver.keyring), are built
// fresh per request.
// ---------------------------------------------------------------------------
const KEY_CACHE_MAX = 4096;
const keyCache = new Map(); // base_key hex -> Promise<AesCm128HmacSha256EncryptionKey>

function getKey(baseKey) {
  const h = Buffer.from(baseKey).toString("hex");
  let p = keyCache.get(h);
  if (p) {
    keyCache.delete(h); // refresh LRU position
    keyCache.set(h, p);
    return p;
  }
  p = AesCm128HmacSha256EncryptionKey.create(baseKey);
  p.catch(() => keyCache.delete(h));
  keyCache.set(h, p);
  if (keyCache.size > KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value);
  return p;
}

const toHex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString("hex");

// ---------------------------------------------------------------------------
// Ops
// ---------------------------------------------------------------------------
async function opEncrypt(req) {
  const { type } = suiteField(req);
  const baseKey = hexField(req, "base_key");
  const kid = u64Field(req, "kid");
  const ctr = u64Field(req, "ctr");
  const metadata = hexField(req, "metadata", { optional: true });
  const plaintext = hexField(req, "plaintext");
  const skip = skipField(req);
  if (skip > plaintext.length) throw new ProtoError("invalid_argument", `skip ${skip} exceeds the plaintext length`);
  if (metadata.length)
    throw new ProtoError("unsupported", "non-empty metadata: the library has no metadata/AAD input (its MAC covers only header || ciphertext)");
  const kidN = kidNumber(kid);
  const ctrN = ctrNumber(ctr);
  let out;
  try {
    const key = await getKey(baseKey);
    // new Context(senderId) -> new Sender(senderId): Header.checkKeyId(kid).
    const ctx = new Context(kidN);
    // Equivalent of `await ctx.setSenderEncryptionKey(baseKey)` (Sender.js
    // setEncryptionKey: this.key = await AesCm128HmacSha256EncryptionKey.create(key))
    // without re-running the HKDF: install the cached key object.
    ctx.sender.key = key;
    // Internal state: Sender.js `this.counter` is the next frame counter;
    // Sender.encrypt uses `const counter = this.counter++`.
    ctx.sender.counter = ctrN;
    // Context.encrypt(type, ssrcId, frame, skip): ssrcId only keys the
    // (unused, no signing key) signature bookkeeping; skip = 0 clear bytes.
    out = await ctx.encrypt(type, 0, plaintext, skip);
  } catch (e) {
    throw libError(e);
  }
  return { ciphertext: toHex(out) };
}

async function opDecrypt(req) {
  const { type, tagLen } = suiteField(req);
  const baseKey = hexField(req, "base_key");
  const kid = u64Field(req, "kid");
  const metadata = hexField(req, "metadata", { optional: true });
  const ct = hexField(req, "ciphertext");
  const skip = skipField(req);
  if (skip > ct.length) throw new ProtoError("malformed", `skip ${skip} exceeds the ciphertext length`);
  if (metadata.length)
    throw new ProtoError("unsupported", "non-empty metadata: the library has no metadata/AAD input, so it cannot authenticate it");
  const kidN = kidNumber(kid);
  let pt;
  try {
    const key = await getKey(baseKey);
    // The context's own sender id is irrelevant for decryption; 0 is always valid.
    const ctx = new Context(0);
    ctx.addReceiver(kidN); // new Receiver(kid): Header.checkKeyId(kid)
    // Equivalent of `await ctx.setReceiverEncryptionKey(kid, baseKey)`
    // (Receiver.js setEncryptionKey: keyring.push(create(raw)); numKeyRatchets = 0;
    // schedulePreviousKeysTimeout(key) is a no-op for a one-key ring) without
    // re-running the HKDF: push the cached key object onto a fresh keyring.
    const receiver = ctx.receivers.get(kidN);
    receiver.keyring.push(key);
    receiver.numKeyRatchets = 0;
    pt = await ctx.decrypt(type, 0, ct, skip);
  } catch (e) {
    const err = libError(e);
    // The library rejected it; say *why* more precisely when the input is
    // structurally broken (the library itself reports "Decryption failed" or
    // "No receiver found for keyId NaN" for those).
    if (err.cls !== "unsupported") {
      const problem = structuralProblem(ct.subarray(skip), tagLen);
      if (problem) throw new ProtoError("malformed", `${problem} (${err.message})`);
    }
    if (err.cls === "internal" && e instanceof ReferenceError && /ECDSAVerifyKey/.test(String(e.message)))
      err.message = "library bug: header has the S (signature) flag set and Receiver.js's signature branch " +
        "references the undefined identifier ECDSAVerifyKey (ReferenceError); frame rejected, no plaintext";
    throw err;
  }
  return { plaintext: toHex(pt) };
}

function opEncodeHeader(req) {
  const kid = u64Field(req, "kid");
  const ctr = u64Field(req, "ctr");
  const kidN = kidNumber(kid);
  const ctrN = ctrNumber(ctr);
  let h;
  try {
    h = Header.generate(false, kidN, ctrN); // (signature flag, keyId, counter)
  } catch (e) {
    throw libError(e);
  }
  return { header: toHex(h) };
}

function opDecodeHeader(req) {
  const data = hexField(req, "data");
  if (data.length === 0) throw new ProtoError("malformed", "empty input");
  let h;
  try {
    h = Header.parse(data);
  } catch (e) {
    throw libError(e, "malformed");
  }
  const b = data[0];
  const len = (b >> 4) & 7, x = (b & 0x08) !== 0, k = b & 7;
  const need = x ? 1 + k + len : 1 + len;
  // Header.parse does no bounds checks: a truncated header yields NaN values
  // and a header view shorter than announced.
  if (h.byteLength < need || !Number.isFinite(h.keyId) || !Number.isFinite(h.counter))
    throw new ProtoError("malformed", `truncated header: config byte announces ${need} bytes, got ${data.length} (library parse gave keyId=${h.keyId} counter=${h.counter})`);
  // Values are the library's JS Numbers; above 2^53 they are already rounded.
  return { kid: BigInt(h.keyId).toString(), ctr: BigInt(h.counter).toString(), length: h.byteLength };
}

function opHello() {
  return { name: NAME, version: VERSION, protocol: PROTOCOL, suites: [...SUITES.keys()], capabilities: CAPABILITIES };
}

// ---------------------------------------------------------------------------
// Stateful ops (harness/PROTOCOL.md "Stateful ops"). A protocol context is a
// set of library objects: one library Context per send KID (a Context has
// exactly one Sender, whose KID is fixed at construction) and one library
// Context whose Receivers hold the receive keys. The shim adds no key-usage,
// counter or replay rules of its own: what the library does not check is not
// checked, so the catalogue shows what it has and lacks.
// ---------------------------------------------------------------------------
const LIB_REPLAY_WINDOW = 128; // Receiver.js `const ReplayWindow = 128`, always on
const MAX_RATCHET_STEPS = 4096;
const MAX_CONTEXTS = 4096; // least recently used contexts are dropped past this
const contexts = new Map(); // handle -> {suite, senders: Map<kidN, Context>, rx: Context, queue}
let nextHandle = 1;

function intField(req, field) {
  const v = req[field];
  if (v === undefined || v === null) throw new ProtoError("invalid_argument", `missing field ${field}`);
  if (!Number.isSafeInteger(v)) throw new ProtoError("invalid_argument", `${field} must be an integer`);
  return v;
}

// Requests on one context run one after another in request order, although
// the shim starts every line's async work as soon as it reads it.
function onContext(req, fn) {
  const handle = req.ctx;
  const c = typeof handle === "string" ? contexts.get(handle) : undefined;
  if (!c) throw new ProtoError("invalid_argument", `unknown or freed context ${JSON.stringify(handle)}`);
  contexts.delete(handle);
  contexts.set(handle, c);
  const run = c.queue.then(() => fn(c));
  c.queue = run.catch(() => {});
  return run;
}

function opContextNew(req) {
  const suite = suiteField(req);
  if (req.replay_window !== undefined && req.replay_window !== null) {
    const n = intField(req, "replay_window");
    if (n < 1) throw new ProtoError("invalid_argument", "replay_window must be >= 1");
    if (n !== LIB_REPLAY_WINDOW)
      throw new ProtoError("unsupported",
        `replay_window ${n}: the library's window is fixed at ${LIB_REPLAY_WINDOW} (Receiver.js ReplayWindow), always on, with no duplicate detection`);
  }
  const handle = `m${nextHandle++}`;
  contexts.set(handle, { suite, senders: new Map(), rx: new Context(0), queue: Promise.resolve() });
  while (contexts.size > MAX_CONTEXTS) contexts.delete(contexts.keys().next().value);
  return { ctx: handle };
}

function opContextAddKey(req) {
  const kidN = kidNumber(u64Field(req, "kid"));
  const baseKey = hexField(req, "base_key");
  const usage = req.usage;
  if (usage !== "send" && usage !== "recv") throw new ProtoError("invalid_argument", 'usage must be "send" or "recv"');
  const next = req.next_ctr === undefined || req.next_ctr === null ? null : ctrNumber(u64Field(req, "next_ctr"));
  return onContext(req, async (c) => {
    try {
      if (usage === "send") {
        // Re-adding a send KID re-keys its Sender (setEncryptionKey keeps the
        // counter), as the library would; it has no send/receive exclusivity.
        let lib = c.senders.get(kidN);
        if (!lib) lib = new Context(kidN); // Header.checkKeyId(kid)
        await lib.setSenderEncryptionKey(baseKey);
        if (next !== null) lib.sender.counter = next; // Sender.js: next frame counter
        c.senders.set(kidN, lib);
      } else {
        c.rx.addReceiver(kidN); // throws "There was already a receiver for keyId"
        await c.rx.setReceiverEncryptionKey(kidN, baseKey);
      }
    } catch (e) {
      if (/already a receiver/.test((e && e.message) || "")) throw new ProtoError("key_usage", `library: ${e.message}`);
      throw libError(e);
    }
    return {};
  });
}

function opContextRemoveKey(req) {
  const kidN = kidNumber(u64Field(req, "kid"));
  return onContext(req, (c) => {
    const sent = c.senders.delete(kidN);
    const received = c.rx.deleteReceiver(kidN); // Context.deleteReceiver -> Map.delete
    if (!sent && !received) throw new ProtoError("unknown_kid", `no sender or receiver for KID ${kidN}`);
    return {};
  });
}

function opContextEncrypt(req) {
  const kidN = kidNumber(u64Field(req, "kid"));
  const metadata = hexField(req, "metadata", { optional: true });
  const plaintext = hexField(req, "plaintext");
  if (metadata.length)
    throw new ProtoError("unsupported", "non-empty metadata: the library has no metadata/AAD input");
  return onContext(req, async (c) => {
    // Context.encrypt takes no KID: each Context's single Sender has one.
    const lib = c.senders.get(kidN);
    if (!lib) throw new ProtoError("unknown_kid", `no sender for KID ${kidN} (receivers cannot encrypt in the library)`);
    let out;
    try {
      out = await lib.encrypt(c.suite.type, 0, plaintext, 0);
    } catch (e) {
      throw libError(e);
    }
    // Sender.encrypt sets frameId = the header's counter.
    return { ciphertext: toHex(out), ctr: BigInt(out.frameId).toString() };
  });
}

function opContextDecrypt(req) {
  const metadata = hexField(req, "metadata", { optional: true });
  const ct = hexField(req, "ciphertext");
  if (metadata.length)
    throw new ProtoError("unsupported", "non-empty metadata: the library has no metadata/AAD input, so it cannot authenticate it");
  return onContext(req, async (c) => {
    let pt;
    try {
      // Context.decrypt looks the header's KID up among Receivers only; a
      // frame for a send KID is "No receiver found" (unknown_kid).
      pt = await c.rx.decrypt(c.suite.type, 0, ct, 0);
    } catch (e) {
      const err = libError(e);
      const problem = err.cls !== "unsupported" ? structuralProblem(ct, c.suite.tagLen) : null;
      if (problem) throw new ProtoError("malformed", `${problem} (${err.message})`);
      throw err;
    }
    // Receiver.decrypt sets senderId/frameId from the parsed header.
    return { plaintext: toHex(pt), kid: BigInt(pt.senderId).toString(), ctr: BigInt(pt.frameId).toString() };
  });
}

function opContextFree(req) {
  if (typeof req.ctx !== "string" || !contexts.delete(req.ctx))
    throw new ProtoError("invalid_argument", `unknown or freed context ${JSON.stringify(req.ctx)}`);
  return {};
}

// The library's ratchet (AesCm128HmacSha256EncryptionKey.ratchet): the next
// base key is `ratchetKey` = HKDF-SHA-256(salt "SFrameRatchetKey", info "", 32
// bytes) of the current one, for every suite (RFC: salt "", info "SFrame 1.0
// Ratchet", Nh bytes).
async function opRatchetDerive(req) {
  suiteField(req);
  let raw = hexField(req, "base_key");
  const steps = intField(req, "steps");
  if (steps < 0) throw new ProtoError("invalid_argument", "steps must be >= 0");
  if (steps > MAX_RATCHET_STEPS) throw new ProtoError("unsupported", `more than ${MAX_RATCHET_STEPS} ratchet steps`);
  try {
    for (let i = 0; i < steps; i++) raw = new Uint8Array((await AesCm128HmacSha256EncryptionKey.create(raw)).ratchetKey);
  } catch (e) {
    throw libError(e);
  }
  return { base_key: toHex(raw) };
}

const STATEFUL_UNSUPPORTED = {
  ratchet_sender_new: "the library's sender ratchet (Sender.ratchetEncryptionKey) keeps its KID and counter: there is no generation/step KID layout (RFC 9605 §5.1)",
  ratchet_advance: "the library's sender ratchet keeps its KID and counter: there is no generation/step KID layout (RFC 9605 §5.1)",
  ratchet_receiver_new: "the library's receiver ratchets implicitly (up to 5 tries after a failure), not from a step in the KID (RFC 9605 §5.1)",
  mls_context_new: "the library has no MLS epochs or MLS KID layout (RFC 9605 §5.2)",
  mls_add_epoch: "the library has no MLS epochs (RFC 9605 §5.2)",
  mls_remove_epoch: "the library has no MLS epochs (RFC 9605 §5.2)",
  mls_encrypt: "the library has no MLS epochs (RFC 9605 §5.2)",
  mls_decrypt: "the library has no MLS epochs (RFC 9605 §5.2)",
};

let shuttingDown = false;

async function handle(req) {
  switch (req.op) {
    case "hello": return opHello();
    case "encrypt": return opEncrypt(req);
    case "decrypt": return opDecrypt(req);
    case "encode_header": return opEncodeHeader(req);
    case "decode_header": return opDecodeHeader(req);
    case "context_new": return opContextNew(req);
    case "context_add_key": return opContextAddKey(req);
    case "context_remove_key": return opContextRemoveKey(req);
    case "context_encrypt": return opContextEncrypt(req);
    case "context_decrypt": return opContextDecrypt(req);
    case "context_free": return opContextFree(req);
    case "ratchet_derive": return opRatchetDerive(req);
    case "shutdown": shuttingDown = true; return {};
    case undefined: case null: throw new ProtoError("invalid_argument", "missing field op");
    default:
      if (Object.prototype.hasOwnProperty.call(STATEFUL_UNSUPPORTED, req.op))
        throw new ProtoError("unsupported", `${req.op}: ${STATEFUL_UNSUPPORTED[req.op]}`);
      throw new ProtoError("unsupported", `op ${typeof req.op === "string" ? req.op : JSON.stringify(req.op)} is not implemented by the medooze shim`);
  }
}

function errorResponse(id, cls, message) {
  return { id, ok: false, error: cls, message };
}

async function respond(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return errorResponse(null, "invalid_argument", `malformed JSON line: ${e.message}`);
  }
  if (req === null || typeof req !== "object" || Array.isArray(req))
    return errorResponse(null, "invalid_argument", "request is not a JSON object");
  const id = req.id === undefined ? null : req.id;
  try {
    const result = await handle(req);
    return { id, ok: true, ...result };
  } catch (e) {
    if (e instanceof ProtoError) return errorResponse(id, e.cls, e.message);
    return errorResponse(id, "internal", `shim error: ${(e && e.stack) || e}`);
  }
}

// ---------------------------------------------------------------------------
// Ordered, pipelined I/O
// ---------------------------------------------------------------------------
const queue = []; // slots in request order: { text: string|null }
let head = 0;
let eof = false;
let exiting = false;

function safeStringify(obj) {
  try {
    return JSON.stringify(obj);
  } catch (e) {
    return JSON.stringify(errorResponse(null, "internal", `cannot serialise response: ${e.message}`));
  }
}

function flush() {
  let out = "";
  while (head < queue.length && queue[head].text !== null) {
    out += queue[head].text + "\n";
    queue[head] = undefined;
    head++;
  }
  if (head > 1024 && head * 2 > queue.length) {
    queue.splice(0, head);
    head = 0;
  }
  if (out) process.stdout.write(out);
  maybeExit();
}

function maybeExit() {
  if (exiting || !eof || head < queue.length) return;
  exiting = true;
  // Library timers (Receiver.schedulePreviousKeysTimeout, 1 s) could keep the
  // loop alive; exit explicitly once everything is written.
  process.stdout.write("", () => process.exit(0));
}

process.stdout.on("error", (e) => {
  process.stderr.write(`medooze shim: stdout error ${e.code || e.message}; exiting\n`);
  process.exit(0);
});
process.on("uncaughtException", (e) => process.stderr.write(`medooze shim: uncaught ${(e && e.stack) || e}\n`));
process.on("unhandledRejection", (e) => process.stderr.write(`medooze shim: unhandled rejection ${(e && e.stack) || e}\n`));

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
rl.on("line", (line) => {
  if (shuttingDown) return;
  if (line.trim() === "") return;
  const slot = { text: null };
  queue.push(slot);
  respond(line).then(
    (resp) => { slot.text = safeStringify(resp); },
    (e) => { slot.text = safeStringify(errorResponse(null, "internal", `shim error: ${e}`)); },
  ).then(() => {
    if (shuttingDown && !eof) { eof = true; rl.close(); }
    flush();
  });
});
rl.on("close", () => {
  eof = true;
  flush();
});
