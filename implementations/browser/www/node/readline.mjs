// Stand-in for `node:readline`: an interface over the stand-in stdin that
// emits one 'line' per newline-terminated line, as Node's readline does.
const decoder = new TextDecoder();

class Interface {
  constructor(input) {
    this.handlers = { line: [], close: [] };
    this.closed = false;
    this.input = input;
    this.partial = '';
    this.onData = (bytes) => this.receive(typeof bytes === 'string' ? bytes : decoder.decode(bytes));
    input.on('data', this.onData);
  }

  receive(text) {
    this.partial += text;
    let nl;
    while (!this.closed && (nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl).replace(/\r$/, '');
      this.partial = this.partial.slice(nl + 1);
      for (const fn of this.handlers.line) fn(line);
    }
  }

  on(event, fn) { (this.handlers[event] ||= []).push(fn); return this; }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.input.removeListener('data', this.onData);
    for (const fn of this.handlers.close) fn();
  }
}

export function createInterface({ input }) {
  return new Interface(input);
}
export default { createInterface };
