//! Property tests: the parsers that read untrusted input, and the field visitor, against generated input.
//!
//! Each property is a promise made by a module's docs or by the wire contract (CONTRACT.md §4–§6):
//! W3C baggage and `traceparent` parsing is bounded and lenient, `extract` only lets validated values
//! through, the config loader turns every bad file or variable into an error rather than a panic and
//! applies code > environment > YAML, the scrubber never lets generated PII through (also across the
//! `scrub_bounded` cut), and every field value reaches the exported span with the right OTel type.
//!
//! Case counts are per property, sized so the file runs in a few seconds in a debug build;
//! `PROPTEST_CASES=N` overrides them all for a longer soak. Failure persistence is off: a minimal
//! failing input found here becomes a plain `#[test]` next to the property. Speed (linear time) is
//! checked only by completing; timings belong to `benches/`.
mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use botanu::__private::w3c::{self, TraceParent, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, MAX_MEMBER_BYTES};
use botanu::config::{Config, ConfigSource, PropagationMode};
use botanu::content::{truncate_chars, ScrubOptions, Scrubber};
use botanu::prelude::*;
use botanu::propagation::{self, RemoteContext};
use botanu::semconv::{self as k, propagation as p};
use common::*;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

// === harness ===

/// Runs `test` on `cases` inputs from `strategy` (or `$PROPTEST_CASES`), panicking with the minimal
/// failing input. A plain runner rather than `proptest!` so a property can share state (a pipeline)
/// across its cases.
fn check<S>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    if let Err(err) = TestRunner::new(config).run(&strategy, test) {
        panic!("{err}");
    }
}

/// Characters the parsers under test treat specially, mixed with arbitrary ones.
fn hostile_char() -> impl Strategy<Value = char> {
    const SPECIAL: &[char] = &[
        ',', ';', '=', '%', ' ', '\t', '\r', '\n', '\0', '\u{7f}', '\u{85}', '\u{feff}', '\u{2028}', '-', ':', '.',
        '@', '+', '$', '{', '}', '[', ']', '&', '*', '#', '!', '\'', '"', '0', '1', '9', 'a', 'f', 'F', 'x', 'é', '😀',
    ];
    prop_oneof![3 => select(SPECIAL), 2 => any::<char>(), 2 => proptest::char::range('!', '~')]
}

/// Arbitrary text of up to `max` characters, biased towards [`hostile_char`]s.
fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    vec(hostile_char(), 0..=max).prop_map(String::from_iter)
}

/// A generated string whose `Debug` folds long runs (`"a=" + 'x' * 4000 + ",b=1"`), so that a
/// failing input of many kilobytes is still readable, and reproducible, in the test output.
#[derive(Clone, PartialEq, Eq)]
struct Text(String);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&compact(&self.0))
    }
}

/// `s` as a Rust-like expression with runs of 16 or more equal characters folded.
fn compact(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let (mut parts, mut literal, mut i) = (Vec::new(), String::new(), 0);
    while let Some(&c) = chars.get(i) {
        let run = chars[i..].iter().take_while(|&&d| d == c).count();
        if run >= 16 {
            if !literal.is_empty() {
                parts.push(format!("{literal:?}"));
                literal.clear();
            }
            parts.push(format!("{c:?} * {run}"));
        } else {
            literal.extend(&chars[i..i + run]);
        }
        i += run;
    }
    if !literal.is_empty() || parts.is_empty() {
        parts.push(format!("{literal:?}"));
    }
    parts.join(" + ")
}

/// Baggage entries, long values folded.
fn show_entries(entries: &[(String, String)]) -> String {
    let shown: Vec<String> = entries.iter().map(|(k, v)| format!("({}, {})", compact(k), compact(v))).collect();
    format!("[{}]", shown.join(", "))
}

/// Text a producer could legitimately send as a name or id: trimmed, no control characters,
/// 1 to `max_chars` characters (so at most 4 × `max_chars` bytes).
fn clean_name(max_chars: usize) -> impl Strategy<Value = String> {
    vec(
        any::<char>().prop_filter("control or invisible", |c| !c.is_control() && !is_invisible_format(*c)),
        1..=max_chars,
    )
    .prop_map(|chars| {
        let s = String::from_iter(chars);
        match s.trim() {
            "" => "w".to_owned(),
            t => t.to_owned(),
        }
    })
}

/// Bidi controls and zero-width characters, which inbound names may not contain (issue 18).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A UUID in any case, sometimes padded with blanks.
fn uuid_text() -> impl Strategy<Value = String> {
    (any::<u128>(), any::<bool>(), select(&["", " ", "\t"][..])).prop_map(|(n, upper, pad)| {
        let h = format!("{n:032x}");
        let id = format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
        let id = if upper { id.to_ascii_uppercase() } else { id };
        format!("{pad}{id}{pad}")
    })
}

fn is_lower_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// RFC 7230 token characters, spelled out here rather than taken from `w3c`.
fn is_token(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A fresh path under the system temp dir, removed (file or directory) on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(what: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!("botanu-proptest-{}-{n}-{nanos}-{what}", std::process::id())))
    }

    fn dir() -> Self {
        let dir = TempPath::new("dir");
        std::fs::create_dir_all(&dir.0).expect("create temp dir");
        dir
    }

    fn file(contents: &[u8]) -> Self {
        let file = TempPath::new("botanu.yaml");
        std::fs::write(&file.0, contents).expect("write temp file");
        file
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// === baggage ===

const BOTANU_BAGGAGE_KEYS: &[&str] = &[
    k::RUN_ID,
    k::WORKFLOW,
    k::EVENT_ID,
    k::CUSTOMER_ID,
    k::TENANT_ID,
    k::ENVIRONMENT,
    k::PARENT_RUN_ID,
    k::ROOT_RUN_ID,
    k::ATTEMPT,
    k::RETRY_OF_RUN_ID,
    p::DEADLINE,
    p::CANCELLED,
];

fn baggage_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
        2 => select(BOTANU_BAGGAGE_KEYS).prop_map(str::to_owned),
        1 => hostile_text(12),
        1 => "[a-z]{250,270}",
    ]
}

fn baggage_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>().prop_map(|s| w3c::percent_encode(&s)),
        2 => hostile_text(40),
        1 => "(%[0-9A-Fa-fgZ]{0,2}[a-z]?){1,8}",
        1 => uuid_text(),
        1 => (0usize..5000).prop_map(|n| "v".repeat(n)),
    ]
}

fn baggage_member() -> impl Strategy<Value = String> {
    let ows = || select(&["", " ", "\t", "  "][..]);
    let props = prop_oneof![4 => Just(String::new()), 1 => Just(";p=1".to_owned()), 1 => hostile_text(8)];
    (ows(), baggage_key(), ows(), ows(), baggage_value(), props)
        .prop_map(|(a, key, b, c, value, props)| format!("{a}{key}{b}={c}{value}{props}"))
}

/// Members of 2 KiB to 4 KiB whose separating commas fall at, just before or just after the
/// 8192-byte limit: the edge of the "a member cut by that limit is dropped" rule.
fn baggage_at_the_limit() -> impl Strategy<Value = String> {
    (2048usize..=4000, 2048usize..=4000, -2isize..=2, baggage_member()).prop_map(|(a, b, delta, tail)| {
        let first = format!("a={}", "x".repeat(a - 2));
        let second = format!("b={}", "y".repeat(b - 2));
        // The third member ends (its comma sits) at byte 8192 + delta.
        let used = first.len() + second.len() + 2;
        let third_len = (MAX_BAGGAGE_BYTES as isize + delta) as usize - used;
        let third = format!("c={}", "z".repeat(third_len - 2));
        format!("{first},{second},{third},{tail}")
    })
}

fn baggage_header() -> impl Strategy<Value = Text> {
    let header = prop_oneof![
        3 => hostile_text(300),
        // Up to ~20 KB: a random unit repeated (cheaper to generate and shrink than 20,000 random chars).
        1 => (hostile_text(64), 1usize..20_000).prop_map(|(unit, bytes)| unit.repeat(bytes / unit.len().max(1))),
        4 => vec(baggage_member(), 0..40).prop_map(|m| m.join(",")),
        2 => vec(baggage_member(), 170..260).prop_map(|m| m.join(",")),
        1 => (vec(baggage_member(), 0..20), 0usize..3000).prop_map(|(m, commas)| {
            format!("{}{}{}", ",".repeat(commas), m.join(",,"), ",".repeat(commas / 2))
        }),
        2 => baggage_at_the_limit(),
    ];
    header.prop_map(Text)
}

/// `entries` with later duplicates of a key removed.
fn first_per_key(entries: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    entries.into_iter().filter(|(key, _)| seen.insert(key.clone())).collect()
}

/// What `parse_baggage` reads of a header longer than the limit: the members that end within its
/// first 8192 bytes, i.e. everything before the last comma at or before byte 8192.
fn within_limit(header: &str) -> &str {
    if header.len() <= MAX_BAGGAGE_BYTES {
        return header;
    }
    match header.as_bytes()[..=MAX_BAGGAGE_BYTES].iter().rposition(|&b| b == b',') {
        Some(comma) => &header[..comma],
        None => "",
    }
}

#[test]
fn baggage_parsing_is_bounded_lenient_per_member_and_never_panics() {
    check(96, baggage_header(), |header| {
        let parsed = w3c::parse_baggage(&header);
        prop_assert!(parsed.len() <= MAX_BAGGAGE_MEMBERS);
        let mut keys = HashSet::new();
        for (key, value) in &parsed {
            prop_assert!(is_token(key), "invalid key {key:?}");
            prop_assert!(keys.insert(key), "duplicate key {key:?}");
            // Decoding only shrinks, so the member this came from bounds key and value.
            prop_assert!(key.len() + 1 + value.len() <= MAX_MEMBER_BYTES, "{}: {} bytes", compact(key), value.len());
        }
        // Only members that end within the byte limit are read...
        let read = within_limit(&header);
        let from_read = w3c::parse_baggage(read);
        prop_assert!(parsed == from_read, "{} != {}", show_entries(&parsed), show_entries(&from_read));
        // ...each on its own (a malformed one is skipped, the rest kept), the first value of a key
        // winning, and at most the first 180 members counting.
        let members: Vec<&str> = read.split(',').collect();
        let one_by_one = first_per_key(members.iter().flat_map(|m| w3c::parse_baggage(m)));
        let shown = || format!("{} vs one by one {}", show_entries(&parsed), show_entries(&one_by_one));
        prop_assert!(one_by_one.starts_with(&parsed), "{}", shown());
        prop_assert!(members.len() > MAX_BAGGAGE_MEMBERS || parsed == one_by_one, "{}", shown());
        Ok(())
    });
}

/// Found by `baggage_parsing_is_bounded_lenient_per_member_and_never_panics`: a member whose comma
/// sits exactly at byte 8192 ends within the limit, but is dropped with the member cut by it.
#[test]
fn baggage_member_ending_exactly_at_the_limit_is_kept() {
    let first = format!("a={}", "x".repeat(4000));
    let second = format!("b={}", "y".repeat(4000));
    let third = format!("c={}", "z".repeat(MAX_BAGGAGE_BYTES - first.len() - second.len() - 2 - 2));
    let header = format!("{first},{second},{third},d=1");
    assert_eq!(header.find(",d=1"), Some(MAX_BAGGAGE_BYTES));
    let keys: Vec<String> = w3c::parse_baggage(&header).into_iter().map(|(key, _)| key).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

fn format_entries() -> impl Strategy<Value = Vec<(String, Text)>> {
    let key = prop_oneof![
        6 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}",
        1 => hostile_text(6),
        1 => "[a-z]{250,260}",
    ];
    let value = prop_oneof![
        6 => any::<String>(),
        2 => hostile_text(30),
        1 => (0usize..3000).prop_map(|n| "é".repeat(n)),
    ]
    .prop_map(Text);
    let short = "[a-z%]{0,3}".prop_map(Text);
    prop_oneof![
        4 => vec((key.clone(), value.clone()), 0..12),
        // Past the byte limits...
        1 => vec((key.clone(), value), 20..60),
        // ...and past the member limit.
        1 => vec((key, short), 170..260),
    ]
}

#[test]
fn formatted_baggage_is_a_valid_bounded_header_that_parses_back() {
    check(96, format_entries(), |entries| {
        let header = w3c::format_baggage(entries.iter().map(|(key, value)| (key.as_str(), &**value)));
        prop_assert!(header.len() <= MAX_BAGGAGE_BYTES, "{} bytes", header.len());
        // Visible ASCII only: no CR, LF, space or other control character can reach a header.
        prop_assert!(header.bytes().all(|b| (0x21..0x7f).contains(&b)), "{}", compact(&header));
        let members: Vec<&str> = if header.is_empty() { Vec::new() } else { header.split(',').collect() };
        prop_assert!(members.len() <= MAX_BAGGAGE_MEMBERS);
        prop_assert!(members.iter().all(|m| m.len() <= MAX_MEMBER_BYTES));

        // Each valid entry is written, in order, unless it would push the header past a limit.
        let (mut expected, mut bytes) = (Vec::new(), 0usize);
        for (key, value) in &entries {
            if !is_token(key) {
                continue;
            }
            let member = key.len() + 1 + w3c::percent_encode(value).len();
            let fits = expected.len() < MAX_BAGGAGE_MEMBERS
                && member <= MAX_MEMBER_BYTES
                && bytes + member + usize::from(bytes > 0) <= MAX_BAGGAGE_BYTES;
            if fits {
                bytes += member + usize::from(bytes > 0);
                expected.push((key.clone(), value.0.clone()));
            }
        }
        let written: Vec<(String, String)> = members
            .iter()
            .map(|m| {
                let (key, value) = m.split_once('=').unwrap_or((m, ""));
                (key.to_owned(), w3c::percent_decode(value).unwrap_or_else(|| format!("<undecodable {value:?}>")))
            })
            .collect();
        prop_assert!(written == expected, "{} != {}", show_entries(&written), show_entries(&expected));
        // Parsing it back gives every value exactly (the first per key).
        let (parsed, expected) = (w3c::parse_baggage(&header), first_per_key(expected));
        prop_assert!(parsed == expected, "{} != {}", show_entries(&parsed), show_entries(&expected));
        Ok(())
    });
}

#[test]
fn percent_encoding_round_trips_and_leaves_no_delimiter() {
    check(256, prop_oneof![any::<String>(), hostile_text(64)], |text| {
        let encoded = w3c::percent_encode(&text);
        prop_assert!(
            encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+/:?@%".contains(&b)),
            "{encoded:?}"
        );
        prop_assert_eq!(w3c::percent_decode(&encoded), Some(text.clone()));
        // Decoding arbitrary text never panics and never yields more bytes than it read.
        if let Some(decoded) = w3c::percent_decode(&text) {
            prop_assert!(decoded.len() <= text.len());
        }
        Ok(())
    });
}

// === traceparent ===

fn traceparent_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => hostile_text(80),
        1 => hostile_text(600),
        4 => (
            select(&["", " ", "\t"][..]),
            "[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}",
            prop_oneof![3 => Just(String::new()), 1 => "-[ -~]{0,20}", 1 => hostile_text(4)],
        )
            .prop_map(|(pad, tp, tail)| format!("{pad}{tp}{tail}{pad}")),
        2 => (select(&["00", "01", "cc", "fe", "ff"][..]), any::<u128>(), any::<u64>(), any::<u8>())
            .prop_map(|(v, t, s, f)| format!("{v}-{t:032x}-{s:016x}-{f:02x}")),
    ]
}

#[test]
fn traceparent_parsing_never_panics_and_accepts_only_well_formed_values() {
    check(512, traceparent_text(), |text| {
        let Some(tp) = w3c::parse_traceparent(&text) else { return Ok(()) };
        prop_assert!(tp.trace_id != 0 && tp.span_id != 0);
        let formatted = w3c::format_traceparent(&tp);
        prop_assert_eq!(w3c::parse_traceparent(&formatted), Some(tp));
        let trimmed = text.trim();
        let hex_lower = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let fields: Vec<&str> = trimmed.split('-').collect();
        prop_assert!(fields.len() >= 4 && fields[0] != "ff" && fields[..4].iter().all(|f| hex_lower(f)), "{text:?}");
        if fields[0] == "00" {
            // Version 00 is exactly 55 bytes, and formats back to itself.
            prop_assert_eq!(formatted.as_str(), trimmed);
        }
        Ok(())
    });
}

#[test]
fn traceparent_round_trips_for_nonzero_ids() {
    check(512, (any::<u128>(), any::<u64>(), any::<u8>()), |(trace_id, span_id, flags)| {
        let tp = TraceParent { trace_id, span_id, flags };
        let text = w3c::format_traceparent(&tp);
        prop_assert_eq!(text.len(), 55);
        let expected = (trace_id != 0 && span_id != 0).then_some(tp);
        prop_assert_eq!(w3c::parse_traceparent(&text), expected);
        Ok(())
    });
}

// === extract / inject ===

/// A `botanu.*` baggage value: well-formed, almost well-formed, hostile or too long.
fn botanu_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => uuid_text(),
        3 => clean_name(40),
        2 => hostile_text(40),
        1 => "-?[0-9]{1,20}",
        1 => select(&["true", "TRUE", " true ", "false", "1", "0", "10000", "10001"][..]).prop_map(str::to_owned),
        1 => (0usize..600).prop_map(|n| "n".repeat(n)),
    ]
}

/// A botanu baggage header: usually a run id and a workflow (either may be malformed), other botanu
/// keys and foreign members, in any order; values mostly percent-encoded, sometimes raw.
fn botanu_baggage() -> impl Strategy<Value = String> {
    fn member(key: &'static str, value: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        (value, 0u8..4).prop_map(move |(value, raw)| match raw {
            0 => format!("{key}={value}"),
            _ => format!("{key}={}", w3c::percent_encode(&value)),
        })
    }
    let run_id = member(k::RUN_ID, prop_oneof![4 => uuid_text(), 1 => botanu_value()]);
    let workflow = member(k::WORKFLOW, prop_oneof![4 => clean_name(40), 1 => botanu_value()]);
    let others = vec(
        prop_oneof![
            2 => select(BOTANU_BAGGAGE_KEYS).prop_flat_map(|key| member(key, botanu_value())),
            1 => baggage_member(),
        ],
        0..12,
    );
    (proptest::option::weighted(0.9, run_id), proptest::option::weighted(0.9, workflow), others)
        .prop_map(|(run_id, workflow, mut members)| {
            members.extend(run_id.into_iter().chain(workflow));
            members
        })
        .prop_shuffle()
        .prop_map(|members| members.join(","))
}

/// A header name in random ASCII case.
fn cased(name: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(name.to_owned()),
        1 => vec(any::<bool>(), name.len()).prop_map(move |upper| {
            name.chars().zip(upper).map(|(c, u)| if u { c.to_ascii_uppercase() } else { c }).collect()
        }),
    ]
}

/// Inbound headers: trace context, baggage and the `x-botanu-*` fallbacks, each present or not and
/// well-formed or not, plus unrelated headers.
fn header_map() -> impl Strategy<Value = Vec<(String, Text)>> {
    fn header(
        probability: f64,
        name: &'static str,
        value: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = Option<(String, Text)>> {
        proptest::option::weighted(probability, (cased(name), value).prop_map(|(name, value)| (name, Text(value))))
    }
    (
        header(
            0.7,
            p::TRACEPARENT,
            prop_oneof![
                1 => traceparent_text(),
                1 => (any::<u128>(), any::<u64>(), any::<u8>()).prop_map(|(trace_id, span_id, flags)| {
                    w3c::format_traceparent(&TraceParent { trace_id, span_id, flags })
                }),
            ],
        ),
        header(0.3, p::TRACESTATE, prop_oneof!["[ -~]{0,600}", hostile_text(40)]),
        header(0.8, p::BAGGAGE, prop_oneof![4 => botanu_baggage(), 1 => baggage_header().prop_map(|h| h.0)]),
        header(0.3, p::HEADER_RUN_ID, prop_oneof![3 => uuid_text(), 1 => botanu_value()]),
        header(0.3, p::HEADER_WORKFLOW, prop_oneof![3 => clean_name(40), 1 => botanu_value()]),
        header(0.2, p::HEADER_CUSTOMER_ID, botanu_value()),
        vec((hostile_text(16), hostile_text(40).prop_map(Text)), 0..3),
    )
        .prop_map(|(tp, ts, baggage, run_id, workflow, customer, mut others)| {
            others.extend([tp, ts, baggage, run_id, workflow, customer].into_iter().flatten());
            others
        })
}

fn no_control(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

fn check_remote(remote: &RemoteContext) -> Result<(), TestCaseError> {
    if let Some((trace_id, span_id)) = remote.ids() {
        prop_assert!(trace_id != opentelemetry::trace::TraceId::INVALID);
        prop_assert!(span_id != opentelemetry::trace::SpanId::INVALID);
    }
    if let Some(ts) = remote.trace_state() {
        prop_assert!(remote.ids().is_some(), "tracestate without traceparent");
        prop_assert!(ts.len() <= w3c::MAX_TRACESTATE_BYTES && ts.bytes().all(|b| (0x20..0x7f).contains(&b)));
    }
    prop_assert!(remote.entries().len() <= MAX_BAGGAGE_MEMBERS);
    for (key, _) in remote.entries() {
        prop_assert!(is_token(key) && !key.starts_with(k::METADATA_PREFIX), "entry {key:?}");
    }
    let Some(run) = remote.run() else { return Ok(()) };
    prop_assert!(is_lower_uuid(&run.run_id), "run id {:?}", run.run_id);
    for id in [&run.parent_run_id, &run.root_run_id, &run.retry_of_run_id].into_iter().flatten() {
        prop_assert!(is_lower_uuid(id), "run id {id:?}");
    }
    let names = [(Some(&run.workflow), 128), (run.environment.as_ref(), 128)];
    let ids = [(run.event_id.as_ref(), 256), (run.customer_id.as_ref(), 256), (run.tenant_id.as_ref(), 256)];
    for (value, max) in names.into_iter().chain(ids) {
        if let Some(value) = value {
            prop_assert!(!value.is_empty() && value.len() <= max && no_control(value), "{value:?}");
            prop_assert_eq!(value.trim(), value.as_str());
        }
    }
    prop_assert!((1..=10_000).contains(&run.attempt), "attempt {}", run.attempt);
    prop_assert!(run.deadline_ms.is_none_or(|d| d > 0));
    Ok(())
}

#[test]
fn extract_never_panics_and_only_lets_validated_values_through() {
    check(256, header_map(), |headers| {
        let headers: HashMap<String, String> = headers.into_iter().map(|(name, value)| (name, value.0)).collect();
        let remote = propagation::extract(&headers);
        check_remote(&remote)
    });
}

#[derive(Debug, Clone)]
struct ProducedRun {
    full: bool,
    workflow: String,
    event_id: String,
    customer_id: String,
    tenant_id: String,
    attempt: i64,
}

fn produced_run() -> impl Strategy<Value = ProducedRun> {
    (any::<bool>(), clean_name(30), clean_name(60), clean_name(60), clean_name(60), 1i64..=10_000).prop_map(
        |(full, workflow, event_id, customer_id, tenant_id, attempt)| ProducedRun {
            full,
            workflow,
            event_id,
            customer_id,
            tenant_id,
            attempt,
        },
    )
}

#[test]
fn inject_then_extract_carries_the_run() {
    let lean = Harness::new();
    let full = Harness::with(|b| b.with_propagation_mode(PropagationMode::Full));
    check(48, produced_run(), |run| {
        let h = if run.full { &full } else { &lean };
        let mut headers: HashMap<String, String> = HashMap::new();
        h.run(|| {
            run_span!(
                workflow = %run.workflow,
                event_id = %run.event_id,
                customer_id = %run.customer_id,
                tenant_id = %run.tenant_id,
                attempt = run.attempt
            )
            .in_scope(|| propagation::inject(&mut headers));
        });
        let spans = h.spans();
        h.exporter.reset();
        let [span] = spans.as_slice() else { return Err(TestCaseError::fail(format!("{} spans", spans.len()))) };
        for value in headers.values() {
            prop_assert!(value.bytes().all(|b| (0x21..0x7f).contains(&b)), "header value {value:?}");
        }
        let remote = propagation::extract(&headers);
        check_remote(&remote)?;
        prop_assert_eq!(
            remote.ids(),
            Some((span.span_context.trace_id(), span.span_context.span_id())),
            "the run span is the remote parent"
        );
        let inbound = remote.run().ok_or_else(|| TestCaseError::fail(format!("no run in {headers:?}")))?;
        prop_assert_eq!(inbound.run_id.as_str(), str_attr(span, k::RUN_ID));
        prop_assert_eq!(&inbound.workflow, &run.workflow);
        if run.full {
            prop_assert_eq!(inbound.event_id.as_ref(), Some(&run.event_id));
            prop_assert_eq!(inbound.customer_id.as_ref(), Some(&run.customer_id));
            prop_assert_eq!(inbound.tenant_id.as_ref(), Some(&run.tenant_id));
            prop_assert_eq!(inbound.environment.as_deref(), Some("test"));
        } else {
            prop_assert_eq!(inbound.event_id.as_ref(), None);
            prop_assert_eq!(inbound.customer_id.as_ref(), None);
        }
        // The retry chain travels in both modes (CONTRACT.md §4).
        prop_assert_eq!(inbound.attempt, run.attempt);
        Ok(())
    });
}

// === config ===

const ENV_KEYS: &[&str] = &[
    "BOTANU_SERVICE_NAME",
    "OTEL_SERVICE_NAME",
    "BOTANU_ENVIRONMENT",
    "BOTANU_COLLECTOR_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "BOTANU_MAX_EXPORT_BATCH_SIZE",
    "BOTANU_MAX_QUEUE_SIZE",
    "BOTANU_SCHEDULE_DELAY_MILLIS",
    "BOTANU_CONTENT_CAPTURE_RATE",
    "BOTANU_CONTENT_MAX_CHARS",
    "BOTANU_PII_SCRUB_ENABLED",
    "BOTANU_PII_SCRUB_DISABLE_PATTERNS",
    "BOTANU_PII_SCRUB_REPLACEMENT",
    "BOTANU_PROPAGATION_MODE",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SDK_DISABLED",
    "OTEL_RESOURCE_ATTRIBUTES",
    // Referenced as `${A}` / `${B}` by the generated YAML.
    "A",
    "B",
];

/// Scalars that mean something to the loader, and ones that break YAML.
const YAML_SCALARS: &[&str] = &[
    "",
    "~",
    "null",
    "0",
    "1",
    "-1",
    "512",
    "99999999999999999999999",
    "1e3",
    "0.5",
    "NaN",
    "-inf",
    "true",
    "No",
    "lean",
    "FULL",
    "grpc",
    "http/protobuf",
    "http://localhost:4318",
    "http://u:p@h/x",
    "https://x.botanu.ai",
    "[a, b]",
    "{a: 1}",
    "[email, ipv4]",
    "&a x",
    "*a",
    "*nope",
    "!!str 5",
    "|",
    ">-",
    "'quoted'",
    "\"dq\\n\"",
    "\"\\r\\n\"",
    "${A}",
    "${A:-d}",
    "${B:-}",
    "$${A}",
    "${",
    "${1bad}",
    "${A",
    "'${A}'",
    "- x",
    "? x",
    "#c",
    "---",
    "...",
    "%YAML 1.2",
    "\t",
    "'unterminated",
    "\"\\x",
    "@",
    "`",
];

const YAML_KEYS: &[&str] = &[
    "service",
    "name",
    "environment",
    "version",
    "namespace",
    "otlp",
    "endpoint",
    "headers",
    "protocol",
    "authorization",
    "export",
    "batch_size",
    "queue_size",
    "delay_ms",
    "export_timeout_ms",
    "metric_interval_ms",
    "all_spans",
    "eval",
    "content_capture_rate",
    "max_chars",
    "pii",
    "enabled",
    "disable_patterns",
    "custom_patterns",
    "replacement",
    "propagation",
    "mode",
    "trust_inbound",
    "<<",
    "? ",
    "- ",
];

fn yaml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(YAML_SCALARS).prop_map(str::to_owned),
        2 => hostile_text(30),
        1 => "[0-9]{1,25}",
        1 => "-?[0-9]{0,5}\\.[0-9]{0,5}(e-?[0-9]{1,3})?",
        1 => "[a-z(){}\\[\\]\\\\.*+?|^$]{1,12}",
    ]
}

/// Line-by-line YAML: random indentation, keys, separators and values, mostly well-formed.
fn yaml_lines() -> impl Strategy<Value = String> {
    let key = prop_oneof![5 => select(YAML_KEYS).prop_map(str::to_owned), 1 => "[a-z_.]{1,8}", 1 => hostile_text(6)];
    let line = (0usize..4, key, select(&[": ", ":", ": ", " : ", ":\t", "", ": &a ", ": *a "][..]), yaml_scalar())
        .prop_map(|(indent, key, sep, value)| format!("{}{key}{sep}{value}", "  ".repeat(indent)));
    vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

/// Values each key accepts.
const YAML_VALID: &[&str] =
    &["512", "1", "0.5", "'2000'", "true", "no", "lean", "full", "grpc", "http://localhost:4318", "svc", "[email]"];

/// A well-formed document over the known sections, with valid or arbitrary values: reaches value
/// checking.
fn yaml_document() -> impl Strategy<Value = String> {
    const SECTIONS: &[(&str, &[&str])] = &[
        ("service", &["name", "environment", "version", "namespace"]),
        ("otlp", &["endpoint", "protocol", "headers"]),
        ("export", &["batch_size", "queue_size", "delay_ms", "export_timeout_ms", "metric_interval_ms", "all_spans"]),
        ("eval", &["content_capture_rate", "max_chars", "pii"]),
        ("propagation", &["mode", "trust_inbound"]),
    ];
    let value = prop_oneof![3 => select(YAML_VALID).prop_map(str::to_owned), 1 => yaml_scalar()];
    let entry = (any::<prop::sample::Index>(), any::<prop::sample::Index>(), value, 0u8..6);
    vec(entry, 0..10).prop_map(|entries| {
        let mut sections: Vec<(&str, Vec<(&str, String)>)> = Vec::new();
        for (section, key, value, style) in entries {
            let (section, keys) = section.get(SECTIONS);
            let key = key.get(keys);
            let value = match style {
                0 => format!("'{}'", value.replace('\'', "''")),
                1 => format!("[{value}, x]"),
                2 => format!(
                    "\n      enabled: {value}\n      custom_patterns:\n        c: '{}'",
                    value.replace('\'', "''")
                ),
                _ => value,
            };
            match sections.iter_mut().position(|(name, _)| name == section) {
                Some(i) if sections[i].1.iter().any(|(k, _)| k == key) => {}
                Some(i) => sections[i].1.push((key, value)),
                None => sections.push((section, vec![(key, value)])),
            }
        }
        let mut doc = String::new();
        for (section, keys) in sections {
            doc.push_str(&format!("{section}:\n"));
            for (key, value) in keys {
                doc.push_str(&format!("  {key}: {value}\n"));
            }
        }
        doc
    })
}

/// `&a [*b, *b, ...]` chains (the billion laughs) and deep nesting: bounded by the loader.
fn yaml_bomb() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..12, 2usize..10).prop_map(|(levels, width)| {
            let mut doc = "l0: &l0 [x, x]\n".to_owned();
            for level in 1..=levels {
                let refs = vec![format!("*l{}", level - 1); width].join(", ");
                doc.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
            }
            doc
        }),
        (1usize..5000, select(&["[", "{a: ", "- ", "a:\n "][..])).prop_map(|(depth, open)| open.repeat(depth)),
    ]
}

/// A config file's contents: text, or bytes that need not be UTF-8.
#[derive(Debug, Clone)]
enum YamlFile {
    Text(Text),
    Bytes(Vec<u8>),
}

impl YamlFile {
    fn bytes(&self) -> &[u8] {
        match self {
            YamlFile::Text(text) => text.as_bytes(),
            YamlFile::Bytes(bytes) => bytes,
        }
    }
}

fn yaml_file() -> impl Strategy<Value = YamlFile> {
    let text = prop_oneof![
        3 => yaml_document(),
        3 => yaml_lines(),
        2 => hostile_text(400),
        1 => yaml_bomb(),
        1 => (yaml_document(), any::<bool>()).prop_map(|(doc, crlf)| {
            let doc = if crlf { doc.replace('\n', "\r\n") } else { doc };
            format!("\u{feff}{doc}")
        }),
    ];
    prop_oneof![9 => text.prop_map(|t| YamlFile::Text(Text(t))), 1 => vec(any::<u8>(), 0..200).prop_map(YamlFile::Bytes)]
}

/// Values that some of [`ENV_KEYS`] accept.
const ENV_VALID: &[&str] = &[
    "512",
    "0.25",
    "true",
    "0",
    "lean",
    "full",
    "grpc",
    "http/protobuf",
    "http://localhost:4318",
    "otlp",
    "console",
    "none",
    "k=v",
    "service.name=x,deployment.environment=y",
    "email, ipv4",
    "[X]",
];

fn env_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(ENV_VALID).prop_map(str::to_owned),
        3 => hostile_text(40),
        2 => yaml_scalar(),
        1 => "[A-Za-z0-9._-]{0,8}=[ -~]{0,12}(,[A-Za-z0-9._%-]{0,8}=[ -~]{0,12}){0,3}",
        1 => "(https?|ftp)://[a-z0-9:@.\\[\\]%-]{0,20}(/[a-z]{0,5})?",
    ]
}

fn env_map() -> impl Strategy<Value = HashMap<String, String>> {
    vec((select(ENV_KEYS), env_value()), 0..6)
        .prop_map(|pairs| pairs.into_iter().map(|(key, value)| (key.to_owned(), value)).collect())
}

/// What every loaded configuration satisfies, however it was written.
fn check_loaded(config: &Config) -> Result<(), TestCaseError> {
    prop_assert!(config.batch_size() >= 1 && config.batch_size() <= config.queue_size(), "{config:?}");
    prop_assert!((0.0..=1.0).contains(&config.content_capture_rate()), "{config:?}");
    prop_assert!(!config.service_name().is_empty(), "{config:?}");
    prop_assert!(!config.schedule_delay().is_zero() && !config.export_timeout().is_zero(), "{config:?}");
    Ok(())
}

#[test]
fn config_loading_never_panics_on_arbitrary_files_and_environments() {
    let empty_dir = TempPath::dir();
    check(256, (yaml_file(), env_map(), "[A-Za-z0-9]{24}", any::<bool>()), |(yaml, mut env, secret, use_file)| {
        // A credential that must never show in Debug output or an error message.
        env.insert("BOTANU_API_KEY".to_owned(), secret.clone());
        let file = TempPath::file(yaml.bytes());
        let source = ConfigSource::from_env_map(env).with_search_dir(empty_dir.path());
        let source = if use_file { source.with_file(file.path()) } else { source };
        match Config::load_from(&source) {
            Ok((config, warnings)) => {
                check_loaded(&config)?;
                prop_assert!(!format!("{config:?}").contains(&secret), "Debug shows the API key");
                prop_assert!(warnings.iter().all(|w| !w.is_empty() && !w.contains(&secret)), "{warnings:?}");
            }
            Err(err) => {
                let message = err.to_string();
                prop_assert!(!message.trim().is_empty(), "{err:?}");
                prop_assert!(!message.contains(&secret) && !format!("{err:?}").contains(&secret), "{message}");
            }
        }
        Ok(())
    });
}

/// One setting at each layer, any of them absent.
#[derive(Debug, Clone)]
struct Layered<T> {
    yaml: Option<T>,
    env: Option<T>,
    code: Option<T>,
}

impl<T: Clone> Layered<T> {
    fn expected(&self, default: T) -> T {
        self.code.clone().or_else(|| self.env.clone()).or_else(|| self.yaml.clone()).unwrap_or(default)
    }
}

fn layered<T: Debug + Clone>(value: impl Strategy<Value = T> + Clone) -> impl Strategy<Value = Layered<T>> {
    (proptest::option::of(value.clone()), proptest::option::of(value.clone()), proptest::option::of(value))
        .prop_map(|(yaml, env, code)| Layered { yaml, env, code })
}

#[derive(Debug, Clone)]
struct Settings {
    service_name: Layered<String>,
    environment: Layered<String>,
    batch_size: Layered<usize>,
    queue_size: Layered<usize>,
    delay_ms: Layered<u64>,
    timeout_ms: Layered<u64>,
    capture_rate: Layered<f64>,
    full_mode: Layered<bool>,
    /// How YAML writes a value: plain, quoted, or through `${VAR}` / `${UNSET:-default}`.
    yaml_style: u8,
}

fn settings() -> impl Strategy<Value = Settings> {
    // Every batch size fits every queue size, so no layer mix triggers the batch-to-queue cut.
    let name = "[a-z][a-z0-9-]{0,15}".prop_map(|s| format!("svc-{s}"));
    (
        (layered(name.clone()), layered(name)),
        (layered(1usize..=1000), layered(1001usize..=200_000)),
        (layered(1u64..=600_000), layered(1u64..=600_000)),
        (layered(0.0f64..=1.0), layered(any::<bool>())),
        0u8..4,
    )
        .prop_map(
            |(
                (service_name, environment),
                (batch_size, queue_size),
                (delay_ms, timeout_ms),
                (capture_rate, full_mode),
                yaml_style,
            )| Settings {
                service_name,
                environment,
                batch_size,
                queue_size,
                delay_ms,
                timeout_ms,
                capture_rate,
                full_mode,
                yaml_style,
            },
        )
}

fn mode_name(full: bool, upper: bool) -> &'static str {
    match (full, upper) {
        (true, false) => "full",
        (true, true) => "FULL",
        (false, false) => "lean",
        (false, true) => "Lean",
    }
}

impl Settings {
    /// The YAML file and the environment that carry the YAML and environment layers.
    fn sources(&self) -> (String, HashMap<String, String>) {
        let num = |v: Option<usize>| v.map(|v| v.to_string());
        let num64 = |v: Option<u64>| v.map(|v| v.to_string());
        let rate = |v: Option<f64>| v.map(|v| v.to_string());
        let mode = |v: Option<bool>, upper| v.map(|full| mode_name(full, upper).to_owned());
        let rows = [
            ("BOTANU_SERVICE_NAME", "service", "name", self.service_name.yaml.clone(), self.service_name.env.clone()),
            (
                "BOTANU_ENVIRONMENT",
                "service",
                "environment",
                self.environment.yaml.clone(),
                self.environment.env.clone(),
            ),
            (
                "BOTANU_MAX_EXPORT_BATCH_SIZE",
                "export",
                "batch_size",
                num(self.batch_size.yaml),
                num(self.batch_size.env),
            ),
            ("BOTANU_MAX_QUEUE_SIZE", "export", "queue_size", num(self.queue_size.yaml), num(self.queue_size.env)),
            ("BOTANU_SCHEDULE_DELAY_MILLIS", "export", "delay_ms", num64(self.delay_ms.yaml), num64(self.delay_ms.env)),
            (
                "BOTANU_EXPORT_TIMEOUT_MILLIS",
                "export",
                "export_timeout_ms",
                num64(self.timeout_ms.yaml),
                num64(self.timeout_ms.env),
            ),
            (
                "BOTANU_CONTENT_CAPTURE_RATE",
                "eval",
                "content_capture_rate",
                rate(self.capture_rate.yaml),
                rate(self.capture_rate.env),
            ),
            (
                "BOTANU_PROPAGATION_MODE",
                "propagation",
                "mode",
                mode(self.full_mode.yaml, true),
                mode(self.full_mode.env, false),
            ),
        ];
        let mut env = HashMap::new();
        let mut sections: Vec<(&str, String)> = Vec::new();
        for (i, (var, section, key, yaml, from_env)) in rows.into_iter().enumerate() {
            if let Some(value) = from_env {
                env.insert(var.to_owned(), value);
            }
            let Some(value) = yaml else { continue };
            let written = match self.yaml_style {
                0 => value,
                1 => format!("\"{value}\""),
                2 => {
                    let name = format!("PROPTEST_VAR_{i}");
                    env.insert(name.clone(), value);
                    format!("${{{name}}}")
                }
                _ => format!("${{PROPTEST_UNSET:-{value}}}"),
            };
            let line = format!("  {key}: {written}\n");
            match sections.iter_mut().find(|(name, _)| *name == section) {
                Some((_, body)) => body.push_str(&line),
                None => sections.push((section, line)),
            }
        }
        let doc = sections.iter().map(|(section, body)| format!("{section}:\n{body}")).collect();
        (doc, env)
    }
}

#[test]
fn config_layers_apply_code_over_environment_over_yaml_over_defaults() {
    let empty_dir = TempPath::dir();
    check(128, settings(), |s| {
        let (yaml, env) = s.sources();
        let file = TempPath::file(yaml.as_bytes());
        let source = ConfigSource::from_env_map(env.clone()).with_search_dir(empty_dir.path()).with_file(file.path());
        let (mut config, warnings) =
            Config::load_from(&source).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}\n{env:?}")))?;
        prop_assert!(warnings.is_empty(), "{warnings:?}");
        if let Some(v) = &s.service_name.code {
            config = config.with_service_name(v.clone());
        }
        if let Some(v) = &s.environment.code {
            config = config.with_environment(v.clone());
        }
        if let Some(v) = s.batch_size.code {
            config = config.with_batch_size(v);
        }
        if let Some(v) = s.queue_size.code {
            config = config.with_queue_size(v);
        }
        if let Some(v) = s.delay_ms.code {
            config = config.with_schedule_delay(Duration::from_millis(v));
        }
        if let Some(v) = s.timeout_ms.code {
            config = config.with_export_timeout(Duration::from_millis(v));
        }
        if let Some(v) = s.capture_rate.code {
            config = config.with_content_capture_rate(v);
        }
        if let Some(full) = s.full_mode.code {
            config = config.with_propagation_mode(if full { PropagationMode::Full } else { PropagationMode::Lean });
        }
        prop_assert_eq!(&config.service_name(), &s.service_name.expected("unknown_service".to_owned()));
        prop_assert_eq!(&config.environment(), &s.environment.expected("production".to_owned()));
        prop_assert_eq!(config.batch_size(), s.batch_size.expected(512));
        prop_assert_eq!(config.queue_size(), s.queue_size.expected(65_536));
        prop_assert_eq!(config.schedule_delay(), Duration::from_millis(s.delay_ms.expected(5_000)));
        prop_assert_eq!(config.export_timeout(), Duration::from_millis(s.timeout_ms.expected(30_000)));
        prop_assert_eq!(config.content_capture_rate(), s.capture_rate.expected(0.0));
        let full = s.full_mode.expected(false);
        prop_assert_eq!(config.propagation_mode(), if full { PropagationMode::Full } else { PropagationMode::Lean });
        Ok(())
    });
}

// === scrubber ===

/// The Luhn check digit that makes `payload` followed by it valid.
fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match (i % 2 == 0, d * 2) {
                (true, twice) if twice > 9 => twice - 9,
                (true, twice) => twice,
                (false, _) => d,
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// A Luhn-valid card number of 13 to 19 digits: bare, in groups of four, or with separators anywhere.
fn card() -> impl Strategy<Value = String> {
    (vec(0u8..10, 12..=18), 0u8..4, vec(select(&["", "", " ", "-"][..]), 18)).prop_map(|(mut digits, style, gaps)| {
        digits.push(luhn_check_digit(&digits));
        let mut out = String::new();
        for (i, digit) in digits.iter().enumerate() {
            match style {
                1 if i > 0 && i % 4 == 0 => out.push(' '),
                2 if i > 0 && i % 4 == 0 => out.push('-'),
                3 if i > 0 => out.push_str(gaps[i - 1]),
                _ => {}
            }
            out.push(char::from(b'0' + digit));
        }
        out
    })
}

fn ipv6() -> impl Strategy<Value = String> {
    (any::<[u16; 8]>(), 0u8..4, 0usize..8).prop_filter_map("IPv6 needs a decimal digit", |(groups, style, zeros)| {
        let mut groups = groups;
        // Runs of zero groups, so the compressed (`::`) forms come up.
        for g in groups.iter_mut().skip(zeros).take(style as usize * 2) {
            *g = 0;
        }
        let addr = std::net::Ipv6Addr::from(groups);
        let text = if style == 0 {
            groups.iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":")
        } else {
            addr.to_string()
        };
        text.bytes().any(|b| b.is_ascii_digit()).then_some(text)
    })
}

/// One piece of PII or a secret, with the detector meant to find it. Secrets are assembled at run
/// time so that no literal key sits in the source.
fn pii() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        ("[a-z][a-z0-9._%+-]{0,15}", "[a-z0-9]{1,10}(\\.[a-z0-9-]{1,8}){0,2}", "[a-z]{2,6}")
            .prop_map(|(local, domain, tld)| ("email", format!("{local}@{domain}.{tld}"))),
        card().prop_map(|c| ("credit_card", c)),
        "[0-9]{3}-[0-9]{2}-[0-9]{4}".prop_map(|s| ("ssn", s)),
        any::<[u8; 4]>().prop_map(|o| ("ipv4", format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]))),
        ipv6().prop_map(|a| ("ipv6", a)),
        "\\+[1-9][0-9]{6,14}".prop_map(|p| ("phone_e164", p)),
        prop_oneof![
            "\\([0-9]{3}\\) ?[0-9]{3}-[0-9]{4}",
            "[0-9]{3}-[0-9]{3}-[0-9]{4}",
            "[0-9]{3}\\.[0-9]{3}\\.[0-9]{4}"
        ]
        .prop_map(|p| ("phone_us", p)),
        "[0-9A-Z]{16}".prop_map(|body| ("aws_access_key", format!("{}{}{body}", "AK", "IA"))),
        (select(&['p', 'o', 'u', 's', 'r'][..]), "[A-Za-z0-9]{36,44}")
            .prop_map(|(kind, body)| ("github_token", format!("{}{kind}_{body}", "gh"))),
        (select(&['s', 'r'][..]), "[A-Za-z0-9]{24,32}")
            .prop_map(|(kind, body)| ("stripe_key", format!("{kind}k_{}_{body}", "live"))),
        (select(&['b', 'a', 'p', 'r', 's'][..]), "[A-Za-z0-9][A-Za-z0-9-]{8,30}")
            .prop_map(|(kind, body)| ("slack_token", format!("{}{kind}-{body}", "xox"))),
        "[A-Za-z0-9_-]{20,40}".prop_map(|body| ("anthropic_key", format!("sk-{}-{body}", "ant"))),
        (select(&["", "proj-"][..]), "[A-Za-z0-9_-]{20,40}")
            .prop_map(|(proj, body)| ("openai_key", format!("sk-{proj}{body}"))),
        ("[A-Za-z0-9_-]{4,30}", "[A-Za-z0-9_-]{4,30}", "[A-Za-z0-9_-]{0,30}")
            .prop_map(|(h, p, s)| ("jwt", format!("{}{h}.{p}.{s}", "eyJ"))),
        (select(&["Bearer", "bearer", "BEARER"][..]), 1usize..=4, "[A-Za-z0-9]{3,12}[0-9][A-Za-z0-9_~+/-]{4,20}={0,2}")
            .prop_map(|(scheme, spaces, token)| ("bearer_token", format!("{scheme}{}{token}", " ".repeat(spaces)))),
    ]
}

/// Separators that no built-in match can contain (each holds a byte outside `[A-Za-z0-9 -._~+/=%@():]`).
const SAFE_SEPARATORS: &[&str] = &["\n", ", ", "; ", " | ", "\t", "! ", "\"", "é", " 日本 ", "<", ">"];

/// Random text with PII embedded between safe separators.
#[derive(Debug, Clone)]
struct PiiText {
    /// `(filler, separator, pii, separator)` pieces, then a last filler.
    pieces: Vec<(String, &'static str, (&'static str, String), &'static str)>,
    tail: String,
}

impl PiiText {
    fn text(&self) -> String {
        let mut text = String::new();
        for (filler, before, (_, pii), after) in &self.pieces {
            text.push_str(&format!("{filler}{before}{pii}{after}"));
        }
        text.push_str(&self.tail);
        text
    }
}

fn pii_text() -> impl Strategy<Value = PiiText> {
    let filler = || prop_oneof![3 => hostile_text(60), 1 => "[a-z ]{0,60}", 1 => Just(String::new())];
    let piece = || (filler(), select(SAFE_SEPARATORS), pii(), select(SAFE_SEPARATORS));
    (prop_oneof![4 => vec(piece(), 1..6), 1 => vec(piece(), 20..50)], filler())
        .prop_map(|(pieces, tail)| PiiText { pieces, tail })
}

/// The `scrub_bounded` contract: at most `n` characters; exactly the first `n` characters of
/// `scrub(text)` when `exact`; otherwise a prefix of `scrub(text)`, possibly ending in (a cut of) the
/// replacement that hides a long token at the window edge, and never longer than the exact result.
fn check_bounded(full: &str, bounded: &str, n: usize, replacement: &str, exact: bool) -> Result<(), TestCaseError> {
    let expected = truncate_chars(full, n);
    prop_assert!(bounded.chars().count() <= n);
    if exact {
        prop_assert_eq!(bounded, expected);
        return Ok(());
    }
    prop_assert!(bounded.chars().count() <= expected.chars().count(), "longer than scrub-then-cut");
    let common = bounded.bytes().zip(full.bytes()).take_while(|(a, b)| a == b).count();
    let ok = (0..=common)
        .filter(|&split| bounded.is_char_boundary(split))
        .any(|split| replacement.starts_with(&bounded[split..]));
    prop_assert!(ok, "{:?} is neither a prefix of {:?} nor one followed by the replacement", bounded, full);
    Ok(())
}

fn scrubbers() -> Vec<Scrubber> {
    let custom = ScrubOptions {
        typed_replacement: true,
        custom: vec![("order".into(), r"\bORD-[0-9]{4,}\b".into()), ("word".into(), r"(?i)secret\w*".into())],
        ..ScrubOptions::default()
    };
    let fewer = ScrubOptions { disable: vec!["credit_card".into(), "ipv6".into()], ..ScrubOptions::default() };
    [ScrubOptions::default(), custom, fewer].iter().map(|opts| Scrubber::new(opts).expect("valid options")).collect()
}

/// Text for the scrubber: arbitrary, dense in what detectors look at, or a long run with no safe cut.
fn scrub_input() -> impl Strategy<Value = String> {
    let dense = select(
        &[
            'a', 'A', '0', '1', '8', '9', ' ', '.', ':', '-', '_', '@', '+', '(', ')', '%', '/', '=', '~', 'e', 'y',
            'J', 'K', 'B', 'b', 'x', 's', 'k', 'é', '日', '😀', '\n', ',',
        ][..],
    );
    prop_oneof![
        2 => any::<String>(),
        2 => hostile_text(600),
        3 => vec(dense, 0..3000).prop_map(String::from_iter),
        1 => (select(&["1 2-3 4 ", "ab", "::", "a@b.cd+", "1.2.3.4.", "eyJa.b."][..]), 30usize..600)
            .prop_map(|(unit, n)| unit.repeat(n)),
        // PII glued to arbitrary text and to each other: overlapping hits, hits at every cut.
        2 => vec(prop_oneof![pii().prop_map(|(_, pii)| pii), hostile_text(8), select(SAFE_SEPARATORS).prop_map(str::to_owned)], 0..120)
            .prop_map(|parts| parts.concat()),
    ]
}

#[test]
fn scrubbing_never_panics_and_scrub_bounded_is_scrub_then_cut() {
    let scrubbers = scrubbers();
    check(96, (scrub_input(), prop_oneof![0usize..40, 0usize..5000]), |(text, n)| {
        for scrubber in &scrubbers {
            let full = scrubber.scrub(&text);
            let bounded = scrubber.scrub_bounded(&text, n);
            // A text that fits in the first window (n + 256 characters) is scrubbed whole, then cut.
            let exact = text.chars().count() <= n + 256;
            check_bounded(&full, &bounded, n, scrubber.replacement(), exact)?;
        }
        Ok(())
    });
}

#[test]
fn generated_pii_never_survives_scrubbing() {
    let scrubber = Scrubber::default();
    check(256, (pii_text(), 0usize..2000), |(case, n)| {
        let text = case.text();
        let full = scrubber.scrub(&text);
        let bounded = scrubber.scrub_bounded(&text, n);
        let mut local = String::new();
        for (filler, before, (detector, pii), after) in &case.pieces {
            prop_assert!(!full.contains(pii.as_str()), "{detector} {pii:?} survived: {full:?}");
            prop_assert!(!bounded.contains(pii.as_str()), "{detector} {pii:?} survived the cut: {bounded:?}");
            prop_assert_eq!(scrubber.scrub(pii), "[REDACTED]", "{} {:?} alone", detector, pii);
            local.push_str(&format!("{}{before}[REDACTED]{after}", scrubber.scrub(filler)));
        }
        local.push_str(&scrubber.scrub(&case.tail));
        // No match crosses a safe separator, so each part is scrubbed as if alone.
        prop_assert_eq!(&full, &local);
        // Every run between safe cuts is short, so only the read budget ("about 4 × n characters")
        // can make the bounded result stop early.
        let chars = text.chars().count();
        check_bounded(&full, &bounded, n, scrubber.replacement(), chars <= n + 256 || chars <= 3 * n)
    });
}

#[test]
fn scrub_bounded_reads_a_bounded_window_of_pathological_input() {
    const UNITS: &[&str] = &[
        "1 2-3 4 ", "1 ", "1-", "4111 ", "::::", ":1", "1:", "@@@@", "a@", "a@b.", "1.1.1.1.", "+1", "+", "(415) ",
        "eyJ", "eyJa.", "Bearer ", "sk-", "xoxb-", "ghp_", "AK", "%", "-", "9", "a", "ff:",
    ];
    let scrubber = Scrubber::default();
    check(12, vec(select(UNITS), 1..6), |units| {
        let unit = units.concat();
        let small = unit.repeat(10 * 1024 / unit.len() + 1);
        let big = unit.repeat(1024 * 1024 / unit.len() + 1);
        let bounded_small = scrubber.scrub_bounded(&small, 4096);
        let bounded_big = scrubber.scrub_bounded(&big, 4096);
        check_bounded(&scrubber.scrub(&small), &bounded_small, 4096, scrubber.replacement(), false)?;
        prop_assert!(bounded_big.chars().count() <= 4096);
        Ok(())
    });
}

// === field visitor ===

#[derive(Debug, Clone)]
struct FieldValues {
    int: i64,
    unsigned: u64,
    late_unsigned: u64,
    float: f64,
    flag: bool,
    text: Text,
    late_text: Text,
}

fn unsigned() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), Just(u64::MAX), Just(i64::MAX as u64), Just(i64::MAX as u64 + 1), 0u64..1000,]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => select(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::MIN_POSITIVE, f64::MAX][..]),
    ]
}

fn field_text() -> impl Strategy<Value = Text> {
    prop_oneof![
        4 => any::<String>(),
        1 => Just(String::new()),
        1 => hostile_text(50),
        // Up to 100 KiB.
        1 => (hostile_text(16), 0usize..=100 * 1024).prop_map(|(unit, bytes)| {
            let unit = if unit.is_empty() { "x".to_owned() } else { unit };
            let mut text = unit.repeat(bytes / unit.len() + 1);
            let cut = (0..=bytes.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.truncate(cut);
            text
        }),
    ]
    .prop_map(Text)
}

fn field_values() -> impl Strategy<Value = FieldValues> {
    (any::<i64>(), unsigned(), unsigned(), float(), any::<bool>(), field_text(), field_text()).prop_map(
        |(int, unsigned, late_unsigned, float, flag, text, late_text)| FieldValues {
            int,
            unsigned,
            late_unsigned,
            float,
            flag,
            text,
            late_text,
        },
    )
}

/// The layer's cap on a string attribute value, in bytes; a longer value is cut on a char boundary
/// and named in `botanu.truncated_attributes`.
const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Checks that `key` exports `sent` as a string, cut to [`MAX_VALUE_BYTES`] if longer (then noting
/// `key` in `truncated`).
fn check_text(span: &SpanData, key: &str, sent: &str, truncated: &mut Vec<String>) -> Result<(), TestCaseError> {
    let Some(Value::String(got)) = attr(span, key) else {
        return Err(TestCaseError::fail(format!("{key}: not a string: {:?}", attr(span, key).map(|_| "other"))));
    };
    let got = got.as_str();
    if sent.len() <= MAX_VALUE_BYTES {
        prop_assert!(got == sent, "{key}: {} != {}", compact(got), compact(sent));
    } else {
        prop_assert!(sent.starts_with(got), "{key}: {} is not a prefix of what was sent", compact(got));
        prop_assert!(got.len() <= MAX_VALUE_BYTES && got.len() + 4 > MAX_VALUE_BYTES, "{key}: cut to {}", got.len());
        truncated.push(key.to_owned());
    }
    Ok(())
}

/// The names listed in string-array attribute `key` (none when absent), sorted and deduplicated.
fn listed(span: &SpanData, key: &str) -> Vec<String> {
    match attr(span, key) {
        Some(_) => sorted(str_array_attr(span, key)),
        None => Vec::new(),
    }
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn same_f64(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn field_values_export_with_their_otel_type() {
    let h = Harness::new();
    check(64, field_values(), |v| {
        h.run(|| {
            let span = llm_span!(
                provider = "openai",
                model = "fields",
                f_int = v.int,
                f_unsigned = v.unsigned,
                f_float = v.float,
                f_flag = v.flag,
                f_text = &*v.text,
                f_late_unsigned = tracing::field::Empty,
                f_late_text = tracing::field::Empty,
            );
            span.record("f_late_unsigned", v.late_unsigned);
            span.record("f_late_text", &*v.late_text);
            span.add_metadata("m_int", v.int)
                .add_metadata("m_unsigned", v.unsigned)
                .add_metadata("m_float", v.float)
                .add_metadata("m_flag", v.flag)
                .add_metadata("m_text", v.text.0.clone());
        });
        let spans = h.spans();
        h.exporter.reset();
        let [span] = spans.as_slice() else { return Err(TestCaseError::fail(format!("{} spans", spans.len()))) };
        let mut truncated = Vec::new();
        for prefix in ["f_", "botanu.m_"] {
            let key = |name: &str| format!("{prefix}{name}");
            prop_assert_eq!(attr(span, &key("int")), Some(&Value::I64(v.int)));
            prop_assert_eq!(attr(span, &key("unsigned")), Some(&Value::I64(clamp(v.unsigned))));
            let float = attr(span, &key("float"));
            prop_assert!(matches!(float, Some(Value::F64(f)) if same_f64(*f, v.float)), "{}: {float:?}", key("float"));
            prop_assert_eq!(attr(span, &key("flag")), Some(&Value::Bool(v.flag)));
            check_text(span, &key("text"), &v.text, &mut truncated)?;
        }
        prop_assert_eq!(attr(span, "f_late_unsigned"), Some(&Value::I64(clamp(v.late_unsigned))));
        check_text(span, "f_late_text", &v.late_text, &mut truncated)?;
        // Every clamped and every cut value is named, and only those.
        let clamped =
            [("botanu.m_unsigned", v.unsigned), ("f_late_unsigned", v.late_unsigned), ("f_unsigned", v.unsigned)]
                .iter()
                .filter(|(_, value)| *value > i64::MAX as u64)
                .map(|(name, _)| (*name).to_owned())
                .collect();
        prop_assert_eq!(listed(span, k::CLAMPED_ATTRIBUTES), sorted(clamped));
        prop_assert_eq!(listed(span, k::TRUNCATED_ATTRIBUTES), sorted(truncated));
        Ok(())
    });
}
