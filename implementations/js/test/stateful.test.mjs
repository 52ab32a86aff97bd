// Stateful key management: contexts, replay window, sender-key ratchet (§5.1),
// MLS epochs (§5.2), and the stdio shim's context ops.
// Run with: node --test implementations/js/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as sf from '../sframe.mjs';

const { hexToBytes: h, bytesToHex: x } = sf;
const BK = h('000102030405060708090a0b0c0d0e0f');
const enc = (s) => new TextEncoder().encode(s);

async function rejectsWith(promiseOrFn, code) {
  await assert.rejects(async () => (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn),
    (e) => e instanceof sf.SFrameError && e.code === code || assert.fail(`expected ${code}, got ${e && (e.code || e)}`));
}

// Known answers from the requirements catalogue (SK-01, MLS-02, the §4 worked example).
test('ratchet known answers (label "SFrame 1.0 Ratchet", Nh bytes)', async () => {
  const s1 = x(await sf.ratchetBaseKey(1, BK, 1));
  assert.ok(s1.startsWith('fb75d8d5') && s1.endsWith('d2af0f87') && s1.length === 64, s1);
  const s2 = x(await sf.ratchetBaseKey(1, BK, 2));
  assert.ok(s2.startsWith('e24577b5') && s2.endsWith('3ab4598e'), s2);
  const s5 = x(await sf.ratchetBaseKey(5, BK, 1));
  assert.ok(s5.startsWith('895fe560') && s5.endsWith('d07475aa') && s5.length === 128, s5);
  assert.equal(x(await sf.ratchetBaseKey(1, BK, 0)), x(BK));
  assert.equal(x(await sf.ratchetBaseKey(1, await sf.ratchetBaseKey(1, BK, 1), 1)), s2);
  await rejectsWith(sf.ratchetBaseKey(1, BK, -1), 'invalid_argument');
});

test('MLS KID layout: the RFC figure values and overflow', () => {
  const cases = [[14, 3, 0, 0x3e], [14, 7, 0, 0x7e], [14, 20, 0, 0x14e], [15, 3, 0, 0x3f], [15, 5, 0, 0x5f],
    [16, 2, 2, 0x820], [16, 2, 3, 0xc20], [17, 33, 0, 0x211], [17, 51, 0, 0x331]];
  for (const [e, i, c, kid] of cases) assert.equal(sf.mlsKid(4, 6, e, i, c), BigInt(kid));
  assert.throws(() => sf.mlsKid(4, 6, 0, 64, 0), (e) => e.code === 'invalid_argument');
  assert.throws(() => sf.mlsKid(4, 6, 0, 0, 1n << 54n), (e) => e.code === 'invalid_argument');
  assert.equal(sf.mlsKid(4, 6, 0, 0, (1n << 54n) - 1n), ((1n << 54n) - 1n) << 10n);
  assert.throws(() => sf.mlsKid(40, 25, 0, 0, 0), (e) => e.code === 'invalid_argument');
  assert.equal(sf.mlsKid(8, 24, 300, (1 << 24) - 1, 0), (BigInt((1 << 24) - 1) << 8n) + 44n);
});

test('MLS worked example: suite 4, E=4, S=6, epoch 14, index 3', async () => {
  const m = new sf.MlsContext(4, { epochBits: 4, senderBits: 6 });
  m.addEpoch(14, h('ac05c9e087590fc123efe6533126f808'));
  const r = await m.encryptMls(14, 3, 0, null, enc('hello'));
  assert.equal(r.kid, 0x3en);
  assert.equal(x(r.ciphertext), '803e1980178d8fb2689cc65ef16d73c1ed80a5988a5c59');
  await rejectsWith(m.decryptMls(null, r.ciphertext), 'key_usage'); // its own KID: send-only here
  const rx = new sf.MlsContext(4, { epochBits: 4, senderBits: 6 });
  rx.addEpoch(14, h('ac05c9e087590fc123efe6533126f808'));
  const d = await rx.decryptMls(null, r.ciphertext);
  assert.deepEqual([x(d.plaintext), d.epoch, d.senderIndex, d.contextId], ['68656c6c6f', 14n, 3n, 0n]);
  await rejectsWith(rx.encryptMls(14, 3, 0, null, enc('x')), 'key_usage'); // a KID it receives on
});

test('MLS: per-KID counters, eviction, removal, KID rewrite', async () => {
  const secret = h('ac05c9e087590fc123efe6533126f808');
  const a = new sf.MlsContext(4, { epochBits: 2, senderBits: 4 });
  const b = new sf.MlsContext(4, { epochBits: 2, senderBits: 4 });
  for (const m of [a, b]) m.addEpoch(1, secret);
  const s0 = await a.encryptMls(1, 5, 0, null, enc('x'));
  const s1 = await a.encryptMls(1, 5, 1, null, enc('y'));
  const s2 = await a.encryptMls(1, 5, 0, null, enc('z'));
  assert.deepEqual([s0.ctr, s1.ctr, s2.ctr], [0n, 0n, 1n]); // each context_id has its own counter
  assert.equal((await b.decryptMls(null, s1.ciphertext)).contextId, 1n);
  // Rewrite member 5's KID to member 6's: a different key, so it must not authenticate.
  const hdr = sf.decodeHeader(s0.ciphertext);
  const forged = new Uint8Array([...sf.encodeHeader(hdr.kid + 4n, hdr.ctr), ...s0.ciphertext.subarray(hdr.length)]);
  await rejectsWith(b.decryptMls(null, forged), 'auth_failed');
  assert.equal((await b.encryptMls(1, 6, 0, null, enc('w'))).ctr, 0n); // the forged KID left no receive key
  await rejectsWith(a.encryptMls(2, 5, 0, null, enc('x')), 'unknown_kid');
  await rejectsWith(a.encryptMls(5, 5, 0, null, enc('x')), 'unknown_kid'); // same slot as epoch 1, not installed
  b.addEpoch(5, h('00112233445566778899aabbccddeeff')); // 5 mod 4 == 1: epoch 1 is evicted
  assert.equal(b.hasEpoch(1), false);
  await rejectsWith(b.decryptMls(null, s0.ciphertext), 'auth_failed');
  assert.equal(b.removeEpoch(1), false);
  assert.equal(b.removeEpoch(5), true);
  await rejectsWith(b.decryptMls(null, s0.ciphertext), 'unknown_kid');
  assert.throws(() => a.addRecvKey(1, secret), (e) => e.code === 'invalid_argument');
});

test('context: usage, re-add, unknown KID then added, counters', async () => {
  const tx = new sf.SFrameContext(1);
  const rx = new sf.SFrameContext(1);
  tx.addSendKey(9, BK, { ctr: 7 });
  assert.throws(() => tx.addSendKey(9, BK), (e) => e.code === 'key_usage');
  assert.throws(() => tx.addRecvKey(9, BK), (e) => e.code === 'key_usage');
  const f = await tx.encryptFrame(9, h('01'), h('02'));
  assert.equal(f.ctr, 7n);
  await rejectsWith(rx.decryptFrame(h('01'), f.ciphertext), 'unknown_kid');
  rx.addRecvKey(9, BK);
  const d = await rx.decryptFrame(h('01'), f.ciphertext);
  assert.deepEqual([x(d.plaintext), d.kid, d.ctr], ['02', 9n, 7n]);
  assert.equal(tx.keyUsage(9), 'send');
  assert.equal(rx.removeKey(9), true);
  assert.equal(rx.removeKey(9), false);
});

test('replay window: duplicates, reordering, too old, forged frames do not move it', async () => {
  const tx = new sf.SFrameContext(4);
  const rx = new sf.SFrameContext(4, { replayWindow: 4 });
  tx.addSendKey(1, BK);
  rx.addRecvKey(1, BK);
  const f = [];
  for (let i = 0; i < 10; i++) f.push(await tx.encrypt(1, null, h('00')));
  await rx.decrypt(null, f[5]);
  await rejectsWith(rx.decrypt(null, f[5]), 'replay');
  await rx.decrypt(null, f[3]); // reordered, inside the window
  await rejectsWith(rx.decrypt(null, f[1]), 'replay'); // 4 below the highest
  const forged = await sf.encrypt(4, h('ffffffffffffffffffffffffffffffff'), 1, 100, null, h('00'));
  await rejectsWith(rx.decrypt(null, forged), 'auth_failed');
  await rx.decrypt(null, f[4]); // still accepted: the forged CTR 100 did not slide the window
  await rx.decrypt(null, f[9]);
  await rejectsWith(rx.decrypt(null, f[5]), 'replay');
  const plain = new sf.SFrameContext(4);
  plain.addRecvKey(1, BK);
  await plain.decrypt(null, f[0]);
  await plain.decrypt(null, f[0]); // no window: duplicates decrypt every time
  assert.throws(() => new sf.SFrameContext(4, { replayWindow: 0 }), (e) => e.code === 'invalid_argument');
  const w = new sf.ReplayWindow(1);
  w.accept(5n);
  assert.throws(() => w.check(4n), (e) => e.code === 'replay');
  w.accept(6n);
});

test('ratchet sender and receiver: KIDs, reordering, window, generations', async () => {
  const tx = new sf.RatchetSender(1, BK, { generation: 1, ratchetBits: 8 });
  assert.equal(tx.kid, 0x100n);
  const c0 = await tx.encrypt(undefined, null, h('00'));
  assert.equal(x(c0.subarray(0, 3)), '900100');
  await tx.encrypt(undefined, null, h('00'));
  for (let i = 0; i < 3; i++) await tx.advance();
  assert.equal(tx.kid, 0x103n);
  const c3 = await tx.encryptFrame(undefined, null, h('03'));
  assert.equal(c3.ctr, 0n); // CTR restarts with each step
  assert.equal(x(c3.ciphertext.subarray(0, 3)), '900103');
  await rejectsWith(tx.encrypt(0x100n, null, h('00')), 'unknown_kid');

  const small = new sf.RatchetSender(4, BK, { generation: 0, ratchetBits: 2 }); // W = 2
  const rx = new sf.RatchetReceiver(4, BK, { generation: 0, ratchetBits: 2 });
  const frames = [];
  for (let i = 0; i < 6; i++) { frames.push(await small.encrypt(undefined, null, h('0' + i))); await small.advance(); }
  const dec = async (i) => x(await rx.decrypt(null, frames[i]));
  assert.equal(await dec(0), '00');
  assert.equal(await dec(2), '02');
  assert.equal(await dec(1), '01'); // reordered, kept step c-1
  await rejectsWith(rx.decrypt(null, frames[0]), 'auth_failed'); // step 0 was deleted
  assert.equal(await dec(3), '03');
  assert.equal(await dec(5), '05');
  assert.deepEqual(rx.keptSteps, [4n, 5n]);
  assert.equal(await dec(4), '04');
  // A forged frame ahead must not move the receiver.
  const bad = new Uint8Array(frames[5]);
  bad[bad.length - 1] ^= 1;
  const fwd = await sf.encrypt(4, h('ffffffffffffffffffffffffffffffff'), 3, 0, null, h('00'));
  await rejectsWith(rx.decrypt(null, fwd), 'auth_failed');
  assert.equal(rx.step, 5n);
  const other = await sf.encrypt(4, BK, 4, 0, null, h('00')); // generation 1
  await rejectsWith(rx.decrypt(null, other), 'unknown_kid');
  const late = new sf.RatchetReceiver(4, await sf.ratchetBaseKey(4, BK, 4), { generation: 0, ratchetBits: 2, step: 4 });
  assert.equal(x(await late.decrypt(null, frames[5])), '05');
  assert.throws(() => new sf.RatchetSender(4, BK, { generation: 1n << 56n, ratchetBits: 8 }),
    (e) => e.code === 'invalid_argument');
  assert.throws(() => new sf.RatchetSender(4, BK, { generation: 0, ratchetBits: 64 }), (e) => e.code === 'invalid_argument');
});

// --- the shim -----------------------------------------------------------------

function shim() {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('../server.mjs', import.meta.url))],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiting = [];
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); waiting.shift()(JSON.parse(line)); }
  });
  let id = 0;
  // Pipelined: every request is written at once, answers come back in order.
  const send = (...reqs) => Promise.all(reqs.map((r) => new Promise((res) => {
    waiting.push(res);
    proc.stdin.write(JSON.stringify({ id: ++id, ...r }) + '\n');
  })));
  return { send, close: () => proc.stdin.end() };
}

test('shim: context ops, pipelined, in request order', async () => {
  const s = shim();
  try {
    const [hello, a, b] = await s.send({ op: 'hello' }, { op: 'context_new', suite: 1 },
      { op: 'context_new', suite: 1, replay_window: 2 });
    for (const cap of ['context', 'ratchet', 'mls', 'replay']) assert.ok(hello.capabilities.includes(cap));
    const key = '000102030405060708090a0b0c0d0e0f';
    const r = await s.send(
      { op: 'context_add_key', ctx: a.ctx, kid: '3', base_key: key, usage: 'send', next_ctr: '18446744073709551614' },
      { op: 'context_add_key', ctx: b.ctx, kid: '3', base_key: key, usage: 'recv' },
      { op: 'context_add_key', ctx: b.ctx, kid: '3', base_key: key, usage: 'send' },
      { op: 'context_encrypt', ctx: a.ctx, kid: '3', metadata: '', plaintext: '01' },
      { op: 'context_encrypt', ctx: a.ctx, kid: '3', metadata: '', plaintext: '02' },
      { op: 'context_encrypt', ctx: a.ctx, kid: '3', metadata: '', plaintext: '03' },
      { op: 'context_encrypt', ctx: b.ctx, kid: '3', metadata: '', plaintext: '03' },
      { op: 'context_add_key', ctx: a.ctx, kid: '4', base_key: key, usage: 'bogus' },
      { op: 'context_remove_key', ctx: a.ctx, kid: '4' },
      { op: 'context_encrypt', ctx: 'nope', kid: '3', metadata: '', plaintext: '03' },
    );
    assert.deepEqual(r.map((x) => x.ok ? 'ok' : x.error),
      ['ok', 'ok', 'key_usage', 'ok', 'ok', 'counter_exhausted', 'key_usage', 'invalid_argument', 'unknown_kid', 'invalid_argument']);
    assert.deepEqual([r[3].ctr, r[4].ctr], ['18446744073709551614', '18446744073709551615']);
    const d = await s.send(
      { op: 'context_decrypt', ctx: b.ctx, metadata: '', ciphertext: r[4].ciphertext },
      { op: 'context_decrypt', ctx: b.ctx, metadata: '', ciphertext: r[4].ciphertext },
      { op: 'context_decrypt', ctx: b.ctx, metadata: '', ciphertext: r[3].ciphertext },
      { op: 'context_decrypt', ctx: a.ctx, metadata: '', ciphertext: r[3].ciphertext },
      { op: 'context_free', ctx: b.ctx },
      { op: 'context_decrypt', ctx: b.ctx, metadata: '', ciphertext: r[3].ciphertext },
    );
    assert.deepEqual(d.map((x) => x.ok ? 'ok' : x.error), ['ok', 'replay', 'ok', 'key_usage', 'ok', 'invalid_argument']);
    assert.deepEqual([d[0].plaintext, d[0].kid, d[0].ctr], ['02', '3', '18446744073709551615']);
  } finally { s.close(); }
});

test('shim: ratchet and MLS ops', async () => {
  const s = shim();
  try {
    const key = '000102030405060708090a0b0c0d0e0f';
    const [der, tx, rx] = await s.send(
      { op: 'ratchet_derive', suite: 1, base_key: key, steps: 2 },
      { op: 'ratchet_sender_new', suite: 1, base_key: key, generation: '1', ratchet_bits: 8 },
      { op: 'ratchet_receiver_new', suite: 1, base_key: key, generation: '1', ratchet_bits: 8 },
    );
    assert.ok(der.base_key.startsWith('e24577b5'));
    assert.equal(tx.kid, '256');
    const r = await s.send(
      { op: 'ratchet_advance', ctx: tx.ctx },
      { op: 'context_encrypt', ctx: tx.ctx, metadata: '', plaintext: 'aa' },
      { op: 'ratchet_advance', ctx: rx.ctx },
      { op: 'ratchet_sender_new', suite: 1, base_key: key, generation: '72057594037927936', ratchet_bits: 8 },
    );
    assert.deepEqual([r[0].kid, r[0].step, r[1].ctr], ['257', 1, '0']);
    assert.deepEqual([r[2].error, r[3].error], ['invalid_argument', 'invalid_argument']);
    const [d] = await s.send({ op: 'context_decrypt', ctx: rx.ctx, metadata: '', ciphertext: r[1].ciphertext });
    assert.deepEqual([d.plaintext, d.kid], ['aa', '257']);

    const [m] = await s.send({ op: 'mls_context_new', suite: 4, epoch_bits: 4, sender_bits: 6 });
    const q = await s.send(
      { op: 'mls_add_epoch', ctx: m.ctx, epoch: '14', epoch_secret: 'ac05c9e087590fc123efe6533126f808' },
      { op: 'mls_encrypt', ctx: m.ctx, epoch: '14', sender_index: '3', context_id: '0', metadata: '', plaintext: '68656c6c6f' },
      { op: 'mls_encrypt', ctx: m.ctx, epoch: '14', sender_index: '64', context_id: '0', metadata: '', plaintext: '' },
      { op: 'mls_remove_epoch', ctx: m.ctx, epoch: '30' },
      { op: 'mls_context_new', suite: 4, epoch_bits: 40, sender_bits: 25 },
      { op: 'mls_add_epoch', ctx: tx.ctx, epoch: '1', epoch_secret: '00' },
    );
    assert.equal(q[1].ciphertext, '803e1980178d8fb2689cc65ef16d73c1ed80a5988a5c59');
    assert.deepEqual(q.slice(2).map((x) => x.error), ['invalid_argument', 'unknown_kid', 'invalid_argument', 'invalid_argument']);
    const [m2] = await s.send({ op: 'mls_context_new', suite: 4, epoch_bits: 4, sender_bits: 6 });
    const [, md, own] = await s.send(
      { op: 'mls_add_epoch', ctx: m2.ctx, epoch: '14', epoch_secret: 'ac05c9e087590fc123efe6533126f808' },
      { op: 'mls_decrypt', ctx: m2.ctx, metadata: '', ciphertext: q[1].ciphertext },
      { op: 'mls_decrypt', ctx: m.ctx, metadata: '', ciphertext: q[1].ciphertext },
    );
    assert.equal(own.error, 'key_usage');
    assert.deepEqual([md.epoch, md.sender_index, md.context_id, md.plaintext], ['14', '3', '0', '68656c6c6f']);
  } finally { s.close(); }
});
