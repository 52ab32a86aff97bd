//! Wire-protocol shim over crates.io `sframe` 2.x, the RFC 9605 releases.
//!
//! Every op is a direct call into the crate's public API; the shim says only
//! how 2.x's API does each one ([`SframeRelease`]), and sframe-wire serves the
//! protocol over it. Which crypto backend is compiled in is chosen by this
//! package's features, one binary per backend.

use sframe::{
    crypto::{Kdf, Ratcheting},
    error::SframeError,
    frame::{EncryptedFrameView, MediaFrame, MediaFrameView, SingleUseCounter},
    key::{DecryptionKey, EncryptionKey},
    CipherSuite,
};
use sframe_wire::SframeRelease;

#[cfg(not(any(feature = "ring", feature = "openssl", feature = "rust-crypto")))]
compile_error!("build with exactly one of the features ring, openssl, rust-crypto");

struct Sframe2;

impl SframeRelease for Sframe2 {
    const VERSION: &'static str = "2.1.0";
    #[cfg(feature = "ring")]
    const BACKEND: &'static str = "ring";
    #[cfg(feature = "openssl")]
    const BACKEND: &'static str = "openssl";
    #[cfg(feature = "rust-crypto")]
    const BACKEND: &'static str = "rust-crypto";
    // The crate's `Ratcheting` trait, RFC 9605 §5.1.
    const RATCHET: Option<sframe_wire::Ratchet<Self>> = Some(|suite, base_key| Kdf::ratchet(suite, base_key));

    sframe_wire::release_items! {
        suite: CipherSuite,
        // The AES-CTR variants exist only with the openssl and rust-crypto backends.
        more_suites: {
            #[cfg(any(feature = "openssl", feature = "rust-crypto"))]
            1 => AesCtr128HmacSha256_80,
            #[cfg(any(feature = "openssl", feature = "rust-crypto"))]
            2 => AesCtr128HmacSha256_64,
            #[cfg(any(feature = "openssl", feature = "rust-crypto"))]
            3 => AesCtr128HmacSha256_32,
        },
        header_ctr: counter,
        more_classes: {
            SframeError::UnsupportedCipherSuite => "unsupported",
            SframeError::OutOfRange { .. } => "invalid_argument",
        },
    }

    // SingleUseCounter is the crate's way to encrypt at a caller-chosen CTR.
    fn encrypt(key: &EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SframeError> {
        let frame = MediaFrame::try_with_meta_data(&mut SingleUseCounter::new(ctr), plaintext, metadata)?;
        Ok(frame.encrypt(key)?.sframe_cipher_text().to_vec())
    }

    fn encrypt_into<'b>(key: &EncryptionKey, ctr: u64, metadata: &[u8], plaintext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], SframeError> {
        let frame = MediaFrameView::try_with_meta_data(&mut SingleUseCounter::new(ctr), plaintext, metadata)?;
        Ok(frame.encrypt_into(key, buf)?.sframe_cipher_text())
    }

    fn decrypt(key: &mut DecryptionKey, metadata: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, SframeError> {
        let frame = EncryptedFrameView::try_with_meta_data(ciphertext, metadata)?;
        Ok(frame.decrypt(&*key)?.payload().to_vec())
    }

    fn decrypt_into<'b>(key: &mut DecryptionKey, metadata: &[u8], ciphertext: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8], SframeError> {
        let frame = EncryptedFrameView::try_with_meta_data(ciphertext, metadata)?;
        Ok(frame.decrypt_into(&*key, buf)?.payload())
    }

    // ring's AES-GCM, the trait's default, is the ring build's own.
    #[cfg(not(feature = "ring"))]
    fn raw_aead(suite: u64, key: &[u8]) -> Result<Box<dyn sframe_wire::RawAead>, sframe_wire::Failure> {
        backend_aead(suite, key)
    }
}

/// The backend's own AES-GCM, keyed once: the physical limit for `bench`'s aead mode.
#[cfg(feature = "openssl")]
fn backend_aead(suite: u64, key: &[u8]) -> Result<Box<dyn sframe_wire::RawAead>, sframe_wire::Failure> {
    use sframe_wire::{Failure, RawAead, Tag};
    use openssl::{cipher::Cipher, cipher_ctx::CipherCtx, error::ErrorStack};
    fn fail(e: ErrorStack) -> Failure {
        Failure::new("internal", format!("openssl: {e}"))
    }
    struct Gcm(CipherCtx);
    impl RawAead for Gcm {
        fn seal_in_place(&mut self, nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<Tag, Failure> {
            let mut tag = Tag::default();
            self.0.encrypt_init(None, None, Some(nonce)).map_err(fail)?;
            self.0.cipher_update(aad, None).map_err(fail)?;
            self.0.cipher_update_inplace(in_out, in_out.len()).map_err(fail)?;
            // GCM is a stream mode: the final step writes no bytes, it only completes the tag.
            self.0.cipher_final(&mut []).map_err(fail)?;
            self.0.tag(&mut tag).map_err(fail)?;
            Ok(tag)
        }
    }
    let cipher = match suite {
        4 => Cipher::aes_128_gcm(),
        5 => Cipher::aes_256_gcm(),
        _ => return Err(Failure::unsupported(format!("aead mode: no raw AEAD for suite {suite} here"))),
    };
    let mut ctx = CipherCtx::new().map_err(fail)?;
    ctx.encrypt_init(Some(cipher), Some(key), None).map_err(fail)?;
    Ok(Box::new(Gcm(ctx)))
}

#[cfg(feature = "rust-crypto")]
fn backend_aead(suite: u64, key: &[u8]) -> Result<Box<dyn sframe_wire::RawAead>, sframe_wire::Failure> {
    use sframe_wire::{Failure, RawAead, Tag};
    use aes_gcm::{aead::Nonce, AeadInOut, Aes128Gcm, Aes256Gcm, KeyInit};
    struct Gcm<A>(A);
    impl<A: AeadInOut> RawAead for Gcm<A> {
        fn seal_in_place(&mut self, nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<Tag, Failure> {
            let nonce = Nonce::<A>::try_from(&nonce[..]).map_err(|_| Failure::invalid("nonce length"))?;
            let tag = self
                .0
                .encrypt_inout_detached(&nonce, aad, in_out.into())
                .map_err(|_| Failure::new("internal", "aes-gcm seal failed"))?;
            tag.as_slice().try_into().map_err(|_| Failure::new("internal", "aes-gcm tag is not 16 bytes"))
        }
    }
    let bad = |_| Failure::invalid("wrong key length");
    match suite {
        4 => Ok(Box::new(Gcm(Aes128Gcm::new_from_slice(key).map_err(bad)?))),
        5 => Ok(Box::new(Gcm(Aes256Gcm::new_from_slice(key).map_err(bad)?))),
        _ => Err(Failure::unsupported(format!("aead mode: no raw AEAD for suite {suite} here"))),
    }
}

/// Serves the wire protocol on stdin/stdout until EOF or `shutdown`.
pub fn main() -> std::io::Result<()> {
    sframe_wire::serve_release::<Sframe2>()
}
