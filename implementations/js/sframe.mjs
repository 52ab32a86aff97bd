// SFrame (RFC 9605) on WebCrypto: the library's public API.
//
// Rules of this package (implementations/js/lib/, one module per concept, as
// implementations/python/sframe_py/ is): plain ES modules with no Node
// imports, so they run unchanged in Node >= 20, in browsers and in workers
// (including an RTCRtpScriptTransform worker); no module-level state beyond
// constants, so nothing is cached behind the caller's back (an adapter that
// wants a key cache keeps FrameKeys itself, see shim/keycache.mjs). KID and
// CTR are BigInt; binary inputs are Uint8Array views, outputs fresh arrays.
//
//   errors   SFrameError and the protocol's error codes
//   values   u64 and byte inputs, hex
//   suites   the cipher suite table (§4.5)
//   header   the header codec (§4.3)
//   kdf      sframe_key / sframe_salt (§4.4.2) and the HKDF the ratchet shares
//   aead     AES-GCM and AES-CTR+HMAC (§4.5, §4.5.1)
//   frame    FrameKey and stateless encrypt / decrypt (§4.4.3, §4.4.4)
//   replay   the optional replay window (§9.3)
//   context  key store with managed counters (§4.4.1)
//   ratchet  sender-key ratchet (§5.1)
//   mls      MLS epochs (§5.2)
export { ErrorCode, SFrameError } from './lib/errors.mjs';
export { U64_MAX, bytesToHex, hexToBytes, toBytes, toU64 } from './lib/values.mjs';
export { SUITES, SUPPORTED_SUITES, getSuite } from './lib/suites.mjs';
export { decodeHeader, encodeHeader } from './lib/header.mjs';
export { deriveKeySalt } from './lib/kdf.mjs';
export { aeadDecrypt, aeadEncrypt, aeadKey } from './lib/aead.mjs';
export { FrameKey, decrypt, encrypt } from './lib/frame.mjs';
export { ReplayWindow } from './lib/replay.mjs';
export { SFrameContext } from './lib/context.mjs';
export { MAX_RATCHET_STEPS, RatchetReceiver, RatchetSender, ratchetBaseKey, ratchetKid } from './lib/ratchet.mjs';
export { MlsContext, mlsKid } from './lib/mls.mjs';
