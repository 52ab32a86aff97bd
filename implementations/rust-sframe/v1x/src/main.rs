//! Wire-protocol shim over crates.io `sframe` 1.4.3, the 1.x line: labelled
//! RFC 9605 and still a dependency of published crates, but (like every
//! release from 0.5.0 to 2.0.0) it authenticates metadata before the header.
//!
//! Same mapping as the RFC shim (../rfc9605) against the 1.x API: no
//! `SingleUseCounter` (a `MonotonicCounter` starting and ending at the CTR
//! stands in), infallible `MediaFrame::with_meta_data`, error variants of 1.x.

use sframe::{
    crypto::{Kdf, Ratcheting},
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, MediaFrameView, MonotonicCounter},
    header::SframeHeader,
    key::{DecryptionKey, EncryptionKey},
    CipherSuite,
};
use sframe_wire::{
    dec, hex, Failure, Fields, FrameBench, FrameSpec, Hello, Opener, Outcome, RawAead, Request, RingGcm, Sealer, Shim,
};

/// The `sframe` version pinned in Cargo.toml.
const SFRAME_VERSION: &str = "1.4.3";

/// ring, the crate's default backend, has no AES-CTR, so only the GCM suites.
fn cipher_suite(code: u64) -> Result<CipherSuite, Failure> {
    match code {
        4 => Ok(CipherSuite::AesGcm128Sha256),
        5 => Ok(CipherSuite::AesGcm256Sha512),
        _ => Err(Failure::unsupported(format!("cipher suite {code} is not offered by sframe {SFRAME_VERSION} (ring)"))),
    }
}

fn classify(error: SframeError) -> Failure {
    let class = match &error {
        SframeError::InvalidBuffer(_) => "malformed",
        SframeError::DecryptionFailure => "auth_failed",
        SframeError::MissingDecryptionKey(_) => "unknown_kid",
        SframeError::UnsupportedCipherSuite => "unsupported",
        _ => "internal",
    };
    Failure::new(class, format!("sframe: {error}"))
}

/// A counter that yields exactly `ctr` (the crate's way to encrypt at a chosen CTR).
fn at(ctr: u64) -> MonotonicCounter {
    MonotonicCounter::with_start_value(ctr, ctr)
}

struct V1Shim;

impl Shim for V1Shim {
    fn hello(&self) -> Hello {
        Hello {
            name: "sframe-rs",
            version: format!("{SFRAME_VERSION}+ring"),
            suites: (1..=5).filter(|&code| cipher_suite(code).is_ok()).map(|code| code as u16).collect(),
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
            _ => Err(Failure::unsupported(format!("op {op:?} is not offered by sframe {SFRAME_VERSION}'s public API"))),
        }
    }

    fn frames(&self) -> Option<&dyn FrameBench> {
        Some(self)
    }
}

fn encrypt(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let (base_key, kid, ctr) = (request.bytes("base_key")?, request.u64("kid")?, request.u64("ctr")?);
    let (metadata, plaintext) = (request.bytes("metadata")?, request.bytes("plaintext")?);
    let key = EncryptionKey::derive_from(suite, kid, &base_key).map_err(classify)?;
    let sealed = MediaFrame::with_meta_data(&mut at(ctr), plaintext, &metadata).encrypt(&key).map_err(classify)?;
    // The frame buffer is metadata then the SFrame ciphertext.
    let frame: &[u8] = sealed.as_ref();
    Ok(Fields::from_iter([("ciphertext".into(), hex(&frame[sealed.meta_data().len()..]))]))
}

fn decrypt(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let (base_key, kid) = (request.bytes("base_key")?, request.u64("kid")?);
    let (metadata, ciphertext) = (request.bytes("metadata")?, request.bytes("ciphertext")?);
    let key = DecryptionKey::derive_from(suite, kid, &base_key).map_err(classify)?;
    let frame = EncryptedFrameView::try_with_meta_data(&ciphertext, &metadata).map_err(classify)?;
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

/// `steps` applications of the crate's `Ratcheting` trait (public since 1.2.0).
fn ratchet_derive(request: &Request) -> Outcome {
    let suite = cipher_suite(request.suite()?)?;
    let mut base_key = request.bytes("base_key")?;
    for _ in 0..request.count("steps")? {
        base_key = Kdf::ratchet(suite, &base_key).map_err(classify)?;
    }
    Ok(Fields::from_iter([("base_key".into(), hex(base_key))]))
}

/// `bench`/`timing` through `encrypt_into`/`decrypt_into` with one reused buffer.
impl FrameBench for V1Shim {
    fn sealer<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Sealer + 'a>, Failure> {
        let suite = cipher_suite(spec.suite)?;
        let key = EncryptionKey::derive_from(suite, spec.kid, spec.base_key).map_err(classify)?;
        Ok(Box::new(V1Sealer { suite, base_key: spec.base_key, kid: spec.kid, metadata: spec.metadata, key, derive_each, buf: Vec::new() }))
    }

    fn opener<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Opener + 'a>, Failure> {
        let suite = cipher_suite(spec.suite)?;
        let key = DecryptionKey::derive_from(suite, spec.kid, spec.base_key).map_err(classify)?;
        Ok(Box::new(V1Opener { suite, base_key: spec.base_key, kid: spec.kid, metadata: spec.metadata, key, derive_each, buf: Vec::new() }))
    }

    fn raw_aead(&self, suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
        Ok(Box::new(RingGcm::new(suite, key)?))
    }
}

struct V1Sealer<'a> {
    suite: CipherSuite,
    base_key: &'a [u8],
    kid: u64,
    metadata: &'a [u8],
    key: EncryptionKey,
    derive_each: bool,
    buf: Vec<u8>,
}

impl Sealer for V1Sealer<'_> {
    fn seal(&mut self, ctr: u64, plaintext: &[u8]) -> Result<&[u8], Failure> {
        if self.derive_each {
            self.key = EncryptionKey::derive_from(self.suite, self.kid, self.base_key).map_err(classify)?;
        }
        MediaFrameView::with_meta_data(&mut at(ctr), plaintext, self.metadata)
            .encrypt_into(&self.key, &mut self.buf)
            .map_err(classify)?;
        // encrypt_into sizes the buffer to metadata then the SFrame ciphertext.
        Ok(&self.buf[self.metadata.len()..])
    }
}

struct V1Opener<'a> {
    suite: CipherSuite,
    base_key: &'a [u8],
    kid: u64,
    metadata: &'a [u8],
    key: DecryptionKey,
    derive_each: bool,
    buf: Vec<u8>,
}

impl Opener for V1Opener<'_> {
    fn open(&mut self, frame: &[u8]) -> Result<&[u8], Failure> {
        if self.derive_each {
            self.key = DecryptionKey::derive_from(self.suite, self.kid, self.base_key).map_err(classify)?;
        }
        let view = EncryptedFrameView::try_with_meta_data(frame, self.metadata).map_err(classify)?;
        let opened = view.decrypt_into(&self.key, &mut self.buf).map_err(classify)?;
        // 1.x's `payload()` borrows the view, not the buffer: find the payload in the buffer.
        let (addr, len) = (opened.payload().as_ptr() as usize, opened.payload().len());
        let at = addr - self.buf.as_ptr() as usize;
        Ok(&self.buf[at..at + len])
    }
}

fn main() -> std::io::Result<()> {
    sframe_wire::serve(&mut V1Shim)
}
