// Stand-in for `node:readline`: the host feeds request lines to the interface
// the shim created, exactly as Node's readline would emit them.
const interfaces = [];

class Interface {
  constructor() { this.handlers = { line: [], close: [] }; this.closed = false; }
  on(event, fn) { (this.handlers[event] ||= []).push(fn); return this; }
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.handlers.close) fn();
  }
}

export function createInterface() {
  const rl = new Interface();
  interfaces.push(rl);
  return rl;
}

// Host side.
export function feedLine(line) {
  for (const rl of interfaces) if (!rl.closed) for (const fn of rl.handlers.line) fn(line);
}
export default { createInterface };
