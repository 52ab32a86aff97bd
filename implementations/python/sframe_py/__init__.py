"""sframe_py: a sans-I/O RFC 9605 (SFrame) implementation over ``cryptography``.

Pure functions and explicit state objects; no I/O, no module-level state.
"""

from .aead import Aead, make_aead
from .context import Context, Decrypted, KeyContext
from .errors import (
    AuthenticationError,
    CounterExhaustedError,
    InvalidArgumentError,
    KeyUsageError,
    LocalError,
    MalformedError,
    NoKeyError,
    RemoteError,
    ReplayError,
    SFrameError,
    UnknownKidError,
    UnsupportedSuiteError,
)
from .frame import FrameKey, decrypt, encrypt
from .header import U64_MAX, Header, encode_header, parse_header
from .kdf import KeyMaterial, derive_key_salt
from .mls import MlsContext, MlsFrame, MlsKidLayout
from .ratchet import KidLayout, RatchetReceiver, RatchetSender, ratchet_forward, ratchet_step
from .replay import ReplayWindow
from .suites import SUITES, AeadKind, CipherSuite, get_suite

__version__ = "0.1.0"

__all__ = [
    "Aead", "AeadKind", "AuthenticationError", "CipherSuite", "Context", "CounterExhaustedError", "Decrypted",
    "FrameKey", "Header", "InvalidArgumentError", "KeyContext", "KeyMaterial", "KeyUsageError", "KidLayout",
    "LocalError", "MalformedError", "MlsContext", "MlsFrame", "MlsKidLayout", "NoKeyError", "RatchetReceiver",
    "RatchetSender", "RemoteError", "ReplayError", "ReplayWindow",
    "SFrameError", "SUITES", "U64_MAX", "UnknownKidError", "UnsupportedSuiteError", "decrypt",
    "derive_key_salt", "encode_header", "encrypt", "get_suite", "make_aead", "parse_header", "ratchet_forward",
    "ratchet_step",
]
