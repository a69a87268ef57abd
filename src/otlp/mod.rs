//! OTLP exporters built from the configuration.
//!
//! Two constraints shape this module. The application must not need an async runtime: http/protobuf
//! uses a blocking client (ureq, see [`http`] for why), driven by the export queue's own thread; gRPC
//! (feature `grpc`) needs tokio for tonic, so botanu gives the exporter a private single-threaded runtime
//! and drives each export on it. And botanu must not change how the rest of the application behaves: its
//! transports enable no feature of an HTTP or TLS crate the application's own clients read, and install no
//! process-wide crypto provider (the canary in `tests/canary` checks both). The HTTP exporters are built on
//! a short-lived plain thread, so a panic in the exporter library's builder is an error, not the caller's.
//!
//! botanu resolves every OTLP setting itself (code > environment > YAML > defaults) and builds the
//! exporter so the library cannot read the environment again behind it: endpoint, protocol, timeout and
//! compression are passed explicitly, the HTTP client ([`http`]) and the gRPC channel and interceptor
//! ([`grpc`]) are botanu's. TLS (feature `tls`) is rustls on `ring`, configured in [`tls`].
//!
//! Each exporter keeps an [`ExportHealth`]: exports and failures counted, and the first failure logged
//! once, with the reason the library's own error leaves out (a refused certificate, say).

mod http;

#[cfg(feature = "grpc")]
mod grpc;
#[cfg(feature = "tls")]
pub(crate) mod tls;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{Compression, Config, OtlpTransport, Protocol};
use crate::error::{Error, ExporterError};

#[cfg(feature = "grpc")]
type Runtime = Option<Arc<tokio::runtime::Runtime>>;
#[cfg(not(feature = "grpc"))]
type Runtime = Option<std::convert::Infallible>;

/// What happened to one exporter's exports, and why the last one failed.
#[derive(Debug)]
pub(crate) struct ExportHealth {
    /// `traces` or `metrics`, for the log line.
    signal: &'static str,
    url: String,
    exports: AtomicU64,
    failures: AtomicU64,
    /// The transport's own account of its last failure (filled by the HTTP client or gRPC connector).
    transport_error: Mutex<Option<String>>,
    last_failure: Mutex<Option<String>>,
    warned: AtomicBool,
}

impl ExportHealth {
    pub(crate) fn new(signal: &'static str, url: String) -> Self {
        ExportHealth {
            signal,
            // Query values may be tokens (`?api_key=…`); the log line and the guard show the URL without them.
            url: without_query(&url).to_owned(),
            exports: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            transport_error: Mutex::new(None),
            last_failure: Mutex::new(None),
            warned: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_metrics(&self) -> bool {
        self.signal == "metrics"
    }

    /// Export calls that succeeded.
    pub(crate) fn exports(&self) -> u64 {
        self.exports.load(Ordering::Relaxed)
    }

    /// Export calls that failed.
    pub(crate) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// `OTLP {signal} export to {url} failed: {reason}` for the last failure.
    pub(crate) fn last_failure(&self) -> Option<String> {
        self.last_failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn transport_failed(&self, reason: String) {
        *self.transport_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
    }

    /// `text` with this exporter's endpoint shown without its query (a transport's error may quote the URL).
    fn redact(&self, text: String) -> String {
        let Some(start) = text.find(self.url.as_str()) else { return text };
        let rest = &text[start + self.url.len()..];
        if !rest.starts_with(['?', '#']) {
            return text;
        }
        let kept = rest.find([')', ' ']).map_or("", |end| &rest[end..]);
        format!("{}{}{kept}", &text[..start], self.url)
    }

    fn record(&self, result: &OTelSdkResult) {
        let Err(error) = result else {
            self.exports.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.failures.fetch_add(1, Ordering::Relaxed);
        let reason =
            self.transport_error.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_else(|| error.to_string());
        let reason = self.redact(reason);
        let line = format!("OTLP {} export to {} failed: {reason}", self.signal, self.url);
        if !self.warned.swap(true, Ordering::Relaxed) {
            // Once per exporter: a collector that is down fails every export. Logged on the exporting
            // thread; the layer ignores it there (telemetry is suppressed), a `fmt` layer prints it.
            tracing::warn!(
                target: "botanu",
                "{line}; later failures are counted (BotanuGuard::export_counts, botanu.export.failed_*) \
                 and not logged"
            );
        }
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(line);
    }
}

/// An OTLP span exporter over http/protobuf or gRPC.
#[derive(Debug)]
pub(crate) struct OtlpSpanExporter {
    inner: opentelemetry_otlp::SpanExporter,
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    runtime: Runtime,
    health: Arc<ExportHealth>,
}

/// An OTLP metric exporter over http/protobuf or gRPC.
#[derive(Debug)]
pub(crate) struct OtlpMetricExporter {
    inner: opentelemetry_otlp::MetricExporter,
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    runtime: Runtime,
    health: Arc<ExportHealth>,
}

impl OtlpSpanExporter {
    pub(crate) fn health(&self) -> Arc<ExportHealth> {
        self.health.clone()
    }
}

impl OtlpMetricExporter {
    pub(crate) fn health(&self) -> Arc<ExportHealth> {
        self.health.clone()
    }
}

fn without_query(url: &str) -> &str {
    url.find(['?', '#']).map_or(url, |end| &url[..end])
}

fn is_https(url: &str) -> bool {
    url.trim().get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Builds `build` on a plain thread: a panic in the exporter library's builder becomes an error.
fn on_plain_thread<T: Send + 'static>(build: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    std::thread::spawn(build).join().map_err(|_| ExporterError::BuilderPanicked)?
}

#[cfg(feature = "grpc")]
fn grpc_runtime() -> Result<Arc<tokio::runtime::Runtime>, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("botanu-otlp-grpc")
        .build()
        .map(Arc::new)
        .map_err(|e| ExporterError::Runtime(e).into())
}

#[cfg(feature = "grpc")]
fn metadata(headers: &HashMap<String, String>) -> opentelemetry_otlp::tonic_types::metadata::MetadataMap {
    let pairs: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
    opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(http::header_map(&pairs))
}

#[cfg(not(feature = "grpc"))]
fn grpc_unavailable() -> Error {
    ExporterError::GrpcUnavailable.into()
}

/// The HTTP client's TLS configuration of one signal: the configured one for `https://`, one that trusts
/// nothing otherwise (see `tls::plaintext_only`).
#[cfg(feature = "tls")]
fn http_tls_config(transport: &OtlpTransport, https: bool) -> Result<ureq::tls::TlsConfig, Error> {
    Ok(if https { tls::http_config(&transport.tls)? } else { tls::plaintext_only() })
}

/// Builds an OTLP exporter of either signal: the two builders (`opentelemetry_otlp::SpanExporter`,
/// `MetricExporter`) share their method names but no trait, so one macro serves both.
macro_rules! build_exporter {
    ($exporter:path, $wrapper:ident, $signal:expr, $config:expr, $transport:expr, $url:expr, $headers:expr) => {{
        let url: String = $url.to_owned();
        let transport: &OtlpTransport = $transport;
        let timeout: Duration = transport.timeout.unwrap_or($config.export_timeout);
        let gzip = transport.compression == Compression::Gzip;
        let headers: HashMap<String, String> = $headers;
        let health = Arc::new(ExportHealth::new($signal, url.clone()));
        let https = is_https(&url);
        #[cfg(not(feature = "tls"))]
        if https {
            return Err(ExporterError::TlsUnavailable { endpoint: url }.into());
        }
        match $config.protocol {
            Protocol::HttpProtobuf => {
                #[cfg(feature = "tls")]
                let tls = http_tls_config(transport, https)?;
                let pairs: Vec<(String, String)> = headers.into_iter().collect();
                let compression = transport.compression;
                let client_health = health.clone();
                let inner = on_plain_thread(move || {
                    let agent = http::agent(
                        timeout,
                        #[cfg(feature = "tls")]
                        tls,
                    );
                    let client = http::BotanuHttpClient {
                        agent,
                        headers: http::header_map(&pairs),
                        compression,
                        health: client_health,
                    };
                    let mut builder = <$exporter>::builder()
                        .with_http()
                        .with_http_client(client)
                        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                        .with_endpoint(url)
                        .with_timeout(timeout);
                    if gzip {
                        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
                    }
                    builder.build().map_err(|e| ExporterError::Build(Box::new(e)).into())
                })?;
                Ok($wrapper { inner, runtime: None, health })
            }
            #[cfg(feature = "grpc")]
            Protocol::Grpc => {
                use opentelemetry_otlp::WithTonicConfig;
                #[cfg(feature = "tls")]
                let tls = if https { Some(tls::client_config(&transport.tls, tls::Alpn::H2)?) } else { None };
                let rt = grpc_runtime()?;
                let _entered = rt.enter();
                let channel = grpc::channel(
                    &url,
                    timeout,
                    #[cfg(feature = "tls")]
                    tls,
                    health.clone(),
                )?;
                let mut builder = <$exporter>::builder()
                    .with_tonic()
                    .with_channel(channel)
                    .with_interceptor(grpc::ExactMetadata(metadata(&headers)))
                    .with_timeout(timeout);
                if gzip {
                    builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                let inner = builder.build().map_err(|e| ExporterError::Build(Box::new(e)))?;
                Ok($wrapper { inner, runtime: Some(rt.clone()), health })
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
    build_exporter!(
        opentelemetry_otlp::SpanExporter,
        OtlpSpanExporter,
        "traces",
        config,
        &config.traces_otlp,
        url,
        headers
    )
}

/// The metric exporter for `url` (already joined with `/v1/metrics` where that applies).
pub(crate) fn metric_exporter(
    config: &Config,
    url: &str,
    headers: HashMap<String, String>,
) -> Result<OtlpMetricExporter, Error> {
    build_exporter!(
        opentelemetry_otlp::MetricExporter,
        OtlpMetricExporter,
        "metrics",
        config,
        &config.metrics_otlp,
        url,
        headers
    )
}

impl SpanExporter for OtlpSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        #[cfg(feature = "grpc")]
        let result = match &self.runtime {
            // Called from the export queue's plain thread, never from inside a tokio runtime.
            Some(rt) => rt.block_on(self.inner.export(batch)),
            None => self.inner.export(batch).await,
        };
        #[cfg(not(feature = "grpc"))]
        let result = self.inner.export(batch).await;
        self.health.record(&result);
        result
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
        let result = match &self.runtime {
            Some(rt) => rt.block_on(self.inner.export(metrics)),
            None => self.inner.export(metrics).await,
        };
        #[cfg(not(feature = "grpc"))]
        let result = self.inner.export(metrics).await;
        self.health.record(&result);
        result
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A token in the endpoint's query reaches neither the failure line nor the guard.
    #[test]
    fn failure_lines_name_the_endpoint_without_its_query() {
        let token = format!("{}{}", "tok", "en123");
        let url = format!("https://collector.example.com/v1/traces?api_key={token}");
        let health = ExportHealth::new("traces", url.clone());
        health.transport_failed(format!("error sending request for url ({url}): connection refused"));
        health.record(&Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure("network error".to_owned())));
        let line = health.last_failure().expect("a failure");
        assert_eq!(
            line,
            "OTLP traces export to https://collector.example.com/v1/traces failed: error sending request for url \
             (https://collector.example.com/v1/traces): connection refused"
        );
        assert_eq!((health.exports(), health.failures()), (0, 1));
        health.record(&Ok(()));
        assert_eq!((health.exports(), health.failures()), (1, 1));
    }

    /// The first failure is one WARN line with the reason; later ones are counted, not logged.
    #[test]
    fn the_first_failure_is_logged_once_with_its_reason() {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let health = ExportHealth::new("metrics", "https://127.0.0.1:4318/v1/metrics".to_owned());
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..3 {
                health.transport_failed("invalid peer certificate: UnknownIssuer".to_owned());
                health.record(&Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure("network error".into())));
            }
        });
        let text = String::from_utf8(buffer.0.lock().unwrap_or_else(|p| p.into_inner()).clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(lines[0].contains("WARN"), "{text}");
        assert!(
            lines[0].contains(
                "OTLP metrics export to https://127.0.0.1:4318/v1/metrics failed: invalid peer certificate: UnknownIssuer"
            ),
            "{text}"
        );
        assert_eq!(health.failures(), 3);
    }
}
