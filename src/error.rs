//! The crate's error type: what can go wrong while building, installing, flushing or shutting down
//! botanu, each case with the error that caused it as its [`source`](std::error::Error::source).
//!
//! It lives apart from the builder so that the OTLP exporters and the builder both depend on it
//! rather than on each other.

use std::fmt;

use opentelemetry_sdk::error::OTelSdkError;

use crate::config::ConfigError;
use crate::content::ScrubError;

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
    AlreadyInstalled(tracing::subscriber::SetGlobalDefaultError),
    /// Flushing spans or metrics failed or timed out.
    Flush(OTelSdkError),
    /// Shutting the providers down failed or timed out.
    Shutdown(OTelSdkError),
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
    /// The endpoint is `https://`, and this build of botanu has no TLS.
    TlsUnavailable {
        /// The endpoint as configured.
        endpoint: String,
    },
    /// gRPC was asked for, and botanu was built without its `grpc` feature.
    GrpcUnavailable,
    /// The OpenTelemetry OTLP exporter refused its settings.
    Build(opentelemetry_otlp::ExporterBuildError),
    /// The gRPC exporter's private runtime could not start.
    Runtime(std::io::Error),
    /// Building the exporter panicked (on the thread botanu builds it on).
    BuilderPanicked,
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
            Error::AlreadyInstalled(e) => Some(e),
            Error::Flush(e) | Error::Shutdown(e) => Some(e),
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
                "{endpoint}: https endpoints need TLS, which this build of botanu does not include; \
                 export over http:// to a local collector (or an agent sidecar) that forwards over TLS"
            ),
            ExporterError::GrpcUnavailable => f.write_str(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs botanu's `grpc` cargo feature; enable it or use http/protobuf",
            ),
            ExporterError::Build(e) => write!(f, "{e}"),
            ExporterError::Runtime(e) => write!(f, "cannot start the gRPC exporter's runtime: {e}"),
            ExporterError::BuilderPanicked => f.write_str("the exporter builder panicked"),
        }
    }
}

impl std::error::Error for ExporterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExporterError::Build(e) => Some(e),
            ExporterError::Runtime(e) => Some(e),
            ExporterError::TlsUnavailable { .. } | ExporterError::GrpcUnavailable | ExporterError::BuilderPanicked => {
                None
            }
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

        let flush = Error::Flush(OTelSdkError::Timeout(std::time::Duration::from_secs(1)));
        assert!(flush.source().and_then(|e| e.downcast_ref::<OTelSdkError>()).is_some());
        assert!(flush.to_string().starts_with("flushing telemetry failed: "), "{flush}");
    }
}
