//! The gRPC channel botanu hands the tonic exporter, and the interceptor that fixes its metadata.
//!
//! botanu builds the channel itself (`with_channel`), so the library skips its own endpoint, `…_INSECURE`
//! and TLS resolution from the environment; the TLS handshake is botanu's connector, with botanu's rustls
//! configuration (the `ring` provider, passed explicitly). The library adds
//! `OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}HEADERS` from the environment to each request's metadata before
//! calling the interceptor, so the interceptor replaces the metadata with exactly botanu's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::ExportHealth;
use crate::error::{Error, ExporterError};

/// A connection: plain TCP, or TLS over it.
pub(super) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<Box<dyn Io>>, std::io::Error>> + Send>>;

/// Connects to the endpoint's host: TLS for `https`, plain for `http`.
#[derive(Clone)]
pub(super) struct Connector {
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
    health: Arc<ExportHealth>,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<Box<dyn Io>>;
    type Error = std::io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let result = this.connect(&uri).await;
            if let Err(error) = &result {
                this.health.transport_failed(super::http::error_chain(error));
            }
            result
        })
    }
}

impl Connector {
    async fn connect(&self, uri: &http::Uri) -> Result<TokioIo<Box<dyn Io>>, std::io::Error> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{uri}: {what}"));
        let https = uri.scheme_str() == Some("https");
        // `[::1]` in a URI, `::1` for a socket address and a server name.
        let host = uri.host().ok_or_else(|| invalid("no host"))?.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tcp = TcpStream::connect((host, port)).await?;
        // gRPC requests are small and latency-bound.
        tcp.set_nodelay(true)?;
        if !https {
            return Ok(TokioIo::new(Box::new(tcp)));
        }
        #[cfg(feature = "tls")]
        {
            let tls = self.tls.as_ref().ok_or_else(|| invalid("https needs a TLS configuration"))?;
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| invalid(&format!("not a TLS server name: {e}")))?;
            let stream = tls.connect(name, tcp).await?;
            Ok(TokioIo::new(Box::new(stream)))
        }
        #[cfg(not(feature = "tls"))]
        Err(invalid("https needs botanu's `tls` feature"))
    }
}

/// A lazy channel to `url` (connects on the first export, on the runtime current when called).
pub(super) fn channel(
    url: &str,
    timeout: Duration,
    #[cfg(feature = "tls")] tls: Option<Arc<rustls::ClientConfig>>,
    health: Arc<ExportHealth>,
) -> Result<tonic::transport::Channel, Error> {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| ExporterError::InvalidEndpoint { endpoint: url.to_owned(), message: e.to_string() })?
        .timeout(timeout)
        .connect_timeout(timeout);
    let connector = Connector {
        #[cfg(feature = "tls")]
        tls: tls.map(tokio_rustls::TlsConnector::from),
        health,
    };
    Ok(endpoint.connect_with_connector_lazy(connector))
}

/// Replaces a request's metadata with `metadata` (see the module docs).
#[derive(Clone)]
pub(super) struct ExactMetadata(pub(super) MetadataMap);

impl tonic::service::Interceptor for ExactMetadata {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        *request.metadata_mut() = self.0.clone();
        Ok(request)
    }
}
