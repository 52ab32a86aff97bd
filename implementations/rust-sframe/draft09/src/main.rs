//! Wire-protocol shim over crates.io `sframe` 0.7.3, the last release before
//! the crate tracked the published RFC (its code follows draft-ietf-sframe-enc-09).
//!
//! What 0.7.3 does its own way: a frame counter is a plain value, the key
//! types take a `CipherSuiteVariant`, a key store opens only as `&mut`, and a
//! frame buffer starts with the metadata.

use sframe::{
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, MediaFrameView},
    key::{DecryptionKey, EncryptionKey},
    CipherSuiteVariant,
};
use sframe_wire::{within, SframeRelease};

struct Sframe07;

impl SframeRelease for Sframe07 {
    const VERSION: &'static str = "0.7.3";
    const BACKEND: &'static str = "ring";
    // 0.7.3's ratchet is only reachable through its key store, which
    // ratchets once on creation, so there is no stateless `ratchet_derive`.
    const RATCHET: Option<sframe_wire::Ratchet<Self>> = None;

    // ring, the crate's default backend, has no AES-CTR, so 0.7.3 compiles
    // the CTR suites out and only the GCM ones remain.
    sframe_wire::release_items! {
        suite: CipherSuiteVariant,
        more_suites: {},
        header_ctr: frame_count,
        more_classes: {},
    }

    fn encrypt(key: &EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SframeError> {
        let sealed = MediaFrame::with_meta_data(ctr, plaintext, metadata).encrypt(key)?;
        // The buffer is metadata then the SFrame ciphertext, and 0.7.3 has no
        // accessor for the latter alone (its `cipher_text()` also drops the header).
        let frame: &[u8] = sealed.as_ref();
        Ok(frame[sealed.meta_data().len()..].to_vec())
    }

    fn encrypt_into<'b>(key: &EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], SframeError> {
        MediaFrameView::with_meta_data(ctr, plaintext, metadata).encrypt_into(key, buf)?;
        Ok(&buf[metadata.len()..])
    }

    fn decrypt(key: &mut DecryptionKey, metadata: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, SframeError> {
        let frame = EncryptedFrameView::try_with_meta_data(ciphertext, metadata)?;
        Ok(frame.decrypt(key)?.payload().to_vec())
    }

    fn decrypt_into<'b>(key: &mut DecryptionKey, metadata: &[u8], ciphertext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], SframeError> {
        let frame = EncryptedFrameView::try_with_meta_data(ciphertext, metadata)?;
        let payload = frame.decrypt_into(key, buf)?.payload().as_ptr_range();
        Ok(within(buf, payload))
    }
}

fn main() -> std::io::Result<()> {
    sframe_wire::serve_release::<Sframe07>()
}
