//! Wire-protocol shim over crates.io `sframe` 1.4.3, the 1.x line: labelled
//! RFC 9605 and still a dependency of published crates, but (like every
//! release from 0.5.0 to 2.0.0) it authenticates metadata before the header.
//!
//! What 1.x does its own way: no `SingleUseCounter` (a `MonotonicCounter`
//! starting and ending at the CTR stands in), an infallible
//! `MediaFrame::with_meta_data`, a frame buffer that starts with the
//! metadata, and its own error variants.

use sframe::{
    crypto::{Kdf, Ratcheting},
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, MediaFrameView, MonotonicCounter},
    key::{DecryptionKey, EncryptionKey},
    CipherSuite,
};
use sframe_wire::{within, SframeRelease};

/// A counter that yields exactly `ctr` (the crate's way to encrypt at a chosen CTR).
fn at(ctr: u64) -> MonotonicCounter {
    MonotonicCounter::with_start_value(ctr, ctr)
}

struct Sframe1;

impl SframeRelease for Sframe1 {
    const VERSION: &'static str = "1.4.3";
    const BACKEND: &'static str = "ring";
    // The `Ratcheting` trait, public since 1.2.0.
    const RATCHET: Option<sframe_wire::Ratchet<Self>> = Some(|suite, base_key| Kdf::ratchet(suite, base_key));

    // ring, the crate's default backend, has no AES-CTR: only the GCM suites.
    sframe_wire::release_items! {
        suite: CipherSuite,
        more_suites: {},
        header_ctr: counter,
        more_classes: { SframeError::UnsupportedCipherSuite => "unsupported" },
    }

    fn encrypt(key: &EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SframeError> {
        let sealed = MediaFrame::with_meta_data(&mut at(ctr), plaintext, metadata).encrypt(key)?;
        // The frame buffer is metadata then the SFrame ciphertext.
        let frame: &[u8] = sealed.as_ref();
        Ok(frame[sealed.meta_data().len()..].to_vec())
    }

    fn encrypt_into<'b>(key: &EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], SframeError> {
        MediaFrameView::with_meta_data(&mut at(ctr), plaintext, metadata).encrypt_into(key, buf)?;
        Ok(&buf[metadata.len()..])
    }

    fn decrypt(key: &mut DecryptionKey, metadata: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, SframeError> {
        let frame = EncryptedFrameView::try_with_meta_data(ciphertext, metadata)?;
        Ok(frame.decrypt(&*key)?.payload().to_vec())
    }

    fn decrypt_into<'b>(key: &mut DecryptionKey, metadata: &[u8], ciphertext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], SframeError> {
        let frame = EncryptedFrameView::try_with_meta_data(ciphertext, metadata)?;
        let payload = frame.decrypt_into(&*key, buf)?.payload().as_ptr_range();
        Ok(within(buf, payload))
    }
}

fn main() -> std::io::Result<()> {
    sframe_wire::serve_release::<Sframe1>()
}
