//! Parsers of field values into their exported shape: `otel.status_code`, `otel.kind`, string arrays
//! (finish reasons, stop sequences: JSON or `Debug` arrays, as `tracing` has no array values), and the
//! shared string values.

use std::borrow::Cow;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, StringValue, Value};

use crate::text::cut_str;

/// A status a span set itself through `otel.status_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtelStatus {
    Ok,
    Error,
}

/// Parses an `otel.status_code` value (`ok`, `error`, `unset`, any case); anything else is ignored.
pub(crate) fn parse_status_code(s: &str) -> Option<OtelStatus> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("error") {
        Some(OtelStatus::Error)
    } else if s.eq_ignore_ascii_case("ok") {
        Some(OtelStatus::Ok)
    } else {
        None
    }
}

/// Most elements kept from one string-array value: a response has one finish reason per choice, and a
/// foreign span could send anything.
pub(crate) const MAX_FINISH_REASONS: usize = 16;
/// Longest element kept, in bytes (a raw, unparsable value included).
pub(crate) const MAX_FINISH_REASON_BYTES: usize = 256;

/// `gen_ai.response.finish_reasons` / `gen_ai.request.stop_sequences` as a string array whatever it
/// arrived as (`tracing` has no array values): a JSON array of strings (genai, goose) or a Rust `Debug`
/// array (`["END", "STOP"]`, tirea; its `\u{…}` and `\'` escapes included) is parsed; adk-rust's
/// comma-joined finish reasons (`stop,length`) are split — for finish reasons only, a stop sequence may
/// hold a comma; any other value, a malformed array included, becomes a one-element array of the raw
/// string. Bounded: at most [`MAX_FINISH_REASONS`] elements of at most [`MAX_FINISH_REASON_BYTES`] each.
pub(crate) fn string_list(key: &str, raw: &str) -> Value {
    let bounded = |s: &str| cut_str(s, MAX_FINISH_REASON_BYTES).to_owned();
    match parse_json_string_array(raw) {
        Some(items) => string_array(items.iter().take(MAX_FINISH_REASONS).map(|s| bounded(s))),
        None if key == crate::semconv::GEN_AI_RESPONSE_FINISH_REASONS
            && raw.contains(',')
            && !raw.trim_start().starts_with('[') =>
        {
            string_array(raw.split(',').map(str::trim).filter(|s| !s.is_empty()).take(MAX_FINISH_REASONS).map(bounded))
        }
        None => string_array([bounded(raw.trim())]),
    }
}

/// [`string_list`] of finish reasons.
#[cfg(test)]
fn finish_reasons(raw: &str) -> Value {
    string_list(crate::semconv::GEN_AI_RESPONSE_FINISH_REASONS, raw)
}

/// A JSON array of strings (`["stop", "length"]`), or `None` if `raw` is anything else. Just enough JSON
/// for this one attribute: botanu has no JSON dependency, and a full parser would be overkill here.
fn parse_json_string_array(raw: &str) -> Option<Vec<String>> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut chars = inner.trim().chars().peekable();
    if chars.peek().is_none() {
        return Some(items);
    }
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next()? != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    '"' => item.push('"'),
                    '\\' => item.push('\\'),
                    '/' => item.push('/'),
                    'n' => item.push('\n'),
                    't' => item.push('\t'),
                    'r' => item.push('\r'),
                    'b' => item.push('\u{8}'),
                    'f' => item.push('\u{c}'),
                    // Rust `Debug`: `\u{1b}`; JSON: `\u001b`.
                    'u' if chars.peek() == Some(&'{') => {
                        chars.next();
                        let hex: String = chars.by_ref().take_while(|c| *c != '}').take(6).collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        item.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        item.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    '\'' => item.push('\''),
                    '0' => item.push('\0'),
                    _ => return None,
                },
                c => item.push(c),
            }
        }
        items.push(item);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(items),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

pub(crate) fn cow_to_string_value(s: Cow<'static, str>) -> StringValue {
    match s {
        Cow::Borrowed(b) => StringValue::from(b),
        Cow::Owned(o) => StringValue::from(o),
    }
}

/// Parses an `otel.kind` value.
pub(crate) fn parse_kind(s: &str) -> Option<SpanKind> {
    let s = s.trim();
    Some(if s.eq_ignore_ascii_case("server") {
        SpanKind::Server
    } else if s.eq_ignore_ascii_case("client") {
        SpanKind::Client
    } else if s.eq_ignore_ascii_case("producer") {
        SpanKind::Producer
    } else if s.eq_ignore_ascii_case("consumer") {
        SpanKind::Consumer
    } else if s.eq_ignore_ascii_case("internal") {
        SpanKind::Internal
    } else {
        return None;
    })
}

/// A string attribute value, reference-counted so the copies made for metrics and stamping are cheap;
/// a short value this thread saw recently shares that one's allocation (see `recent_strings`).
pub(crate) fn shared_str(s: &str) -> Value {
    Value::String(StringValue::from(super::recent_strings::shared(s)))
}

/// Converts a list of strings to an OTel string array value.
pub(crate) fn string_array<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::Array(Array::String(items.into_iter().map(|s| StringValue::from(s.into())).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_are_always_a_string_array() {
        let array = |v: Value| match v {
            Value::Array(Array::String(items)) => items.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>(),
            other => panic!("not a string array: {other:?}"),
        };
        let long = "x".repeat(MAX_FINISH_REASON_BYTES + 10);
        let many = format!("[{}]", vec!["\"stop\""; MAX_FINISH_REASONS + 4].join(","));
        // (raw, exported)
        let table: Vec<(&str, Vec<String>)> = vec![
            (r#"["stop"]"#, vec!["stop".into()]),
            (r#" [ "stop" , "length" ] "#, vec!["stop".into(), "length".into()]),
            (r#"["a\"b\\c\u00e9"]"#, vec!["a\"b\\cé".into()]),
            ("[]", vec![]),
            ("stop", vec!["stop".into()]),
            (r#"["stop""#, vec![r#"["stop""#.into()]),
            (r#"["stop",]"#, vec![r#"["stop",]"#.into()]),
            (r#"[1, 2]"#, vec!["[1, 2]".into()]),
            (&long, vec!["x".repeat(MAX_FINISH_REASON_BYTES)]),
            // Rust `Debug` arrays (tirea) and adk-rust's comma-joined reasons.
            (r#"["END", "STOP"]"#, vec!["END".into(), "STOP".into()]),
            (r#"["a\'b\u{e9}\u{1f600}"]"#, vec!["a'b\u{e9}\u{1f600}".into()]),
            ("stop,length", vec!["stop".into(), "length".into()]),
        ];
        for (raw, want) in table {
            assert_eq!(array(finish_reasons(raw)), want, "{raw}");
        }
        assert_eq!(array(finish_reasons(&many)).len(), MAX_FINISH_REASONS);
        // A stop sequence is never split on its commas.
        assert_eq!(array(string_list(crate::semconv::GEN_AI_REQUEST_STOP_SEQUENCES, "a,b")), vec!["a,b".to_owned()]);
    }

    #[test]
    fn status_codes() {
        for (raw, want) in [
            ("error", Some(OtelStatus::Error)),
            (" ERROR ", Some(OtelStatus::Error)),
            ("ok", Some(OtelStatus::Ok)),
            ("Ok", Some(OtelStatus::Ok)),
            ("unset", None),
            ("nonsense", None),
        ] {
            assert_eq!(parse_status_code(raw), want, "{raw}");
        }
    }
}
