// Message encodings of the wire protocol: JSON lines (the default) and
// binary-v1 (harness/PROTOCOL.md "Binary framing"; the harness's codec is
// harness/model/framing.py).
//
// Rules of this module: a message is a flat object of typed values, the same
// for both framings: Uint8Array for binary fields, BigInt for u64 fields,
// Number for integers, strings, booleans, and JSON values (lists, objects,
// null). JSON lines carry binary as lowercase hex and u64 as decimal strings;
// binary-v1 carries them raw. Decoding validates every length against the
// bytes present and against MAX_MESSAGE, and fails with a WireError naming
// the problem, never another exception. Sans I/O: no streams here.
import { bytesToHex } from '../sframe.mjs';

export const BINARY_V1 = 'binary-v1';
export const MAX_MESSAGE = 64 << 20; // one message, either direction, either framing

const BYTES = 1;
const U64 = 2;
const STRING = 3;
const INT = 4;
const BOOL = 5;
const JSON_VALUE = 6;
const U64_LIMIT = 1n << 64n;

export class WireError extends Error {}

// --- JSON lines ----------------------------------------------------------------

/** One response as a JSON line (with its newline). */
export function toJsonLine(message) {
  const out = {};
  for (const [name, v] of Object.entries(message)) {
    out[name] = v instanceof Uint8Array ? bytesToHex(v) : typeof v === 'bigint' ? v.toString() : v;
  }
  const line = JSON.stringify(out) + '\n';
  if (line.length > MAX_MESSAGE) throw new WireError(`response line of ${line.length} characters exceeds ${MAX_MESSAGE}`);
  return line;
}

/** The request on one line (without its newline); WireError unless it is a JSON object. */
export function fromJsonLine(text) {
  let req;
  try {
    req = JSON.parse(text);
  } catch (e) {
    throw new WireError(`bad JSON: ${e.message}`);
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new WireError('request is not a JSON object');
  return req;
}

// --- binary-v1 -------------------------------------------------------------------

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Response field names are the shim's own, a small fixed set: encode each once.
const nameBytes = new Map();

function encodedName(name) {
  let key = nameBytes.get(name);
  if (key === undefined) {
    key = utf8.encode(name);
    if (key.length < 1 || key.length > 255 || key.length !== name.length) {
      throw new WireError(`field name ${JSON.stringify(name)} must be 1 to 255 ASCII bytes`);
    }
    if (nameBytes.size < 1024) nameBytes.set(name, key);
  }
  return key;
}

function fieldOf(name, v) {
  const key = encodedName(name);
  let type;
  let value;
  if (v instanceof Uint8Array) [type, value] = [BYTES, v];
  else if (typeof v === 'boolean') [type, value] = [BOOL, Uint8Array.of(v ? 1 : 0)];
  else if (typeof v === 'bigint' && v >= 0n && v < U64_LIMIT) {
    value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, v);
    type = U64;
  } else if (typeof v === 'number' && Number.isSafeInteger(v)) {
    value = new Uint8Array(8);
    new DataView(value.buffer).setBigInt64(0, BigInt(v));
    type = INT;
  } else if (typeof v === 'string' || typeof v === 'bigint') [type, value] = [STRING, utf8.encode(String(v))];
  else [type, value] = [JSON_VALUE, utf8.encode(JSON.stringify(v === undefined ? null : v))];
  const sized = type === BYTES || type === STRING || type === JSON_VALUE;
  const out = new Uint8Array(2 + key.length + (sized ? 4 : 0) + value.length);
  out[0] = type;
  out[1] = key.length;
  out.set(key, 2);
  if (sized) new DataView(out.buffer).setUint32(2 + key.length, value.length);
  out.set(value, out.length - value.length);
  return out;
}

/** One framed message (4-byte big-endian length, then the fields). */
export function toBinary(message) {
  const fields = Object.entries(message).map(([name, v]) => fieldOf(name, v));
  const length = fields.reduce((n, f) => n + f.length, 0);
  if (length < 1 || length > MAX_MESSAGE) throw new WireError(`message of ${length} bytes is outside 1..${MAX_MESSAGE}`);
  const out = new Uint8Array(4 + length);
  new DataView(out.buffer).setUint32(0, length);
  let at = 4;
  for (const f of fields) { out.set(f, at); at += f.length; }
  return out;
}

/** The payload length a 4-byte prefix announces; WireError when out of bounds. */
export function frameLength(prefix) {
  const length = new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0);
  if (length < 1 || length > MAX_MESSAGE) throw new WireError(`binary frame length ${length} outside 1..${MAX_MESSAGE}`);
  return length;
}

/** Reads one payload front to back; every read is bounds-checked first. */
class Reader {
  constructor(payload) {
    this.payload = payload;
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    this.at = 0;
  }

  get done() { return this.at >= this.payload.length; }

  take(n, what) {
    if (n > this.payload.length - this.at) throw new WireError(`binary frame ends inside ${what}`);
    this.at += n;
    return this.payload.subarray(this.at - n, this.at);
  }

  /** A u32 length, then that many bytes. */
  sized(what) {
    this.take(4, what);
    return this.take(this.view.getUint32(this.at - 4), what);
  }

  u64(what) {
    this.take(8, what);
    return this.view.getBigUint64(this.at - 8);
  }

  i64(what) {
    this.take(8, what);
    return this.view.getBigInt64(this.at - 8);
  }
}

const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

function text(bytes, name) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new WireError(`binary field "${name}" is not UTF-8`);
  }
}

function fieldValue(r, type, name) {
  switch (type) {
    case BYTES: return r.sized(name);
    case U64: return r.u64(name);
    case INT: {
      // A Number when it is one exactly; a larger value stays BigInt, which
      // integer fields refuse as invalid_argument, as JSON lines would.
      const v = r.i64(name);
      return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
    }
    case BOOL: {
      const flag = r.take(1, name)[0];
      if (flag > 1) throw new WireError(`binary field "${name}": bool byte ${flag}`);
      return flag === 1;
    }
    case STRING: return text(r.sized(name), name);
    case JSON_VALUE:
      try {
        return JSON.parse(text(r.sized(name), name));
      } catch (e) {
        if (e instanceof WireError) throw e;
        throw new WireError(`binary field "${name}" holds invalid JSON`);
      }
    default:
      throw new WireError(`binary field "${name}" has unknown type ${type}`);
  }
}

/** An ASCII field name, or WireError. */
function fieldName(raw) {
  let name = '';
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] > 0x7f) throw new WireError('binary field name is not ASCII');
    name += String.fromCharCode(raw[i]);
  }
  return name;
}

/**
 * The fields of one payload (without its length prefix). Byte values are views into `payload`.
 * The object has no prototype, so a field named "__proto__" is data like any other.
 */
export function fromBinary(payload) {
  const r = new Reader(payload);
  const out = Object.create(null);
  while (!r.done) {
    const head = r.take(2, 'a field header');
    const name = fieldName(r.take(head[1], 'a field name'));
    if (!name || name in out) throw new WireError(`binary field name ${JSON.stringify(name)} is empty or repeated`);
    out[name] = fieldValue(r, head[0], name);
  }
  return out;
}
