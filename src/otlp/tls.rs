//! The TLS configuration of one signal, from its [`TlsSettings`]: a rustls client configuration for the
//! gRPC connector, and the same roots, identity and provider as ureq's [`TlsConfig`](ureq::tls::TlsConfig)
//! for the http/protobuf client.
//!
//! Built on the `ring` provider passed explicitly (`builder_with_provider`, and
//! `unversioned_rustls_crypto_provider` for ureq): a library must not install a process-wide crypto
//! provider, and must not depend on one the application may or may not have installed. Every file is read
//! and checked here, at build time, so a wrong path or a key that does not belong to its certificate fails
//! `build()` with the file's name instead of failing every export later.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
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

/// The files of one signal's TLS settings, read and checked: the trust anchors and the client identity.
struct Material {
    /// Every root, as certificates: ureq takes roots in this form.
    roots: Vec<CertificateDer<'static>>,
    /// The same roots, parsed: rustls takes them in this form, and parsing them is the check.
    store: RootCertStore,
    identity: Option<Identity>,
}

/// A client certificate chain and its key, with the files they came from.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The key file as read: ureq takes a key as PEM (it names key kinds with a type it does not export).
    key_pem: Vec<u8>,
    cert_path: std::path::PathBuf,
    key_path: std::path::PathBuf,
}

/// The one provider botanu's TLS runs on, never installed process-wide.
///
/// rustls 0.23.48 deprecates this constructor because ring offers no post-quantum key exchange; the
/// provider that does (aws-lc-rs) needs a C toolchain and cmake in every build, which botanu avoids.
#[allow(deprecated)]
fn ring() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Material {
    fn read(settings: &TlsSettings) -> Result<Material, TlsError> {
        let (roots, store) = root_store(settings)?;
        let identity = match (&settings.client_cert, &settings.client_key) {
            (None, None) => None,
            (Some(cert), None) => {
                return Err(TlsError::IncompleteIdentity { given: cert.clone(), missing: "client key" })
            }
            (None, Some(key)) => {
                return Err(TlsError::IncompleteIdentity { given: key.clone(), missing: "client certificate" })
            }
            (Some(cert), Some(key)) => {
                let key_pem = read(key)?;
                Some(Identity {
                    chain: read_certificates(cert)?,
                    key: private_key(key, &key_pem)?,
                    key_pem,
                    cert_path: cert.clone(),
                    key_path: key.clone(),
                })
            }
        };
        Ok(Material { roots, store, identity })
    }

    /// The rustls configuration; rustls checks here that the key belongs to the certificate.
    fn client_config(&self, alpn: Alpn) -> Result<Arc<ClientConfig>, TlsError> {
        let builder = ClientConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rejected { path: None, message: e.to_string() })?
            .with_root_certificates(self.store.clone());
        let mut config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some(id) => builder.with_client_auth_cert(id.chain.clone(), id.key.clone_key()).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    TlsError::KeyMismatch { cert: id.cert_path.clone(), key: id.key_path.clone() }
                }
                other => TlsError::Rejected { path: Some(id.key_path.clone()), message: other.to_string() },
            })?,
        };
        config.alpn_protocols = match alpn {
            Alpn::Http1 => vec![b"http/1.1".to_vec()],
            Alpn::H2 => vec![b"h2".to_vec()],
        };
        Ok(Arc::new(config))
    }
}

/// A rustls client configuration for `settings` (the gRPC connector's).
#[cfg_attr(not(feature = "grpc"), allow(dead_code))]
pub(crate) fn client_config(settings: &TlsSettings, alpn: Alpn) -> Result<Arc<ClientConfig>, TlsError> {
    Material::read(settings)?.client_config(alpn)
}

/// ureq's TLS configuration for `settings`: the same roots and identity as [`client_config`], on `ring`.
///
/// ureq builds its rustls configuration from these on the first connection, and panics if the key does
/// not belong to the certificate; so the rustls configuration is built here first, which refuses such a
/// pair with an error naming both files. ureq offers all TLS versions of the provider (1.2 and 1.3, as
/// `with_safe_default_protocol_versions` does) and no ALPN (the client speaks HTTP/1.1 only).
pub(crate) fn http_config(settings: &TlsSettings) -> Result<ureq::tls::TlsConfig, TlsError> {
    let material = Material::read(settings)?;
    material.client_config(Alpn::Http1)?;
    let client_cert = match &material.identity {
        None => None,
        Some(Identity { chain, key_pem, key_path, .. }) => {
            let chain: Vec<ureq::tls::Certificate<'static>> =
                chain.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
            // The same first key of the same file rustls was given above.
            let key = ureq::tls::PrivateKey::from_pem(key_pem)
                .map_err(|e| TlsError::Rejected { path: Some(key_path.clone()), message: e.to_string() })?;
            Some(ureq::tls::ClientCert::new_with_certs(&chain, key))
        }
    };
    Ok(ureq_config(&material.roots, client_cert))
}

/// For an `http://` endpoint: trusts nothing, so a TLS connection (to an `https://` proxy, say) fails
/// rather than reaching a host nobody configured. The provider is still botanu's own: without one, ureq
/// would take the process default, or panic.
pub(crate) fn plaintext_only() -> ureq::tls::TlsConfig {
    ureq_config(&[], None)
}

fn ureq_config(roots: &[CertificateDer<'static>], client_cert: Option<ureq::tls::ClientCert>) -> ureq::tls::TlsConfig {
    let roots: Vec<ureq::tls::Certificate<'static>> =
        roots.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(ring())
        .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
        .client_cert(client_cert)
        .build()
}

/// The roots of `settings` as certificates and as a store; an error if there are none.
fn root_store(settings: &TlsSettings) -> Result<(Vec<CertificateDer<'static>>, RootCertStore), TlsError> {
    let mut roots = RootCertStore::empty();
    let mut certificates = Vec::new();
    let mut system_errors = Vec::new();
    match settings.roots {
        TlsRoots::System => {
            let found = rustls_native_certs::load_native_certs();
            // A store with a few unparsable certificates is still a store; only an empty one is an error.
            let (added, _ignored) = roots.add_parsable_certificates(found.certs.iter().cloned());
            if added == 0 {
                system_errors = found.errors.iter().map(ToString::to_string).collect();
            }
            certificates.extend(found.certs);
        }
        TlsRoots::Webpki => {
            roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
            certificates.extend(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        }
        TlsRoots::None => {}
    }
    if let Some(path) = &settings.ca_file {
        for cert in read_certificates(path)? {
            roots.add(cert.clone()).map_err(|e| TlsError::Rejected {
                path: Some(path.clone()),
                message: format!("not a usable CA certificate: {e}"),
            })?;
            certificates.push(cert);
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
    Ok((certificates, roots))
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

/// The first private key (PKCS#8, PKCS#1 or SEC1) in the PEM file `path` holding `bytes`.
fn private_key(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|e| match e {
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
