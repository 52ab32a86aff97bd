//! Wire-protocol shim over crates.io `sframe` 2.x, the RFC 9605 releases.
//!
//! Every op is a direct call into the crate's public API; the shim only decodes
//! requests and classifies the crate's errors. Which crypto backend is compiled
//! in is chosen by this package's features, one binary per backend.

use sframe::{
    crypto::{Kdf, Ratcheting},
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, SingleUseCounter},
    header::SframeHeader,
    key::{DecryptionKey, EncryptionKey},
    CipherSuite,
};
use sframe_wire::{dec, hex, Failure, Fields, Hello, Outcome, Request, Shim};

#[cfg(not(any(feature = "ring", feature = "openssl", feature = "rust-crypto")))]
compile_error!("build with exactly one of the features ring, openssl, rust-crypto");

/// The `sframe` version pinned in Cargo.toml.
const SFRAME_VERSION: &str = "2.1.0";

// The backend feature compiled in, and the name `hello` gives for it.
#[cfg(feature = "ring")]
const BACKEND: &str = "ring";
#[cfg(feature = "openssl")]
const BACKEND: &str = "openssl";
#[cfg(feature = "rust-crypto")]
const BACKEND: &str = "rust-crypto";

/// The crate names suites by enum variant only (no conversion from the code
/// point), and the AES-CTR variants exist only with the openssl and
/// rust-crypto backends, so this table follows the crate's own cfg.
fn cipher_suite(code: u64) -> Result<CipherSuite, Failure> {
    match code {
        #[cfg(any(feature = "openssl", feature = "rust-crypto"))]
        1 => Ok(CipherSuite::AesCtr128HmacSha256_80),
        #[cfg(any(feature = "openssl", feature = "rust-crypto"))]
        2 => Ok(CipherSuite::AesCtr128HmacSha256_64),
        #[cfg(any(feature = "openssl", feature = "rust-crypto"))]
        3 => Ok(CipherSuite::AesCtr128HmacSha256_32),
        4 => Ok(CipherSuite::AesGcm128Sha256),
        5 => Ok(CipherSuite::AesGcm256Sha512),
        _ => Err(Failure::unsupported(format!(
            "cipher suite {code} is not offered by sframe {SFRAME_VERSION} with the {BACKEND} backend"
        ))),
    }
}

/// Maps the crate's error onto a protocol error class. The message keeps the
/// crate's own words (and its source) so a reader sees what the crate said.
fn classify(error: SframeError) -> Failure {
    let class = match &error {
        SframeError::InvalidBuffer(_) => "malformed",
        SframeError::DecryptionFailure => "auth_failed",
        SframeError::MissingDecryptionKey { .. } => "unknown_kid",
        SframeError::UnsupportedCipherSuite => "unsupported",
        SframeError::OutOfRange { .. } => "invalid_argument",
        // Nothing else should happen for these ops; if it does it is a bug to see.
        _ => "internal",
    };
    let message = match std::error::Error::source(&error) {
        Some(source) => format!("sframe: {error}: {source}"),
        None => format!("sframe: {error}"),
    };
    Failure::new(class, message)
}

struct RfcShim;

impl Shim for RfcShim {
    fn hello(&self) -> Hello {
        Hello {
            name: "sframe-rs",
            // The backend rides in the version so reports tell the builds apart.
            version: format!("{SFRAME_VERSION}+{BACKEND}"),
            suites: (1..=5).filter(|&code| cipher_suite(code).is_ok()).map(|code| code as u16).collect(),
            // Only ops the crate's public API performs itself. No `derive`: its
            // key and salt never leave the crate. No raw AEAD ops: a key can only
            // be derived, never supplied.
            capabilities: vec!["encode_header", "decode_header", "ratchet_derive", "shutdown"],
        }
    }

    fn handle(&mut self, op: &str, request: &Request) -> Outcome {
        match op {
            "encrypt" => encrypt(request),
            "decrypt" => decrypt(request),
            "encode_header" => encode_header(request),
            "decode_header" => decode_header(request),
            "ratchet_derive" => ratchet_derive(request),
            _ => Err(Failure::unsupported(format!("op {op:?} is not offered by the sframe crate's public API"))),
        }
    }
}

fn encrypt(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let (base_key, kid, ctr) = (request.bytes("base_key")?, request.u64("kid")?, request.u64("ctr")?);
    let (metadata, plaintext) = (request.bytes("metadata")?, request.bytes("plaintext")?);
    let key = EncryptionKey::derive_from(suite, kid, &base_key).map_err(classify)?;
    // SingleUseCounter is the crate's way to encrypt at a caller-chosen CTR.
    let frame = MediaFrame::try_with_meta_data(&mut SingleUseCounter::new(ctr), plaintext, metadata)
        .map_err(classify)?;
    let sealed = frame.encrypt(&key).map_err(classify)?;
    Ok(Fields::from_iter([("ciphertext".into(), hex(sealed.sframe_cipher_text()))]))
}

fn decrypt(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let (base_key, kid) = (request.bytes("base_key")?, request.u64("kid")?);
    let (metadata, ciphertext) = (request.bytes("metadata")?, request.bytes("ciphertext")?);
    let key = DecryptionKey::derive_from(suite, kid, &base_key).map_err(classify)?;
    let frame = EncryptedFrameView::try_with_meta_data(&ciphertext, &metadata).map_err(classify)?;
    // A single key is the crate's smallest key store: any other KID misses it.
    let opened = frame.decrypt(&key).map_err(classify)?;
    Ok(Fields::from_iter([("plaintext".into(), hex(opened.payload()))]))
}

fn encode_header(request: &Request) -> Outcome {
    let header = SframeHeader::new(request.u64("kid")?, request.u64("ctr")?);
    Ok(Fields::from_iter([("header".into(), hex(Vec::from(&header)))]))
}

fn decode_header(request: &Request) -> Outcome {
    let header = SframeHeader::deserialize(request.bytes("data")?).map_err(classify)?;
    Ok(Fields::from_iter([
        ("kid".into(), dec(header.key_id())),
        ("ctr".into(), dec(header.counter())),
        ("length".into(), header.len().into()),
    ]))
}

/// `steps` applications of the crate's ratchet (its `Ratcheting` trait, RFC 9605 §5.1).
fn ratchet_derive(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let mut base_key = request.bytes("base_key")?;
    for _ in 0..request.count("steps")? {
        base_key = Kdf::ratchet(suite, &base_key).map_err(classify)?;
    }
    Ok(Fields::from_iter([("base_key".into(), hex(base_key))]))
}

/// Serves the wire protocol on stdin/stdout until EOF or `shutdown`.
pub fn main() -> std::io::Result<()> {
    sframe_wire::serve(&mut RfcShim)
}
