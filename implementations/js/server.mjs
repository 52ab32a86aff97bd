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
const CAPABILITIES = ['encode_header', 'decode_header', 'derive', 'aead_encrypt', 'aead_decrypt', 'shutdown'];

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
