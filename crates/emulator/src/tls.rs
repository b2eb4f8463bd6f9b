//! The test certificate authority of the served emulator, so the real `miniprogram-ci` can talk
//! to it unchanged: it connects through the emulator as an HTTPS proxy (`CONNECT
//! servicewechat.com:443`), the emulator ends TLS itself with a certificate for the WeChat hosts
//! signed by this CA, and Node trusts the CA through `NODE_EXTRA_CA_CERTS`.

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// The hosts the leaf certificate names.
pub const HOSTS: &[&str] = &["servicewechat.com", "api.weixin.qq.com", "localhost"];

/// A freshly generated CA and the TLS server configuration of its leaf.
#[derive(Clone)]
pub struct TestCa {
    /// The CA certificate, PEM (what `NODE_EXTRA_CA_CERTS` points at).
    pub ca_pem: String,
    /// The server configuration.
    pub config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// Generates a CA and a leaf certificate for [`HOSTS`] (ECDSA P-256; milliseconds).
    pub fn generate() -> Result<Self, String> {
        Self::for_hosts(HOSTS)
    }

    /// Generates a CA and a leaf certificate for `hosts` (tests stand in for other hosts with it,
    /// such as a TLS-ending proxy for the GitHub API).
    pub fn for_hosts(hosts: &[&str]) -> Result<Self, String> {
        let err = |e: rcgen::Error| e.to_string();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            "mp-release emulator test CA (not trusted anywhere else)",
        );
        ca_params.distinguished_name = dn;
        let ca_key = KeyPair::generate().map_err(err)?;
        let ca = ca_params.self_signed(&ca_key).map_err(err)?;
        let leaf_params =
            CertificateParams::new(hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
                .map_err(err)?;
        let leaf_key = KeyPair::generate().map_err(err)?;
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .map_err(err)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(leaf.der().to_vec()),
                    CertificateDer::from(ca.der().to_vec()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .map_err(|e| e.to_string())?;
        Ok(Self {
            ca_pem: ca.pem(),
            config: Arc::new(config),
        })
    }
}
