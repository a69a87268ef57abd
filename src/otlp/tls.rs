//! The rustls client configuration of one signal, from its [`TlsSettings`].
//!
//! Built on the `ring` provider passed explicitly (`builder_with_provider`): a library must not install a
//! process-wide crypto provider, and must not depend on one the application may or may not have installed.
//! Every file is read and checked here, at build time, so a wrong path or a key that does not belong to
//! its certificate fails `build()` with the file's name instead of failing every export later.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::config::{TlsRoots, TlsSettings};
use crate::error::TlsError;

/// What the connection speaks on top of TLS, announced by ALPN.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Alpn {
    /// The blocking HTTP client speaks HTTP/1.1 only.
    Http1,
    /// gRPC needs HTTP/2.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    H2,
}

/// A client configuration for `settings`.
pub(crate) fn client_config(settings: &TlsSettings, alpn: Alpn) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = root_store(settings)?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rejected { path: None, message: e.to_string() })?
        .with_root_certificates(roots);
    let mut config = match (&settings.client_cert, &settings.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), None) => return Err(TlsError::IncompleteIdentity { given: cert.clone(), missing: "client key" }),
        (None, Some(key)) => {
            return Err(TlsError::IncompleteIdentity { given: key.clone(), missing: "client certificate" })
        }
        (Some(cert), Some(key)) => {
            let chain = read_certificates(cert)?;
            let private_key = read_private_key(key)?;
            builder.with_client_auth_cert(chain, private_key).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch { cert: cert.clone(), key: key.clone() },
                other => TlsError::Rejected { path: Some(key.clone()), message: other.to_string() },
            })?
        }
    };
    config.alpn_protocols = match alpn {
        Alpn::Http1 => vec![b"http/1.1".to_vec()],
        Alpn::H2 => vec![b"h2".to_vec()],
    };
    Ok(Arc::new(config))
}

/// For an `http://` endpoint: trusts nothing, so a redirect to `https://` fails rather than reaching a
/// host nobody configured.
pub(crate) fn plaintext_only() -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rejected { path: None, message: e.to_string() })?;
    Ok(Arc::new(builder.with_root_certificates(RootCertStore::empty()).with_no_client_auth()))
}

fn root_store(settings: &TlsSettings) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let mut system_errors = Vec::new();
    match settings.roots {
        TlsRoots::System => {
            let found = rustls_native_certs::load_native_certs();
            // A store with a few unparsable certificates is still a store; only an empty one is an error.
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                system_errors = found.errors.iter().map(ToString::to_string).collect();
            }
        }
        TlsRoots::Webpki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        TlsRoots::None => {}
    }
    if let Some(path) = &settings.ca_file {
        for cert in read_certificates(path)? {
            roots.add(cert).map_err(|e| TlsError::Rejected {
                path: Some(path.clone()),
                message: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    if roots.is_empty() {
        let detail = match settings.roots {
            TlsRoots::System if system_errors.is_empty() => {
                "the system CA store is empty; install CA certificates, set BOTANU_TLS_ROOTS=webpki, or name a CA \
                 file (OTEL_EXPORTER_OTLP_CERTIFICATE)"
                    .to_owned()
            }
            TlsRoots::System => format!(
                "the system CA store could not be read ({}); set BOTANU_TLS_ROOTS=webpki or name a CA file \
                 (OTEL_EXPORTER_OTLP_CERTIFICATE)",
                system_errors.join("; ")
            ),
            _ => "roots are `none` and no CA file is named (OTEL_EXPORTER_OTLP_CERTIFICATE)".to_owned(),
        };
        return Err(TlsError::NoRoots { detail });
    }
    Ok(roots)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Unreadable { path: path.to_owned(), source })
}

/// Every certificate in a PEM file; at least one.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::InvalidPem { path: path.to_owned(), message: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoPrivateKey { path: path.to_owned() },
        other => TlsError::InvalidPem { path: path.to_owned(), message: other.to_string() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A temp directory removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("botanu-tls-unit-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            Dir(dir)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).expect("write");
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn self_signed(name: &str) -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("rcgen")
    }

    fn only(ca_file: PathBuf) -> TlsSettings {
        TlsSettings { roots: TlsRoots::None, ca_file: Some(ca_file), ..TlsSettings::default() }
    }

    #[test]
    fn each_file_problem_is_named_with_its_file() {
        let dir = Dir::new("errors");
        let a = self_signed("a.test");
        let b = self_signed("b.test");
        let ca = dir.write("ca.pem", &a.cert.pem());
        let not_pem = dir.write("notes.txt", "hello");
        let a_cert = dir.write("a.pem", &a.cert.pem());
        let b_key = dir.write("b.key", &b.signing_key.serialize_pem());
        let missing = dir.0.join("missing.pem");

        let unreadable = client_config(&only(missing.clone()), Alpn::Http1).unwrap_err();
        assert!(matches!(&unreadable, TlsError::Unreadable { path, .. } if *path == missing), "{unreadable:?}");
        assert!(unreadable.to_string().contains("missing.pem"), "{unreadable}");

        let none = client_config(&only(not_pem.clone()), Alpn::Http1).unwrap_err();
        assert!(matches!(&none, TlsError::NoCertificate { path } if *path == not_pem), "{none:?}");
        assert!(none.to_string().contains("notes.txt") && none.to_string().contains("no certificate"), "{none}");

        let mismatch =
            TlsSettings { client_cert: Some(a_cert.clone()), client_key: Some(b_key.clone()), ..only(ca.clone()) };
        let err = client_config(&mismatch, Alpn::Http1).unwrap_err();
        assert!(matches!(&err, TlsError::KeyMismatch { .. }), "{err:?}");
        assert!(err.to_string().contains("a.pem") && err.to_string().contains("b.key"), "{err}");

        let no_key =
            TlsSettings { client_key: Some(ca.clone()), client_cert: Some(a_cert.clone()), ..only(ca.clone()) };
        let err = client_config(&no_key, Alpn::Http1).unwrap_err();
        assert!(matches!(&err, TlsError::NoPrivateKey { path } if *path == ca), "{err:?}");

        let half = TlsSettings { client_cert: Some(a_cert), ..only(ca) };
        let err = client_config(&half, Alpn::Http1).unwrap_err();
        assert!(matches!(&err, TlsError::IncompleteIdentity { .. }), "{err:?}");

        let nothing = TlsSettings { roots: TlsRoots::None, ..TlsSettings::default() };
        let err = client_config(&nothing, Alpn::Http1).unwrap_err();
        assert!(matches!(&err, TlsError::NoRoots { .. }), "{err:?}");
    }

    #[test]
    fn a_matching_identity_and_webpki_roots_build() {
        let dir = Dir::new("ok");
        let a = self_signed("a.test");
        let settings = TlsSettings {
            roots: TlsRoots::Webpki,
            ca_file: Some(dir.write("ca.pem", &a.cert.pem())),
            client_cert: Some(dir.write("a.pem", &a.cert.pem())),
            client_key: Some(dir.write("a.key", &a.signing_key.serialize_pem())),
        };
        let config = client_config(&settings, Alpn::H2).expect("builds");
        assert_eq!(config.alpn_protocols, [b"h2".to_vec()]);
        assert!(config.client_auth_cert_resolver.has_certs());
    }
}
