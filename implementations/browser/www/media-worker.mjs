// RTCRtpScriptTransform worker: SFrame-protects (send) or -unprotects
// (receive) every encoded frame, and reports one record per frame to the page
// so the harness can check frames bit for bit (SHA-256 of the clear frame).
//
// VP8: Chromium's depacketizer tells key from delta frames by bit 0 of the
// first payload byte *before* the receive transform runs, so the VP8 payload
// header stays clear: 10 bytes on key frames, 3 on delta frames. Those bytes
// are passed as SFrame metadata (RFC 9605 §4.4.3, §9.4): authenticated, not
// encrypted. Opus frames are encrypted whole.
//
// options: {side: 'send'|'receive', lib: 'js'|'medooze', kind, suite, baseKey (hex), kid, name}
import * as sf from '/js/sframe.mjs';

const fromHex = (h) => new Uint8Array(h.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
const toHex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (u8) => toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', u8)));

// The VP8 payload header (RFC 6386 §9.1): bit 0 of byte 0 is 0 on key frames.
export function clearBytes(kind, data) {
  if (kind !== 'video' || data.length === 0) return 0;
  return Math.min(data.length, (data[0] & 1) === 0 ? 10 : 3);
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// RFC 9605 via implementations/js/sframe.mjs: one FrameKey derived for the
// stream, and the CTR the worker counts itself.
async function jsCodec(o) {
  const key = await sf.FrameKey.derive(o.suite, fromHex(o.baseKey), BigInt(o.kid));
  let ctr = 0n;
  return {
    async protect(clear, body) {
      const used = ctr++;
      return { out: concat(clear, await key.seal(used, clear, body)), ctr: used.toString() };
    },
    async unprotect(clear, sealed) {
      const header = sf.decodeHeader(sealed);
      return { body: await key.decrypt(clear, sealed), ctr: header.ctr.toString() };
    },
  };
}

// npm sframe 0.1.0 (draft format): its Context skips `skip` clear bytes itself.
// Type "video" has a 10-byte tag, anything else 4 bytes (see implementations/medooze/README.md).
async function medoozeCodec(o) {
  const { Context } = await import('/medooze/lib/Context.js');
  const kid = Number(o.kid);
  const type = o.kind === 'video' ? 'video' : 'audio';
  const ctx = new Context(kid);
  if (o.side === 'send') await ctx.setSenderEncryptionKey(fromHex(o.baseKey));
  else {
    ctx.addReceiver(kid);
    await ctx.setReceiverEncryptionKey(kid, fromHex(o.baseKey));
  }
  return {
    async protect(clear, body) {
      const ctr = ctx.sender.counter;
      const out = new Uint8Array(await ctx.encrypt(type, 0, concat(clear, body), clear.length));
      return { out, ctr: String(ctr) };
    },
    async unprotect(clear, sealed) {
      const out = new Uint8Array(await ctx.decrypt(type, 0, concat(clear, sealed), clear.length));
      return { body: out.subarray(clear.length), ctr: '' };
    },
  };
}

async function setup(transformer) {
  const o = transformer.options;
  let codec, setupError = null;
  try {
    codec = await (o.lib === 'medooze' ? medoozeCodec(o) : jsCodec(o));
  } catch (e) {
    setupError = String(e);
  }
  let index = 0;
  const transform = new TransformStream({
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      const c = clearBytes(o.kind, data);
      const clear = data.slice(0, c);
      const rec = { name: o.name, side: o.side, i: index++, type: frame.type ?? 'audio', size: data.length, ok: false };
      try {
        if (setupError) throw new Error(setupError);
        if (o.side === 'send') {
          const { out, ctr } = await codec.protect(clear, data.subarray(c));
          rec.sha = await sha256(data); // the clear frame: what the receiver must get back
          rec.ctr = ctr;
          frame.data = out.buffer;
        } else {
          const { body, ctr } = await codec.unprotect(clear, data.subarray(c));
          const plain = concat(clear, body);
          rec.sha = await sha256(plain);
          rec.ctr = ctr;
          frame.data = plain.buffer;
        }
        rec.ok = true;
      } catch (e) {
        rec.error = (e && (e.code || e.name)) || 'error';
        rec.message = String((e && e.message) || e).slice(0, 200);
      }
      self.postMessage(rec);
      // A frame that fails to decrypt is dropped: it never reaches the decoder.
      if (rec.ok) controller.enqueue(frame);
    },
  });
  transformer.readable.pipeThrough(transform).pipeTo(transformer.writable).catch(() => {});
  // Chromium drops the frames that arrive before a transform reads them, so the page
  // waits for this before the harness starts sending (media.ready()).
  self.postMessage({ ready: true });
}

onrtctransform = (event) => setup(event.transformer);
