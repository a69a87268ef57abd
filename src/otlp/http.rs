//! The HTTP client botanu hands the http/protobuf exporter: a [`ureq`] agent (with botanu's rustls roots,
//! identity and provider under feature `tls`), wrapped so that what goes on the wire is what botanu
//! resolved.
//!
//! Why ureq and not the exporter library's reqwest: a feature botanu enables on a crate is enabled for the
//! application's copy of it too, and reqwest's TLS features decide how every reqwest client in the
//! process finds its crypto provider (`rustls-no-provider` made the application's own
//! `reqwest::Client::new()` panic, issue 23). No HTTP client of the application reads its features from
//! ureq. And ureq is blocking, which is what the export queue's thread wants: no runtime and no thread of
//! its own (it resolves a host name on a short-lived thread, so the timeout bounds the lookup too); its
//! rustls provider and roots are values it is given.
//!
//! opentelemetry-otlp reads `OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}HEADERS` from the process environment
//! itself and lays them over the headers it is given, so the environment would beat code. Endpoint,
//! protocol and timeout are passed explicitly, which stops the library reading their variables; for
//! headers no such switch exists, so this client sets the request's headers last: the library's own
//! (content type and encoding, user agent) and then exactly botanu's. Compression likewise: gzip is passed
//! explicitly when configured; when it is not and the library compressed anyway (from
//! `OTEL_EXPORTER_OTLP_*COMPRESSION` against the code's choice), the body is sent uncompressed.
//!
//! Redirects are not followed: a collector that answers 3xx fails the export with its status, counted and
//! logged once like any failure, and the headers (an API key) go nowhere but the configured endpoint.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use ureq::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};

use super::ExportHealth;
use crate::config::Compression;

/// The most of a response body read (the collector's answer to an export is a few bytes); the same bound
/// as opentelemetry-http's own clients.
const MAX_RESPONSE_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// See the module docs.
#[derive(Debug)]
pub(super) struct BotanuHttpClient {
    pub(super) agent: ureq::Agent,
    /// Exactly the headers to send besides the library's own.
    pub(super) headers: HeaderMap,
    pub(super) compression: Compression,
    /// Where a transport error's full reason is kept for the failure log line.
    pub(super) health: Arc<ExportHealth>,
}

/// `(name, value)` pairs as a header map; a pair that is not a valid header was refused when the
/// configuration was loaded, and one set in code that is not is skipped, as the library would.
pub(super) fn header_map(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(value.trim()))
        {
            map.insert(name, value);
        }
    }
    map
}

/// The agent: `timeout` bounds each export as a whole (resolve, connect, handshake, send, response); an
/// HTTP error status is a response for the exporter library to judge, not a transport error; no redirects.
pub(super) fn agent(timeout: Duration, #[cfg(feature = "tls")] tls: ureq::tls::TlsConfig) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false);
    #[cfg(feature = "tls")]
    let config = config.tls_config(tls);
    config.build().new_agent()
}

impl BotanuHttpClient {
    /// The request as botanu means it: the library's own headers, then botanu's; the body decompressed
    /// if the library compressed it against the configuration.
    fn prepare(&self, request: Request<Bytes>) -> Result<Request<Bytes>, HttpError> {
        let (mut parts, mut body) = request.into_parts();
        let library = std::mem::take(&mut parts.headers);
        for name in [CONTENT_TYPE, USER_AGENT] {
            if let Some(value) = library.get(&name) {
                parts.headers.insert(name, value.clone());
            }
        }
        let gzipped = library.get(CONTENT_ENCODING).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        match (gzipped, self.compression) {
            (true, Compression::Gzip) => {
                parts.headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            (true, Compression::None) => {
                let mut plain = Vec::with_capacity(body.len() * 4);
                flate2::read::GzDecoder::new(body.as_ref()).read_to_end(&mut plain)?;
                body = Bytes::from(plain);
            }
            // Only reachable if the library stopped compressing what it was told to: send it plain.
            (false, _) => {}
        }
        for (name, value) in &self.headers {
            parts.headers.insert(name.clone(), value.clone());
        }
        Ok(Request::from_parts(parts, body))
    }

    /// Sends `request` and reads the whole response; its body at most [`MAX_RESPONSE_BODY_BYTES`]. Any
    /// status is a response; only the transport fails.
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, ureq::Error> {
        let (parts, body) = request.into_parts();
        let response = self.agent.run(Request::from_parts(parts, body.as_ref()))?;
        let (parts, mut body) = response.into_parts();
        let body = body.with_config().limit(MAX_RESPONSE_BODY_BYTES).read_to_vec()?;
        Ok(Response::from_parts(parts, Bytes::from(body)))
    }
}

#[async_trait::async_trait]
impl HttpClient for BotanuHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = self.prepare(request)?;
        // Blocking, on the export queue's own thread (which drives this future); never the application's.
        match self.send(request) {
            Ok(response) => Ok(response),
            Err(error) => {
                // The library reports only "network error"; the chain says which (a refused certificate,
                // a handshake alert, a refused connection).
                self.health.transport_failed(error_chain(&error));
                Err(Box::new(error))
            }
        }
    }
}

/// An error and its sources, `: `-separated, without repeats (an error may repeat its source's text).
pub(super) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(compression: Compression, headers: &[(&str, &str)]) -> BotanuHttpClient {
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        BotanuHttpClient {
            agent: agent(
                Duration::from_secs(1),
                #[cfg(feature = "tls")]
                crate::otlp::tls::plaintext_only(),
            ),
            headers: header_map(&headers),
            compression,
            health: Arc::new(ExportHealth::new("traces", "http://127.0.0.1:1/v1/traces".to_owned())),
        }
    }

    /// Headers the library added from the environment are gone; botanu's are there, once.
    #[test]
    fn botanu_headers_replace_the_librarys() {
        let c = client(Compression::None, &[("x-team", "code"), ("Authorization", "Bearer code")]);
        let request = Request::builder()
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header(USER_AGENT, "OTel-OTLP-Exporter-Rust/0.33.1")
            .header("x-team", "env")
            .header("x-from-env", "1")
            .body(Bytes::from_static(b"body"))
            .expect("request");
        let prepared = c.prepare(request).expect("prepare");
        let headers = prepared.headers();
        assert_eq!(headers.get_all("x-team").iter().collect::<Vec<_>>(), ["code"]);
        assert_eq!(headers.get("authorization").map(|v| v.to_str().ok()), Some(Some("Bearer code")));
        assert!(headers.get("x-from-env").is_none());
        assert_eq!(headers.get(CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"application/x-protobuf"[..]));
        assert!(headers.get(USER_AGENT).is_some());
    }

    /// A body the library gzipped from the environment, against `Compression::None`, goes out plain.
    #[test]
    fn a_body_compressed_against_the_configuration_is_sent_plain() {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"spans").expect("gzip");
        let gzipped = encoder.finish().expect("gzip");
        let request =
            || Request::builder().header(CONTENT_ENCODING, "gzip").body(Bytes::from(gzipped.clone())).expect("request");

        let plain = client(Compression::None, &[]).prepare(request()).expect("prepare");
        assert_eq!(plain.body().as_ref(), b"spans");
        assert!(plain.headers().get(CONTENT_ENCODING).is_none());

        let kept = client(Compression::Gzip, &[]).prepare(request()).expect("prepare");
        assert_eq!(kept.body().as_ref(), gzipped.as_slice());
        assert_eq!(kept.headers().get(CONTENT_ENCODING).map(|v| v.as_bytes()), Some(&b"gzip"[..]));
    }
}
