//! TLS for the mail transports (the SMTP listener's STARTTLS, the IMAP poller; the outgoing SMTP relay goes
//! through lettre with the same rustls). One crypto provider, ring: it is the one already in the tree through
//! async-nats, and the other (aws-lc) would need cmake and nasm to build. Naming the provider instead of
//! relying on rustls's process-wide default keeps a second provider pulled in by some dependency from making
//! `ServerConfig::builder()` ambiguous (it panics then).

use std::path::Path;
use std::sync::Arc;
pub use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates (PEM) in a file: a chain, leaf first, or a bundle of trusted roots.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// A TLS server (the SMTP listener's STARTTLS) with the certificate chain and private key in these PEM
/// files. Read once at start: a renewed certificate needs a restart.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    Ok(Arc::new(config))
}

/// A TLS client (the IMAP poller) that trusts the system's roots plus `extra` (a private mail server's own
/// CA). The server's name is checked against its certificate as usual.
pub fn client_config(extra: &[CertificateDer<'static>]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let _ = roots.add_parsable_certificates(native.certs);
    for c in extra {
        roots.add(c.clone()).map_err(|e| format!("a trusted certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err("no trusted root certificates (install ca-certificates, or give --tls-ca)".into());
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
