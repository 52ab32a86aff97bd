// A dedicated module worker that runs one of the project's Node stdio shims
// (implementations/js/server.mjs or implementations/medooze/shim.mjs)
// unchanged: the static server points their `node:*` imports at the stand-ins
// in ./node/, and this worker plays stdin/stdout. So the browser runs the very
// same op mapping as `--impl js` / `--impl medooze`, over Chromium's WebCrypto.
//
// Protocol with the page: {seq, lines, timeoutMs} in, {seq, lines, exited,
// stderr} out. `lines` out are the shim's response lines, in order; fewer than
// were sent means the shim exited or missed the deadline.
import process, { onOutput, exitState, feedStdin } from './node/process.mjs';
import { Buffer } from './node/buffer.mjs';

// shim.mjs uses the globals, as Node provides them.
globalThis.process = process;
globalThis.Buffer = Buffer;

const STDERR_LINES = 20;
const encoder = new TextEncoder();
const output = [];
const stderrTail = [];
let partial = '';
let wake = null;

onOutput('stdout', (text) => {
  partial += text;
  let nl;
  while ((nl = partial.indexOf('\n')) >= 0) {
    output.push(partial.slice(0, nl));
    partial = partial.slice(nl + 1);
  }
  if (wake) wake();
});
onOutput('stderr', (text) => {
  for (const line of text.split('\n')) if (line) stderrTail.push(line);
  stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_LINES));
});
onOutput('exit', () => { if (wake) wake(); });

const shimUrl = new URL(self.location.href).searchParams.get('shim');
const loaded = import(shimUrl).then(() => null, (e) => String((e && e.stack) || e));

async function runBatch(lines, timeoutMs) {
  const want = output.length + lines.length;
  const deadline = Date.now() + timeoutMs;
  for (const line of lines) if (!exitState.exited) feedStdin(encoder.encode(`${line}\n`));
  while (output.length < want && !exitState.exited && Date.now() < deadline) {
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    wake = null;
  }
  return output.splice(0, lines.length);
}

onmessage = async (event) => {
  const { seq, lines, timeoutMs } = event.data;
  const loadError = await loaded;
  if (loadError) {
    postMessage({ seq, lines: [], exited: true, stderr: [`cannot load ${shimUrl}: ${loadError}`] });
    return;
  }
  const answered = await runBatch(lines, timeoutMs);
  postMessage({ seq, lines: answered, exited: exitState.exited, stderr: stderrTail.slice(-5) });
};
