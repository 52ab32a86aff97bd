//! One release of the crates.io `sframe` crate behind the protocol. The shims
//! pin different releases whose types share no trait, but they map the ops
//! onto those types the same way; so each shim implements [`SframeRelease`]
//! (which release, how it derives keys, seals and opens, what it offers) and
//! [`serve_release`] does the rest: `hello`, op dispatch, request decoding,
//! error messages, and the sealers and openers of `bench`/`timing`.
//!
//! Rules of this module: it computes no SFrame byte. Every header, key, nonce
//! and tag comes from the release through the trait's functions, which are
//! thin calls into its public API. Request fields are decoded suite first, in
//! one order for every release, so a request with several faults gets the
//! same error class from each.

use std::marker::PhantomData;
use std::ops::Range;

use crate::bench::{FrameBench, FrameSpec, Opener, RawAead, RingGcm, Sealer};
use crate::field::{dec, hex, Fields, Request};
use crate::{Failure, Hello, Outcome, Shim};

/// What `decode_header` answers.
pub struct Header {
    pub kid: u64,
    pub ctr: u64,
    /// The encoded length, which a non-minimal header makes longer (HDR-07).
    pub len: usize,
}

/// A stateless ratchet step (RFC 9605 §5.1): the next base key.
pub type Ratchet<R> = fn(<R as SframeRelease>::Suite, &[u8]) -> Result<Vec<u8>, <R as SframeRelease>::Error>;

/// One release of the `sframe` crate as the ops use it. The functions return
/// the release's own error; [`failure`] turns it into the protocol's.
pub trait SframeRelease: 'static {
    /// The version pinned in the shim's Cargo.toml.
    const VERSION: &'static str;
    /// The crypto backend compiled in. It rides in `hello`'s version so that
    /// reports tell the builds of one release apart.
    const BACKEND: &'static str;
    /// The release's ratchet, where its public API has a stateless one.
    const RATCHET: Option<Ratchet<Self>>;

    type Suite: Copy + 'static;
    type Error: std::error::Error + 'static;
    type EncryptionKey: 'static;
    type DecryptionKey: 'static;

    /// The release's suite for a code point; None where this build lacks it.
    fn suite(code: u64) -> Option<Self::Suite>;
    /// The protocol error class of one of the release's errors.
    fn class(error: &Self::Error) -> &'static str;

    fn encryption_key(suite: Self::Suite, kid: u64, base_key: &[u8]) -> Result<Self::EncryptionKey, Self::Error>;
    fn decryption_key(suite: Self::Suite, kid: u64, base_key: &[u8]) -> Result<Self::DecryptionKey, Self::Error>;
    /// The SFrame ciphertext (header first), by the release's allocating
    /// path: the path the catalogue grades.
    fn encrypt(key: &Self::EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Self::Error>;
    /// The same into a reused buffer (the release's fastest path, for
    /// `bench`); the SFrame ciphertext is a part of `buf`.
    fn encrypt_into<'b>(
        key: &Self::EncryptionKey,
        ctr: u64,
        metadata: &[u8],
        plaintext: &[u8],
        buf: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], Self::Error>;
    /// `key` is `&mut` because 0.7.3 opens only with a `&mut` key store.
    fn decrypt(key: &mut Self::DecryptionKey, metadata: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, Self::Error>;
    fn decrypt_into<'b>(
        key: &mut Self::DecryptionKey,
        metadata: &[u8],
        ciphertext: &[u8],
        buf: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], Self::Error>;
    fn encode_header(kid: u64, ctr: u64) -> Vec<u8>;
    fn decode_header(data: &[u8]) -> Result<Header, Self::Error>;

    /// The backend's AES-GCM keyed once, `bench`'s aead limit. ring is every
    /// release's default backend, so it is the default here too.
    fn raw_aead(suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
        Ok(Box::new(RingGcm::new(suite, key)?))
    }
}

/// The release's error as a protocol failure. The message keeps the crate's
/// own words and their source, so a reader sees what the crate said.
fn failure<R: SframeRelease>(error: R::Error) -> Failure {
    let message = match std::error::Error::source(&error) {
        Some(source) => format!("sframe: {error}: {source}"),
        None => format!("sframe: {error}"),
    };
    Failure::new(R::class(&error), message)
}

fn suite<R: SframeRelease>(code: u64) -> Result<R::Suite, Failure> {
    R::suite(code).ok_or_else(|| {
        Failure::unsupported(format!(
            "cipher suite {code} is not offered by sframe {} with the {} backend",
            R::VERSION,
            R::BACKEND
        ))
    })
}

fn encrypt<R: SframeRelease>(request: &Request) -> Outcome {
    let suite = suite::<R>(request.suite()?)?;
    let (base_key, kid, ctr) = (request.bytes("base_key")?, request.u64("kid")?, request.u64("ctr")?);
    let (metadata, plaintext) = (request.bytes("metadata")?, request.bytes("plaintext")?);
    let key = R::encryption_key(suite, kid, &base_key).map_err(failure::<R>)?;
    let ciphertext = R::encrypt(&key, ctr, &metadata, &plaintext).map_err(failure::<R>)?;
    Ok(Fields::from_iter([("ciphertext".into(), hex(ciphertext))]))
}

fn decrypt<R: SframeRelease>(request: &Request) -> Outcome {
    let suite = suite::<R>(request.suite()?)?;
    let (base_key, kid) = (request.bytes("base_key")?, request.u64("kid")?);
    let (metadata, ciphertext) = (request.bytes("metadata")?, request.bytes("ciphertext")?);
    // A single key is the crate's smallest key store: any other KID misses it.
    let mut key = R::decryption_key(suite, kid, &base_key).map_err(failure::<R>)?;
    let plaintext = R::decrypt(&mut key, &metadata, &ciphertext).map_err(failure::<R>)?;
    Ok(Fields::from_iter([("plaintext".into(), hex(plaintext))]))
}

fn encode_header<R: SframeRelease>(request: &Request) -> Outcome {
    let header = R::encode_header(request.u64("kid")?, request.u64("ctr")?);
    Ok(Fields::from_iter([("header".into(), hex(header))]))
}

fn decode_header<R: SframeRelease>(request: &Request) -> Outcome {
    let header = R::decode_header(&request.bytes("data")?).map_err(failure::<R>)?;
    Ok(Fields::from_iter([
        ("kid".into(), dec(header.kid)),
        ("ctr".into(), dec(header.ctr)),
        ("length".into(), header.len.into()),
    ]))
}

/// `steps` applications of the release's ratchet.
fn ratchet_derive<R: SframeRelease>(ratchet: Ratchet<R>, request: &Request) -> Outcome {
    let suite = suite::<R>(request.suite()?)?;
    let mut base_key = request.bytes("base_key")?;
    for _ in 0..request.count("steps")? {
        base_key = ratchet(suite, &base_key).map_err(failure::<R>)?;
    }
    Ok(Fields::from_iter([("base_key".into(), hex(base_key))]))
}

/// The protocol server over one release.
struct ReleaseShim<R>(PhantomData<R>);

impl<R: SframeRelease> Shim for ReleaseShim<R> {
    fn hello(&self) -> Hello {
        // Only ops the crate's public API performs itself. No `derive`: its
        // key and salt never leave the crate. No raw AEAD ops: a key can only
        // be derived, never supplied.
        let mut capabilities = vec!["encode_header", "decode_header"];
        if R::RATCHET.is_some() {
            capabilities.push("ratchet_derive");
        }
        capabilities.push("shutdown");
        Hello {
            name: "sframe-rs",
            version: format!("{}+{}", R::VERSION, R::BACKEND),
            suites: (1..=5).filter(|&code| R::suite(code).is_some()).map(|code| code as u16).collect(),
            capabilities,
        }
    }

    fn handle(&mut self, op: &str, request: &Request) -> Outcome {
        match (op, R::RATCHET) {
            ("encrypt", _) => encrypt::<R>(request),
            ("decrypt", _) => decrypt::<R>(request),
            ("encode_header", _) => encode_header::<R>(request),
            ("decode_header", _) => decode_header::<R>(request),
            ("ratchet_derive", Some(ratchet)) => ratchet_derive::<R>(ratchet, request),
            _ => Err(Failure::unsupported(format!("op {op:?} is not offered by sframe {}'s public API", R::VERSION))),
        }
    }

    fn frames(&self) -> Option<&dyn FrameBench> {
        Some(self)
    }
}

/// `bench`/`timing` through the release's fastest public path: keys derived
/// once, frames sealed and opened into one reused buffer.
impl<R: SframeRelease> FrameBench for ReleaseShim<R> {
    fn sealer<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Sealer + 'a>, Failure> {
        Ok(Box::new(Keyed::<R, _>::new(*spec, derive_each, R::encryption_key)?))
    }

    fn opener<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Opener + 'a>, Failure> {
        Ok(Box::new(Keyed::<R, _>::new(*spec, derive_each, R::decryption_key)?))
    }

    fn raw_aead(&self, suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure> {
        R::raw_aead(suite, key)
    }
}

/// A key derivation of release `R`, for key type K.
type Derive<R, K> = fn(<R as SframeRelease>::Suite, u64, &[u8]) -> Result<K, <R as SframeRelease>::Error>;

/// A sealer (K: the encryption key) or an opener (K: the decryption key):
/// one key, derived again before every frame in the `*_derive` modes.
struct Keyed<'a, R: SframeRelease, K> {
    spec: FrameSpec<'a>,
    suite: R::Suite,
    derive: Derive<R, K>,
    derive_each: bool,
    key: K,
    buf: Vec<u8>,
}

impl<'a, R: SframeRelease, K> Keyed<'a, R, K> {
    fn new(spec: FrameSpec<'a>, derive_each: bool, derive: Derive<R, K>) -> Result<Self, Failure> {
        let suite = suite::<R>(spec.suite)?;
        let key = derive(suite, spec.kid, spec.base_key).map_err(failure::<R>)?;
        Ok(Self { spec, suite, derive, derive_each, key, buf: Vec::new() })
    }

    fn rekey(&mut self) -> Result<(), Failure> {
        if self.derive_each {
            self.key = (self.derive)(self.suite, self.spec.kid, self.spec.base_key).map_err(failure::<R>)?;
        }
        Ok(())
    }
}

impl<R: SframeRelease> Sealer for Keyed<'_, R, R::EncryptionKey> {
    fn seal(&mut self, ctr: u64, plaintext: &[u8]) -> Result<&[u8], Failure> {
        self.rekey()?;
        R::encrypt_into(&self.key, ctr, self.spec.metadata, plaintext, &mut self.buf).map_err(failure::<R>)
    }
}

impl<R: SframeRelease> Opener for Keyed<'_, R, R::DecryptionKey> {
    fn open(&mut self, frame: &[u8]) -> Result<&[u8], Failure> {
        self.rekey()?;
        R::decrypt_into(&mut self.key, self.spec.metadata, frame, &mut self.buf).map_err(failure::<R>)
    }
}

/// Serves the wire protocol over release `R` on stdin/stdout until EOF or `shutdown`.
pub fn serve_release<R: SframeRelease>() -> std::io::Result<()> {
    crate::serve(&mut ReleaseShim::<R>(PhantomData))
}

/// The bytes of `buf` that `part` spans. Releases before 2.x hand back a
/// payload that borrows the short-lived view rather than the buffer its bytes
/// are in, so the shim keeps only where the payload is, and this borrows it
/// again from the buffer.
pub fn within(buf: &[u8], part: Range<*const u8>) -> &[u8] {
    let offset = |at: *const u8| (at as usize).wrapping_sub(buf.as_ptr() as usize);
    buf.get(offset(part.start)..offset(part.end)).expect("the payload lies inside the buffer")
}

/// The trait items that read the same in every release the shims pin
/// (0.7.3, 1.4.3, 2.1.0) but for names: the error and key types, key
/// derivation, header coding, the GCM suites and the error classes. A macro,
/// not default methods, because the paths resolve in the shim's own `sframe`,
/// a different crate each time. A shim names its suite type and the header's
/// CTR accessor, and adds the suites and error variants only it has.
#[macro_export]
macro_rules! release_items {
    (
        suite: $suite:ident,
        more_suites: { $( $(#[$cfg:meta])* $code:literal => $variant:ident ),* $(,)? },
        header_ctr: $counter:ident,
        more_classes: { $( $error:pat => $class:literal ),* $(,)? } $(,)?
    ) => {
        type Suite = $suite;
        type Error = ::sframe::error::SframeError;
        type EncryptionKey = ::sframe::key::EncryptionKey;
        type DecryptionKey = ::sframe::key::DecryptionKey;

        // The crate names suites by enum variant only, no conversion from the code point.
        fn suite(code: u64) -> Option<$suite> {
            match code {
                $( $(#[$cfg])* $code => Some($suite::$variant), )*
                4 => Some($suite::AesGcm128Sha256),
                5 => Some($suite::AesGcm256Sha512),
                _ => None,
            }
        }

        fn class(error: &Self::Error) -> &'static str {
            use ::sframe::error::SframeError;
            match error {
                SframeError::InvalidBuffer(_) => "malformed",
                SframeError::DecryptionFailure => "auth_failed",
                // A struct variant in 2.x, a tuple variant before: `{ .. }` matches both.
                SframeError::MissingDecryptionKey { .. } => "unknown_kid",
                $( $error => $class, )*
                // Nothing else should happen for these ops; if it does it is a bug to see.
                _ => "internal",
            }
        }

        fn encryption_key(suite: $suite, kid: u64, base_key: &[u8]) -> Result<Self::EncryptionKey, Self::Error> {
            ::sframe::key::EncryptionKey::derive_from(suite, kid, base_key)
        }

        fn decryption_key(suite: $suite, kid: u64, base_key: &[u8]) -> Result<Self::DecryptionKey, Self::Error> {
            ::sframe::key::DecryptionKey::derive_from(suite, kid, base_key)
        }

        fn encode_header(kid: u64, ctr: u64) -> Vec<u8> {
            Vec::from(&::sframe::header::SframeHeader::new(kid, ctr))
        }

        fn decode_header(data: &[u8]) -> Result<$crate::Header, Self::Error> {
            let header = ::sframe::header::SframeHeader::deserialize(data)?;
            Ok($crate::Header { kid: header.key_id(), ctr: header.$counter(), len: header.len() })
        }
    };
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::fmt;

    use serde_json::Value;

    use super::*;
    use crate::reply;

    thread_local! {
        // Key derivations so far: what tells the `*_derive` modes from the others.
        static DERIVED: Cell<usize> = const { Cell::new(0) };
    }

    #[derive(Debug)]
    struct ToyError(&'static str, Option<fmt::Error>);

    impl fmt::Display for ToyError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "toy {}", self.0)
        }
    }

    impl std::error::Error for ToyError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_ref().map(|e| e as _)
        }
    }

    /// A stand-in release, suite 4 only: a "frame" is the CTR (8 bytes)
    /// then the plaintext, so every answer can be checked by eye.
    struct Toy<const RATCHETS: bool>;

    impl<const RATCHETS: bool> SframeRelease for Toy<RATCHETS> {
        const VERSION: &'static str = "9.9.9";
        const BACKEND: &'static str = "toy";
        const RATCHET: Option<Ratchet<Self>> = if RATCHETS { Some(|_, key| Ok(key.iter().rev().copied().collect())) } else { None };
        type Suite = ();
        type Error = ToyError;
        type EncryptionKey = u64;
        type DecryptionKey = u64;

        fn suite(code: u64) -> Option<()> {
            (code == 4).then_some(())
        }

        fn class(error: &ToyError) -> &'static str {
            error.0
        }

        fn encryption_key(_: (), kid: u64, _: &[u8]) -> Result<u64, ToyError> {
            DERIVED.with(|n| n.set(n.get() + 1));
            Ok(kid)
        }

        fn decryption_key(suite: (), kid: u64, base_key: &[u8]) -> Result<u64, ToyError> {
            Self::encryption_key(suite, kid, base_key)
        }

        fn encrypt(key: &u64, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, ToyError> {
            let mut buf = Vec::new();
            Ok(Self::encrypt_into(key, ctr, metadata, plaintext, &mut buf)?.to_vec())
        }

        fn encrypt_into<'b>(_: &u64, ctr: u64, _: &[u8], plaintext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], ToyError> {
            buf.clear();
            buf.extend_from_slice(&ctr.to_be_bytes());
            buf.extend_from_slice(plaintext);
            Ok(buf)
        }

        fn decrypt(key: &mut u64, metadata: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, ToyError> {
            let mut buf = Vec::new();
            Ok(Self::decrypt_into(key, metadata, ciphertext, &mut buf)?.to_vec())
        }

        fn decrypt_into<'b>(_: &mut u64, _: &[u8], ciphertext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], ToyError> {
            if ciphertext.len() < 8 {
                return Err(ToyError("auth_failed", Some(fmt::Error)));
            }
            buf.clear();
            buf.extend_from_slice(ciphertext);
            let payload = buf[8..].as_ptr_range();
            Ok(within(buf, payload))
        }

        fn encode_header(kid: u64, ctr: u64) -> Vec<u8> {
            [kid.to_be_bytes(), ctr.to_be_bytes()].concat()
        }

        fn decode_header(data: &[u8]) -> Result<Header, ToyError> {
            Err(ToyError(if data.is_empty() { "malformed" } else { "internal" }, None))
        }
    }

    fn shim<const RATCHETS: bool>() -> ReleaseShim<Toy<RATCHETS>> {
        ReleaseShim(PhantomData)
    }

    const KEYED: &str = r#""suite":4,"base_key":"00","kid":"7","metadata":"""#;

    #[test]
    fn hello_names_release_and_backend_and_offers_the_ratchet_only_where_the_release_has_one() {
        let hello = reply(&mut shim::<true>(), r#"{"id":1,"op":"hello"}"#);
        assert_eq!(hello["version"], "9.9.9+toy");
        assert_eq!(hello["suites"], serde_json::json!([4]));
        let capabilities = ["encode_header", "decode_header", "ratchet_derive", "shutdown", "bench", "timing"];
        assert_eq!(hello["capabilities"], serde_json::json!(capabilities));
        let hello = reply(&mut shim::<false>(), r#"{"id":1,"op":"hello"}"#);
        assert!(!hello["capabilities"].as_array().unwrap().contains(&Value::from("ratchet_derive")));
    }

    #[test]
    fn ops_the_release_lacks_are_unsupported_and_name_it() {
        let line = r#"{"id":1,"op":"ratchet_derive","suite":4,"base_key":"0102","steps":2}"#;
        assert_eq!(reply(&mut shim::<true>(), line)["base_key"], "0102");
        for (shim, line) in [
            (&mut shim::<false>() as &mut dyn Shim, line),
            (&mut shim::<true>(), r#"{"id":2,"op":"derive"}"#),
        ] {
            let answer = reply(shim, line);
            assert_eq!(answer["error"], "unsupported", "{line}");
            assert!(answer["message"].as_str().unwrap().contains("sframe 9.9.9's public API"), "{line}");
        }
        let answer = reply(&mut shim::<true>(), r#"{"id":3,"op":"encrypt","suite":5,"base_key":"00","kid":"7","ctr":"1","metadata":"","plaintext":""}"#);
        assert_eq!(answer["error"], "unsupported");
        assert_eq!(answer["message"], "cipher suite 5 is not offered by sframe 9.9.9 with the toy backend");
    }

    #[test]
    fn frames_come_from_the_release_and_its_errors_keep_their_class_and_source() {
        let sealed = reply(&mut shim::<false>(), &format!(r#"{{"id":1,"op":"encrypt",{KEYED},"ctr":"2","plaintext":"ab"}}"#));
        assert_eq!(sealed["ciphertext"], "0000000000000002ab");
        let opened = reply(&mut shim::<false>(), &format!(r#"{{"id":2,"op":"decrypt",{KEYED},"ciphertext":"0000000000000002ab"}}"#));
        assert_eq!(opened["plaintext"], "ab");
        let short = reply(&mut shim::<false>(), &format!(r#"{{"id":3,"op":"decrypt",{KEYED},"ciphertext":"00"}}"#));
        assert_eq!(short["error"], "auth_failed");
        assert_eq!(short["message"], format!("sframe: toy auth_failed: {}", fmt::Error));
        let header = reply(&mut shim::<false>(), r#"{"id":4,"op":"decode_header","data":""}"#);
        assert_eq!((&header["error"], &header["message"]), (&Value::from("malformed"), &Value::from("sframe: toy malformed")));
    }

    #[test]
    fn the_derive_modes_derive_a_key_per_frame_and_the_others_once() {
        for (mode, derivations) in [("encrypt", 1), ("encrypt_derive", 1 + 3), ("decrypt", 2), ("decrypt_derive", 2 + 3)] {
            DERIVED.with(|n| n.set(0));
            let line = format!(r#"{{"id":1,"op":"bench","mode":"{mode}",{KEYED},"plaintext":"ab","count":3}}"#);
            let answer = reply(&mut shim::<false>(), &line);
            assert_eq!(answer["count"], 3, "{mode}: {answer}");
            assert_eq!(DERIVED.with(Cell::get), derivations, "{mode}");
        }
    }

    #[test]
    fn within_borrows_a_part_again_from_its_buffer_and_nothing_outside_it() {
        let buf = b"metadata|payload".to_vec();
        assert_eq!(within(&buf, buf[9..].as_ptr_range()), b"payload");
        assert_eq!(within(&buf, buf[16..].as_ptr_range()), b"");
        let elsewhere = buf.clone();
        let outside = std::panic::catch_unwind(|| within(&buf, elsewhere[1..].as_ptr_range()).len());
        assert!(outside.is_err());
    }
}
