//! W3C Trace Context and Baggage, parsed and formatted with hostile input in mind.
//!
//! Headers arrive from clients and queues botanu does not control. Parsing is lenient per member (a
//! malformed baggage member is skipped, the rest kept) and bounded by the W3C limits (8192 bytes and
//! 180 members per baggage header, 4096 bytes per member), so no input can make botanu allocate or
//! loop without bound. Values are percent-decoded on the way in and percent-encoded on the way out,
//! so a value can never carry `,`, `;`, CR or LF into a header: no header injection.
//!
//! Pure functions over strings; the glue to spans lives in the parent module.

/// Maximum size of a baggage header botanu reads or writes.
pub const MAX_BAGGAGE_BYTES: usize = 8192;
/// Maximum number of baggage members botanu reads or writes.
pub const MAX_BAGGAGE_MEMBERS: usize = 180;
/// Maximum size of one baggage member.
pub const MAX_MEMBER_BYTES: usize = 4096;
/// Maximum size of a `tracestate` header botanu passes on (the W3C 32 members of 256 bytes, bounded).
pub const MAX_TRACESTATE_BYTES: usize = 512;

/// A parsed `traceparent`: trace id, parent span id, flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// 128-bit trace id, non-zero.
    pub trace_id: u128,
    /// 64-bit span id, non-zero.
    pub span_id: u64,
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
}

fn hex_u128(s: &str) -> Option<u128> {
    if s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        u128::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

/// Parses a `traceparent` header: `00-<32 hex>-<16 hex>-<2 hex>`, lower-case hex, non-zero ids.
/// Future versions (not `ff`) are read by their first four fields, as the specification asks.
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    let value = value.trim();
    if value.len() < 55 || value.len() > 512 {
        return None;
    }
    let mut parts = value.split('-');
    let version = parts.next()?;
    let trace = parts.next()?;
    let span = parts.next()?;
    let flags = parts.next()?;
    if version.len() != 2 || version == "ff" || trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
        return None;
    }
    let version = u8::try_from(hex_u128(version)?).ok()?;
    if version == 0 && (value.len() != 55 || parts.next().is_some()) {
        return None;
    }
    let trace_id = hex_u128(trace)?;
    let span_id = u64::try_from(hex_u128(span)?).ok()?;
    let flags = u8::try_from(hex_u128(flags)?).ok()?;
    (trace_id != 0 && span_id != 0).then_some(TraceParent { trace_id, span_id, flags })
}

/// Formats a version-00 `traceparent`.
pub fn format_traceparent(tp: &TraceParent) -> String {
    format!("00-{:032x}-{:016x}-{:02x}", tp.trace_id, tp.span_id, tp.flags)
}

/// A `tracestate` value worth passing on: printable ASCII, bounded; otherwise dropped.
pub fn sanitize_tracestate(value: &str) -> Option<String> {
    let value = value.trim();
    let ok =
        !value.is_empty() && value.len() <= MAX_TRACESTATE_BYTES && value.bytes().all(|b| (0x20..0x7f).contains(&b));
    ok.then(|| value.to_owned())
}

/// RFC 7230 token characters: what a baggage key may contain.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `key` is a valid baggage key.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 256 && key.bytes().all(is_token_byte)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a baggage value; `None` for a bad escape or bytes that are not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_val(*bytes.get(i + 1)?)?;
                let lo = hex_val(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes a baggage value: only unreserved characters and a few safe ones stay literal, so
/// the result never contains a delimiter (`,` `;` `=`), whitespace, `%` or a control character.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+/:?@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses a `baggage` header into `(key, value)` pairs, values decoded. Bounded: at most
/// [`MAX_BAGGAGE_BYTES`] of input (a member cut by that limit is dropped), [`MAX_BAGGAGE_MEMBERS`]
/// members, [`MAX_MEMBER_BYTES`] per member. A malformed member is skipped; the rest are kept. A key
/// that appears twice keeps its first value.
pub fn parse_baggage(header: &str) -> Vec<(String, String)> {
    let input = if header.len() > MAX_BAGGAGE_BYTES {
        // Keep only members that end within the limit. The comma closing the last of them may sit at
        // byte MAX_BAGGAGE_BYTES itself; a comma is ASCII, so its index is a char boundary.
        let bytes = header.as_bytes();
        let end = (0..=MAX_BAGGAGE_BYTES).rev().find(|&i| bytes[i] == b',').unwrap_or(0);
        &header[..end]
    } else {
        header
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for member in input.split(',').take(MAX_BAGGAGE_MEMBERS) {
        if member.len() > MAX_MEMBER_BYTES {
            continue;
        }
        let member = member.split(';').next().unwrap_or("");
        let Some((key, value)) = member.split_once('=') else { continue };
        let key = key.trim_matches([' ', '\t']);
        let value = value.trim_matches([' ', '\t']);
        if !is_valid_key(key) || out.iter().any(|(k, _)| k == key) {
            continue;
        }
        if let Some(value) = percent_decode(value) {
            out.push((key.to_owned(), value));
        }
    }
    out
}

/// Formats `(key, value)` pairs as a `baggage` header, values percent-encoded. Entries with invalid
/// keys are skipped, and entries that would push the header past the W3C limits are left out.
pub fn format_baggage<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    let mut members = 0;
    for (key, value) in entries {
        if !is_valid_key(key) || members >= MAX_BAGGAGE_MEMBERS {
            continue;
        }
        let member = format!("{key}={}", percent_encode(value));
        let extra = member.len() + usize::from(!out.is_empty());
        if member.len() > MAX_MEMBER_BYTES || out.len() + extra > MAX_BAGGAGE_BYTES {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&member);
        members += 1;
    }
    out
}

/// A run id as botanu accepts it from outside: the canonical UUID shape (any version), lower-cased.
pub fn valid_run_id(value: &str) -> Option<String> {
    let v = value.trim();
    let b = v.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    ok.then(|| v.to_ascii_lowercase())
}

/// A name or id from outside (workflow, event, customer, tenant): trimmed, 1 to `max` bytes, no
/// control characters and no invisible formatting characters (bidi overrides, zero-width ones), which
/// would let a caller forge a name that reads like another in a dashboard.
pub(crate) fn valid_text(value: &str, max: usize) -> Option<String> {
    let v = value.trim();
    let ok = !v.is_empty() && v.len() <= max && !v.chars().any(|c| c.is_control() || is_invisible_format(c));
    ok.then(|| v.to_owned())
}

/// Bidirectional controls and zero-width characters: they change how a name displays, not what it
/// says. U+061C ALM, U+180E, U+200B–U+200F (zero-width space/joiners, LRM/RLM), U+202A–U+202E
/// (embeddings and overrides), U+2060–U+2064 (word joiner, invisible operators), U+2066–U+2069
/// (isolates), U+FEFF (zero-width no-break space).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_table() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some(TraceParent { trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736, span_id: 0x00f067aa0ba902b7, flags: 1 })
        );
        assert_eq!(format_traceparent(&parse_traceparent(ok).unwrap()), ok);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        // A future version may append fields.
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds";
        assert!(parse_traceparent(future).is_some());
    }

    #[test]
    fn baggage_members_are_parsed_leniently() {
        let parsed = parse_baggage(" a=1 , bad , =x, b = two%20words ;prop=1, c=%E2%9C%93, d=%ZZ, e=%FF, a=dup,f=");
        assert_eq!(
            parsed,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "two words".to_owned()),
                ("c".to_owned(), "✓".to_owned()),
                ("f".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn baggage_is_bounded() {
        let many: Vec<String> = (0..1000).map(|i| format!("k{i}=v")).collect();
        let parsed = parse_baggage(&many.join(","));
        assert_eq!(parsed.len(), MAX_BAGGAGE_MEMBERS);
        let huge = format!("a=1,b={},c=3", "x".repeat(10_000));
        assert_eq!(parse_baggage(&huge), vec![("a".to_owned(), "1".to_owned())]);
        let long_member = format!("a={},b=2", "y".repeat(MAX_MEMBER_BYTES + 1));
        assert_eq!(parse_baggage(&long_member), vec![("b".to_owned(), "2".to_owned())]);
    }

    #[test]
    fn encoding_prevents_header_injection() {
        let hostile = "x\r\nSet-Cookie: a=b, c=d; e";
        let header = format_baggage([("botanu.workflow", hostile)]);
        assert!(!header.contains(['\r', '\n', ',', ';', ' ']), "{header}");
        assert_eq!(parse_baggage(&header), vec![("botanu.workflow".to_owned(), hostile.to_owned())]);
        assert_eq!(format_baggage([("bad key", "v"), ("ok", "v")]), "ok=v");
    }

    #[test]
    fn formatted_baggage_stays_within_limits() {
        let big = "z".repeat(3000);
        let entries: Vec<(String, String)> = (0..10).map(|i| (format!("k{i}"), big.clone())).collect();
        let header = format_baggage(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert!(header.len() <= MAX_BAGGAGE_BYTES);
        assert_eq!(parse_baggage(&header).len(), 2);
    }

    #[test]
    fn botanu_values_are_validated() {
        assert_eq!(
            valid_run_id(" 0190A234-5678-7FFF-BFFF-FFFFFFFFFFFF "),
            Some("0190a234-5678-7fff-bfff-ffffffffffff".into())
        );
        for bad in ["", "not-a-uuid", "0190a234-5678-7fff-bfff-fffffffffff", "0190a234_5678-7fff-bfff-ffffffffffff"] {
            assert_eq!(valid_run_id(bad), None, "{bad}");
        }
        assert_eq!(valid_text(" support ", 16), Some("support".into()));
        assert_eq!(valid_text("a\u{7}b", 16), None);
        assert_eq!(valid_text(&"w".repeat(17), 16), None);
        assert_eq!(valid_text("  ", 16), None);
        // Bidi controls and zero-width characters make a name read like another: rejected.
        for hidden in ["\u{202E}", "\u{2066}", "\u{200B}", "\u{200D}", "\u{FEFF}", "\u{061C}", "\u{2060}"] {
            assert_eq!(valid_text(&format!("pay{hidden}ments"), 64), None, "{hidden:?}");
        }
        // Visible non-ASCII names stay valid.
        assert_eq!(valid_text("日本語のワークフロー", 64), Some("日本語のワークフロー".into()));
    }
}
