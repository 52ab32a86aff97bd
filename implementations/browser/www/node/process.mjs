// Stand-in for `node:process` inside a browser worker. The Node stdio shims
// (implementations/js/server.mjs, implementations/medooze/shim.mjs) run
// unchanged in node-host.mjs; they touch only stdin ('data'/'end' events),
// stdout/stderr writes, exit and on. stdin carries the bytes of whole request
// lines, as a pipe would; there is no `versions.node`, so the js shim knows it
// is not on Node (no binary framing, performance.now() for its clock).
const listeners = { stdout: [], stderr: [], exit: [] };
const stdinListeners = { data: [], end: [] };
const state = { exited: false, code: null };

const stream = (name) => ({
  write(text, callback) {
    if (typeof text === 'string' && text) for (const fn of listeners[name]) fn(text);
    if (typeof callback === 'function') queueMicrotask(callback);
    return true;
  },
  on() { return this; }, // 'error' handlers: a worker's output never fails
});

const stdin = {
  on(event, fn) {
    if (stdinListeners[event]) stdinListeners[event].push(fn);
    return stdin;
  },
  removeListener(event, fn) {
    const list = stdinListeners[event] || [];
    if (list.includes(fn)) list.splice(list.indexOf(fn), 1);
    return stdin;
  },
  pause() { return stdin; },
  resume() { return stdin; },
};

const process = {
  env: {},
  argv: [],
  stdin,
  stdout: stream('stdout'),
  stderr: stream('stderr'),
  on() { return process; }, // uncaughtException etc.: the worker's own error event reports those
  exit(code = 0) {
    if (state.exited) return;
    state.exited = true;
    state.code = code;
    for (const fn of listeners.exit) fn(code);
  },
};

// Host side: node-host.mjs subscribes and feeds here; the shims never see these.
export function onOutput(name, fn) { listeners[name].push(fn); }
export function feedStdin(bytes) {
  for (const fn of stdinListeners.data.slice()) fn(bytes);
}
export const exitState = state;
export default process;
