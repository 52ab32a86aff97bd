// Errors of the SFrame library.
//
// Rules of this module: every failure the library raises is an SFrameError,
// and its `code` is the wire protocol's error class (harness/PROTOCOL.md), so
// an adapter maps errors to the protocol without a table that could drift.
// The codes tell local misuse (invalid_argument, unsupported, key_usage,
// counter_exhausted) from a remote peer's misbehaviour (malformed,
// auth_failed, unknown_kid, replay).

/** Error codes, equal to the conformance protocol's error class names. */
export const ErrorCode = Object.freeze({
  MALFORMED: 'malformed',
  AUTH_FAILED: 'auth_failed',
  UNKNOWN_KID: 'unknown_kid',
  UNSUPPORTED: 'unsupported',
  INVALID_ARGUMENT: 'invalid_argument',
  COUNTER_EXHAUSTED: 'counter_exhausted',
  KEY_USAGE: 'key_usage',
  REPLAY: 'replay',
});

export class SFrameError extends Error {
  /**
   * @param {string} code one of ErrorCode
   * @param {string} [message]
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message || code, options);
    this.name = 'SFrameError';
    this.code = code;
  }
}

/** Throw an SFrameError; usable in expressions (`cond || fail(...)`). */
export function fail(code, message) {
  throw new SFrameError(code, message);
}
