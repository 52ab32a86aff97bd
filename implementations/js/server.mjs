#!/usr/bin/env node
// Node stdio transport for the sframe-conformance wire protocol, version 1
// (harness/PROTOCOL.md), over the op mapping in shim/ops.mjs.
//
// Rules of this file:
// - It is the only file that imports Node built-ins; the browser worker runs
//   it unchanged, with the stand-ins in implementations/browser/www/node/.
// - stdin is read as bytes: JSON lines by default; binary-v1 frames from the
//   message after a `hello` that asked for them (`framings`), when stdin is a
//   real byte stream (Node; not the browser's line-fed stand-in). The hello
//   answer itself is still a JSON line.
// - Each request's work starts as soon as it is read; responses leave in
//   request order, in the framing their request arrived in.
// - Every line and frame is bounded by MAX_MESSAGE. An over-long line is
//   answered with an error and skipped; a binary length prefix out of bounds
//   cannot be resynchronised, so it is answered and the shim exits 1.
// - On shutdown or stdin EOF, pending work finishes, then the shim exits 0.
import process from 'node:process';
import { createAdapter, errorResponse } from './shim/ops.mjs';
import { BINARY_V1, MAX_MESSAGE, WireError, frameLength, fromBinary, fromJsonLine, toBinary, toJsonLine } from './shim/wire.mjs';

const NODE_CLOCK = { name: 'process.hrtime.bigint() ns', now: () => process.hrtime.bigint() };
// A browser worker coarsens performance.now() (to 100 µs when not cross-origin
// isolated): the figures are what it measured, in nanoseconds.
const BROWSER_CLOCK = {
  name: 'performance.now() as ns (browser-coarsened resolution)',
  now: () => BigInt(Math.round(performance.now() * 1e6)),
};
const onNode = Boolean(process.versions && process.versions.node);
const adapter = createAdapter({ clock: onNode ? NODE_CLOCK : BROWSER_CLOCK });

// --- input: bytes to messages -------------------------------------------------------

/** Chunks as they arrived, consumed from the front without re-copying what stays. */
class ByteQueue {
  chunks = [];
  length = 0;
  #scanned = 0; // bytes from the front known to hold no newline

  push(chunk) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Offset of the first newline, or -1. */
  newline() {
    let base = 0;
    for (const c of this.chunks) {
      if (this.#scanned < base + c.length) {
        const i = c.indexOf(10, Math.max(0, this.#scanned - base));
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    this.#scanned = this.length;
    return -1;
  }

  /** Remove and return the first n bytes (n <= length). */
  take(n) {
    this.length -= n;
    this.#scanned = Math.max(0, this.#scanned - n);
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    for (let at = 0; at < n;) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  /** A copy of the first n bytes, left in place (n <= length). */
  peek(n) {
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      if (at === n) break;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
    }
    return out;
  }

  clear() {
    this.chunks = [];
    this.length = 0;
    this.#scanned = 0;
  }
}

const input = new ByteQueue();
const lineText = new TextDecoder();
let framing = 'lines'; // of the next message to read
let skippingLine = false; // inside a line longer than MAX_MESSAGE
let closing = false;
let exitCode = 0;

/** Parse every complete message in `input`, in order. */
function drain() {
  while (!closing) {
    if (framing === 'lines') {
      const nl = input.newline();
      if (nl < 0) {
        if (input.length > MAX_MESSAGE) { input.clear(); skippingLine = true; }
        return;
      }
      const line = input.take(nl + 1);
      if (skippingLine) {
        skippingLine = false;
        answerNow('lines', { id: null, ok: false, error: 'invalid_argument', message: `line longer than ${MAX_MESSAGE} bytes` });
        continue;
      }
      const text = lineText.decode(line.subarray(0, line.length - (nl > 0 && line[nl - 1] === 13 ? 2 : 1)));
      if (text.trim() !== '') receive('lines', fromJsonLine, text); // a blank line is not a request
    } else {
      if (input.length < 4) return;
      let length;
      try {
        length = frameLength(input.peek(4));
      } catch (e) {
        exitCode = 1;
        closing = true; // nothing after this prefix can be found again
        answerNow('binary', { id: null, ok: false, error: 'invalid_argument', message: e.message });
        return;
      }
      if (input.length < 4 + length) return;
      input.take(4);
      receive('binary', fromBinary, input.take(length));
    }
  }
}

/** Decode one message and start its work; a message that does not decode is answered at once. */
function receive(arrivedAs, decode, raw) {
  let req;
  try {
    req = decode(raw);
  } catch (e) {
    answerNow(arrivedAs, { id: null, ok: false, error: 'invalid_argument', message: e.message });
    return;
  }
  dispatch(req, arrivedAs);
}

function wantsBinary(req) {
  return onNode && Array.isArray(req.framings) && req.framings.includes(BINARY_V1);
}

function dispatch(req, arrivedAs) {
  const slot = reserve(arrivedAs);
  const switching = req.op === 'hello' && wantsBinary(req);
  if (switching) framing = 'binary'; // from the next message on: the harness waits for this answer first
  if (req.op === 'shutdown') closing = true;
  adapter.handle(req).then((resp) => {
    if (switching) resp.framing = BINARY_V1;
    fill(slot, resp);
  });
}

// --- output: responses in request order ---------------------------------------------

const slots = []; // FIFO of {framing, out: string | Uint8Array | null}
let head = 0;
let exiting = false;

function reserve(arrivedAs) {
  const slot = { framing: arrivedAs, out: null };
  slots.push(slot);
  return slot;
}

function encode(slot, resp) {
  try {
    return slot.framing === 'binary' ? toBinary(resp) : toJsonLine(resp);
  } catch (e) {
    const fallback = errorResponse(resp.id ?? null, e instanceof WireError ? e : new Error(`cannot encode response: ${e}`));
    return slot.framing === 'binary' ? toBinary(fallback) : toJsonLine(fallback);
  }
}

function fill(slot, resp) {
  slot.out = encode(slot, resp);
  flush();
}

function answerNow(arrivedAs, resp) {
  fill(reserve(arrivedAs), resp);
}

const utf8 = new TextEncoder();

// Responses that complete in one turn of the event loop leave in one write
// (setImmediate runs right after the turn); a pipe write is a system call,
// which was the biggest cost of a pipelined stream in the profile. The
// browser stand-in has no setImmediate: there each flush writes at once.
const defer = typeof setImmediate === 'function' ? setImmediate : null;
let outgoing = [];
let writeScheduled = false;

function flush() {
  while (head < slots.length && slots[head].out !== null) {
    outgoing.push(slots[head].out);
    slots[head] = undefined;
    head++;
  }
  if (head > 4096 && head * 2 > slots.length) { slots.splice(0, head); head = 0; }
  if (!defer || closing) writeOut();
  else if (!writeScheduled && outgoing.length) {
    writeScheduled = true;
    defer(writeOut);
  }
}

function writeOut() {
  writeScheduled = false;
  if (outgoing.length) {
    write(outgoing);
    outgoing = [];
  }
  if (closing && head === slots.length) stop();
}

/** The parts in one write. */
function write(parts) {
  if (parts.every((p) => typeof p === 'string')) {
    process.stdout.write(parts.join(''));
    return;
  }
  const bytes = parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) { out.set(b, at); at += b.length; }
  process.stdout.write(out);
}

function stop() {
  if (exiting) return;
  exiting = true;
  process.stdout.write('', () => process.exit(exitCode)); // once stdout has drained
}

// --- wiring ---------------------------------------------------------------------------

process.stdin.on('data', (chunk) => {
  if (closing) return;
  input.push(chunk);
  drain();
});

process.stdin.on('end', () => {
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
