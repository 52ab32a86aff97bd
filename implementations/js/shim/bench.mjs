// The `bench` and `timing` ops (harness/PROTOCOL.md "Benchmark and timing
// ops"): the library measured inside this process, not through the pipe.
//
// Rules of this module:
// - Keys are derived, and the frame a decrypt mode opens is sealed, before
//   the clock starts; the `*_derive` modes derive inside the loop instead,
//   through the library's stateless encrypt / decrypt (no cache).
// - Every loop awaits each call before the next, as a media pipeline handles
//   one frame after another: WebCrypto is asynchronous, so this is the
//   latency-bound rate, the one an RTCRtpScriptTransform sees.
// - The last output is returned, so the harness can check the work was done.
// - `aead` is raw WebCrypto with no SFrame code in the loop: AES-GCM called
//   directly, and for the CTR+HMAC suites the §4.5.1 AEAD (one AES-CTR and one
//   HMAC call per frame, the thinnest WebCrypto offers). Its key is the
//   sframe_key of (base_key, kid), derived before the clock starts.
// - `timing` times each sample's normal decrypt call, which must fail
//   authentication, and returns one duration per sample in the clock's ticks.
import * as sf from '../sframe.mjs';
import { ArgError, boundedInt, bytesField, field, suiteField, u64Field } from './fields.mjs';

const MAX_COUNT = 10_000_000;
const MAX_SAMPLES = 1 << 20;

/** nonce i: i as a 12-byte big-endian integer. */
function counterNonce(i) {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(i));
  return nonce;
}

/** `count` raw seals of `plaintext` under `key` (sframe_key); returns the last output. */
async function rawAeadLoop(suite, key, metadata, plaintext, count) {
  const s = sf.getSuite(suite);
  if (s.aead !== 'gcm') {
    const aead = await sf.aeadKey(s, key);
    let out;
    for (let i = 0; i < count; i++) out = await aead.seal(counterNonce(i), metadata, plaintext);
    return out;
  }
  const { subtle } = globalThis.crypto;
  const gcm = await subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt']);
  let out;
  for (let i = 0; i < count; i++) {
    out = await subtle.encrypt({ name: 'AES-GCM', iv: counterNonce(i), additionalData: metadata, tagLength: 128 }, gcm, plaintext);
  }
  return new Uint8Array(out);
}

/**
 * The loop each mode times, prepared outside the clock.
 * @returns {Promise<{loop: () => Promise<Uint8Array>, output: string}>}
 */
async function prepare(mode, { suite, baseKey, kid, metadata, plaintext, count }) {
  const key = await sf.FrameKey.derive(suite, baseKey, kid);
  switch (mode) {
    case 'encrypt':
      return { output: 'ciphertext', loop: async () => {
        let ct;
        for (let i = 0; i < count; i++) ct = await key.seal(BigInt(i), metadata, plaintext);
        return ct;
      } };
    case 'decrypt': {
      const frame = await key.seal(0n, metadata, plaintext);
      return { output: 'plaintext', loop: async () => {
        let pt;
        for (let i = 0; i < count; i++) pt = await key.decrypt(metadata, frame);
        return pt;
      } };
    }
    case 'encrypt_derive':
      return { output: 'ciphertext', loop: async () => {
        let ct;
        for (let i = 0; i < count; i++) ct = await sf.encrypt(suite, baseKey, kid, BigInt(i), metadata, plaintext);
        return ct;
      } };
    case 'decrypt_derive': {
      const frame = await key.seal(0n, metadata, plaintext);
      return { output: 'plaintext', loop: async () => {
        let pt;
        for (let i = 0; i < count; i++) pt = await sf.decrypt(suite, baseKey, kid, metadata, frame);
        return pt;
      } };
    }
    case 'aead':
      return { output: 'ciphertext', loop: () => rawAeadLoop(suite, key.key, metadata, plaintext, count) };
    default:
      throw new sf.SFrameError(sf.ErrorCode.UNSUPPORTED, `unsupported bench mode "${mode}"`);
  }
}

async function bench(clock, req) {
  const suite = suiteField(req);
  const params = {
    suite, baseKey: bytesField(req, 'base_key').slice(), kid: u64Field(req, 'kid'),
    metadata: bytesField(req, 'metadata'), plaintext: bytesField(req, 'plaintext'),
    count: boundedInt(req, 'count', 1, MAX_COUNT),
  };
  const mode = field(req, 'mode');
  if (typeof mode !== 'string') throw new ArgError('field "mode" must be a string');
  const { loop, output } = await prepare(mode, params);
  const t0 = clock.now();
  const last = await loop();
  const elapsed = clock.now() - t0;
  return { elapsed_ns: Number(elapsed), count: params.count, [output]: last };
}

/** The schedule's classes, checked: one byte per sample, each 0 or 1. */
function scheduleField(req) {
  const schedule = bytesField(req, 'schedule');
  if (schedule.length < 1 || schedule.length > MAX_SAMPLES) {
    throw new ArgError(`field "schedule" must hold 1..${MAX_SAMPLES} samples`);
  }
  if (schedule.some((c) => c > 1)) throw new ArgError('field "schedule" may hold only 0 and 1');
  return schedule;
}

async function timing(clock, req) {
  const suite = suiteField(req);
  const baseKey = bytesField(req, 'base_key');
  const kid = u64Field(req, 'kid');
  const metadata = bytesField(req, 'metadata');
  const frames = [bytesField(req, 'ciphertext_a'), bytesField(req, 'ciphertext_b')];
  const schedule = scheduleField(req);
  const key = await sf.FrameKey.derive(suite, baseKey, kid);
  const timings = new Uint8Array(8 * schedule.length);
  const view = new DataView(timings.buffer);
  for (let j = 0; j < schedule.length; j++) {
    const frame = frames[schedule[j]];
    let error = null;
    const t0 = clock.now();
    try {
      await key.decrypt(metadata, frame);
    } catch (e) {
      error = e;
    }
    const t1 = clock.now();
    if (!(error instanceof sf.SFrameError) || error.code !== sf.ErrorCode.AUTH_FAILED) {
      const what = error ? `failed with ${error.code || error}` : 'decrypted';
      throw new ArgError(`ciphertext_${'ab'[schedule[j]]} ${what}: timing needs frames that fail authentication`);
    }
    view.setBigUint64(8 * j, t1 - t0);
  }
  return { timings, clock: clock.name };
}

/** The ops, timed by `clock` = {name, now(): BigInt nanoseconds, monotonic}. */
export function benchOps(clock) {
  return {
    bench: (req) => bench(clock, req),
    timing: (req) => timing(clock, req),
  };
}
