// The wire protocol's ops (harness/PROTOCOL.md) mapped onto the library.
//
// Rules of this module: it knows requests and responses as plain objects of
// typed values (Uint8Array for binary fields, BigInt for u64 fields, Number
// for integers) and nothing of their framing: wire.mjs turns them into JSON
// lines or binary-v1 frames, server.mjs moves them. Every op validates its
// fields through fields.mjs; every failure becomes {ok: false, error, message},
// with `internal` only for a bug. All state (key cache, contexts) lives in one
// adapter instance, created by createAdapter. No node:* imports: the browser
// worker runs this file as it is.
import * as sf from '../sframe.mjs';
import { benchOps } from './bench.mjs';
import { ContextTable } from './contexts.mjs';
import {
  ArgError, bytesField, field, intField, optionalInt, optionalU64, suiteField, u64Field,
} from './fields.mjs';
import { KeyCache } from './keycache.mjs';

export const NAME = 'sframe-js';
export const VERSION = '0.1.0';
const CAPABILITIES = ['encode_header', 'decode_header', 'derive', 'aead_encrypt', 'aead_decrypt', 'shutdown',
  'context', 'ratchet', 'mls', 'replay', 'bench', 'timing'];

/** Core and optional stateless ops (PROTOCOL.md "Core ops", "Optional ops"). */
function statelessOps(keys) {
  return {
    hello: () => ({
      name: NAME, version: VERSION, protocol: 1,
      suites: sf.SUPPORTED_SUITES.slice(), capabilities: CAPABILITIES.slice(),
    }),

    async encrypt(req) {
      const suite = suiteField(req);
      const key = keys.frameKey(suite, bytesField(req, 'base_key'), u64Field(req, 'kid'));
      const ctr = u64Field(req, 'ctr');
      const metadata = bytesField(req, 'metadata');
      const plaintext = bytesField(req, 'plaintext');
      return { ciphertext: await (await key).seal(ctr, metadata, plaintext) };
    },

    async decrypt(req) {
      const suite = suiteField(req);
      const key = keys.frameKey(suite, bytesField(req, 'base_key'), u64Field(req, 'kid'));
      const metadata = bytesField(req, 'metadata');
      const ciphertext = bytesField(req, 'ciphertext');
      return { plaintext: await (await key).decrypt(metadata, ciphertext) };
    },

    encode_header: (req) => ({ header: sf.encodeHeader(u64Field(req, 'kid'), u64Field(req, 'ctr')) }),

    decode_header(req) {
      const h = sf.decodeHeader(bytesField(req, 'data'));
      return { kid: h.kid, ctr: h.ctr, length: h.length, minimal: h.minimal };
    },

    async derive(req) {
      const suite = suiteField(req);
      const { key, salt } = await sf.deriveKeySalt(suite, bytesField(req, 'base_key'), u64Field(req, 'kid'));
      return { key, salt };
    },

    async aead_encrypt(req) {
      const suite = suiteField(req);
      const key = keys.aeadKey(suite, bytesField(req, 'key'));
      const nonce = bytesField(req, 'nonce');
      const aad = bytesField(req, 'aad');
      const plaintext = bytesField(req, 'plaintext');
      return { ciphertext: await (await key).seal(nonce, aad, plaintext) };
    },

    async aead_decrypt(req) {
      const suite = suiteField(req);
      const key = keys.aeadKey(suite, bytesField(req, 'key'));
      const nonce = bytesField(req, 'nonce');
      const aad = bytesField(req, 'aad');
      const ciphertext = bytesField(req, 'ciphertext');
      return { plaintext: await (await key).open(nonce, aad, ciphertext) };
    },

    shutdown: () => ({}),
  };
}

/** The `context` capability (RFC 9605 §4.4.1). */
function contextOps(contexts) {
  return {
    context_new(req) {
      const ctx = new sf.SFrameContext(suiteField(req), { replayWindow: optionalInt(req, 'replay_window') });
      return { ctx: contexts.add(ctx) };
    },

    context_add_key(req) {
      const kid = u64Field(req, 'kid');
      const baseKey = bytesField(req, 'base_key');
      const usage = field(req, 'usage');
      if (usage !== 'send' && usage !== 'recv') throw new ArgError('field "usage" must be "send" or "recv"');
      const next = optionalU64(req, 'next_ctr');
      return contexts.run(req, sf.SFrameContext, (ctx) => {
        if (usage === 'send') ctx.addSendKey(kid, baseKey, { ctr: next });
        else ctx.addRecvKey(kid, baseKey);
        return {};
      });
    },

    context_remove_key(req) {
      const kid = u64Field(req, 'kid');
      return contexts.run(req, sf.SFrameContext, (ctx) => {
        if (!ctx.removeKey(kid)) throw new sf.SFrameError(sf.ErrorCode.UNKNOWN_KID, `no key for KID ${kid}`);
        return {};
      });
    },

    context_encrypt(req) {
      const kid = optionalU64(req, 'kid'); // a ratchet sender may omit it: its current step's KID
      const metadata = bytesField(req, 'metadata');
      const plaintext = bytesField(req, 'plaintext');
      return contexts.run(req, [sf.SFrameContext, sf.RatchetSender], async (ctx) => {
        if (kid === undefined && !(ctx instanceof sf.RatchetSender)) throw new ArgError('missing field "kid"');
        const r = await ctx.encryptFrame(kid, metadata, plaintext);
        return { ciphertext: r.ciphertext, ctr: r.ctr };
      });
    },

    context_decrypt(req) {
      const metadata = bytesField(req, 'metadata');
      const ciphertext = bytesField(req, 'ciphertext');
      return contexts.run(req, [sf.SFrameContext, sf.RatchetSender, sf.RatchetReceiver], async (ctx) => {
        const r = await ctx.decryptFrame(metadata, ciphertext);
        return { plaintext: r.plaintext, kid: r.kid, ctr: r.ctr };
      });
    },

    context_free(req) {
      contexts.free(req);
      return {};
    },
  };
}

/** The `ratchet` capability (RFC 9605 §5.1). */
function ratchetOps(contexts) {
  return {
    async ratchet_derive(req) {
      const suite = suiteField(req);
      return { base_key: await sf.ratchetBaseKey(suite, bytesField(req, 'base_key'), intField(req, 'steps')) };
    },

    ratchet_sender_new(req) {
      const ctx = new sf.RatchetSender(suiteField(req), bytesField(req, 'base_key'), {
        generation: u64Field(req, 'generation'), ratchetBits: intField(req, 'ratchet_bits'),
      });
      return { ctx: contexts.add(ctx), kid: ctx.kid };
    },

    ratchet_advance(req) {
      return contexts.run(req, sf.RatchetSender, async (ctx) => {
        const r = await ctx.advance();
        return { kid: r.kid, step: Number(r.step) };
      });
    },

    ratchet_receiver_new(req) {
      const ctx = new sf.RatchetReceiver(suiteField(req), bytesField(req, 'base_key'), {
        generation: u64Field(req, 'generation'), ratchetBits: intField(req, 'ratchet_bits'),
        step: intField(req, 'step', 0), replayWindow: optionalInt(req, 'replay_window'),
      });
      return { ctx: contexts.add(ctx) };
    },
  };
}

/** The `mls` capability (RFC 9605 §5.2). */
function mlsOps(contexts) {
  return {
    mls_context_new(req) {
      const ctx = new sf.MlsContext(suiteField(req), {
        epochBits: intField(req, 'epoch_bits'), senderBits: intField(req, 'sender_bits'),
        replayWindow: optionalInt(req, 'replay_window'),
      });
      return { ctx: contexts.add(ctx) };
    },

    mls_add_epoch(req) {
      const epoch = u64Field(req, 'epoch');
      const secret = bytesField(req, 'epoch_secret');
      return contexts.run(req, sf.MlsContext, (ctx) => {
        ctx.addEpoch(epoch, secret);
        return {};
      });
    },

    mls_remove_epoch(req) {
      const epoch = u64Field(req, 'epoch');
      return contexts.run(req, sf.MlsContext, (ctx) => {
        if (!ctx.removeEpoch(epoch)) throw new sf.SFrameError(sf.ErrorCode.UNKNOWN_KID, `epoch ${epoch} is not installed`);
        return {};
      });
    },

    mls_encrypt(req) {
      const epoch = u64Field(req, 'epoch');
      const senderIndex = u64Field(req, 'sender_index');
      const contextId = u64Field(req, 'context_id');
      const metadata = bytesField(req, 'metadata');
      const plaintext = bytesField(req, 'plaintext');
      return contexts.run(req, sf.MlsContext, async (ctx) => {
        const r = await ctx.encryptMls(epoch, senderIndex, contextId, metadata, plaintext);
        return { ciphertext: r.ciphertext, kid: r.kid, ctr: r.ctr };
      });
    },

    mls_decrypt(req) {
      const metadata = bytesField(req, 'metadata');
      const ciphertext = bytesField(req, 'ciphertext');
      return contexts.run(req, sf.MlsContext, async (ctx) => {
        const r = await ctx.decryptMls(metadata, ciphertext);
        return {
          plaintext: r.plaintext, epoch: r.epoch, sender_index: r.senderIndex, context_id: r.contextId,
          kid: r.kid, ctr: r.ctr,
        };
      });
    },
  };
}

export function errorResponse(id, e) {
  if (e instanceof sf.SFrameError) return { id, ok: false, error: e.code, message: e.message };
  return { id, ok: false, error: 'internal', message: String((e && e.stack) || e) };
}

/**
 * One adapter: its own key cache and contexts. `clock` = {name, now(): BigInt ns}
 * times the bench and timing ops.
 * @returns {{handle(req: object): Promise<object>}} handle never rejects
 */
export function createAdapter({ clock }) {
  const keys = new KeyCache();
  const contexts = new ContextTable();
  const ops = {
    ...statelessOps(keys), ...contextOps(contexts), ...ratchetOps(contexts), ...mlsOps(contexts),
    ...benchOps(clock),
  };
  return {
    async handle(req) {
      const id = req.id === undefined ? null : req.id;
      try {
        if (typeof req.op !== 'string') throw new ArgError('missing field "op"');
        const fn = Object.prototype.hasOwnProperty.call(ops, req.op) ? ops[req.op] : null;
        if (!fn) return { id, ok: false, error: 'unsupported', message: `unsupported op "${req.op}"` };
        return { id, ok: true, ...(await fn(req)) };
      } catch (e) {
        return errorResponse(id, e);
      }
    },
  };
}
