// The one door to WebCrypto.
//
// Rules of this module: every other module reaches crypto.subtle through
// subtle(), so a runtime without WebCrypto (a browser page that is not a
// secure context) gets one clear `unsupported` error at first use, never a
// TypeError. Nothing here is Node-specific: the library runs unchanged in
// Node >= 20, browsers and workers (including an RTCRtpScriptTransform worker).
import { ErrorCode, fail } from './errors.mjs';

const api = globalThis.crypto && globalThis.crypto.subtle;

export function subtle() {
  return api || fail(ErrorCode.UNSUPPORTED, 'WebCrypto (crypto.subtle) is not available');
}
