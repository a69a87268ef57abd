//! The value grammar shared by environment variables and YAML scalars: booleans, counts, milliseconds,
//! rates, names, comma lists and `k=v` lists.

use std::time::Duration;

use super::error::ConfigError;
use super::raw::Raw;
use super::{PropagationMode, Protocol, TracesExporter};

pub(super) fn parse_text(raw: &Raw) -> Result<String, ConfigError> {
    let value = raw.value.trim();
    if value.is_empty() {
        Err(raw.invalid("a non-empty string"))
    } else {
        Ok(value.to_owned())
    }
}

pub(super) fn parse_bool(raw: &Raw) -> Result<bool, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(raw.invalid("true, false, 1, 0, yes or no")),
    }
}

pub(super) fn parse_count(raw: &Raw) -> Result<usize, ConfigError> {
    match raw.value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(raw.invalid("a whole number greater than 0")),
    }
}

pub(super) fn parse_millis(raw: &Raw) -> Result<Duration, ConfigError> {
    match raw.value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(raw.invalid("a whole number of milliseconds greater than 0")),
    }
}

/// A sampling rate: any number, clamped to `0.0..=1.0` with a warning; NaN is an error because it
/// cannot be clamped to anything meaningful.
pub(super) fn parse_rate(raw: &Raw, warnings: &mut Vec<String>) -> Result<f64, ConfigError> {
    const EXPECTED: &str = "a number between 0.0 and 1.0";
    let rate: f64 = raw.value.trim().parse().map_err(|_| raw.invalid(EXPECTED))?;
    if rate.is_nan() {
        return Err(raw.invalid(EXPECTED));
    }
    if (0.0..=1.0).contains(&rate) {
        return Ok(rate);
    }
    let clamped = rate.clamp(0.0, 1.0);
    warnings.push(format!("{} = {} is outside 0.0..=1.0; using {clamped:?}", raw.origin(), raw.value.trim()));
    Ok(clamped)
}

pub(super) fn parse_protocol(raw: &Raw) -> Result<Protocol, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "grpc" => Ok(Protocol::Grpc),
        "http/json" => Err(raw.invalid("http/protobuf or grpc; http/json is not supported by botanu")),
        _ => Err(raw.invalid("http/protobuf or grpc")),
    }
}

pub(super) fn parse_traces_exporter(raw: &Raw) -> Result<TracesExporter, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "otlp" => Ok(TracesExporter::Otlp),
        "console" => Ok(TracesExporter::Console),
        "none" => Ok(TracesExporter::None),
        _ => Err(raw.invalid("one of otlp, console or none")),
    }
}

pub(super) fn parse_propagation_mode(raw: &Raw) -> Result<PropagationMode, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "lean" => Ok(PropagationMode::Lean),
        "full" => Ok(PropagationMode::Full),
        _ => Err(raw.invalid("lean or full")),
    }
}

/// `a, B ,,c` → `["a", "b", "c"]`.
pub(super) fn comma_list(value: &str) -> Vec<String> {
    value.split(',').map(|item| item.trim().to_lowercase()).filter(|item| !item.is_empty()).collect()
}

/// `k=v,k2=v2` with percent-encoded keys and values, the format of `OTEL_EXPORTER_OTLP_HEADERS` and
/// `OTEL_RESOURCE_ATTRIBUTES`. Empty entries are skipped; an entry without `=` is an error.
pub(super) fn parse_key_value_list(raw: &Raw) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    for (index, entry) in raw.value.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let number = index + 1;
        let Some((key, value)) = entry.split_once('=') else {
            return Err(raw.invalid(format!("comma-separated key=value pairs (entry {number} has no '=')")));
        };
        let (Some(key), Some(value)) = (percent_decode(key.trim()), percent_decode(value.trim())) else {
            return Err(raw.invalid(format!(
                "comma-separated key=value pairs (entry {number} is not UTF-8 after percent-decoding)"
            )));
        };
        if key.is_empty() {
            return Err(raw.invalid(format!("comma-separated key=value pairs (entry {number} has an empty key)")));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// `%XX` → the byte; a `%` not followed by two hex digits is kept as is. `None` if the result is not UTF-8.
pub(super) fn percent_decode(text: &str) -> Option<String> {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            if let (Some(high), Some(low)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
            {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A header name must be an RFC 9110 token and a value must not hold control characters (a `\r\n` would
/// inject headers).
pub(super) fn check_header(name: &str, value: &str, raw: &Raw) -> Result<(), ConfigError> {
    let is_token =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(raw.invalid(format!("header names made of letters, digits and !#$%&'*+-.^_`|~ (got {name:?})")));
    }
    if value.chars().any(|ch| ch.is_control() && ch != '\t') {
        return Err(raw.invalid(format!("a header value without control characters (header {name})")));
    }
    Ok(())
}
