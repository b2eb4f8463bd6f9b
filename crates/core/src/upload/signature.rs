//! The upload signature: the RSA private-key operation with PKCS#1 v1.5 type-1 padding over the
//! compact JSON `{"appid":…,"rand_str":…}` — no hashing, no DigestInfo (Node's `privateEncrypt`),
//! in standard base64. Deterministic for a given random string.

use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Pkcs1v15Sign, PrivateKey, PublicKey};

/// Why a key or signature is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not a PEM RSA private key.
    #[error("the private key is not a PEM RSA private key (expected `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN PRIVATE KEY-----`, the code-upload key downloaded from the mp console)")]
    BadPrivateKey,
    /// Not a PEM RSA public key.
    #[error("not a PEM RSA public key")]
    BadPublicKey,
    /// The key is too small for the message.
    #[error("the key is too small to sign the upload challenge ({0})")]
    Sign(String),
    /// The signature does not verify.
    #[error("the signature does not match the registered key")]
    Mismatch,
}

/// The signed plaintext, keys in this order.
pub fn plaintext(appid: &str, rand_str: &str) -> String {
    serde_json::json!({ "appid": appid, "rand_str": rand_str }).to_string()
}

/// The `/ci.signature` pack entry.
pub fn entry(signature_b64: &str) -> String {
    serde_json::json!({ "signature": signature_b64, "version": super::CI_VERSION }).to_string()
}

/// A code-upload private key.
#[derive(Clone)]
pub struct SigningKey(PrivateKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

impl SigningKey {
    /// Parses PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, SignatureError> {
        let pem = pem.trim();
        PrivateKey::from_pkcs1_pem(pem)
            .or_else(|_| PrivateKey::from_pkcs8_pem(pem))
            .map(Self)
            .map_err(|_| SignatureError::BadPrivateKey)
    }

    /// Signs the challenge for `appid` and the server's random string.
    pub fn sign(&self, appid: &str, rand_str: &str) -> Result<String, SignatureError> {
        let sig = self
            .0
            .sign(
                Pkcs1v15Sign::new_unprefixed(),
                plaintext(appid, rand_str).as_bytes(),
            )
            .map_err(|e| SignatureError::Sign(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

/// Checks `signature_b64` for `appid` + `rand_str` against a PEM public key (the emulator's check).
pub fn verify(
    public_pem: &str,
    signature_b64: &str,
    appid: &str,
    rand_str: &str,
) -> Result<(), SignatureError> {
    let pem = public_pem.trim();
    let key = PublicKey::from_public_key_pem(pem)
        .or_else(|_| PublicKey::from_pkcs1_pem(pem))
        .map_err(|_| SignatureError::BadPublicKey)?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| SignatureError::Mismatch)?;
    key.verify(
        Pkcs1v15Sign::new_unprefixed(),
        plaintext(appid, rand_str).as_bytes(),
        &sig,
    )
    .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = include_str!(
        "../../../../tests/fixtures/miniprogram-ci/keys/private.wx0123456789abcdef.key"
    );
    const PUBLIC: &str = include_str!(
        "../../../../tests/fixtures/miniprogram-ci/keys/public.wx0123456789abcdef.pem"
    );
    const CAPTURED: &str = include_str!("../../../../tests/fixtures/miniprogram-ci/captures/api-proxy/005_wxa_ci_upload.files/ci.signature");

    #[test]
    fn equals_the_captured_signature_byte_for_byte() {
        // The api-proxy capture: rand_str f5a4031e8fec10b8eae24654c26b5365 (decrypted by the capture).
        let key = SigningKey::from_pem(PRIVATE).unwrap();
        let sig = key
            .sign("wx0123456789abcdef", "f5a4031e8fec10b8eae24654c26b5365")
            .unwrap();
        assert_eq!(entry(&sig), CAPTURED.trim());
        verify(
            PUBLIC,
            &sig,
            "wx0123456789abcdef",
            "f5a4031e8fec10b8eae24654c26b5365",
        )
        .unwrap();
        assert_eq!(
            verify(PUBLIC, &sig, "wx0123456789abcdef", "another"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn plaintext_is_compact_in_key_order() {
        assert_eq!(plaintext("wx1", "r"), r#"{"appid":"wx1","rand_str":"r"}"#);
    }

    #[test]
    fn pkcs8_keys_work_and_garbage_is_explained() {
        use rsa::pkcs8::EncodePrivateKey;
        let pkcs1 = SigningKey::from_pem(PRIVATE).unwrap();
        let pkcs8 = pkcs1.0.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let again = SigningKey::from_pem(&pkcs8).unwrap();
        assert_eq!(
            again.sign("wx1", "r").unwrap(),
            pkcs1.sign("wx1", "r").unwrap()
        );
        let err = SigningKey::from_pem("not a key").unwrap_err();
        assert!(err.to_string().contains("BEGIN RSA PRIVATE KEY"));
        assert_eq!(
            verify("nope", "x", "a", "b"),
            Err(SignatureError::BadPublicKey)
        );
    }
}
