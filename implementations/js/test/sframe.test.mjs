// Run with: node --test implementations/js/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as sf from '../sframe.mjs';

const VDIR = new URL('../../../vectors/rfc9605/', import.meta.url);

// kid/ctr are JSON numbers up to 2^64-1: quote them before JSON.parse so no
// precision is lost, then turn them into BigInt.
function loadVectors(name) {
  const raw = readFileSync(fileURLToPath(new URL(name, VDIR)), 'utf8');
  const quoted = raw.replace(/"(kid|ctr)"(\s*):(\s*)(\d+)/g, '"$1"$2:$3"$4"');
  return JSON.parse(quoted, (k, v) => ((k === 'kid' || k === 'ctr') && typeof v === 'string' ? BigInt(v) : v));
}

const tv = loadVectors('test-vectors.json');
const post = loadVectors('test-vectors-post-rfc.json');
const a256 = loadVectors('test-vectors-aes256-post-rfc.json');
const { hexToBytes: h, bytesToHex: x } = sf;

async function rejectsWith(promiseOrFn, code) {
  await assert.rejects(async () => (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn),
    (e) => e instanceof sf.SFrameError && e.code === code || assert.fail(`expected ${code}, got ${e && (e.code || e)}`));
}

test('vectors parse big numbers exactly', () => {
  assert.ok(tv.header.some((v) => v.kid === sf.U64_MAX && v.ctr === sf.U64_MAX));
});

for (const [label, hdrs] of [['rfc', tv.header], ['post-rfc', post.header]]) {
  test(`header vectors (${label}, ${hdrs.length})`, () => {
    assert.equal(hdrs.length, 289);
    for (const v of hdrs) {
      assert.equal(x(sf.encodeHeader(v.kid, v.ctr)), v.encoded);
      const d = sf.decodeHeader(h(v.encoded + 'ff00'));
      assert.equal(d.kid, v.kid);
      assert.equal(d.ctr, v.ctr);
      assert.equal(d.length, v.encoded.length / 2);
      assert.equal(d.minimal, true);
      assert.equal(x(d.header), v.encoded);
    }
  });
}

test('AEAD vectors (CTR+HMAC, suites 1-3 and 6-8)', async () => {
  const all = [...tv.aes_ctr_hmac, ...post.aes_ctr_hmac, ...post.aes_256_ctr_hmac];
  assert.equal(all.length, 9);
  for (const v of all) {
    const ct = await sf.aeadEncrypt(v.cipher_suite, h(v.key), h(v.nonce), h(v.aad), h(v.pt));
    assert.equal(x(ct), v.ct, `suite ${v.cipher_suite}`);
    const pt = await sf.aeadDecrypt(v.cipher_suite, h(v.key), h(v.nonce), h(v.aad), h(v.ct));
    assert.equal(x(pt), v.pt);
    const bad = h(v.ct);
    bad[bad.length - 1] ^= 1;
    await rejectsWith(sf.aeadDecrypt(v.cipher_suite, h(v.key), h(v.nonce), h(v.aad), bad), 'auth_failed');
    await rejectsWith(sf.aeadEncrypt(v.cipher_suite, h(v.key).subarray(1), h(v.nonce), h(v.aad), h(v.pt)), 'invalid_argument');
  }
});

const sframeVectors = [...tv.sframe, ...a256.sframe_aes_256_ctr_hmac];

test('SFrame vectors (suites 1-8): derive, encrypt, decrypt', async () => {
  assert.deepEqual(sframeVectors.map((v) => v.cipher_suite).sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  for (const v of sframeVectors) {
    const s = v.cipher_suite;
    const d = await sf.deriveKeySalt(s, h(v.base_key), v.kid);
    assert.equal(x(d.key), v.sframe_key, `key suite ${s}`);
    assert.equal(x(d.salt), v.sframe_salt, `salt suite ${s}`);
    const ct = await sf.encrypt(s, h(v.base_key), v.kid, v.ctr, h(v.metadata), h(v.pt));
    assert.equal(x(ct), v.ct, `ct suite ${s}`);
    const pt = await sf.decrypt(s, h(v.base_key), v.kid, h(v.metadata), h(v.ct));
    assert.equal(x(pt), v.pt);
  }
});

test('SFrame negatives', async () => {
  for (const v of sframeVectors) {
    const s = v.cipher_suite;
    const Nt = sf.SUITES[s].Nt;
    const key = h(v.base_key);
    const md = h(v.metadata);
    const ct = h(v.ct);
    const hl = sf.decodeHeader(ct).length;
    const dec = (c, o = {}) => sf.decrypt(o.suite ?? s, key, o.kid ?? v.kid, o.md ?? md, c);
    for (const bad of ['', '08', '0f01', '9901']) await rejectsWith(dec(h(bad)), 'malformed');
    await rejectsWith(dec(ct.subarray(0, hl)), 'malformed');
    await rejectsWith(dec(ct.subarray(0, hl + Nt - 1)), 'malformed');
    const flipped = ct.slice();
    flipped[flipped.length - 1] ^= 0x80;
    await rejectsWith(dec(flipped), 'auth_failed');
    await rejectsWith(dec(ct, { md: h('00') }), 'auth_failed');
    await rejectsWith(dec(ct, { kid: 292n }), 'unknown_kid');
    await rejectsWith(dec(ct, { kid: 1n << 64n }), 'invalid_argument');
    await rejectsWith(dec(ct, { suite: 9 }), 'unsupported');
    // Non-minimal rewrite of the header (KID 0x123 in 3 bytes): must not decrypt.
    const nonMin = h('a9000123' + v.ct.slice(6));
    const d = sf.decodeHeader(nonMin);
    assert.equal(d.kid, v.kid);
    assert.equal(d.ctr, v.ctr);
    assert.equal(d.minimal, false);
    await rejectsWith(dec(nonMin), 'auth_failed');
  }
});

test('max KID/CTR, empty and 64 KiB round trips', async () => {
  const key = h('000102030405060708090a0b0c0d0e0f');
  const expectEmpty = { 1: '00c130b36745c8b6a91464', 4: '00a35d08f9dc7426fbde0f3649dfb2e85b' };
  for (const s of sf.SUPPORTED_SUITES) {
    const m = sf.U64_MAX;
    const ct = await sf.encrypt(s, key, m, m, h('aa'), h('bb'));
    assert.equal(x(ct.subarray(0, 17)), 'ff'.repeat(17));
    assert.equal(x(await sf.decrypt(s, key, m, h('aa'), ct)), 'bb');
    const e = await sf.encrypt(s, key, 0n, 0n, new Uint8Array(0), new Uint8Array(0));
    if (expectEmpty[s]) assert.equal(x(e), expectEmpty[s]);
    assert.equal((await sf.decrypt(s, key, 0n, undefined, e)).length, 0);
    const big = globalThis.crypto.getRandomValues(new Uint8Array(65536));
    const bc = await sf.encrypt(s, key, 9n, 1234n, h('01'), big);
    assert.deepEqual(await sf.decrypt(s, key, 9n, h('01'), bc), big);
  }
  assert.throws(() => sf.encodeHeader(1n << 64n, 0n), (e) => e.code === 'invalid_argument');
  assert.throws(() => sf.encodeHeader(-1n, 0n), (e) => e.code === 'invalid_argument');
  assert.throws(() => sf.decodeHeader(new Uint8Array(0)), (e) => e.code === 'malformed');
  assert.equal(x(sf.encodeHeader(8n, 7n)), '8708');
  assert.equal(x(sf.encodeHeader(7n, 8n)), '7808');
});

test('SFrameContext: usage separation and counter exhaustion', async () => {
  const key = h('000102030405060708090a0b0c0d0e0f');
  const tx = new sf.SFrameContext(4);
  const rx = new sf.SFrameContext(4);
  tx.addSendKey(5n, key);
  rx.addRecvKey(5n, key);
  const c0 = await tx.encrypt(5n, h('aa'), h('0102'));
  const c1 = await tx.encrypt(5n, h('aa'), h('0304'));
  assert.equal(sf.decodeHeader(c0).ctr, 0n);
  assert.equal(sf.decodeHeader(c1).ctr, 1n);
  assert.equal(x(await rx.decrypt(h('aa'), c1)), '0304');
  assert.deepEqual(c0, await sf.encrypt(4, key, 5n, 0n, h('aa'), h('0102')));
  await rejectsWith(tx.decrypt(h('aa'), c0), 'key_usage');
  await rejectsWith(rx.encrypt(5n, h('aa'), h('00')), 'key_usage');
  await rejectsWith(rx.decrypt(h('aa'), await sf.encrypt(4, key, 6n, 0n, h('aa'), h('00'))), 'unknown_kid');
  assert.throws(() => tx.addRecvKey(5n, key), (e) => e.code === 'key_usage');

  const last = new sf.SFrameContext(1);
  last.addSendKey(1n, key, { ctr: sf.U64_MAX });
  const lc = await last.encrypt(1n, null, h('00'));
  assert.equal(sf.decodeHeader(lc).ctr, sf.U64_MAX);
  assert.equal(last.nextCounter(1n), null);
  await rejectsWith(last.encrypt(1n, null, h('00')), 'counter_exhausted');
  await rejectsWith(last.encrypt(1n, null, h('00')), 'counter_exhausted');
});

test('FrameKey: derived once, seals and opens every official vector, keeps no module state', async () => {
  for (const v of sframeVectors) {
    const s = v.cipher_suite;
    const key = await sf.FrameKey.derive(s, h(v.base_key), v.kid);
    assert.equal(x(key.key), v.sframe_key);
    assert.equal(x(key.salt), v.sframe_salt);
    assert.equal(x(await key.seal(v.ctr, h(v.metadata), h(v.pt))), v.ct, `suite ${s}`);
    assert.equal(x(await key.decrypt(h(v.metadata), h(v.ct))), v.pt);
    // The nonce is salt XOR CTR in the last 8 bytes (erratum 8321: a 12-byte big-endian CTR).
    const nonce = key.nonce(v.ctr);
    const expected = h(v.sframe_salt);
    new DataView(expected.buffer).setBigUint64(4, new DataView(expected.buffer).getBigUint64(4) ^ v.ctr);
    assert.equal(x(nonce), x(expected));
    await rejectsWith(key.decrypt(h(v.metadata), await sf.encrypt(s, h(v.base_key), v.kid + 1n, 0n, null, h('00'))), 'unknown_kid');
  }
  assert.equal(sf.clearKeyCache, undefined); // the cache moved to the shim's adapter (shim/keycache.mjs)
});

test('hex helpers: both cases in, lowercase out, anything else invalid_argument', () => {
  assert.equal(x(h('00ff7Fa0')), '00ff7fa0');
  assert.equal(x(new Uint8Array(0)), '');
  for (const bad of ['0', 'zz', '0g', ' 00', '\u0100\u0100', 12]) {
    assert.throws(() => h(bad), (e) => e.code === 'invalid_argument', JSON.stringify(bad));
  }
});

test('FrameKey.header and nonce equal encodeHeader and salt XOR CTR at every length boundary', async () => {
  const ctrs = [0n, 1n, 7n, 8n, 0xffn, 0x100n, 0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, (1n << 56n) - 1n,
    1n << 56n, sf.U64_MAX - 1n, sf.U64_MAX];
  for (const kid of [0n, 7n, 8n, 0x123n, 1n << 40n, sf.U64_MAX]) {
    const key = await sf.FrameKey.derive(4, h('000102030405060708090a0b0c0d0e0f'), kid);
    const salt = key.salt;
    for (const ctr of ctrs) {
      assert.equal(x(key.header(ctr)), x(sf.encodeHeader(kid, ctr)), `kid ${kid} ctr ${ctr}`);
      const expected = salt.slice();
      new DataView(expected.buffer).setBigUint64(4, new DataView(salt.buffer).getBigUint64(4) ^ ctr);
      assert.equal(x(key.nonce(ctr)), x(expected), `nonce ctr ${ctr}`);
    }
  }
});
