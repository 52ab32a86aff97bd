//! Wire-protocol shim over crates.io `sframe` 2.x, the RFC 9605 releases.
//!
//! Every op is a direct call into the crate's public API; the shim only decodes
//! requests and classifies the crate's errors. Which crypto backend is compiled
//! in is chosen by this package's features, one binary per backend.

use sframe::{
    crypto::{Kdf, Ratcheting},
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, MediaFrameView, SingleUseCounter},
    header::SframeHeader,
    key::{DecryptionKey, EncryptionKey},
    CipherSuite,
};
use sframe_wire::{dec, hex, Failure, FrameBench, FrameSpec, Fields, Hello, Opener, Outcome, RawAead, Request, Sealer, Shim};

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

    fn frames(&self) -> Option<&dyn FrameBench> {
        Some(self)
    }
}

/// `bench`/`timing` through the crate's fastest public path: keys derived
/// once (`derive_from`), frames sealed and opened into one reused buffer
/// (`encrypt_into`, `decrypt_into`).
impl FrameBench for RfcShim {
    fn sealer<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Sealer + 'a>, Failure> {
        let suite = cipher_suite(spec.suite)?;
        let key = EncryptionKey::derive_from(suite, spec.kid, spec.base_key).map_err(classify)?;
        Ok(Box::new(CrateSealer { suite, base_key: spec.base_key, kid: spec.kid, metadata: spec.metadata, key, derive_each, buf: Vec::new() }))
    }

    fn opener<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Opener + 'a>, Failure> {
        let suite = cipher_suite(spec.suite)?;
        let key = DecryptionKey::derive_from(suite, spec.kid, spec.base_key).map_err(classify)?;
        Ok(Box::new(CrateOpener { suite, base_key: spec.base_key, kid: spec.kid, metadata: spec.metadata, key, derive_each, buf: Vec::new() }))
    }

    fn raw_aead(&self, suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
        backend_aead(suite, key)
    }
}

struct CrateSealer<'a> {
    suite: CipherSuite,
    base_key: &'a [u8],
    kid: u64,
    metadata: &'a [u8],
    key: EncryptionKey,
    derive_each: bool,
    buf: Vec<u8>,
}

impl Sealer for CrateSealer<'_> {
    fn seal(&mut self, ctr: u64, plaintext: &[u8]) -> Result<&[u8], Failure> {
        if self.derive_each {
            self.key = EncryptionKey::derive_from(self.suite, self.kid, self.base_key).map_err(classify)?;
        }
        let frame = MediaFrameView::try_with_meta_data(&mut SingleUseCounter::new(ctr), plaintext, self.metadata)
            .map_err(classify)?;
        Ok(frame.encrypt_into(&self.key, &mut self.buf).map_err(classify)?.sframe_cipher_text())
    }
}

struct CrateOpener<'a> {
    suite: CipherSuite,
    base_key: &'a [u8],
    kid: u64,
    metadata: &'a [u8],
    key: DecryptionKey,
    derive_each: bool,
    buf: Vec<u8>,
}

impl Opener for CrateOpener<'_> {
    fn open(&mut self, frame: &[u8]) -> Result<&[u8], Failure> {
        if self.derive_each {
            self.key = DecryptionKey::derive_from(self.suite, self.kid, self.base_key).map_err(classify)?;
        }
        let view = EncryptedFrameView::try_with_meta_data(frame, self.metadata).map_err(classify)?;
        Ok(view.decrypt_into(&self.key, &mut self.buf).map_err(classify)?.payload())
    }
}

/// The backend's own AES-GCM, keyed once: the physical limit for `bench`'s aead mode.
#[cfg(feature = "ring")]
fn backend_aead(suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
    Ok(Box::new(sframe_wire::RingGcm::new(suite, key)?))
}

#[cfg(feature = "openssl")]
fn backend_aead(suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
    use openssl::{cipher::Cipher, cipher_ctx::CipherCtx};
    struct Gcm {
        ctx: CipherCtx,
        buf: Vec<u8>,
    }
    impl RawAead for Gcm {
        fn seal(&mut self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<&[u8], Failure> {
            let fail = |e: openssl::error::ErrorStack| Failure::new("internal", format!("openssl: {e}"));
            self.buf.resize(plaintext.len() + 16, 0);
            self.ctx.encrypt_init(None, None, Some(nonce)).map_err(fail)?;
            self.ctx.cipher_update(aad, None).map_err(fail)?;
            let n = self.ctx.cipher_update(plaintext, Some(&mut self.buf)).map_err(fail)?;
            self.ctx.cipher_final(&mut self.buf[n..]).map_err(fail)?;
            let (body, tag) = self.buf.split_at_mut(plaintext.len());
            let _ = body;
            self.ctx.tag(tag).map_err(fail)?;
            Ok(&self.buf)
        }
    }
    let cipher = match suite {
        4 => Cipher::aes_128_gcm(),
        5 => Cipher::aes_256_gcm(),
        _ => return Err(Failure::unsupported(format!("aead mode: no raw AEAD for suite {suite} here"))),
    };
    let mut ctx = CipherCtx::new().map_err(|e| Failure::new("internal", format!("openssl: {e}")))?;
    ctx.encrypt_init(Some(cipher), Some(key), None).map_err(|e| Failure::new("internal", format!("openssl: {e}")))?;
    Ok(Box::new(Gcm { ctx, buf: Vec::new() }))
}

#[cfg(feature = "rust-crypto")]
fn backend_aead(suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
    use aes_gcm::{aead::Nonce, AeadInOut, Aes128Gcm, Aes256Gcm, KeyInit};
    struct Gcm<A> {
        cipher: A,
        buf: Vec<u8>,
    }
    impl<A: AeadInOut> RawAead for Gcm<A> {
        fn seal(&mut self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<&[u8], Failure> {
            self.buf.clear();
            self.buf.extend_from_slice(plaintext);
            let nonce = Nonce::<A>::try_from(&nonce[..]).map_err(|_| Failure::invalid("nonce length"))?;
            let tag = self
                .cipher
                .encrypt_inout_detached(&nonce, aad, self.buf.as_mut_slice().into())
                .map_err(|_| Failure::new("internal", "aes-gcm seal failed"))?;
            self.buf.extend_from_slice(tag.as_slice());
            Ok(&self.buf)
        }
    }
    let bad = |_| Failure::invalid("wrong key length");
    match suite {
        4 => Ok(Box::new(Gcm { cipher: Aes128Gcm::new_from_slice(key).map_err(bad)?, buf: Vec::new() })),
        5 => Ok(Box::new(Gcm { cipher: Aes256Gcm::new_from_slice(key).map_err(bad)?, buf: Vec::new() })),
        _ => Err(Failure::unsupported(format!("aead mode: no raw AEAD for suite {suite} here"))),
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
