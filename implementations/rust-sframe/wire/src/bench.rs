//! The `bench` and `timing` ops (PROTOCOL.md, "Benchmark and timing ops"):
//! the loops and the clock live here, once; each shim supplies its crate's
//! frame operations through [`FrameBench`] and its backend's raw AEAD.
//!
//! Rules of this module: nothing inside a timed region parses requests or
//! builds responses; a sealer or opener is built (keys derived) before the
//! clock starts, except in the `*_derive` modes, whose point is deriving per
//! frame. The aead mode's key is the suite's `sframe_key`, derived here with
//! ring's HKDF (the crates keep theirs private), outside the timed loop.

use std::time::Instant;

use ring::{aead, hkdf};

use crate::field::{Field, Fields, Request};
use crate::{Failure, Outcome};

pub const MAX_COUNT: u64 = 10_000_000;
pub const MAX_SAMPLES: usize = 1 << 20;
pub const CLOCK: &str = "std::time::Instant (clock_gettime CLOCK_MONOTONIC) ns";

/// What a frame op needs besides the frame: suite, base key, KID, metadata.
#[derive(Clone, Copy)]
pub struct FrameSpec<'a> {
    pub suite: u64,
    pub base_key: &'a [u8],
    pub kid: u64,
    pub metadata: &'a [u8],
}

/// Seals frames at a given CTR; the slice is valid until the next call.
pub trait Sealer {
    fn seal(&mut self, ctr: u64, plaintext: &[u8]) -> Result<&[u8], Failure>;
}

/// Opens frames with the one key it holds; the slice is valid until the next call.
pub trait Opener {
    fn open(&mut self, frame: &[u8]) -> Result<&[u8], Failure>;
}

/// An AES-GCM tag: the aead mode has a limit only for the GCM suites.
pub type Tag = [u8; 16];

/// The raw AEAD of the shim's crypto backend, keyed once. It seals in place
/// so the buffer handling around it (the same for every backend) is done
/// once, by [`bench`].
pub trait RawAead {
    fn seal_in_place(&mut self, nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<Tag, Failure>;
}

/// A shim's frame operations. `derive_each`: derive sframe_key and salt from
/// the base key inside every call, as APIs that take a base key per call do.
pub trait FrameBench {
    fn sealer<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Sealer + 'a>, Failure>;
    fn opener<'a>(&self, spec: &FrameSpec<'a>, derive_each: bool) -> Result<Box<dyn Opener + 'a>, Failure>;
    /// The backend's AEAD for the suite with an Nk-byte key; `unsupported` for
    /// suites it has none for.
    fn raw_aead(&self, suite: u64, key: &[u8]) -> Result<Box<dyn RawAead>, Failure>;
}

/// RFC 9605 §4.4.2 `sframe_key` (Nk bytes) for the GCM suites, with ring's HKDF.
pub fn sframe_key(suite: u64, base_key: &[u8], kid: u64) -> Result<Vec<u8>, Failure> {
    let (algorithm, nk) = match suite {
        4 => (hkdf::HKDF_SHA256, 16),
        5 => (hkdf::HKDF_SHA512, 32),
        _ => return Err(Failure::unsupported(format!("aead mode: no raw AEAD for suite {suite} here (AES-CTR+HMAC suites may answer unsupported)"))),
    };
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let mut info = b"SFrame 1.0 Secret key ".to_vec();
    info.extend_from_slice(&kid.to_be_bytes());
    info.extend_from_slice(&(suite as u16).to_be_bytes());
    let prk = hkdf::Salt::new(algorithm, b"").extract(base_key);
    let mut key = vec![0u8; nk];
    let info = [info.as_slice()];
    prk.expand(&info, Len(nk))
        .and_then(|okm| okm.fill(&mut key))
        .map_err(|_| Failure::new("internal", "HKDF failed"))?;
    Ok(key)
}

/// ring's AES-GCM, keyed once: the raw AEAD of the ring-backed shims.
pub struct RingGcm(aead::LessSafeKey);

impl RingGcm {
    pub fn new(suite: u64, key: &[u8]) -> Result<Self, Failure> {
        let algorithm = match suite {
            4 => &aead::AES_128_GCM,
            5 => &aead::AES_256_GCM,
            _ => return Err(Failure::unsupported(format!("ring has no AEAD for suite {suite}"))),
        };
        let key = aead::UnboundKey::new(algorithm, key).map_err(|_| Failure::invalid("wrong key length"))?;
        Ok(Self(aead::LessSafeKey::new(key)))
    }
}

impl RawAead for RingGcm {
    fn seal_in_place(&mut self, nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<Tag, Failure> {
        let tag = self
            .0
            .seal_in_place_separate_tag(aead::Nonce::assume_unique_for_key(*nonce), aead::Aad::from(aad), in_out)
            .map_err(|_| Failure::new("internal", "ring seal failed"))?;
        Ok(tag.as_ref().try_into().expect("a GCM tag is 16 bytes"))
    }
}

/// One aead-mode frame into the reused `buf`: ciphertext then tag, as SFrame lays them out.
fn seal_raw(raw: &mut dyn RawAead, ctr: u64, aad: &[u8], plaintext: &[u8], buf: &mut Vec<u8>) -> Result<(), Failure> {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&ctr.to_be_bytes());
    buf.clear();
    buf.extend_from_slice(plaintext);
    let tag = raw.seal_in_place(&nonce, aad, buf)?;
    buf.extend_from_slice(&tag);
    Ok(())
}

fn nanos(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX).max(1)
}

/// The `bench` op.
pub fn bench(frames: &dyn FrameBench, request: &Request) -> Outcome {
    let suite = request.suite()?;
    let (base_key, kid) = (request.bytes("base_key")?, request.u64("kid")?);
    let (metadata, plaintext) = (request.bytes("metadata")?, request.bytes("plaintext")?);
    let count = request.count("count")?;
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(Failure::invalid(format!("count must be 1..{MAX_COUNT}")));
    }
    let mode = request.string("mode")?;
    let spec = FrameSpec { suite, base_key: &base_key, kid, metadata: &metadata };
    let (name, last, elapsed) = match mode {
        "encrypt" | "encrypt_derive" => {
            let mut sealer = frames.sealer(&spec, mode == "encrypt_derive")?;
            let start = Instant::now();
            for ctr in 0..count - 1 {
                sealer.seal(ctr, &plaintext)?;
            }
            let last = sealer.seal(count - 1, &plaintext)?.to_vec();
            ("ciphertext", last, nanos(start))
        }
        "decrypt" | "decrypt_derive" => {
            let frame = frames.sealer(&spec, false)?.seal(0, &plaintext)?.to_vec();
            let mut opener = frames.opener(&spec, mode == "decrypt_derive")?;
            let start = Instant::now();
            for _ in 0..count - 1 {
                opener.open(&frame)?;
            }
            let last = opener.open(&frame)?.to_vec();
            ("plaintext", last, nanos(start))
        }
        "aead" => {
            let mut raw = frames.raw_aead(suite, &sframe_key(suite, &base_key, kid)?)?;
            let mut buf = Vec::new();
            let start = Instant::now();
            for ctr in 0..count {
                seal_raw(raw.as_mut(), ctr, &metadata, &plaintext, &mut buf)?;
            }
            ("ciphertext", buf, nanos(start))
        }
        _ => return Err(Failure::invalid(format!("unknown bench mode {mode:.40?}"))),
    };
    Ok(Fields::from_iter([
        (name.to_string(), Field::Bytes(last)),
        ("elapsed_ns".into(), Field::Int(elapsed)),
        ("count".into(), Field::Int(count as i64)),
    ]))
}

/// The `timing` op: one opener (keys derived once), each sample one `open`
/// of frame a or b timed by `Instant`, in nanoseconds.
pub fn timing(frames: &dyn FrameBench, request: &Request) -> Outcome {
    let suite = request.suite()?;
    let (base_key, kid, metadata) = (request.bytes("base_key")?, request.u64("kid")?, request.bytes("metadata")?);
    let (frame_a, frame_b) = (request.bytes("ciphertext_a")?, request.bytes("ciphertext_b")?);
    let schedule = request.bytes("schedule")?;
    if schedule.is_empty() || schedule.len() > MAX_SAMPLES || schedule.iter().any(|&b| b > 1) {
        return Err(Failure::invalid(format!("schedule must be 1..{MAX_SAMPLES} bytes, each 0 or 1")));
    }
    let spec = FrameSpec { suite, base_key: &base_key, kid, metadata: &metadata };
    let mut opener = frames.opener(&spec, false)?;
    let mut timings = Vec::with_capacity(schedule.len() * 8);
    for &class in &schedule {
        let frame = if class == 0 { &frame_a } else { &frame_b };
        let start = Instant::now();
        let result = opener.open(frame).map(|_| ());
        let ticks = start.elapsed().as_nanos() as u64;
        if result.is_ok() {
            return Err(Failure::invalid("a timing frame authenticated; both must be forged"));
        }
        timings.extend_from_slice(&ticks.to_be_bytes());
    }
    Ok(Fields::from_iter([("timings".into(), Field::Bytes(timings)), ("clock".into(), Field::Str(CLOCK.into()))]))
}
