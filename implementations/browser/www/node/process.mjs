// Stand-in for `node:process` inside a browser worker. The Node stdio shims
// (implementations/js/server.mjs, implementations/medooze/shim.mjs) run
// unchanged in node-host.mjs; they only touch stdout/stderr/exit/on.
const listeners = { stdout: [], stderr: [] };
const state = { exited: false, code: null };

const stream = (name) => ({
  write(text, callback) {
    if (typeof text === 'string' && text) for (const fn of listeners[name]) fn(text);
    if (typeof callback === 'function') queueMicrotask(callback);
    return true;
  },
  on() { return this; }, // 'error' handlers: a worker's output never fails
});

const process = {
  env: {},
  argv: [],
  stdin: {},
  stdout: stream('stdout'),
  stderr: stream('stderr'),
  on() { return process; }, // uncaughtException etc.: the worker's own error event reports those
  exit(code = 0) {
    if (state.exited) return;
    state.exited = true;
    state.code = code;
    for (const fn of listeners.exit || []) fn(code);
  },
};

// Host side: node-host.mjs subscribes here; the shims never see these.
export function onOutput(name, fn) { (listeners[name] ||= []).push(fn); }
export const exitState = state;
export default process;
