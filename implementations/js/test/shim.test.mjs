// The shim: wire codecs (JSON lines, binary-v1), the key cache, the bench and
// timing ops, and binary framing negotiated over a real stdio process.
// Run with: node --test implementations/js/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as sf from '../sframe.mjs';
import { createAdapter } from '../shim/ops.mjs';
import { KeyCache } from '../shim/keycache.mjs';
import { MAX_MESSAGE, WireError, fromBinary, toBinary, toJsonLine } from '../shim/wire.mjs';

const { hexToBytes: h, bytesToHex: x } = sf;
const BK = h('000102030405060708090a0b0c0d0e0f');
const clock = { name: 'test clock', now: () => process.hrtime.bigint() };

// --- codecs -------------------------------------------------------------------

test('binary-v1: every value type round-trips, u64 beyond 64 bits becomes a string', () => {
  const msg = {
    id: 7, ok: true, ciphertext: h('00ff10'), empty: new Uint8Array(0), kid: sf.U64_MAX, ctr: 0n,
    op: 'héllo', minimal: false, length: -3, suites: [1, 4], nothing: null, big: 1n << 64n,
  };
  const frame = toBinary(msg);
  assert.equal(new DataView(frame.buffer).getUint32(0), frame.length - 4);
  const back = fromBinary(frame.subarray(4));
  assert.deepEqual({ ...back }, { ...msg, big: '18446744073709551616' });
  assert.ok(back.ciphertext instanceof Uint8Array);
  // The layout of PROTOCOL.md, byte for byte: type, name length, name, value.
  assert.equal(x(toBinary({ ok: true })), '00000005' + '0502' + x(new TextEncoder().encode('ok')) + '01');
  assert.equal(x(toBinary({ kid: 291n })), '0000000d' + '0203' + '6b6964' + '0000000000000123');
  assert.equal(x(toBinary({ id: -1 })), '0000000c' + '0402' + '6964' + 'ffffffffffffffff');
});

test('binary-v1: a hostile payload is a WireError, never another exception', () => {
  const enc = new TextEncoder();
  const bad = [
    h('01'), // field header cut
    h('0103'), h('01036b6579'), // name cut, then value length cut
    Uint8Array.of(1, 3, ...enc.encode('key'), 0, 0, 0, 9, 1, 2), // bytes shorter than announced
    Uint8Array.of(1, 0), // empty name
    Uint8Array.of(7, 1, 0x61), // unknown type
    Uint8Array.of(5, 1, 0x61, 2), // bool byte 2
    Uint8Array.of(3, 1, 0x61, 0, 0, 0, 1, 0xff), // string not UTF-8
    Uint8Array.of(6, 1, 0x61, 0, 0, 0, 1, 0x7b), // invalid JSON
    Uint8Array.of(5, 1, 0xe9, 1), // name not ASCII
    Uint8Array.of(5, 1, 0x61, 1, 5, 1, 0x61, 0), // repeated name
    Uint8Array.of(2, 1, 0x61, 0, 0), // u64 cut
  ];
  for (const payload of bad) assert.throws(() => fromBinary(payload), WireError, x(payload));
  const proto = fromBinary(Uint8Array.of(5, 9, ...enc.encode('__proto__'), 1));
  assert.ok(Object.hasOwn(proto, '__proto__') && proto.__proto__ === true); // eslint-disable-line no-proto
  assert.equal(Object.getPrototypeOf(proto), null);
  assert.throws(() => toBinary({ big: new Uint8Array(MAX_MESSAGE) }), WireError);
});

test('JSON lines: bytes as lowercase hex, u64 as decimal strings', () => {
  assert.equal(toJsonLine({ id: 1, ok: true, header: h('AB'), kid: sf.U64_MAX, length: 2 }),
    '{"id":1,"ok":true,"header":"ab","kid":"18446744073709551615","length":2}\n');
});

test('the key cache is bounded, shares one derivation and forgets failures', async () => {
  const keys = new KeyCache(2);
  const [a, b] = [keys.frameKey(4, BK, 1n), keys.frameKey(4, BK, 1n)];
  assert.equal(a, b);
  keys.frameKey(4, BK, 2n);
  keys.frameKey(4, BK, 3n);
  assert.equal(keys.size, 2);
  const bad = keys.aeadKey(4, BK.subarray(1));
  await assert.rejects(bad, (e) => e.code === 'invalid_argument');
  await new Promise((resolve) => setImmediate(resolve));
  assert.notEqual(keys.aeadKey(4, BK.subarray(1)), bad); // a failure is not cached: asked again, tried again
  await assert.rejects(keys.aeadKey(4, BK.subarray(1)), (e) => e.code === 'invalid_argument');
  assert.ok(keys.size <= 2);
});

// --- bench and timing, in process ------------------------------------------------

const adapter = createAdapter({ clock });
const call = (req) => adapter.handle({ id: 1, ...req });
const benchReq = (suite, mode, count, extra = {}) => ({
  op: 'bench', suite, base_key: BK, kid: 0x123n, metadata: h('4d'), plaintext: h('0102030405'), count, mode, ...extra,
});

test('bench: every mode of every suite returns the output a plain loop gives', async () => {
  for (const suite of sf.SUPPORTED_SUITES) {
    const { key } = await sf.deriveKeySalt(suite, BK, 0x123n);
    const last = await sf.encrypt(suite, BK, 0x123n, 2n, h('4d'), h('0102030405'));
    const nonce = h('000000000000000000000002');
    const expected = {
      encrypt: ['ciphertext', last], encrypt_derive: ['ciphertext', last],
      decrypt: ['plaintext', h('0102030405')], decrypt_derive: ['plaintext', h('0102030405')],
      aead: ['ciphertext', await sf.aeadEncrypt(suite, key, nonce, h('4d'), h('0102030405'))],
    };
    for (const [mode, [name, want]] of Object.entries(expected)) {
      const r = await call(benchReq(suite, mode, 3));
      assert.ok(r.ok, `${suite} ${mode}: ${r.message}`);
      assert.equal(x(r[name]), x(want), `suite ${suite} ${mode}`);
      assert.ok(Number.isSafeInteger(r.elapsed_ns) && r.elapsed_ns > 0);
      assert.equal(r.count, 3);
    }
  }
});

test('bench: bad requests are refused, not run', async () => {
  const cases = [
    [benchReq(4, 'encrypt', 0), 'invalid_argument'],
    [benchReq(4, 'encrypt', 10_000_001), 'invalid_argument'],
    [benchReq(4, 'encrypt', 1.5), 'invalid_argument'],
    [benchReq(4, 'sideways', 1), 'unsupported'],
    [benchReq(4, 7, 1), 'invalid_argument'],
    [benchReq(9, 'encrypt', 1), 'unsupported'],
    [benchReq(4, 'encrypt', 1, { plaintext: 'zz' }), 'invalid_argument'],
    [{ ...benchReq(4, 'encrypt', 1), mode: undefined }, 'invalid_argument'],
  ];
  for (const [req, code] of cases) assert.equal((await call(req)).error, code, JSON.stringify(req.mode));
});

async function forged(suite) {
  const ct = await sf.encrypt(suite, BK, 5n, 9n, h('aa'), h('00112233445566778899'));
  const Nt = sf.SUITES[suite].Nt;
  const a = ct.slice();
  a[a.length - Nt] ^= 1; // first tag byte wrong
  const b = ct.slice();
  b[b.length - 1] ^= 1; // last tag byte wrong
  return { ct, a, b };
}

test('timing: one duration per schedule byte, in the named clock', async () => {
  for (const suite of [1, 4]) {
    const { ct, a, b } = await forged(suite);
    const schedule = Uint8Array.from({ length: 301 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    const base = { op: 'timing', suite, base_key: BK, kid: 5n, metadata: h('aa'), ciphertext_a: a, ciphertext_b: b };
    const r = await call({ ...base, schedule });
    assert.ok(r.ok, r.message);
    assert.equal(r.clock, 'test clock');
    assert.equal(r.timings.length, 8 * schedule.length);
    const view = new DataView(r.timings.buffer, r.timings.byteOffset);
    for (let i = 0; i < schedule.length; i++) assert.ok(view.getBigUint64(8 * i) > 0n);
    assert.equal((await call({ ...base, ciphertext_b: ct, schedule })).error, 'invalid_argument'); // b decrypts
    assert.equal((await call({ ...base, schedule: Uint8Array.of(0, 2) })).error, 'invalid_argument');
    assert.equal((await call({ ...base, schedule: new Uint8Array(0) })).error, 'invalid_argument');
    assert.equal((await call({ ...base, schedule: new Uint8Array((1 << 20) + 1) })).error, 'invalid_argument');
  }
});

// --- binary-v1 over stdio ------------------------------------------------------------

/** The shim as a process, speaking JSON lines until told otherwise. */
function shimProcess() {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('../server.mjs', import.meta.url))],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = new Uint8Array(0);
  let wake = () => {};
  proc.stdout.on('data', (d) => {
    const next = new Uint8Array(buf.length + d.length);
    next.set(buf);
    next.set(d, buf.length);
    buf = next;
    wake();
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const until = async (ready) => {
    for (;;) {
      const got = ready();
      if (got !== undefined) return got;
      await new Promise((resolve) => { wake = resolve; });
    }
  };
  const take = (n) => { const out = buf.slice(0, n); buf = buf.slice(n); return out; };
  return {
    proc, exited,
    line: () => until(() => {
      const nl = buf.indexOf(10);
      return nl < 0 ? undefined : JSON.parse(new TextDecoder().decode(take(nl + 1)));
    }),
    frame: () => until(() => {
      if (buf.length < 4) return undefined;
      const n = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
      return buf.length < 4 + n ? undefined : fromBinary(take(4 + n).subarray(4));
    }),
    write: (bytes) => proc.stdin.write(bytes),
  };
}

test('stdio: hello negotiates binary-v1; then both directions are binary, in order, pipelined', async () => {
  const s = shimProcess();
  s.write(JSON.stringify({ id: 1, op: 'hello', framings: ['binary-v1'] }) + '\n');
  const hello = await s.line();
  assert.equal(hello.framing, 'binary-v1');
  assert.ok(hello.capabilities.includes('bench') && hello.capabilities.includes('timing'));
  const enc = { op: 'encrypt', suite: 4, base_key: BK, kid: 291n, ctr: 17767n, metadata: h('aa'), plaintext: h('0102') };
  // One write holding a frame, a bad payload, a u64 beyond 64 bits, then two more frames.
  const parts = [toBinary({ id: 2, ...enc }), toBinary({ id: 3, op: 'hello' }).subarray(0, 4),
    toBinary({ id: 4, ...enc, kid: 1n << 64n }), toBinary({ id: 5, op: 'decode_header', data: h('1234') }),
    toBinary({ id: 6, op: 'nope' })];
  parts[1] = Uint8Array.of(0, 0, 0, 2, 9, 9); // a 2-byte payload with an unknown field type
  s.write(Buffer.concat(parts));
  const [r2, r3, r4, r5, r6] = [await s.frame(), await s.frame(), await s.frame(), await s.frame(), await s.frame()];
  assert.equal(x(r2.ciphertext), x(await sf.encrypt(4, BK, 291n, 17767n, h('aa'), h('0102'))));
  assert.deepEqual([r2.id, r2.ok], [2, true]);
  assert.deepEqual([r3.id, r3.ok, r3.error], [null, false, 'invalid_argument']);
  assert.deepEqual([r4.id, r4.error], [4, 'invalid_argument']);
  assert.deepEqual([r5.kid, r5.ctr, r5.length, r5.minimal], [1n, 2n, 1, true]);
  assert.deepEqual([r6.id, r6.error], [6, 'unsupported']);
  s.proc.stdin.end();
  assert.equal(await s.exited, 0);
});

test('stdio: without framings the shim stays on JSON lines; a bad frame length ends a binary session', async () => {
  const plain = shimProcess();
  plain.write('{"id":1,"op":"hello","framings":["cbor"]}\n{"id":2,"op":"encode_header","kid":"1","ctr":"2"}\n');
  assert.equal((await plain.line()).framing, undefined);
  assert.deepEqual(await plain.line(), { id: 2, ok: true, header: '12' });
  plain.proc.stdin.end();
  assert.equal(await plain.exited, 0);

  const broken = shimProcess();
  broken.write(JSON.stringify({ id: 1, op: 'hello', framings: ['binary-v1'] }) + '\n');
  await broken.line();
  broken.write(Uint8Array.of(0, 0, 0, 0)); // length 0: nothing after it can be found again
  const r = await broken.frame();
  assert.deepEqual([r.id, r.ok, r.error], [null, false, 'invalid_argument']);
  assert.equal(await broken.exited, 1);
});
