//! The OTLP transport settings of one signal: TLS (roots, a custom CA, a client identity for mTLS),
//! compression, the per-request timeout and gRPC's `insecure`.
//!
//! The OpenTelemetry variables come in a general form (`OTEL_EXPORTER_OTLP_CERTIFICATE`) and a per-signal
//! form (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, `…_METRICS_…`); the per-signal one wins for its signal.
//! They resolve here, in botanu's one precedence (code > environment > YAML > defaults), and the exporter
//! is then built so that the exporter library cannot read them again behind botanu's back (see
//! `crate::otlp`). Nothing here touches a file: the certificate files are read, and checked, when the
//! exporter is built.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::grammar::{check_header, parse_bool, parse_key_value_list, parse_millis};
use super::keys;
use super::layers::Layers;
use super::raw::Raw;
use super::Config;

/// Which certificate authorities an `https://` endpoint's certificate may chain to (besides a custom CA,
/// see [`TlsSettings::ca_file`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsRoots {
    /// The operating system's CA store, read once when the exporter is built (the default).
    #[default]
    System,
    /// Mozilla's roots compiled into the binary (`webpki-roots`), for images without a CA store.
    Webpki,
    /// No built-in roots: only [`TlsSettings::ca_file`] is trusted (the custom CA *replaces* the others).
    None,
}

impl TlsRoots {
    /// The name used in `BOTANU_TLS_ROOTS` and `otlp.tls.roots`.
    ///
    /// ```
    /// assert_eq!(botanu::config::TlsRoots::Webpki.as_str(), "webpki");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TlsRoots::System => "system",
            TlsRoots::Webpki => "webpki",
            TlsRoots::None => "none",
        }
    }
}

/// TLS settings of one signal's `https://` endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// The built-in roots trusted.
    pub roots: TlsRoots,
    /// A PEM file of CA certificates trusted in addition to `roots` (or instead of them, with
    /// [`TlsRoots::None`]): `OTEL_EXPORTER_OTLP_CERTIFICATE`.
    pub ca_file: Option<PathBuf>,
    /// A PEM file with the client certificate chain, for mTLS: `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`.
    pub client_cert: Option<PathBuf>,
    /// A PEM file with the client's private key (PKCS#8, PKCS#1 or SEC1): `OTEL_EXPORTER_OTLP_CLIENT_KEY`.
    pub client_key: Option<PathBuf>,
}

/// Compression of export requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Sent as is (the default).
    #[default]
    None,
    /// gzip (`Content-Encoding: gzip`, or gRPC's `grpc-encoding: gzip`).
    Gzip,
}

/// How one signal is sent over OTLP: TLS, compression, timeout, gRPC's `insecure`, and its own headers.
///
/// `Debug` shows `[redacted]` for credential header values, as [`Config`]'s does.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OtlpTransport {
    /// TLS for an `https://` endpoint.
    pub tls: TlsSettings,
    /// Request compression.
    pub compression: Compression,
    /// Time one export request may take (`OTEL_EXPORTER_OTLP_TIMEOUT`); `None` means
    /// [`Config::export_timeout`].
    pub timeout: Option<Duration>,
    /// gRPC only: a scheme-less endpoint (`collector:4317`) is reached over plain HTTP/2 instead of TLS.
    /// An `http://` or `https://` endpoint says for itself.
    pub insecure: bool,
    /// This signal's own headers (`OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `…_METRICS_HEADERS`), sent instead of
    /// [`Config::headers`] when set; [`Config::with_header`] applies to both.
    pub headers: Option<Vec<(String, String)>>,
}

impl std::fmt::Debug for OtlpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let OtlpTransport { tls, compression, timeout, insecure, headers } = self;
        f.debug_struct("OtlpTransport")
            .field("tls", tls)
            .field("compression", compression)
            .field("timeout", timeout)
            .field("insecure", insecure)
            .field("headers", &headers.as_deref().map(super::RedactedHeaders))
            .finish()
    }
}

/// The variables feeding one setting: the per-signal one first.
struct SignalKeys {
    headers: &'static str,
    certificate: &'static str,
    client_certificate: &'static str,
    client_key: &'static str,
    compression: &'static str,
    timeout: &'static str,
    insecure: &'static str,
}

const TRACES: SignalKeys = SignalKeys {
    headers: keys::OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    certificate: keys::OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    client_certificate: keys::OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key: keys::OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
    compression: keys::OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    timeout: keys::OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    insecure: keys::OTEL_EXPORTER_OTLP_TRACES_INSECURE,
};

const METRICS: SignalKeys = SignalKeys {
    headers: keys::OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    certificate: keys::OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE,
    client_certificate: keys::OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE,
    client_key: keys::OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY,
    compression: keys::OTEL_EXPORTER_OTLP_METRICS_COMPRESSION,
    timeout: keys::OTEL_EXPORTER_OTLP_METRICS_TIMEOUT,
    insecure: keys::OTEL_EXPORTER_OTLP_METRICS_INSECURE,
};

/// Which signal's variables to read.
#[derive(Clone, Copy)]
pub(super) enum Signal {
    Traces,
    Metrics,
}

fn parse_path(raw: &Raw) -> Result<PathBuf, ConfigError> {
    let value = raw.value.trim();
    if value.is_empty() {
        return Err(raw.invalid("a file path"));
    }
    Ok(PathBuf::from(value))
}

fn parse_compression(raw: &Raw) -> Result<Compression, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "gzip" => Ok(Compression::Gzip),
        "none" => Ok(Compression::None),
        _ => Err(raw.invalid("gzip or none")),
    }
}

fn parse_roots(raw: &Raw) -> Result<TlsRoots, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "system" => Ok(TlsRoots::System),
        "webpki" => Ok(TlsRoots::Webpki),
        "none" => Ok(TlsRoots::None),
        _ => Err(raw.invalid("system, webpki or none")),
    }
}

impl Layers<'_> {
    /// One signal's transport settings, each from its first layer, else the default.
    pub(super) fn otlp_transport(&self, signal: Signal) -> Result<OtlpTransport, ConfigError> {
        use keys::*;
        let k = match signal {
            Signal::Traces => TRACES,
            Signal::Metrics => METRICS,
        };
        let d = OtlpTransport::default();
        let pick = |signal_var: &str, general_var: &str, yaml: &str| self.pick(&[signal_var, general_var], &[], yaml);
        let path =
            |signal_var, general_var, yaml| pick(signal_var, general_var, yaml).map(|r| parse_path(&r)).transpose();

        let roots = self.value_of(&[BOTANU_TLS_ROOTS], Y_OTLP_TLS_ROOTS, parse_roots)?.unwrap_or(d.tls.roots);
        let tls = TlsSettings {
            roots,
            ca_file: path(k.certificate, OTEL_EXPORTER_OTLP_CERTIFICATE, Y_OTLP_TLS_CA_FILE)?.or(d.tls.ca_file),
            client_cert: path(k.client_certificate, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, Y_OTLP_TLS_CLIENT_CERT)?
                .or(d.tls.client_cert),
            client_key: path(k.client_key, OTEL_EXPORTER_OTLP_CLIENT_KEY, Y_OTLP_TLS_CLIENT_KEY)?.or(d.tls.client_key),
        };
        let compression = pick(k.compression, OTEL_EXPORTER_OTLP_COMPRESSION, Y_OTLP_COMPRESSION)
            .map(|r| parse_compression(&r))
            .transpose()?
            .unwrap_or(d.compression);
        let timeout = pick(k.timeout, OTEL_EXPORTER_OTLP_TIMEOUT, Y_OTLP_TIMEOUT_MS)
            .map(|r| parse_millis(&r))
            .transpose()?
            .or(d.timeout);
        let insecure = pick(k.insecure, OTEL_EXPORTER_OTLP_INSECURE, Y_OTLP_INSECURE)
            .map(|r| parse_bool(&r))
            .transpose()?
            .unwrap_or(d.insecure);
        let headers = match self.env(k.headers) {
            Some(raw) => {
                let pairs = parse_key_value_list(&raw)?;
                for (name, value) in &pairs {
                    check_header(name, value, &raw)?;
                }
                Some(pairs)
            }
            None => d.headers,
        };
        Ok(OtlpTransport { tls, compression, timeout, insecure, headers })
    }

    fn value_of<T>(
        &self,
        env: &[&str],
        yaml: &str,
        parse: impl FnOnce(&Raw) -> Result<T, ConfigError>,
    ) -> Result<Option<T>, ConfigError> {
        self.pick(env, &[], yaml).map(|raw| parse(&raw)).transpose()
    }
}

// === code overrides ===

impl Config {
    /// Trusts the CA certificates in this PEM file for both signals, in addition to
    /// [`TlsSettings::roots`] (or instead of them with [`TlsRoots::None`]).
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_tls_ca_file("/etc/ssl/collector-ca.pem");
    /// assert_eq!(config.traces_otlp().tls.ca_file, config.metrics_otlp().tls.ca_file);
    /// assert_eq!(config.traces_otlp().tls.ca_file.as_deref(), Some(std::path::Path::new("/etc/ssl/collector-ca.pem")));
    /// ```
    #[must_use]
    pub fn with_tls_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.traces_otlp.tls.ca_file = Some(path.clone());
        self.metrics_otlp.tls.ca_file = Some(path);
        self
    }

    /// Sets which built-in roots both signals trust.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::TlsRoots;
    ///
    /// let config = Config::default().with_tls_roots(TlsRoots::Webpki);
    /// assert_eq!(config.metrics_otlp().tls.roots, TlsRoots::Webpki);
    /// ```
    #[must_use]
    pub fn with_tls_roots(mut self, roots: TlsRoots) -> Self {
        self.traces_otlp.tls.roots = roots;
        self.metrics_otlp.tls.roots = roots;
        self
    }

    /// Presents this client certificate chain and key (PEM files) to both signals' endpoints (mTLS).
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_tls_client_identity("/run/secrets/client.pem", "/run/secrets/client.key");
    /// assert!(config.traces_otlp().tls.client_cert.is_some() && config.metrics_otlp().tls.client_key.is_some());
    /// ```
    #[must_use]
    pub fn with_tls_client_identity(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        let (cert, key) = (cert.into(), key.into());
        for transport in [&mut self.traces_otlp, &mut self.metrics_otlp] {
            transport.tls.client_cert = Some(cert.clone());
            transport.tls.client_key = Some(key.clone());
        }
        self
    }

    /// Sets the compression of both signals' export requests.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::Compression;
    ///
    /// let config = Config::default().with_compression(Compression::Gzip);
    /// assert_eq!(config.traces_otlp().compression, Compression::Gzip);
    /// ```
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.traces_otlp.compression = compression;
        self.metrics_otlp.compression = compression;
        self
    }

    /// Sets the time one export request of either signal may take.
    ///
    /// ```
    /// use std::time::Duration;
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_otlp_timeout(Duration::from_secs(3));
    /// assert_eq!(config.metrics_otlp().timeout, Some(Duration::from_secs(3)));
    /// ```
    #[must_use]
    pub fn with_otlp_timeout(mut self, timeout: Duration) -> Self {
        self.traces_otlp.timeout = Some(timeout);
        self.metrics_otlp.timeout = Some(timeout);
        self
    }

    /// Sets gRPC's `insecure` for both signals: a scheme-less endpoint is reached without TLS.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::Protocol;
    ///
    /// let config = Config::default().with_protocol(Protocol::Grpc).with_endpoint("collector:4317");
    /// assert_eq!(config.traces_url().as_deref(), Some("https://collector:4317"));
    /// let config = config.with_insecure(true);
    /// assert_eq!(config.traces_url().as_deref(), Some("http://collector:4317"));
    /// ```
    #[must_use]
    pub fn with_insecure(mut self, insecure: bool) -> Self {
        self.traces_otlp.insecure = insecure;
        self.metrics_otlp.insecure = insecure;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;
    use crate::config::{ConfigSource, Protocol};

    fn load(env: &[(&str, &str)], yaml: Option<&str>) -> Result<Config, ConfigError> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("botanu-tls-config-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        if let Some(text) = yaml {
            std::fs::write(dir.join("botanu.yaml"), text).expect("write");
        }
        let map: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let loaded = Config::load_from(&ConfigSource::from_env_map(map).with_search_dir(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        loaded.map(|(config, _)| config)
    }

    fn both(config: &Config) -> [&OtlpTransport; 2] {
        [&config.traces_otlp, &config.metrics_otlp]
    }

    /// Each general variable sets both signals; its per-signal form sets that signal only, and wins there.
    #[test]
    fn each_variable_and_its_per_signal_forms() {
        type Read = fn(&OtlpTransport) -> String;
        let cases: [(&str, &str, &str, Read); 6] = [
            ("CERTIFICATE", "/general/ca.pem", "/signal/ca.pem", |t| format!("{:?}", t.tls.ca_file)),
            ("CLIENT_CERTIFICATE", "/general/c.pem", "/signal/c.pem", |t| format!("{:?}", t.tls.client_cert)),
            ("CLIENT_KEY", "/general/c.key", "/signal/c.key", |t| format!("{:?}", t.tls.client_key)),
            ("COMPRESSION", "gzip", "none", |t| format!("{:?}", t.compression)),
            ("TIMEOUT", "1500", "250", |t| format!("{:?}", t.timeout)),
            ("INSECURE", "true", "false", |t| format!("{:?}", t.insecure)),
        ];
        for (suffix, general, specific, read) in cases {
            let general_var = format!("OTEL_EXPORTER_OTLP_{suffix}");
            let only_general = load(&[(&general_var, general)], None).expect("load");
            let defaults = Config::default();
            for transport in both(&only_general) {
                assert_ne!(read(transport), read(&defaults.traces_otlp), "{general_var} changed nothing");
            }
            assert_eq!(read(&only_general.traces_otlp), read(&only_general.metrics_otlp), "{general_var}");

            for (signal, pick) in [("TRACES", 0), ("METRICS", 1)] {
                let signal_var = format!("OTEL_EXPORTER_OTLP_{signal}_{suffix}");
                let config = load(&[(&general_var, general), (&signal_var, specific)], None).expect("load");
                let [traces, metrics] = both(&config);
                let (chosen, other) = if pick == 0 { (traces, metrics) } else { (metrics, traces) };
                let expected = load(&[(&general_var, specific)], None).expect("load");
                assert_eq!(read(chosen), read(&expected.traces_otlp), "{signal_var} wins for its signal");
                assert_eq!(read(other), read(&only_general.traces_otlp), "{signal_var} leaves the other signal");
            }
        }
    }

    #[test]
    fn yaml_keys_and_the_one_precedence() {
        let yaml = "otlp:\n  compression: gzip\n  timeout_ms: 700\n  insecure: true\n  tls:\n    roots: webpki\n    \
                    ca_file: /yaml/ca.pem\n    client_cert: /yaml/c.pem\n    client_key: /yaml/c.key\n";
        let from_yaml = load(&[], Some(yaml)).expect("load");
        for t in both(&from_yaml) {
            assert_eq!(t.compression, Compression::Gzip);
            assert_eq!(t.timeout, Some(Duration::from_millis(700)));
            assert!(t.insecure);
            assert_eq!(t.tls.roots, TlsRoots::Webpki);
            assert_eq!(t.tls.ca_file.as_deref(), Some(Path::new("/yaml/ca.pem")));
            assert_eq!(t.tls.client_cert.as_deref(), Some(Path::new("/yaml/c.pem")));
            assert_eq!(t.tls.client_key.as_deref(), Some(Path::new("/yaml/c.key")));
        }

        // Environment over YAML.
        let env = [
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/env/ca.pem"),
            ("BOTANU_TLS_ROOTS", "none"),
        ];
        let from_env = load(&env, Some(yaml)).expect("load");
        for t in both(&from_env) {
            assert_eq!(t.compression, Compression::None);
            assert_eq!(t.tls.ca_file.as_deref(), Some(Path::new("/env/ca.pem")));
            assert_eq!(t.tls.roots, TlsRoots::None);
            assert_eq!(
                t.timeout,
                Some(Duration::from_millis(700)),
                "a field the environment does not set keeps YAML's"
            );
        }

        // Code over everything.
        let from_code = from_env
            .with_compression(Compression::Gzip)
            .with_tls_ca_file("/code/ca.pem")
            .with_tls_roots(TlsRoots::System)
            .with_otlp_timeout(Duration::from_secs(2))
            .with_insecure(false)
            .with_tls_client_identity("/code/c.pem", "/code/c.key");
        for t in both(&from_code) {
            assert_eq!(t.compression, Compression::Gzip);
            assert_eq!(t.tls.ca_file.as_deref(), Some(Path::new("/code/ca.pem")));
            assert_eq!(t.tls.roots, TlsRoots::System);
            assert_eq!(t.timeout, Some(Duration::from_secs(2)));
            assert!(!t.insecure);
            assert_eq!(t.tls.client_key.as_deref(), Some(Path::new("/code/c.key")));
        }
    }

    /// A signal's own header variable replaces the general one for that signal; a header set in code
    /// wins in both lists; credentials stay out of `Debug`.
    #[test]
    fn per_signal_headers() {
        let secret = format!("{}-{}", "sec", "ret");
        let traces_headers = format!("x-team=traces,authorization={secret}");
        let env = [
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-team=all"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", traces_headers.as_str()),
        ];
        let config = load(&env, None).expect("load");
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(config.headers, [pair("x-team", "all")]);
        assert_eq!(config.traces_otlp.headers, Some(vec![pair("x-team", "traces"), pair("authorization", &secret)]));
        assert_eq!(config.metrics_otlp.headers, None);
        assert!(!format!("{config:?}").contains(&secret), "{config:?}");

        let config = config.with_header("X-Team", "code");
        assert_eq!(config.headers, [pair("X-Team", "code")]);
        assert_eq!(config.traces_otlp.headers, Some(vec![pair("authorization", &secret), pair("X-Team", "code")]));
    }

    #[test]
    fn invalid_values_name_their_key() {
        let cases = [
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", "gzip or none"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon", "milliseconds"),
            ("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "maybe", "true, false"),
            ("BOTANU_TLS_ROOTS", "mozilla", "system, webpki or none"),
        ];
        for (key, value, expected) in cases {
            let err = load(&[(key, value)], None).expect_err(key);
            let text = err.to_string();
            assert!(text.contains(key) && text.contains(value) && text.contains(expected), "{text}");
        }
        let err = load(&[], Some("otlp:\n  tls:\n    roots: mozilla\n")).expect_err("yaml");
        assert!(err.to_string().contains("otlp.tls.roots") && err.to_string().contains("line 3"), "{err}");
    }

    /// gRPC's `insecure` decides the scheme of a scheme-less endpoint; an explicit scheme wins.
    #[test]
    fn scheme_less_grpc_endpoints_follow_insecure() {
        let env = [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")];
        let tls = load(&env, None).expect("load");
        assert_eq!(tls.traces_url().as_deref(), Some("https://collector:4317"));
        let env_insecure = [env[0], env[1], ("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "true")];
        let mixed = load(&env_insecure, None).expect("load");
        assert_eq!(mixed.traces_url().as_deref(), Some("https://collector:4317"));
        assert_eq!(mixed.metrics_url().as_deref(), Some("http://collector:4317"));
        let explicit = load(
            &[env[0], ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4317"), ("OTEL_EXPORTER_OTLP_INSECURE", "true")],
            None,
        )
        .expect("load");
        assert_eq!(explicit.traces_url().as_deref(), Some("https://c:4317"));
        assert_eq!(mixed.protocol, Protocol::Grpc);

        let err = load(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")], None).expect_err("http needs a scheme");
        assert!(err.to_string().contains("http:// or https:// URL"), "{err}");
    }
}
