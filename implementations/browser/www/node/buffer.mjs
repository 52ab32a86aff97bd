// Stand-in for `node:buffer`: just the hex round trip the stdio shims use
// (Buffer.from(hex, 'hex'), Buffer.from(view...).toString('hex')). The shims
// validate hex themselves before decoding.
export class Buffer extends Uint8Array {
  static from(value, encodingOrOffset, length) {
    if (typeof value === 'string') {
      if (encodingOrOffset !== 'hex') throw new TypeError(`Buffer stub: only hex strings, not ${encodingOrOffset}`);
      const out = new Buffer(value.length >> 1);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(value.substr(2 * i, 2), 16);
      return out;
    }
    if (value instanceof ArrayBuffer) {
      const offset = encodingOrOffset ?? 0;
      return new Buffer(value, offset, length ?? value.byteLength - offset);
    }
    if (ArrayBuffer.isView(value)) return new Buffer(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    throw new TypeError('Buffer stub: unsupported Buffer.from argument');
  }

  toString(encoding) {
    if (encoding !== 'hex') return super.toString();
    let s = '';
    for (let i = 0; i < this.length; i++) s += (this[i] < 16 ? '0' : '') + this[i].toString(16);
    return s;
  }
}
export default { Buffer };
