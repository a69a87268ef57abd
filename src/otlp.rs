//! OTLP exporters built from the configuration.
//!
//! Two constraints shape this module. The application must not need an async runtime: http/protobuf
//! uses `opentelemetry-otlp`'s blocking reqwest client, driven by the batch processor's own thread;
//! gRPC (feature `grpc`) needs tokio for tonic, so botanu gives the exporter a private single-threaded
//! runtime and drives each export on it. And a blocking reqwest client must not be created or dropped
//! inside an async context (it owns a runtime of its own), so the HTTP exporters are built on a
//! short-lived plain thread, and are dropped on the batch processor's thread at shutdown.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{Config, Protocol};
use crate::error::{Error, ExporterError};

#[cfg(feature = "grpc")]
type Runtime = Option<std::sync::Arc<tokio::runtime::Runtime>>;
#[cfg(not(feature = "grpc"))]
type Runtime = Option<std::convert::Infallible>;

/// An OTLP span exporter over http/protobuf or gRPC.
#[derive(Debug)]
pub(crate) struct OtlpSpanExporter {
    inner: opentelemetry_otlp::SpanExporter,
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    runtime: Runtime,
}

/// An OTLP metric exporter over http/protobuf or gRPC.
#[derive(Debug)]
pub(crate) struct OtlpMetricExporter {
    inner: opentelemetry_otlp::MetricExporter,
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    runtime: Runtime,
}

fn check_scheme(url: &str) -> Result<(), Error> {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(ExporterError::TlsUnavailable { endpoint: url.to_owned() }.into());
    }
    Ok(())
}

/// Builds `build` on a plain thread, outside any async context the caller may be in.
fn on_plain_thread<T: Send + 'static>(
    build: impl FnOnce() -> Result<T, opentelemetry_otlp::ExporterBuildError> + Send + 'static,
) -> Result<T, Error> {
    std::thread::spawn(build)
        .join()
        .map_err(|_| ExporterError::BuilderPanicked)?
        .map_err(|e| ExporterError::Build(e).into())
}

#[cfg(feature = "grpc")]
fn grpc_runtime() -> Result<std::sync::Arc<tokio::runtime::Runtime>, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("botanu-otlp-grpc")
        .build()
        .map(std::sync::Arc::new)
        .map_err(|e| ExporterError::Runtime(e).into())
}

#[cfg(feature = "grpc")]
fn metadata(headers: &HashMap<String, String>) -> opentelemetry_otlp::tonic_types::metadata::MetadataMap {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()),
            http::header::HeaderValue::from_str(v),
        ) {
            map.insert(name, value);
        }
    }
    opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(map)
}

#[cfg(not(feature = "grpc"))]
fn grpc_unavailable() -> Error {
    ExporterError::GrpcUnavailable.into()
}

/// Builds an OTLP exporter of either signal: the two builders (`opentelemetry_otlp::SpanExporter`,
/// `MetricExporter`) share their method names but no trait, so one macro serves both.
macro_rules! build_exporter {
    ($exporter:path, $wrapper:ident, $config:expr, $url:expr, $headers:expr) => {{
        check_scheme($url)?;
        let url = $url.to_owned();
        let timeout: Duration = $config.export_timeout;
        let headers: HashMap<String, String> = $headers;
        match $config.protocol {
            Protocol::HttpProtobuf => {
                let inner = on_plain_thread(move || {
                    <$exporter>::builder()
                        .with_http()
                        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                        .with_endpoint(url)
                        .with_timeout(timeout)
                        .with_headers(headers)
                        .build()
                })?;
                Ok($wrapper { inner, runtime: None })
            }
            #[cfg(feature = "grpc")]
            Protocol::Grpc => {
                use opentelemetry_otlp::WithTonicConfig;
                let rt = grpc_runtime()?;
                let _entered = rt.enter();
                let inner = <$exporter>::builder()
                    .with_tonic()
                    .with_endpoint(url)
                    .with_timeout(timeout)
                    .with_metadata(metadata(&headers))
                    .build()
                    .map_err(ExporterError::Build)?;
                Ok($wrapper { inner, runtime: Some(rt.clone()) })
            }
            #[cfg(not(feature = "grpc"))]
            Protocol::Grpc => Err(grpc_unavailable()),
        }
    }};
}

/// The span exporter for `url` (already joined with `/v1/traces` where that applies).
pub(crate) fn span_exporter(
    config: &Config,
    url: &str,
    headers: HashMap<String, String>,
) -> Result<OtlpSpanExporter, Error> {
    build_exporter!(opentelemetry_otlp::SpanExporter, OtlpSpanExporter, config, url, headers)
}

/// The metric exporter for `url` (already joined with `/v1/metrics` where that applies).
pub(crate) fn metric_exporter(
    config: &Config,
    url: &str,
    headers: HashMap<String, String>,
) -> Result<OtlpMetricExporter, Error> {
    build_exporter!(opentelemetry_otlp::MetricExporter, OtlpMetricExporter, config, url, headers)
}

impl SpanExporter for OtlpSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        #[cfg(feature = "grpc")]
        if let Some(rt) = &self.runtime {
            // Called from the batch processor's plain thread, never from inside a tokio runtime.
            return rt.block_on(self.inner.export(batch));
        }
        self.inner.export(batch).await
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl PushMetricExporter for OtlpMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        #[cfg(feature = "grpc")]
        if let Some(rt) = &self.runtime {
            return rt.block_on(self.inner.export(metrics));
        }
        self.inner.export(metrics).await
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
