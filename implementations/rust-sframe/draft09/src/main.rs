//! Wire-protocol shim over crates.io `sframe` 0.7.3, the last release before
//! the crate tracked the published RFC (its code follows draft-ietf-sframe-enc-09).
//!
//! Same mapping as the RFC shim (../rfc9605), against the older API: a frame
//! counter is a plain value here, and the key types take a `CipherSuiteVariant`.

use sframe::{
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame},
    header::SframeHeader,
    key::{DecryptionKey, EncryptionKey},
    CipherSuiteVariant,
};
use sframe_wire::{dec, hex, Failure, Fields, Hello, Outcome, Request, Shim};

/// The `sframe` version pinned in Cargo.toml.
const SFRAME_VERSION: &str = "0.7.3";

/// ring, the crate's default backend, has no AES-CTR, so 0.7.3 compiles the
/// CTR suites out and only the GCM ones remain.
fn cipher_suite(code: u64) -> Result<CipherSuiteVariant, Failure> {
    match code {
        4 => Ok(CipherSuiteVariant::AesGcm128Sha256),
        5 => Ok(CipherSuiteVariant::AesGcm256Sha512),
        _ => Err(Failure::unsupported(format!("cipher suite {code} is not offered by sframe {SFRAME_VERSION} (ring)"))),
    }
}

fn classify(error: SframeError) -> Failure {
    let class = match &error {
        SframeError::InvalidBuffer(_) => "malformed",
        SframeError::DecryptionFailure => "auth_failed",
        SframeError::MissingDecryptionKey(_) => "unknown_kid",
        _ => "internal",
    };
    Failure::new(class, format!("sframe: {error}"))
}

struct Draft09Shim;

impl Shim for Draft09Shim {
    fn hello(&self) -> Hello {
        Hello {
            name: "sframe-rs",
            version: format!("{SFRAME_VERSION}+ring"),
            suites: (1..=5).filter(|&code| cipher_suite(code).is_ok()).map(|code| code as u16).collect(),
            // 0.7.3's ratchet is only reachable through its key store, which
            // ratchets once on creation, so no stateless `ratchet_derive` here.
            capabilities: vec!["encode_header", "decode_header", "shutdown"],
        }
    }

    fn handle(&mut self, op: &str, request: &Request) -> Outcome {
        match op {
            "encrypt" => encrypt(request),
            "decrypt" => decrypt(request),
            "encode_header" => encode_header(request),
            "decode_header" => decode_header(request),
            _ => Err(Failure::unsupported(format!("op {op:?} is not offered by sframe {SFRAME_VERSION}'s public API"))),
        }
    }
}

fn encrypt(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let (base_key, kid, ctr) = (request.bytes("base_key")?, request.u64("kid")?, request.u64("ctr")?);
    let (metadata, plaintext) = (request.bytes("metadata")?, request.bytes("plaintext")?);
    let key = EncryptionKey::derive_from(suite, kid, &base_key).map_err(classify)?;
    let sealed = MediaFrame::with_meta_data(ctr, plaintext, &metadata).encrypt(&key).map_err(classify)?;
    // 0.7.3's buffer is metadata then the SFrame ciphertext; it has no accessor
    // for the latter alone (its `cipher_text()` also drops the header).
    let frame: &[u8] = sealed.as_ref();
    Ok(Fields::from_iter([("ciphertext".into(), hex(&frame[sealed.meta_data().len()..]))]))
}

fn decrypt(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let (base_key, kid) = (request.bytes("base_key")?, request.u64("kid")?);
    let (metadata, ciphertext) = (request.bytes("metadata")?, request.bytes("ciphertext")?);
    let mut key = DecryptionKey::derive_from(suite, kid, &base_key).map_err(classify)?;
    let frame = EncryptedFrameView::try_with_meta_data(&ciphertext, &metadata).map_err(classify)?;
    let opened = frame.decrypt(&mut key).map_err(classify)?;
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
        ("ctr".into(), dec(header.frame_count())),
        ("length".into(), header.len().into()),
    ]))
}

fn main() -> std::io::Result<()> {
    sframe_wire::serve(&mut Draft09Shim)
}
