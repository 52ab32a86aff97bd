// V8 precise block coverage of a Node.js implementation, for the harness's
// coverage-guided fuzzer (harness/adapters/coverage.py, harness/PROTOCOL.md
// "Fuzzing your implementation with coverage").
//
// The harness preloads this module into any Node program it fuzzes, through
// NODE_OPTIONS=--import=<this file>, with:
//   SFRAME_COVERAGE_SOCKET    a Unix socket to connect to;
//   SFRAME_COVERAGE_INCLUDE   comma-separated substrings of the script URLs that
//                             are the implementation (not its shim); empty:
//                             every file: script but this one;
//   SFRAME_COVERAGE_MAP_SIZE  the map's length in bytes.
// Each byte "t" the harness sends is answered with the blocks V8 counted in the
// included scripts since the previous answer: a 4-byte big-endian n, then n
// entries of a 4-byte big-endian slot and a 1-byte hit count (saturated at
// 255). A block's slot is FNV-1a(url NUL start NUL end) mod size, so a
// restarted process puts the same block in the same slot.
//
// Rules of this file: without SFRAME_COVERAGE_SOCKET it does nothing; it
// writes nothing to stdout or stderr (the program's protocol and its logs are
// its own) and never keeps the program alive; coverage starts before the
// program's own modules are compiled, so their blocks are counted.
import inspector from 'node:inspector';
import net from 'node:net';
import process from 'node:process';

const socketPath = process.env.SFRAME_COVERAGE_SOCKET;

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

if (socketPath) {
  const size = Math.max(2, Math.min(1 << 24, Number(process.env.SFRAME_COVERAGE_MAP_SIZE) || 1 << 15));
  const include = (process.env.SFRAME_COVERAGE_INCLUDE || '').split(',').filter(Boolean);
  const self = import.meta.url;
  const wanted = (url) =>
    url !== self && (include.length ? include.some((part) => url.includes(part)) : url.startsWith('file:'));
  const session = new inspector.Session();
  session.connect();
  // A same-thread session answers synchronously.
  const post = (method, params) => {
    let answer;
    let failure;
    session.post(method, params, (error, result) => {
      failure = error;
      answer = result;
    });
    if (failure) throw failure;
    return answer;
  };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const slots = new Map(); // "url start end" -> slot, so each block is hashed once

  const take = () => {
    const counts = new Map(); // slot -> hits
    for (const script of post('Profiler.takePreciseCoverage').result) {
      if (!wanted(script.url)) continue;
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          if (range.count <= 0) continue;
          const key = `${script.url}\0${range.startOffset}\0${range.endOffset}`;
          let slot = slots.get(key);
          if (slot === undefined) slots.set(key, (slot = fnv1a(key) % size));
          counts.set(slot, Math.min(255, (counts.get(slot) || 0) + range.count));
        }
      }
    }
    const answer = Buffer.alloc(4 + 5 * counts.size);
    answer.writeUInt32BE(counts.size, 0);
    let at = 4;
    for (const [slot, hits] of counts) {
      answer.writeUInt32BE(slot, at);
      answer[at + 4] = hits;
      at += 5;
    }
    return answer;
  };

  const sock = net.createConnection(socketPath);
  sock.unref();
  sock.on('error', () => {}); // the harness went away: the program carries on without coverage
  sock.on('data', (chunk) => {
    for (const byte of chunk) {
      if (byte === 0x74) sock.write(take());
    }
  });
}
