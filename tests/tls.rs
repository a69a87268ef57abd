//! OTLP over TLS against servers on 127.0.0.1 with certificates made at run time: http/protobuf (hyper)
//! and gRPC (tonic), each decoding the OTLP protobuf it receives. A trusted CA gets spans and metrics
//! through; a wrong CA is refused and counted; a server that requires a client certificate accepts
//! botanu's identity and refuses a client without one. And the precedence that the exporter library would
//! otherwise break: headers, compression, timeout and endpoint set in code win over the process
//! environment the library reads by itself (checked in a child process, whose environment is its own).
#![cfg(feature = "tls")]

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use botanu::config::{Compression, Config, Protocol, TlsRoots};
use botanu::prelude::*;
use prost::Message as _;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls_ring::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tracing_subscriber::prelude::*;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// The rustls the server side uses: tokio-rustls's, on ring.
use tokio_rustls::rustls as rustls_ring;

// === certificates ===

/// A CA, a server certificate for 127.0.0.1/localhost, and a client identity, as PEM files in a temp dir.
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: String,
    ca_der: CertificateDer<'static>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("botanu-tls-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, format!("botanu test CA {name}"));
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");

        let server_key = KeyPair::generate().expect("key");
        let server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("params");
        let server_cert = server_params.signed_by(&server_key, &ca).expect("server cert");

        let client_key = KeyPair::generate().expect("key");
        let mut client_params = CertificateParams::new(vec!["botanu-client".to_owned()]).expect("params");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params.signed_by(&client_key, &ca).expect("client cert");

        let write = |file: &str, text: String| {
            let path = dir.join(file);
            std::fs::write(&path, text).expect("write");
            path
        };
        Pki {
            ca: write("ca.pem", ca.pem()),
            client_cert: write("client.pem", client_cert.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
            server_chain: vec![server_cert.der().clone()],
            server_key: server_key.serialize_pem(),
            ca_der: ca.der().clone(),
            dir,
        }
    }

    /// The server side: this PKI's server certificate; client certificates of this CA required or not.
    fn server_config(&self, require_client: bool, alpn: &[u8]) -> Arc<rustls_ring::ServerConfig> {
        use rustls_ring::pki_types::pem::PemObject as _;
        let provider = Arc::new(rustls_ring::crypto::ring::default_provider());
        let builder = rustls_ring::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client {
            let mut roots = rustls_ring::RootCertStore::empty();
            roots.add(self.ca_der.clone()).expect("root");
            let verifier = rustls_ring::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::from_pem_slice(self.server_key.as_bytes()).expect("key");
        let mut config = builder.with_single_cert(self.server_chain.clone(), key).expect("server config");
        config.alpn_protocols = vec![alpn.to_vec()];
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// === what the servers received ===

#[derive(Default, Debug)]
struct Received {
    spans: Vec<String>,
    metrics: Vec<String>,
    /// Header values by lower-case name, per request.
    headers: Vec<HashMap<String, String>>,
    gzipped_requests: usize,
    /// Handshakes the server refused (or that failed), with the reason.
    handshake_failures: Vec<String>,
    /// Requests that came with a client certificate.
    with_client_identity: usize,
}

type Shared = Arc<Mutex<Received>>;

fn record(received: &Shared, path: &str, body: &[u8], headers: HashMap<String, String>, client_identity: bool) {
    let mut r = received.lock().expect("lock");
    if path.ends_with("/v1/traces") || path.ends_with("TraceService/Export") {
        let request = ExportTraceServiceRequest::decode(body).expect("traces decode");
        for rs in request.resource_spans {
            for ss in rs.scope_spans {
                r.spans.extend(ss.spans.into_iter().map(|s| s.name));
            }
        }
    } else {
        let request = ExportMetricsServiceRequest::decode(body).expect("metrics decode");
        for rm in request.resource_metrics {
            for sm in rm.scope_metrics {
                r.metrics.extend(sm.metrics.into_iter().map(|m| m.name));
            }
        }
    }
    r.headers.push(headers);
    if client_identity {
        r.with_client_identity += 1;
    }
}

/// A TLS http/protobuf OTLP server on 127.0.0.1; returns its base URL.
fn serve_http(rt: &tokio::runtime::Runtime, tls: Arc<rustls_ring::ServerConfig>, received: Shared) -> String {
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, received) = (acceptor.clone(), received.clone());
            tokio::spawn(async move {
                let stream = match acceptor.accept(tcp).await {
                    Ok(stream) => stream,
                    Err(e) => return received.lock().expect("lock").handshake_failures.push(e.to_string()),
                };
                let identity = stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let received = received.clone();
                    async move {
                        use http_body_util::BodyExt as _;
                        let path = request.uri().path().to_owned();
                        let headers: HashMap<String, String> = request
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                            .collect();
                        let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
                        let mut body = request.into_body().collect().await.expect("body").to_bytes().to_vec();
                        if gzipped {
                            let mut plain = Vec::new();
                            flate2::read::GzDecoder::new(body.as_slice()).read_to_end(&mut plain).expect("gunzip");
                            body = plain;
                            received.lock().expect("lock").gzipped_requests += 1;
                        }
                        record(&received, &path, &body, headers, identity);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                            hyper::body::Bytes::new(),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

// === the workload ===

/// One run with an LLM call (spans and token metrics), flushed; the guard for its counts.
fn export_through(config: Config) -> botanu::BotanuGuard {
    let (layer, guard) = config.with_service_name("tls-test").build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        run_span!(workflow = "tls").in_scope(|| {
            llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                input: 3,
                output: 2,
                ..Default::default()
            });
        });
    });
    let _ = guard.force_flush();
    guard
}

fn base(endpoint: &str, protocol: Protocol) -> Config {
    Config::default()
        .with_endpoint(endpoint)
        .with_protocol(protocol)
        .with_otlp_timeout(Duration::from_secs(5))
        // One attempt's worth: a refused handshake is retried by the library until this bound.
        .with_export_timeout(Duration::from_secs(5))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime")
}

fn assert_arrived(received: &Shared, guard: &botanu::BotanuGuard) {
    let r = received.lock().expect("lock");
    assert!(r.spans.iter().any(|s| s == "botanu.run/tls"), "{r:?}");
    assert!(r.spans.iter().any(|s| s == "chat gpt-4o"), "{r:?}");
    assert!(r.metrics.iter().any(|m| m == "gen_ai.client.token.usage"), "{r:?}");
    let counts = guard.export_counts();
    assert_eq!((counts.exported, counts.failed), (2, 0), "{counts:?}");
    assert!(counts.metric_exports >= 1 && counts.metric_exports_failed == 0, "{counts:?}");
    assert_eq!(guard.last_export_error(), None);
}

fn assert_refused(received: &Shared, guard: &botanu::BotanuGuard, reason: &str) {
    let r = received.lock().expect("lock");
    assert!(r.spans.is_empty() && r.metrics.is_empty(), "{r:?}");
    assert!(!r.handshake_failures.is_empty(), "{r:?}");
    let counts = guard.export_counts();
    assert_eq!((counts.exported, counts.failed), (0, 2), "{counts:?}");
    assert!(counts.metric_exports_failed >= 1 && counts.metric_exports == 0, "{counts:?}");
    let error = guard.last_export_error().expect("a failure reason");
    assert!(error.contains(reason), "{error}");
}

// === http/protobuf ===

#[test]
fn http_trusted_ca_delivers_spans_and_metrics() {
    let pki = Pki::new("http-ok");
    let rt = runtime();
    let received = Shared::default();
    let url = serve_http(&rt, pki.server_config(false, b"http/1.1"), received.clone());
    // The CA replaces the system roots: only it is trusted.
    let config = base(&url, Protocol::HttpProtobuf).with_tls_roots(TlsRoots::None).with_tls_ca_file(&pki.ca);
    // Loopback: the API key may go there (over TLS here, as it must for `*.botanu.ai`).
    let key = format!("{}-{}", "test", "key");
    let guard = export_through(config.with_compression(Compression::Gzip).with_api_key(key.clone()));
    assert_arrived(&received, &guard);
    let r = received.lock().expect("lock");
    assert!(r.gzipped_requests >= 2, "gzip was configured: {r:?}");
    let bearer = format!("Bearer {key}");
    assert!(r.headers.iter().all(|h| h.get("authorization") == Some(&bearer)), "{:?}", r.headers);
}

#[test]
fn http_wrong_ca_is_refused_and_counted() {
    let pki = Pki::new("http-wrong");
    let other = Pki::new("http-other");
    let rt = runtime();
    let received = Shared::default();
    let url = serve_http(&rt, pki.server_config(false, b"http/1.1"), received.clone());
    // System roots merged with another CA: the test CA is in neither.
    let guard = export_through(base(&url, Protocol::HttpProtobuf).with_tls_ca_file(&other.ca));
    assert_refused(&received, &guard, "invalid peer certificate");
}

#[test]
fn http_mtls_works_with_the_client_identity_and_is_refused_without() {
    let pki = Pki::new("http-mtls");
    let rt = runtime();
    let received = Shared::default();
    let url = serve_http(&rt, pki.server_config(true, b"http/1.1"), received.clone());
    let trusted = base(&url, Protocol::HttpProtobuf).with_tls_roots(TlsRoots::None).with_tls_ca_file(&pki.ca);

    let guard = export_through(trusted.clone().with_tls_client_identity(&pki.client_cert, &pki.client_key));
    assert_arrived(&received, &guard);
    assert!(received.lock().expect("lock").with_client_identity >= 2);
    drop(guard);

    let refused = Shared::default();
    let url = serve_http(&rt, pki.server_config(true, b"http/1.1"), refused.clone());
    let guard = export_through(trusted.with_endpoint(&url));
    assert_refused(&refused, &guard, "failed:");
}

/// A server configuration from a DER certificate and a PEM key, without client authentication.
fn server_config_from(cert: Vec<u8>, key: &str, alpn: &[u8]) -> Arc<rustls_ring::ServerConfig> {
    use rustls_ring::pki_types::pem::PemObject as _;
    let provider = Arc::new(rustls_ring::crypto::ring::default_provider());
    let mut config = rustls_ring::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert)], PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key"))
        .expect("config");
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

/// The child of `code_beats_the_environment_the_exporter_library_reads`; does nothing unless run by it.
#[test]
#[ignore = "run as a child process by code_beats_the_environment_the_exporter_library_reads"]
fn child_code_over_env() {
    let Ok(ca) = std::env::var("BOTANU_TEST_CHILD_CA") else { return };
    let rt = runtime();
    let received = Shared::default();
    let pki_dir = Path::new(&ca).parent().map(Path::to_path_buf).expect("dir");
    // The parent's PKI: the server presents its certificate.
    let chain = std::fs::read(pki_dir.join("server.der")).expect("server cert");
    let key = std::fs::read_to_string(pki_dir.join("server.key")).expect("server key");
    let server_config = server_config_from(chain, &key, b"http/1.1");
    let url = serve_http(&rt, server_config, received.clone());

    // Loaded from this process's environment (botanu's env layer), then overridden in code.
    let (config, _) = Config::load().expect("load");
    let config = config
        .with_endpoint(&url)
        .with_protocol(Protocol::HttpProtobuf)
        .with_header("x-team", "code")
        .with_compression(Compression::None)
        .with_otlp_timeout(Duration::from_secs(5))
        .with_tls_roots(TlsRoots::None)
        .with_tls_ca_file(&ca);
    let guard = export_through(config.clone());
    assert_arrived(&received, &guard);
    let r = received.lock().expect("lock");
    assert_eq!(r.gzipped_requests, 0, "code said no compression: {r:?}");
    for headers in &r.headers {
        assert_eq!(headers.get("x-team").map(String::as_str), Some("code"), "{headers:?}");
        // The general variable's other header travels through botanu's own env layer.
        assert_eq!(headers.get("x-env-only").map(String::as_str), Some("1"), "{headers:?}");
    }
    drop(r);

    // The same over gRPC: the library adds the environment's headers to the metadata; botanu's
    // interceptor leaves exactly its own. (Compression is gzip on both sides here: over gRPC, the
    // environment's gzip cannot be undone, see the README.)
    #[cfg(feature = "grpc")]
    {
        let received = Shared::default();
        let cert = std::fs::read(pki_dir.join("server.der")).expect("server cert");
        let url = grpc::serve_grpc(&rt, server_config_from(cert, &key, b"h2"), received.clone());
        let config = config.with_endpoint(&url).with_protocol(Protocol::Grpc).with_compression(Compression::Gzip);
        let guard = export_through(config);
        assert_arrived(&received, &guard);
        let r = received.lock().expect("lock");
        for headers in &r.headers {
            assert_eq!(headers.get("x-team").map(String::as_str), Some("code"), "{headers:?}");
            assert_eq!(headers.get("x-env-only").map(String::as_str), Some("1"), "{headers:?}");
        }
    }
    println!("child-ok");
}

/// The exporter library reads `OTEL_EXPORTER_OTLP_*` from the process environment by itself; a child
/// process with those set (a wrong endpoint and protocol, other headers, gzip, a 1 ms timeout, a missing
/// CA) still exports exactly what the code configured.
#[test]
fn code_beats_the_environment_the_exporter_library_reads() {
    let pki = Pki::new("code-over-env");
    std::fs::write(pki.dir.join("server.der"), pki.server_chain[0].as_ref()).expect("write");
    std::fs::write(pki.dir.join("server.key"), &pki.server_key).expect("write");
    let exe = std::env::current_exe().expect("exe");
    let output = std::process::Command::new(exe)
        .args(["child_code_over_env", "--exact", "--include-ignored", "--nocapture", "--test-threads=1"])
        .env("BOTANU_TEST_CHILD_CA", &pki.ca)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-team=env,x-env-only=1")
        .env("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=env-traces,x-env-only=1")
        .env("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-team=env-metrics,x-env-only=1")
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .env("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
        .env("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1")
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")
        .env("OTEL_EXPORTER_OTLP_INSECURE", "true")
        .output()
        .expect("child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child-ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Build-time errors name the file and what is wrong.
#[test]
fn unusable_tls_files_fail_the_build_naming_the_file() {
    let pki = Pki::new("build-errors");
    let other = Pki::new("build-errors-other");
    let build = |config: Config| match config.build::<tracing_subscriber::Registry>() {
        Err(botanu::Error::Exporter(botanu::ExporterError::Tls(e))) => e.to_string(),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("built"),
    };
    let config = base("https://127.0.0.1:9", Protocol::HttpProtobuf);
    let missing = build(config.clone().with_tls_ca_file(pki.dir.join("missing.pem")));
    assert!(missing.contains("missing.pem") && missing.starts_with("cannot read"), "{missing}");
    let mismatch = build(config.clone().with_tls_client_identity(&pki.client_cert, &other.client_key));
    assert!(mismatch.contains("does not belong") && mismatch.contains("client.key"), "{mismatch}");
    let no_cert = build(config.with_tls_ca_file(&pki.client_key));
    assert!(no_cert.contains("client.key: no certificate"), "{no_cert}");
}

// === gRPC ===

#[cfg(feature = "grpc")]
mod grpc {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
        MetricsService, MetricsServiceServer,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tonic::codec::CompressionEncoding;

    use super::*;

    /// A server TLS stream tonic can serve (tonic implements `Connected` for it only with its own TLS
    /// features, which botanu does not use).
    struct Tls(tokio_rustls::server::TlsStream<tokio::net::TcpStream>);

    impl tonic::transport::server::Connected for Tls {
        type ConnectInfo = bool;
        fn connect_info(&self) -> bool {
            self.0.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty())
        }
    }

    impl AsyncRead for Tls {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Tls {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }

    #[derive(Clone)]
    struct Collector(Shared);

    fn metadata(request: &tonic::metadata::MetadataMap) -> HashMap<String, String> {
        request
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect()
    }

    fn identity<T>(request: &tonic::Request<T>) -> bool {
        request.extensions().get::<bool>().copied().unwrap_or(false)
    }

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let (headers, client) = (metadata(request.metadata()), identity(&request));
            let body = request.into_inner().encode_to_vec();
            record(&self.0, "TraceService/Export", &body, headers, client);
            Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
        }
    }

    #[tonic::async_trait]
    impl MetricsService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportMetricsServiceRequest>,
        ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
            let (headers, client) = (metadata(request.metadata()), identity(&request));
            let body = request.into_inner().encode_to_vec();
            record(&self.0, "MetricsService/Export", &body, headers, client);
            Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
        }
    }

    /// A TLS gRPC OTLP server on 127.0.0.1; returns its URL.
    pub(super) fn serve_grpc(
        rt: &tokio::runtime::Runtime,
        tls: Arc<rustls_ring::ServerConfig>,
        received: Shared,
    ) -> String {
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let (sender, receiver) = tokio::sync::mpsc::channel::<Tls>(16);
        let failures = received.clone();
        rt.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, sender, failures) = (acceptor.clone(), sender.clone(), failures.clone());
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(stream) => {
                            let _ = sender.send(Tls(stream)).await;
                        }
                        Err(e) => failures.lock().expect("lock").handshake_failures.push(e.to_string()),
                    }
                });
            }
        });
        let incoming = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|io| (Ok::<_, std::io::Error>(io), receiver))
        });
        let collector = Collector(received);
        rt.spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(collector.clone()).accept_compressed(CompressionEncoding::Gzip))
                .add_service(MetricsServiceServer::new(collector).accept_compressed(CompressionEncoding::Gzip))
                .serve_with_incoming(incoming),
        );
        format!("https://127.0.0.1:{port}")
    }

    #[test]
    fn grpc_trusted_ca_delivers_spans_and_metrics_with_code_headers() {
        let pki = Pki::new("grpc-ok");
        let rt = runtime();
        let received = Shared::default();
        let url = serve_grpc(&rt, pki.server_config(false, b"h2"), received.clone());
        let config = base(&url, Protocol::Grpc)
            .with_tls_roots(TlsRoots::None)
            .with_tls_ca_file(&pki.ca)
            .with_compression(Compression::Gzip)
            .with_header("x-team", "code");
        let guard = export_through(config);
        assert_arrived(&received, &guard);
        let r = received.lock().expect("lock");
        assert!(r.headers.iter().all(|h| h.get("x-team").map(String::as_str) == Some("code")), "{r:?}");
        assert!(r.headers.iter().all(|h| h.get("grpc-encoding").map(String::as_str) == Some("gzip")), "{r:?}");
    }

    #[test]
    fn grpc_wrong_ca_is_refused_and_counted() {
        let pki = Pki::new("grpc-wrong");
        let other = Pki::new("grpc-other");
        let rt = runtime();
        let received = Shared::default();
        let url = serve_grpc(&rt, pki.server_config(false, b"h2"), received.clone());
        let guard =
            export_through(base(&url, Protocol::Grpc).with_tls_roots(TlsRoots::None).with_tls_ca_file(&other.ca));
        assert_refused(&received, &guard, "invalid peer certificate");
    }

    #[test]
    fn grpc_mtls_works_with_the_client_identity_and_is_refused_without() {
        let pki = Pki::new("grpc-mtls");
        let rt = runtime();
        let received = Shared::default();
        let url = serve_grpc(&rt, pki.server_config(true, b"h2"), received.clone());
        let trusted = base(&url, Protocol::Grpc).with_tls_roots(TlsRoots::None).with_tls_ca_file(&pki.ca);
        let guard = export_through(trusted.clone().with_tls_client_identity(&pki.client_cert, &pki.client_key));
        assert_arrived(&received, &guard);
        assert!(received.lock().expect("lock").with_client_identity >= 2);
        drop(guard);

        let refused = Shared::default();
        let url = serve_grpc(&rt, pki.server_config(true, b"h2"), refused.clone());
        let guard = export_through(trusted.with_endpoint(&url));
        assert_refused(&refused, &guard, "failed:");
    }
}
