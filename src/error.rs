//! The crate's error type: what can go wrong while building, installing, flushing or shutting down
//! botanu, each case with the error that caused it as its [`source`](std::error::Error::source).
//!
//! It lives apart from the builder so that the OTLP exporters and the builder both depend on it
//! rather than on each other.

use std::fmt;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::content::ScrubError;

/// The error a dependency reported, kept as the [`source`](std::error::Error::source) of botanu's own:
/// boxed, so botanu's public types name no dependency's error type and a major version of one of them
/// (the OpenTelemetry SDK, the OTLP exporter, `tracing`) is not a breaking change of botanu's. Downcast
/// it to read the dependency's own error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong while building or shutting down the pipeline.
///
/// Match on the variant to tell a configuration mistake from a runtime failure; the underlying error
/// is kept and returned by [`source`](std::error::Error::source).
///
/// ```
/// use std::error::Error as _;
/// use botanu::config::{Config, ConfigSource};
///
/// let source = ConfigSource::from_env_fn(|name| {
///     (name == "BOTANU_MAX_QUEUE_SIZE").then(|| "lots".to_owned())
/// })
/// .with_search_dir("/nonexistent");
/// let error = botanu::Error::from(Config::load_from(&source).unwrap_err());
/// match &error {
///     botanu::Error::Config(config_error) => assert!(config_error.to_string().contains("BOTANU_MAX_QUEUE_SIZE")),
///     other => panic!("unexpected {other}"),
/// }
/// assert!(error.source().is_some());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A global `tracing` subscriber was already installed (by this process, before `init`).
    AlreadyInstalled(Cause),
    /// Flushing spans or metrics failed or timed out (the SDK's error is the [`Cause`]).
    Flush(Cause),
    /// Shutting the providers down failed or timed out (the SDK's error is the [`Cause`]).
    Shutdown(Cause),
    /// The configuration is invalid (see [`ConfigError`]).
    Config(ConfigError),
    /// A PII scrubber option is invalid (an unknown detector, a custom pattern that does not compile).
    Scrub(ScrubError),
    /// An exporter could not be built from the configuration.
    Exporter(ExporterError),
}

/// Why an OTLP exporter could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExporterError {
    /// The endpoint is `https://`, and this build of botanu has no TLS (cargo feature `tls` off).
    TlsUnavailable {
        /// The endpoint as configured.
        endpoint: String,
    },
    /// gRPC was asked for, and botanu was built without its `grpc` feature.
    GrpcUnavailable,
    /// A TLS setting cannot be used (a certificate file, a key, the roots); see [`TlsError`].
    Tls(TlsError),
    /// The endpoint is not a URL the gRPC channel accepts.
    InvalidEndpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// What is wrong with it.
        message: String,
    },
    /// The OpenTelemetry OTLP exporter refused its settings (its error is the [`Cause`]).
    Build(Cause),
    /// The gRPC exporter's private runtime could not start.
    Runtime(std::io::Error),
    /// Building the exporter panicked (on the thread botanu builds it on).
    BuilderPanicked,
}

/// Why the TLS settings of an `https://` endpoint cannot be used. `Display` names the file and what is
/// wrong with it.
///
/// ```
/// use botanu::config::{Config, TlsRoots};
///
/// let config = Config::default()
///     .with_endpoint("https://collector.example.com:4318")
///     .with_tls_roots(TlsRoots::None)
///     .with_tls_ca_file("/nonexistent/ca.pem");
/// match config.build::<tracing_subscriber::Registry>() {
///     Err(botanu::Error::Exporter(botanu::ExporterError::Tls(e))) => {
///         assert!(e.to_string().starts_with("cannot read /nonexistent/ca.pem"), "{e}")
///     }
///     # Err(botanu::Error::Exporter(botanu::ExporterError::TlsUnavailable { .. })) => {}
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file cannot be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds a PEM section that does not parse.
    InvalidPem {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        message: String,
    },
    /// A CA or client certificate file holds no `CERTIFICATE` section.
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A client key file holds no private key (PKCS#8, PKCS#1 or SEC1).
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The client key does not belong to the client certificate.
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// A client certificate without a key, or a key without a certificate.
    IncompleteIdentity {
        /// The file that was given.
        given: PathBuf,
        /// What is missing: `"client key"` or `"client certificate"`.
        missing: &'static str,
    },
    /// Nothing to trust: no roots were found and no CA file is named.
    NoRoots {
        /// What was tried, and what to do.
        detail: String,
    },
    /// rustls refused a certificate or key (an unsupported key type, a certificate that cannot be a root).
    Rejected {
        /// The file, when one is to blame.
        path: Option<PathBuf>,
        /// What rustls said.
        message: String,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Unreadable { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            TlsError::InvalidPem { path, message } => write!(f, "{}: not valid PEM: {message}", path.display()),
            TlsError::NoCertificate { path } => {
                write!(f, "{}: no certificate in it (expected a PEM `BEGIN CERTIFICATE` section)", path.display())
            }
            TlsError::NoPrivateKey { path } => write!(
                f,
                "{}: no private key in it (expected a PEM `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY` or \
                 `BEGIN EC PRIVATE KEY` section)",
                path.display()
            ),
            TlsError::KeyMismatch { cert, key } => write!(
                f,
                "the client key {} does not belong to the client certificate {}",
                key.display(),
                cert.display()
            ),
            TlsError::IncompleteIdentity { given, missing } => write!(
                f,
                "{} is given for mTLS but no {missing}; set both OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and \
                 OTEL_EXPORTER_OTLP_CLIENT_KEY",
                given.display()
            ),
            TlsError::NoRoots { detail } => write!(f, "no trusted root certificates: {detail}"),
            TlsError::Rejected { path: Some(path), message } => write!(f, "{}: {message}", path.display()),
            TlsError::Rejected { path: None, message } => write!(f, "TLS configuration refused: {message}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Error::Exporter(ExporterError::Tls(e))
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<ScrubError> for Error {
    fn from(e: ScrubError) -> Self {
        Error::Scrub(e)
    }
}

impl From<ExporterError> for Error {
    fn from(e: ExporterError) -> Self {
        Error::Exporter(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyInstalled(e) => write!(
                f,
                "botanu::init could not install its subscriber: {e}; add `BotanuLayer` to your existing subscriber with `Builder::build` instead"
            ),
            Error::Flush(e) => write!(f, "flushing telemetry failed: {e}"),
            Error::Shutdown(e) => write!(f, "shutting down telemetry failed: {e}"),
            Error::Config(e) => write!(f, "invalid botanu configuration: {e}"),
            Error::Scrub(e) => write!(f, "invalid PII scrubbing configuration: {e}"),
            Error::Exporter(e) => write!(f, "cannot build the exporter: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::AlreadyInstalled(e) | Error::Flush(e) | Error::Shutdown(e) => Some(&**e),
            Error::Config(e) => Some(e),
            Error::Scrub(e) => Some(e),
            Error::Exporter(e) => Some(e),
        }
    }
}

impl fmt::Display for ExporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExporterError::TlsUnavailable { endpoint } => write!(
                f,
                "{endpoint}: https endpoints need TLS, which this build of botanu does not include (cargo \
                 feature `tls`); enable it, or export over http:// to a local collector (or an agent sidecar) \
                 that forwards over TLS"
            ),
            ExporterError::GrpcUnavailable => f.write_str(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs botanu's `grpc` cargo feature; enable it or use http/protobuf",
            ),
            ExporterError::Tls(e) => write!(f, "{e}"),
            ExporterError::InvalidEndpoint { endpoint, message } => write!(f, "invalid endpoint {endpoint}: {message}"),
            ExporterError::Build(e) => write!(f, "{e}"),
            ExporterError::Runtime(e) => write!(f, "cannot start the gRPC exporter's runtime: {e}"),
            ExporterError::BuilderPanicked => f.write_str("the exporter builder panicked"),
        }
    }
}

impl std::error::Error for ExporterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExporterError::Build(e) => Some(&**e),
            ExporterError::Runtime(e) => Some(e),
            ExporterError::Tls(e) => Some(e),
            ExporterError::TlsUnavailable { .. }
            | ExporterError::InvalidEndpoint { .. }
            | ExporterError::GrpcUnavailable
            | ExporterError::BuilderPanicked => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn each_variant_keeps_its_source() {
        let io = std::io::Error::other("no threads left");
        let error = Error::from(ExporterError::Runtime(io));
        let exporter = error.source().and_then(|e| e.downcast_ref::<ExporterError>());
        assert!(matches!(exporter, Some(ExporterError::Runtime(_))), "{error:?}");
        let io = exporter.and_then(|e| e.source()).and_then(|e| e.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(ToString::to_string).as_deref(), Some("no threads left"));

        use opentelemetry_sdk::error::OTelSdkError;
        let flush = Error::Flush(Box::new(OTelSdkError::Timeout(std::time::Duration::from_secs(1))));
        assert!(flush.source().and_then(|e| e.downcast_ref::<OTelSdkError>()).is_some());
        assert!(flush.to_string().starts_with("flushing telemetry failed: "), "{flush}");
    }
}
