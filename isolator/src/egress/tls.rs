//! TLS interception: how the proxy reads what the isolated browser sends
//! over `https://` and `wss://`.
//!
//! - **A certificate authority made at start, in memory only.** The server
//!   generates a CA key pair and one leaf key pair when it starts
//!   ([`Interceptor::new`]); neither touches the disk. Certificates for each
//!   host the browser reaches are signed by that CA on first use and cached
//!   ([`MAX_LEAVES`]).
//! - **Trusted by the isolated Chromium alone.** Chromium is launched with
//!   `--ignore-certificate-errors-spki-list` naming the two public keys
//!   ([`Interceptor::chromium_args`]); no system or user trust store changes,
//!   and a key that exists only in this process for its lifetime cannot be
//!   stolen from disk or reused by anything else.
//! - **Upstream identity is checked by the proxy**, against the system's
//!   roots (`/etc/ssl/certs`, Debian's `ca-certificates`) plus the roots an
//!   admin adds ([`TlsConfig::extra_roots`]); a failure is shown to the user
//!   as a page naming the host and what was wrong with its certificate, and
//!   reported as an egress event.
//! - **HTTP/1.1 on both legs** (ALPN): every request, body and WebSocket
//!   frame is then read by the same inspection as plain HTTP
//!   ([`super::inspected`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
};
use rustls::client::ClientConfig;
use rustls::crypto::ring as provider;
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::host::TargetHost;

/// Most host certificates kept; the cache is emptied when it is full (a
/// certificate costs ~0.1 ms to sign again).
pub const MAX_LEAVES: usize = 4096;

/// Days a host certificate is valid for (it lives as long as the process).
const LEAF_DAYS: i64 = 30;

/// The `[egress.tls]` configuration section.
///
/// ```toml
/// [egress.tls]
/// # Scan https and wss like plain HTTP (the default). Off: TLS tunnels
/// # pass unscanned, and only the browser-side submit gate sees bodies.
/// intercept = true
/// # PEM files of CAs trusted for upstream servers besides the system's.
/// extra_roots = ["/etc/isolator/corp-root.pem"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Terminate the browser's TLS in the proxy and inspect what it carries.
    pub intercept: bool,
    /// PEM files holding extra root certificates for upstream servers.
    pub extra_roots: Vec<PathBuf>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            intercept: true,
            extra_roots: Vec::new(),
        }
    }
}

/// Why interception could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// An `extra_roots` file could not be read or held no certificate.
    #[error("egress.tls.extra_roots: {path}: {why}")]
    Roots {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        why: String,
    },
    /// No root certificate at all: upstream servers could not be verified.
    #[error(
        "no root certificates: the system store is empty (install Debian's `ca-certificates`) and `egress.tls.extra_roots` names none"
    )]
    NoRoots,
    /// Key or certificate generation failed.
    #[error("cannot create the interception authority: {0}")]
    Generate(String),
}

/// The interception authority and the TLS settings of both legs.
pub struct Interceptor {
    ca: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    leaf_key: KeyPair,
    signer: Arc<dyn rustls::sign::SigningKey>,
    spki: [String; 2],
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

impl std::fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interceptor")
            .field("spki", &self.spki)
            .finish_non_exhaustive()
    }
}

impl Interceptor {
    /// A new authority, trusting the system's roots and `config.extra_roots`
    /// upstream.
    pub fn new(config: &TlsConfig) -> Result<Self, TlsSetupError> {
        let roots = root_store(&config.extra_roots)?;
        Self::with_roots(roots)
    }

    /// A new authority trusting exactly `roots` upstream.
    pub fn with_roots(roots: RootCertStore) -> Result<Self, TlsSetupError> {
        let gen = |e: rcgen::Error| TlsSetupError::Generate(e.to_string());
        let ca_key = KeyPair::generate().map_err(gen)?;
        let params = ca_params();
        let ca_der = params.self_signed(&ca_key).map_err(gen)?.der().clone();
        let ca = Issuer::new(params, ca_key);
        let leaf_key = KeyPair::generate().map_err(gen)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let signer = provider::sign::any_supported_type(&der)
            .map_err(|e| TlsSetupError::Generate(e.to_string()))?;
        let spki = [
            spki_hash(&ca.key().subject_public_key_info()),
            spki_hash(&leaf_key.subject_public_key_info()),
        ];
        let mut server = ServerConfig::builder_with_provider(crypto())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Generate(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(NoCert));
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut client = ClientConfig::builder_with_provider(crypto())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Generate(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca,
            ca_der,
            leaf_key,
            signer,
            spki,
            leaves: Mutex::new(HashMap::new()),
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// The switch that makes the isolated Chromium accept this authority's
    /// certificates (and no other certificate error).
    pub fn chromium_args(&self) -> Vec<String> {
        vec![format!(
            "ignore-certificate-errors-spki-list={}",
            self.spki.join(",")
        )]
    }

    /// The authority's certificate (DER), e.g. for a test client.
    pub fn ca_certificate(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The server settings for the browser's leg to `host`: its certificate,
    /// HTTP/1.1 only, sessions resumable across connections.
    pub fn server_config(&self, host: &TargetHost) -> Result<Arc<ServerConfig>, String> {
        let key = self.leaf(host)?;
        let mut config = (*self.server).clone();
        config.cert_resolver = Arc::new(Fixed(key));
        Ok(Arc::new(config))
    }

    /// The client settings for the upstream leg.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.client.clone()
    }

    /// The certificate for `host`, from the cache or freshly signed.
    fn leaf(&self, host: &TargetHost) -> Result<Arc<CertifiedKey>, String> {
        let name = host.to_string();
        let mut leaves = self.leaves.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = leaves.get(&name) {
            return Ok(k.clone());
        }
        let san = match host {
            TargetHost::Ip(ip) => ip.to_string(),
            TargetHost::Domain(d) => d.clone(),
        };
        let mut params = CertificateParams::new(vec![san]).map_err(|e| e.to_string())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name.clone());
        params.distinguished_name = dn;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(LEAF_DAYS);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&self.leaf_key, &self.ca)
            .map_err(|e| e.to_string())?;
        let key = Arc::new(CertifiedKey::new(
            vec![cert.der().clone(), self.ca_der.clone()],
            self.signer.clone(),
        ));
        if leaves.len() >= MAX_LEAVES {
            leaves.clear();
        }
        leaves.insert(name, key.clone());
        Ok(key)
    }
}

/// The cryptography of both legs (and of the tests' TLS servers and
/// clients): *ring*, built with `cc` alone (aws-lc-rs would need its own C
/// toolchain build). rustls deprecates it for lacking the post-quantum
/// hybrid key exchange: the browser's leg never leaves loopback, and the
/// upstream leg negotiates X25519 as most clients did until 2024.
///
/// Key exchange prefers X25519, then P-256, then P-384: rustls 0.23.48
/// lists P-384 first for *ring*, and a P-384 exchange costs ~1 ms of CPU a
/// handshake against ~0.1 ms for X25519 (measured: a resumed handshake on
/// loopback took 3.2 ms with P-384 first). The proxy sends one key share,
/// its first group's, so the order is what the upstream leg negotiates.
#[allow(deprecated)]
pub fn crypto() -> Arc<rustls::crypto::CryptoProvider> {
    use provider::kx_group::{SECP256R1, SECP384R1, X25519};
    Arc::new(rustls::crypto::CryptoProvider {
        kx_groups: vec![X25519, SECP256R1, SECP384R1],
        ..provider::default_provider()
    })
}

/// The authority's fixed subject and extensions.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "isolator");
    dn.push(
        DnType::CommonName,
        "isolator egress inspection (this process only)",
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

/// Base64 of the SHA-256 of a SubjectPublicKeyInfo, as Chromium's switch wants it.
fn spki_hash(spki_der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki_der))
}

/// The system's roots plus the PEM files in `extra`.
pub fn root_store(extra: &[PathBuf]) -> Result<RootCertStore, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::warn!(error = %e, "a system root certificate could not be read");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    if ignored > 0 {
        tracing::debug!(ignored, "system root certificates rustls cannot use");
    }
    tracing::debug!(added, "system root certificates trusted upstream");
    for path in extra {
        add_pem_roots(&mut roots, path)?;
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    Ok(roots)
}

fn add_pem_roots(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsSetupError> {
    let err = |why: String| TlsSetupError::Roots {
        path: path.to_owned(),
        why,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("holds no PEM certificate".into()));
    }
    for (i, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| err(format!("certificate {}: {e}", i + 1)))?;
    }
    Ok(())
}

/// The template's resolver: never used (each connection gets [`Fixed`]).
#[derive(Debug)]
struct NoCert;

impl ResolvesServerCert for NoCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        None
    }
}

/// One connection's certificate: the one for the host the browser asked
/// the proxy to reach, whatever name the handshake carries.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interceptor() -> Interceptor {
        let mut roots = RootCertStore::empty();
        let ca = KeyPair::generate().unwrap();
        roots
            .add(ca_params().self_signed(&ca).unwrap().der().clone())
            .unwrap();
        Interceptor::with_roots(roots).unwrap()
    }

    #[test]
    fn each_start_makes_a_new_authority_named_in_one_switch() {
        let a = interceptor();
        let b = interceptor();
        let (sa, sb) = (a.chromium_args(), b.chromium_args());
        assert_eq!(sa.len(), 1);
        assert!(sa[0].starts_with("ignore-certificate-errors-spki-list="));
        assert_eq!(sa[0].split(',').count(), 2);
        assert_ne!(sa, sb, "two starts share no key");
    }

    #[test]
    fn host_certificates_are_cached_and_chain_to_the_authority() {
        let a = interceptor();
        let host = TargetHost::Domain("bank.example".into());
        let k1 = a.leaf(&host).unwrap();
        let k2 = a.leaf(&host).unwrap();
        assert!(Arc::ptr_eq(&k1, &k2));
        assert_eq!(k1.cert.len(), 2);
        assert_eq!(&k1.cert[1], a.ca_certificate());
        let ip = a
            .leaf(&TargetHost::Ip("192.0.2.7".parse().unwrap()))
            .unwrap();
        assert!(!Arc::ptr_eq(&k1, &ip));
    }

    #[test]
    fn a_missing_or_empty_roots_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = root_store(&[empty]).unwrap_err().to_string();
        assert!(
            e.contains("empty.pem") && e.contains("no PEM certificate"),
            "{e}"
        );
        let missing = dir.path().join("missing.pem");
        let e = root_store(&[missing]).unwrap_err().to_string();
        assert!(e.contains("missing.pem"), "{e}");
    }
}
