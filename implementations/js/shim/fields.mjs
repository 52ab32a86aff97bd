// Request fields: the one boundary where wire values become library values.
//
// Rules of this module: a request is a plain object as either framing decodes
// it. A binary field is a Uint8Array (binary-v1) or a hex string (JSON lines,
// or a binary-v1 STRING, which a harness sends only to test refusal); a u64 is
// a BigInt (binary-v1) or a decimal string; an integer is a safe Number. A
// field that is missing, null or of another kind is invalid_argument, named.
// Fields are read lazily, in each op's order, so an op reports its first
// problem (an unknown suite before bad hex, as the library does).
import * as sf from '../sframe.mjs';

export class ArgError extends sf.SFrameError {
  constructor(message) { super(sf.ErrorCode.INVALID_ARGUMENT, message); }
}

const has = (req, name) => Object.prototype.hasOwnProperty.call(req, name) && req[name] !== null && req[name] !== undefined;

export function field(req, name) {
  if (!has(req, name)) throw new ArgError(`missing field "${name}"`);
  return req[name];
}

export function bytesField(req, name) {
  const v = field(req, name);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return sf.hexToBytes(v, `field "${name}"`);
  throw new ArgError(`field "${name}" is not hex`);
}

export function u64Field(req, name) {
  const v = field(req, name);
  if (typeof v === 'bigint' || typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) {
    return sf.toU64(v, name);
  }
  throw new ArgError(`field "${name}" must be a decimal string`);
}

export function optionalU64(req, name) {
  return has(req, name) ? u64Field(req, name) : undefined;
}

export function intField(req, name, fallback) {
  if (fallback !== undefined && !has(req, name)) return fallback;
  const v = field(req, name);
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ArgError(`field "${name}" must be an integer`);
  return v;
}

export function optionalInt(req, name) {
  return has(req, name) ? intField(req, name) : undefined;
}

/** The suite id; an integer naming no suite is unsupported. */
export function suiteField(req) {
  const v = field(req, 'suite');
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ArgError('field "suite" must be an integer');
  return sf.getSuite(v).id;
}

/** An integer field within lo..hi. */
export function boundedInt(req, name, lo, hi) {
  const v = intField(req, name);
  if (v < lo || v > hi) throw new ArgError(`field "${name}" must be in ${lo}..${hi}`);
  return v;
}
