//! Wire-protocol shim over crates.io `sframe` 0.7.3, the last release before
//! the crate tracked the published RFC (its code follows draft-ietf-sframe-enc-09).
//!
//! Same mapping as the RFC shim (../rfc9605), against the older API: a frame
//! counter is a plain value here, and the key types take a `CipherSuiteVariant`.

use sframe::{
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, MediaFrameView},
    header::SframeHeader,
    key::{DecryptionKey, EncryptionKey},
    CipherSuiteVariant,
};
use sframe_wire::{
    dec, hex, Failure, Fields, FrameBench, FrameSpec, Hello, Opener, Outcome, RawAead, Request, RingGcm, Sealer, Shim,
};

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

    fn frames(&self) -> Option<&dyn FrameBench> {
        Some(self)
    }
}

/// `bench`/`timing` through `encrypt_into`/`decrypt_into` with one reused buffer.
impl FrameBench for Draft09Shim {
    fn sealer<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Sealer + 'a>, Failure> {
        let suite = cipher_suite(spec.suite)?;
        let key = EncryptionKey::derive_from(suite, spec.kid, spec.base_key).map_err(classify)?;
        Ok(Box::new(DraftSealer { suite, base_key: spec.base_key, kid: spec.kid, metadata: spec.metadata, key, derive_each, buf: Vec::new() }))
    }

    fn opener<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Opener + 'a>, Failure> {
        let suite = cipher_suite(spec.suite)?;
        let key = DecryptionKey::derive_from(suite, spec.kid, spec.base_key).map_err(classify)?;
        Ok(Box::new(DraftOpener { suite, base_key: spec.base_key, kid: spec.kid, metadata: spec.metadata, key, derive_each, buf: Vec::new() }))
    }

    fn raw_aead(&self, suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
        Ok(Box::new(RingGcm::new(suite, key)?))
    }
}

struct DraftSealer<'a> {
    suite: CipherSuiteVariant,
    base_key: &'a [u8],
    kid: u64,
    metadata: &'a [u8],
    key: EncryptionKey,
    derive_each: bool,
    buf: Vec<u8>,
}

impl Sealer for DraftSealer<'_> {
    fn seal(&mut self, ctr: u64, plaintext: &[u8]) -> Result<&[u8], Failure> {
        if self.derive_each {
            self.key = EncryptionKey::derive_from(self.suite, self.kid, self.base_key).map_err(classify)?;
        }
        MediaFrameView::with_meta_data(ctr, plaintext, self.metadata).encrypt_into(&self.key, &mut self.buf).map_err(classify)?;
        // encrypt_into sizes the buffer to metadata then the SFrame ciphertext.
        Ok(&self.buf[self.metadata.len()..])
    }
}

struct DraftOpener<'a> {
    suite: CipherSuiteVariant,
    base_key: &'a [u8],
    kid: u64,
    metadata: &'a [u8],
    key: DecryptionKey,
    derive_each: bool,
    buf: Vec<u8>,
}

impl Opener for DraftOpener<'_> {
    fn open(&mut self, frame: &[u8]) -> Result<&[u8], Failure> {
        if self.derive_each {
            self.key = DecryptionKey::derive_from(self.suite, self.kid, self.base_key).map_err(classify)?;
        }
        let view = EncryptedFrameView::try_with_meta_data(frame, self.metadata).map_err(classify)?;
        let opened = view.decrypt_into(&mut self.key, &mut self.buf).map_err(classify)?;
        // `payload()` borrows the view, not the buffer: find the payload in the buffer.
        let (addr, len) = (opened.payload().as_ptr() as usize, opened.payload().len());
        let at = addr - self.buf.as_ptr() as usize;
        Ok(&self.buf[at..at + len])
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
