//! PII scrubbing for captured prompt, completion and retrieval content.
//!
//! Captured LLM content is where a cost-attribution SDK can leak what people typed: e-mail addresses,
//! phone numbers, card numbers, and the API keys users paste into prompts. Before such content is
//! written to `botanu.eval.*_content` it is scrubbed here and then cut to `max_chars` (contract §5).
//!
//! # How a text is scanned
//!
//! * **One combined regex.** The enabled built-in detectors form one leftmost-first alternation,
//!   in contract order (secrets first), so a text is scanned once, not fifteen times. Overlaps are
//!   resolved leftmost-first: the hit that starts first wins, and among hits starting at the same
//!   place the earlier detector wins. `Authorization: Bearer eyJ…` is therefore one `bearer_token`
//!   hit, not a `jwt` hit inside it.
//! * **Validators with fall-back.** Some detectors match a loose *candidate* that code then checks:
//!   card numbers (Luhn, also on shorter group-aligned prefixes), IPv6 (parsed by
//!   [`std::net::Ipv6Addr`]), IPv4 (octets 0–255), E.164 (what precedes the `+`) and bearer
//!   tokens (the token must look like a credential). A rejected candidate is treated as if that
//!   detector had not matched: the later detectors are tried at the same position, then the
//!   scan resumes one character further on. `call 415-555-1234 123 items` first looks like a
//!   13-digit card; it fails Luhn, so the US phone number inside it is still found.
//! * **Prefilter.** Every built-in hit contains a *trigger* byte that passes a cheap local check:
//!   `@`; `+` before a digit; a digit run that is ≥ 7 long, or continues after ` `, `-`, `)` or
//!   `) ` with another digit, or begins two dot-separated runs; `::`, or a colon before a hex
//!   digit with ≥ 5 colons in 40 bytes; the `J` of `eyJ`, the `K` of `AKIA`, the `_` of
//!   `gh?_`/`_live_`, the `-` of `sk-`/`xox?-`, the `B`/`b` of `Bearer`. The text is also split
//!   at *safe cuts*: bytes that no built-in match can contain (anything outside
//!   `[A-Za-z0-9 -._~+/=%@():]`, and a space unless it is followed by a digit or follows
//!   `Bearer`). The regex only runs on the segments between safe cuts that hold a passing
//!   trigger, so clean prose (`3 items`, `12:30`, `in 2024`, `version 2.1`) costs a SIMD-friendly
//!   byte scan and never reaches the regex engine. A test checks that the prefilter never
//!   changes a result.
//! * **Custom patterns** are separate regexes whose hits are merged with the built-in hits under
//!   the same leftmost-first rule (ties go to built-ins, then to earlier custom patterns). They
//!   are compiled by the `regex` crate, whose matching time is linear in the input.
//!
//! # Word boundaries (choices against false positives)
//!
//! * Digits-only detectors need a word boundary on both sides, so `id4111111111111111` and
//!   `call 4155551234` are left alone (a bare 10-digit run is neither a card nor a US phone).
//! * Cards: 13–19 digits with optional single spaces or dashes, replaced only if Luhn-valid. The
//!   longest Luhn-valid prefix that ends at a group boundary wins, so
//!   `4111 1111 1111 1111 12/25` hides the card and keeps `12/25`.
//! * IPv4: each octet 0–255; a dotted quad inside a longer dotted run (`1.2.3.4.5`) is a version
//!   number, not an address.
//! * IPv6: full, compressed and IPv4-embedded forms, with an optional `%zone`. To keep code and
//!   prose quiet, a candidate needs at least one decimal digit (so `a::b`, `dead::beef` stay),
//!   must not touch a word character or `:` on either side (so `std::a::b`, `Foo::new`, `x::1`
//!   stay), and must parse; times such as `12:30` or `12:30:45` never parse.
//! * Bearer tokens: `Bearer`, `bearer` or `BEARER`, 1–4 spaces, then a token of at least 8
//!   characters containing a digit, a symbol or an inner capital, so "the bearer of bad news"
//!   is prose, not a secret.
//! * E-mail: TLD of 2+ ASCII letters, so `x@y.z` stays.
//!
//! # Limitations
//!
//! * Matching is ASCII: non-ASCII digits, internationalised e-mail addresses and Unicode
//!   look-alikes are not detected.
//! * Overlaps are resolved leftmost-first, not by strict detector priority: a later detector's
//!   hit that *starts earlier* than an overlapping earlier detector's hit wins (the whole hit is
//!   still redacted, so nothing leaks from either).
//! * [`Scrubber::scrub_bounded`] reads a bounded window; a custom-pattern match longer than the
//!   margin that straddles the window edge, or a run of ≥ 256 characters without a safe cut at the
//!   edge, is replaced as a whole by the replacement string (over-redaction, never a leak).

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv6Addr;

use regex::Regex;

/// Characters past `max_chars` that [`Scrubber::scrub_bounded`] reads to find a place where no
/// built-in match can be cut in two. Every bounded built-in match is far shorter than this.
const MARGIN_CHARS: usize = 256;

// === Options and errors ===

/// What to scrub and how to mark it. `Default` is the contract default: every built-in detector on,
/// replacement `[REDACTED]`.
///
/// ```
/// use botanu::content::{ScrubOptions, Scrubber};
///
/// let opts = ScrubOptions {
///     disable: vec!["ipv4".into()],
///     custom: vec![("employee_id".into(), r"\bEMP-\d{6}\b".into())],
///     typed_replacement: true,
///     ..ScrubOptions::default()
/// };
/// let scrubber = Scrubber::new(&opts)?;
/// assert_eq!(
///     scrubber.scrub("EMP-123456 from 10.0.0.1 wrote to bob@example.com"),
///     "[REDACTED:employee_id] from 10.0.0.1 wrote to [REDACTED:email]"
/// );
/// # Ok::<(), botanu::content::ScrubError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrubOptions {
    /// Master switch; `false` makes [`Scrubber::scrub`] return its input unchanged.
    pub enabled: bool,
    /// When set, only these built-in detectors run (names from
    /// [`Scrubber::builtin_detector_names`]; trimmed, ASCII case-insensitive).
    pub enable_only: Option<Vec<String>>,
    /// Built-in detectors to skip (same names as `enable_only`).
    pub disable: Vec<String>,
    /// Extra `(name, regex)` detectors, tried after the built-ins in this order.
    pub custom: Vec<(String, String)>,
    /// Text that replaces every hit.
    pub replacement: String,
    /// When `true`, the detector name is added: `[REDACTED]` becomes `[REDACTED:email]`; a
    /// replacement that does not end in `]` gets `:email` appended.
    pub typed_replacement: bool,
}

impl Default for ScrubOptions {
    fn default() -> Self {
        ScrubOptions {
            enabled: true,
            enable_only: None,
            disable: Vec::new(),
            custom: Vec::new(),
            replacement: "[REDACTED]".to_owned(),
            typed_replacement: false,
        }
    }
}

/// Why a [`Scrubber`] could not be built from [`ScrubOptions`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScrubError {
    /// A custom pattern did not compile, or matches the empty string.
    InvalidCustomPattern {
        /// The name the pattern was configured under.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// `enable_only` or `disable` names a detector that is not built in.
    UnknownDetector {
        /// The name as configured.
        name: String,
    },
}

impl fmt::Display for ScrubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScrubError::InvalidCustomPattern { name, message } => {
                write!(f, "invalid custom PII pattern `{name}`: {message}")
            }
            ScrubError::UnknownDetector { name } => {
                write!(f, "unknown PII detector `{name}` (built-in detectors: {})", BUILTIN_NAMES.join(", "))
            }
        }
    }
}

impl std::error::Error for ScrubError {}

// === Built-in detectors ===

/// Built-in detectors, in contract order (the order decides ties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Builtin {
    BearerToken,
    Jwt,
    AwsAccessKey,
    GithubToken,
    StripeKey,
    SlackToken,
    AnthropicKey,
    OpenaiKey,
    CreditCard,
    Ssn,
    Email,
    PhoneE164,
    PhoneUs,
    Ipv6,
    Ipv4,
}

const BUILTIN_NAMES: [&str; 15] = [
    "bearer_token",
    "jwt",
    "aws_access_key",
    "github_token",
    "stripe_key",
    "slack_token",
    "anthropic_key",
    "openai_key",
    "credit_card",
    "ssn",
    "email",
    "phone_e164",
    "phone_us",
    "ipv6",
    "ipv4",
];

impl Builtin {
    const ALL: [Builtin; 15] = [
        Builtin::BearerToken,
        Builtin::Jwt,
        Builtin::AwsAccessKey,
        Builtin::GithubToken,
        Builtin::StripeKey,
        Builtin::SlackToken,
        Builtin::AnthropicKey,
        Builtin::OpenaiKey,
        Builtin::CreditCard,
        Builtin::Ssn,
        Builtin::Email,
        Builtin::PhoneE164,
        Builtin::PhoneUs,
        Builtin::Ipv6,
        Builtin::Ipv4,
    ];

    fn name(self) -> &'static str {
        BUILTIN_NAMES[self as usize]
    }

    /// The candidate pattern. `(?-u:\b)` is an ASCII word boundary (cheap for the lazy DFA, and
    /// `[0-9]` rather than `\d` because `\d` is Unicode-aware here). The safe-cut and trigger
    /// rules in this module depend on these patterns: change them together.
    fn pattern(self) -> &'static str {
        match self {
            // RFC 6750 b64token; validated by `bearer_end`.
            Builtin::BearerToken => r"(?-u:\b)(?:Bearer|bearer|BEARER) {1,4}[A-Za-z0-9\-._~+/]+=*",
            // header.payload.signature (the signature is empty for `alg: none`).
            Builtin::Jwt => r"(?-u:\b)eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            Builtin::AwsAccessKey => r"(?-u:\b)AKIA[0-9A-Z]{16}(?-u:\b)",
            Builtin::GithubToken => r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,}",
            Builtin::StripeKey => r"(?-u:\b)[rs]k_live_[A-Za-z0-9]{24,}",
            Builtin::SlackToken => r"(?-u:\b)xox[baprs]-[A-Za-z0-9-]+",
            Builtin::AnthropicKey => r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}",
            Builtin::OpenaiKey => r"(?-u:\b)sk-(?:proj-)?[A-Za-z0-9_-]{20,}",
            // Validated by `card_end` (Luhn).
            Builtin::CreditCard => r"(?-u:\b)[0-9](?:[ -]?[0-9]){12,18}(?-u:\b)",
            Builtin::Ssn => r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)",
            Builtin::Email => r"[A-Za-z0-9_.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)",
            // Validated by `e164_ok` (what precedes the `+`).
            Builtin::PhoneE164 => r"\+[0-9]{7,15}(?-u:\b)",
            Builtin::PhoneUs => concat!(
                r"\([0-9]{3}\) ?[0-9]{3}-[0-9]{4}(?-u:\b)",
                r"|(?-u:\b)[0-9]{3}-[0-9]{3}-[0-9]{4}(?-u:\b)",
                r"|(?-u:\b)[0-9]{3}\.[0-9]{3}\.[0-9]{4}(?-u:\b)"
            ),
            // A loose candidate (2–7 colons, optional dotted-quad tail and zone); `ipv6_end`
            // parses it. The optional leading group needs a word boundary so a candidate does not
            // start inside a word such as `deadbeef::1`.
            Builtin::Ipv6 => concat!(
                r"(?:(?-u:\b)[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,7}",
                r"(?:\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})?(?:%[0-9A-Za-z]+)?"
            ),
            // Validated by `ipv4_ok` (octets 0–255, not inside a longer dotted run).
            Builtin::Ipv4 => r"(?-u:\b)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?-u:\b)",
        }
    }

    /// Whether this detector's match at some position can be exactly `m`. Only necessary
    /// conditions: they let [`Scrubber::identify`] skip the anchored regexes when exactly one
    /// detector fits, which is the common case.
    fn could_produce(self, m: &[u8]) -> bool {
        let digits = || m.iter().filter(|b| b.is_ascii_digit()).count();
        match self {
            Builtin::BearerToken => m.len() > 6 && is_bearer_scheme(&m[..6]),
            Builtin::Jwt => m.starts_with(b"eyJ"),
            Builtin::AwsAccessKey => m.len() == 20 && m.starts_with(b"AKIA"),
            Builtin::GithubToken => m.len() >= 40 && m.starts_with(b"gh") && m[3] == b'_',
            Builtin::StripeKey => m.starts_with(b"sk_live_") || m.starts_with(b"rk_live_"),
            Builtin::SlackToken => m.starts_with(b"xox"),
            Builtin::AnthropicKey => m.starts_with(b"sk-ant-"),
            Builtin::OpenaiKey => m.starts_with(b"sk-"),
            Builtin::CreditCard => {
                m.first().is_some_and(u8::is_ascii_digit)
                    && m.iter().all(|&b| b.is_ascii_digit() || b == b' ' || b == b'-')
                    && (13..=19).contains(&digits())
            }
            Builtin::Ssn => m.len() == 11 && m[3] == b'-' && m[6] == b'-',
            Builtin::Email => m.contains(&b'@'),
            Builtin::PhoneE164 => m.first() == Some(&b'+'),
            Builtin::PhoneUs => {
                (12..=14).contains(&m.len()) && digits() == 10 && m.iter().filter(|&&b| b == b'.').count() <= 2
            }
            Builtin::Ipv6 => m.contains(&b':'),
            Builtin::Ipv4 => {
                m.first().is_some_and(u8::is_ascii_digit)
                    && m.iter().all(|&b| b.is_ascii_digit() || b == b'.')
                    && m.iter().filter(|&&b| b == b'.').count() == 3
            }
        }
    }

    /// Whether a match of this detector can start with byte `b`; used to skip anchored regexes
    /// when falling back after a rejected candidate.
    fn may_start_with(self, b: u8) -> bool {
        match self {
            Builtin::BearerToken => b == b'B' || b == b'b',
            Builtin::Jwt => b == b'e',
            Builtin::AwsAccessKey => b == b'A',
            Builtin::GithubToken => b == b'g',
            Builtin::StripeKey => b == b's' || b == b'r',
            Builtin::SlackToken => b == b'x',
            Builtin::AnthropicKey | Builtin::OpenaiKey => b == b's',
            Builtin::CreditCard | Builtin::Ssn | Builtin::Ipv4 => b.is_ascii_digit(),
            Builtin::Email => b.is_ascii_alphanumeric() || b"_.%+-".contains(&b),
            Builtin::PhoneE164 => b == b'+',
            Builtin::PhoneUs => b == b'(' || b.is_ascii_digit(),
            Builtin::Ipv6 => b.is_ascii_hexdigit() || b == b':',
        }
    }

    /// Checks a candidate `text[s..e]` found by this detector's pattern. Returns the end of the
    /// hit (validators may shorten it), or `None` to reject the candidate.
    fn validate(self, text: &str, s: usize, e: usize) -> Option<usize> {
        let bytes = text.as_bytes();
        match self {
            Builtin::BearerToken => bearer_end(bytes, s, e),
            Builtin::CreditCard => card_end(bytes, s, e),
            Builtin::PhoneE164 => e164_ok(bytes, s).then_some(e),
            Builtin::Ipv6 => ipv6_end(text, s, e),
            Builtin::Ipv4 => ipv4_ok(bytes, s, e).then_some(e),
            _ => Some(e),
        }
    }
}

fn is_bearer_scheme(word: &[u8]) -> bool {
    word == b"Bearer" || word == b"bearer" || word == b"BEARER"
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A bearer token must look like a credential (≥ 8 characters with a digit, a symbol or an inner
/// capital) so that "bearer responsibilities" is not redacted. Trailing dots are sentence ends.
fn bearer_end(bytes: &[u8], s: usize, e: usize) -> Option<usize> {
    let mut token_start = s + 6;
    while token_start < e && bytes.get(token_start) == Some(&b' ') {
        token_start += 1;
    }
    let mut end = e;
    while end > token_start && bytes.get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    let token = bytes.get(token_start..end)?;
    let credential_like = token.len() >= 8
        && token
            .iter()
            .enumerate()
            .any(|(i, &b)| b.is_ascii_digit() || b"-._~+/=".contains(&b) || (i > 0 && b.is_ascii_uppercase()));
    credential_like.then_some(end)
}

/// Luhn check over digit values (0–9).
fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The end of the longest Luhn-valid, group-aligned prefix of a card candidate (13–19 digits), so
/// a card followed by `12` of an expiry date or a CVV is still found.
fn card_end(bytes: &[u8], s: usize, e: usize) -> Option<usize> {
    let candidate = bytes.get(s..e)?;
    let mut digits = [0u8; 19];
    let mut count = 0;
    // (byte end, digit count) at the end of each digit group.
    let mut group_ends = [(0usize, 0usize); 19];
    let mut groups = 0;
    for (i, &b) in candidate.iter().enumerate() {
        if !b.is_ascii_digit() {
            continue;
        }
        *digits.get_mut(count)? = b - b'0';
        count += 1;
        if !candidate.get(i + 1).is_some_and(u8::is_ascii_digit) {
            *group_ends.get_mut(groups)? = (s + i + 1, count);
            groups += 1;
        }
    }
    group_ends[..groups]
        .iter()
        .rev()
        .find(|&&(_, n)| (13..=19).contains(&n) && luhn_valid(&digits[..n]))
        .map(|&(end, _)| end)
}

/// `+4155551234` is a phone number; `x+4155551234` and `1+2345678` (arithmetic) are not.
fn e164_ok(bytes: &[u8], s: usize) -> bool {
    s == 0 || !bytes.get(s - 1).is_some_and(|&b| is_word_byte(b) || b == b'+')
}

fn ipv4_ok(bytes: &[u8], s: usize, e: usize) -> bool {
    let Some(candidate) = bytes.get(s..e) else {
        return false;
    };
    let octets_ok = candidate.split(|&b| b == b'.').all(|octet| {
        !octet.is_empty()
            && octet.len() <= 3
            && octet.iter().all(u8::is_ascii_digit)
            && octet.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0')) <= 255
    });
    // `1.2.3.4.5` is a version number, not an address followed by `.5`.
    let prev_dotted = s >= 2 && bytes[s - 1] == b'.' && bytes[s - 2].is_ascii_digit();
    let next_dotted = bytes.get(e) == Some(&b'.') && bytes.get(e + 1).is_some_and(u8::is_ascii_digit);
    octets_ok && !prev_dotted && !next_dotted
}

/// Parses an IPv6 candidate; see the module docs for the false-positive rules.
fn ipv6_end(text: &str, s: usize, e: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if s > 0 && bytes.get(s - 1).is_some_and(|&b| is_word_byte(b) || b == b':') {
        return None;
    }
    if bytes.get(e).is_some_and(|&b| is_word_byte(b) || b == b':') {
        return None;
    }
    let candidate = text.get(s..e)?;
    let (mut addr, has_zone) = match candidate.find('%') {
        Some(i) => (&candidate[..i], true),
        None => (candidate, false),
    };
    let mut end = e;
    // "connect to fe80::1: timeout": the colon ends the sentence, not the address.
    if !has_zone && addr.ends_with(':') && !addr.ends_with("::") {
        addr = &addr[..addr.len() - 1];
        end -= 1;
    }
    let has_digit = addr.bytes().any(|b| b.is_ascii_digit());
    (has_digit && addr.parse::<Ipv6Addr>().is_ok()).then_some(end)
}

// === Prefilter: triggers and safe cuts ===

const T_DIGIT: u8 = 1;
const T_AT: u8 = 2;
const T_PLUS: u8 = 3;
const T_COLON: u8 = 4;
const T_UNDERSCORE: u8 = 5;
const T_DASH: u8 = 6;
const T_J: u8 = 7;
const T_K: u8 = 8;
const T_B: u8 = 9;

/// Bytes that may start a trigger check (see the module docs).
static TRIGGER: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        table[d as usize] = T_DIGIT;
        d += 1;
    }
    table[b'@' as usize] = T_AT;
    table[b'+' as usize] = T_PLUS;
    table[b':' as usize] = T_COLON;
    table[b'_' as usize] = T_UNDERSCORE;
    table[b'-' as usize] = T_DASH;
    table[b'J' as usize] = T_J;
    table[b'K' as usize] = T_K;
    table[b'B' as usize] = T_B;
    table[b'b' as usize] = T_B;
    table
};

/// Bytes that no built-in match contains. The union of the built-in patterns' characters is
/// `[A-Za-z0-9]` and ` -._~+/=%@():`; everything else (including tab, newline and every byte of
/// a non-ASCII character) separates matches.
static HARD_SEPARATOR: [bool; 256] = {
    let mut table = [true; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            table[b] = false;
        }
        b += 1;
    }
    let inside = b" -._~+/=%@():";
    let mut i = 0;
    while i < inside.len() {
        table[inside[i] as usize] = false;
        i += 1;
    }
    table
};

/// Whether no built-in match can contain byte `c`: the text can be split there without changing
/// any match. (Also a non-word byte, so `\b` at the end of a slice cut there means the same as in
/// the whole text.)
fn is_safe_cut(bytes: &[u8], c: usize) -> bool {
    let Some(&b) = bytes.get(c) else {
        return true;
    };
    // Cuts are used as slice bounds: never inside a multi-byte character (its lead byte, a
    // hard separator, is the cut instead).
    if (0x80..0xC0).contains(&b) {
        return false;
    }
    if HARD_SEPARATOR[b as usize] {
        return true;
    }
    if b != b' ' {
        return false;
    }
    // Spaces inside matches: card groups and "(415) 555-1234" (space before a digit) ...
    if bytes.get(c + 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    // ... and the 1–4 spaces of "Bearer <token>".
    let mut first = c;
    while first > 0 && bytes[first - 1] == b' ' {
        first -= 1;
        if c - first >= 4 {
            return true;
        }
    }
    !(first >= 6 && is_bearer_scheme(&bytes[first - 6..first]))
}

/// The last safe cut in `[floor, t)`, or `floor`.
fn cut_before(bytes: &[u8], t: usize, floor: usize) -> usize {
    (floor..t).rev().find(|&c| is_safe_cut(bytes, c)).unwrap_or(floor)
}

/// The first safe cut in `(t, limit)`, or `limit`.
fn cut_after(bytes: &[u8], t: usize, limit: usize) -> usize {
    (t + 1..limit).find(|&c| is_safe_cut(bytes, c)).unwrap_or(limit)
}

/// The first byte in `[from, end)` whose trigger check passes. This is the whole cost of clean
/// text, so the common path is a table lookup per byte.
#[inline]
fn next_trigger(bytes: &[u8], from: usize, end: usize) -> Option<usize> {
    let end = end.min(bytes.len());
    let mut i = from;
    while i < end {
        i = next_trigger_byte(bytes, i, end)?;
        match check_trigger(bytes, i) {
            Ok(()) => return Some(i),
            Err(resume) => i = resume,
        }
    }
    None
}

/// The first byte in `[from, end)` with a trigger class, skipping 16-byte chunks in which no
/// byte can pass its check. The chunk test uses comparisons only (no table lookups) so the
/// compiler turns it into SIMD compares.
#[inline]
fn next_trigger_byte(bytes: &[u8], from: usize, end: usize) -> Option<usize> {
    let haystack = bytes.get(from..end)?;
    let mut offset = 0;
    // Each step reads 16 bytes plus one byte of lookahead.
    while let Some(window) = haystack.get(offset..offset + 17) {
        let mut any = false;
        for pair in window.windows(2) {
            any |= may_pass_trigger(pair[0], pair[1]);
        }
        if any {
            break;
        }
        offset += 16;
    }
    haystack[offset..].iter().position(|&b| TRIGGER[b as usize] != 0).map(|p| from + offset + p)
}

/// A superset of the bytes whose trigger check can pass, given the next byte: every trigger
/// byte, except `B`/`b` not followed by `e`/`E` and `:` not followed by `:` or a hex digit
/// (the bulk of trigger bytes in prose).
#[inline(always)]
fn may_pass_trigger(b: u8, next: u8) -> bool {
    let next_digit = next.wrapping_sub(b'0') < 10;
    let next_hex_letter = (next | 0x20).wrapping_sub(b'a') < 6;
    (b == b'+')
        | (b == b'-')
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'@')
        | (b.wrapping_sub(b'J') < 2)
        | (b == b'_')
        | ((b == b':') & ((next == b':') | next_digit | next_hex_letter))
        | (((b | 0x20) == b'b') & ((next | 0x20) == b'e'))
}

/// The per-trigger checks: necessary conditions for a built-in hit containing byte `i`.
/// `Err(resume)` is where scanning continues (past a whole digit run that failed).
#[inline]
fn check_trigger(bytes: &[u8], i: usize) -> Result<(), usize> {
    let rest = &bytes[i..];
    let before = |n: usize| i.checked_sub(n).map(|start| &bytes[start..i]);
    let passes = match TRIGGER[bytes[i] as usize] {
        T_DIGIT => return check_digit_run(bytes, i),
        T_AT => true,
        T_PLUS => rest.get(1).is_some_and(u8::is_ascii_digit),
        T_COLON => match rest.get(1) {
            Some(b':') => true,
            // A full-form address has 7 colons within 35 bytes of its first one.
            Some(b) if b.is_ascii_hexdigit() => rest[..rest.len().min(40)].iter().filter(|&&b| b == b':').count() >= 5,
            _ => false,
        },
        T_UNDERSCORE => {
            let github = before(3).is_some_and(|w| w.starts_with(b"gh") && b"pousr".contains(&w[2]));
            let stripe = rest.starts_with(b"_live_") && before(2).is_some_and(|w| w == b"sk" || w == b"rk");
            github || stripe
        }
        T_DASH => before(2).is_some_and(|w| w == b"sk") || before(4).is_some_and(|w| w.starts_with(b"xox")),
        T_J => before(2).is_some_and(|w| w == b"ey"),
        T_K => i >= 1 && bytes[i - 1..].starts_with(b"AKIA"),
        T_B => rest.len() >= 6 && is_bearer_scheme(&rest[..6]),
        _ => false,
    };
    if passes {
        Ok(())
    } else {
        Err(i + 1)
    }
}

/// Digit-led hits (card, SSN, US phone, IPv4, E.164) all start with a digit run that is long
/// (≥ 7), or is followed by one of ` `, `-`, `)` or `) ` and another digit, or begins a chain of
/// at least two dot-separated runs. So `3 items`, `12:30`, `2024`, `$1,299.99` and `version 2.1`
/// cost one check per run. A hit never starts inside a run (word boundary), so a failed run is
/// skipped whole.
fn check_digit_run(bytes: &[u8], i: usize) -> Result<(), usize> {
    let digits_from = |j: usize| bytes.get(j..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
    let digit_at = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_digit);
    let run = digits_from(i);
    let end = i + run;
    let passes = run >= 7
        || match bytes.get(end) {
            Some(b' ' | b'-') => digit_at(end + 1),
            Some(b')') => digit_at(end + 1) || (bytes.get(end + 1) == Some(&b' ') && digit_at(end + 2)),
            Some(b'.') => {
                let mut dots = 0;
                let mut j = end;
                while bytes.get(j) == Some(&b'.') && digit_at(j + 1) && dots < 2 {
                    dots += 1;
                    j += 1 + digits_from(j + 1);
                }
                dots >= 2
            }
            _ => false,
        };
    if passes {
        Ok(())
    } else {
        Err(end)
    }
}

fn next_char_boundary(text: &str, i: usize) -> usize {
    i + text.get(i..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8)
}

// === impl Scrubber ===

/// One redaction: `text[start..end]` found by `detectors[detector]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hit {
    start: usize,
    end: usize,
    detector: usize,
}

enum DetectorKind {
    /// `at_start` is `^(?:P)` (used at offset 0); `after_char` is `^(?s:.)(?:P)`, run from the
    /// character before the position so that a leading `\b` sees the real preceding character.
    Builtin {
        id: Builtin,
        at_start: Regex,
        after_char: Regex,
    },
    Custom {
        regex: Regex,
    },
}

struct Detector {
    name: String,
    replacement: String,
    kind: DetectorKind,
}

/// The next hit of one stream in the merge of [`Scrubber::for_each_hit`].
#[derive(Clone, Copy)]
enum Pending {
    Unknown,
    Exhausted,
    At(Hit),
}

impl Pending {
    /// A stream is searched again when its pending hit starts before `pos` (it overlapped the
    /// hit just taken).
    fn is_stale(self, pos: usize) -> bool {
        match self {
            Pending::Unknown => true,
            Pending::Exhausted => false,
            Pending::At(hit) => hit.start < pos,
        }
    }

    fn from_hit(hit: Option<Hit>) -> Pending {
        hit.map_or(Pending::Exhausted, Pending::At)
    }
}

/// The byte range of the text the built-in stream is currently searching: `[start, end)` between
/// two safe cuts.
struct Segment {
    start: usize,
    end: usize,
}

/// Finds and replaces PII in text. Compiled once from [`ScrubOptions`]; cheap to share between
/// threads.
///
/// ```
/// use botanu::content::{ScrubOptions, Scrubber};
///
/// let scrubber = Scrubber::new(&ScrubOptions::default())?;
/// assert_eq!(
///     scrubber.scrub("contact me at alice@example.com please"),
///     "contact me at [REDACTED] please"
/// );
/// # Ok::<(), botanu::content::ScrubError>(())
/// ```
pub struct Scrubber {
    enabled: bool,
    replacement: String,
    typed_replacement: bool,
    /// Enabled built-ins in contract order, then custom patterns in configured order.
    detectors: Vec<Detector>,
    builtin_count: usize,
    /// Leftmost-first alternation of the enabled built-ins; `None` when none is enabled.
    combined: Option<Regex>,
    /// For each first byte, the bit set of enabled built-ins (by index) whose match can start
    /// with it.
    start_masks: [u32; 256],
    /// Off only in tests, to check that the prefilter never changes a result.
    prefilter: bool,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.detectors.iter().map(|d| d.name.as_str()).collect();
        f.debug_struct("Scrubber")
            .field("enabled", &self.enabled)
            .field("detectors", &names)
            .field("replacement", &self.replacement)
            .field("typed_replacement", &self.typed_replacement)
            .finish()
    }
}

fn replacement_for(opts: &ScrubOptions, name: &str) -> String {
    if !opts.typed_replacement {
        return opts.replacement.clone();
    }
    match opts.replacement.strip_suffix(']') {
        Some(head) => format!("{head}:{name}]"),
        None => format!("{}:{name}", opts.replacement),
    }
}

fn builtin_index(name: &str) -> Option<usize> {
    let name = name.trim();
    BUILTIN_NAMES.iter().position(|known| known.eq_ignore_ascii_case(name))
}

impl Default for Scrubber {
    /// Every built-in detector, `[REDACTED]` replacement.
    fn default() -> Self {
        // The built-in patterns are constants covered by the tests; failing here is a bug in this file.
        Scrubber::new(&ScrubOptions::default()).expect("the built-in detectors compile")
    }
}

impl Scrubber {
    /// The text that replaces a hit (without a detector name).
    pub fn replacement(&self) -> &str {
        &self.replacement
    }

    /// Compiles the detectors selected by `opts`.
    ///
    /// Fails with [`ScrubError::UnknownDetector`] for a name in `enable_only`/`disable` that is not
    /// built in, and with [`ScrubError::InvalidCustomPattern`] for a custom pattern that does not
    /// compile or matches the empty string.
    pub fn new(opts: &ScrubOptions) -> Result<Scrubber, ScrubError> {
        let mut selected = [opts.enable_only.is_none(); 15];
        for name in opts.enable_only.iter().flatten() {
            let index = builtin_index(name).ok_or_else(|| ScrubError::UnknownDetector { name: name.clone() })?;
            selected[index] = true;
        }
        for name in &opts.disable {
            let index = builtin_index(name).ok_or_else(|| ScrubError::UnknownDetector { name: name.clone() })?;
            selected[index] = false;
        }

        let mut detectors = Vec::new();
        let mut alternatives = Vec::new();
        for id in Builtin::ALL {
            if !selected[id as usize] || !opts.enabled {
                continue;
            }
            let pattern = id.pattern();
            alternatives.push(format!("(?:{pattern})"));
            detectors.push(Detector {
                name: id.name().to_owned(),
                replacement: replacement_for(opts, id.name()),
                kind: DetectorKind::Builtin {
                    id,
                    at_start: Regex::new(&format!("^(?:{pattern})")).expect("built-in PII patterns compile"),
                    after_char: Regex::new(&format!("^(?s:.)(?:{pattern})")).expect("built-in PII patterns compile"),
                },
            });
        }
        let builtin_count = detectors.len();
        let mut start_masks = [0u32; 256];
        for (byte, mask) in (0u8..=255).zip(start_masks.iter_mut()) {
            for (index, detector) in detectors.iter().enumerate() {
                if let DetectorKind::Builtin { id, .. } = detector.kind {
                    if id.may_start_with(byte) {
                        *mask |= 1 << index;
                    }
                }
            }
        }
        let combined = if alternatives.is_empty() {
            None
        } else {
            Some(Regex::new(&alternatives.join("|")).expect("built-in PII patterns compile"))
        };

        // Custom patterns are compiled even when scrubbing is disabled, so a bad one is reported
        // when the configuration is loaded rather than when it is switched on.
        for (name, pattern) in &opts.custom {
            let regex = Regex::new(pattern)
                .map_err(|err| ScrubError::InvalidCustomPattern { name: name.clone(), message: err.to_string() })?;
            if regex.is_match("") {
                return Err(ScrubError::InvalidCustomPattern {
                    name: name.clone(),
                    message: "the pattern matches the empty string, so it would match everywhere".to_owned(),
                });
            }
            if opts.enabled {
                detectors.push(Detector {
                    name: name.clone(),
                    replacement: replacement_for(opts, name),
                    kind: DetectorKind::Custom { regex },
                });
            }
        }

        Ok(Scrubber {
            enabled: opts.enabled,
            replacement: opts.replacement.clone(),
            typed_replacement: opts.typed_replacement,
            detectors,
            builtin_count,
            combined,
            start_masks,
            prefilter: true,
        })
    }

    /// Names of the built-in detectors, in contract order (the order that decides ties).
    ///
    /// ```
    /// use botanu::content::Scrubber;
    /// assert_eq!(Scrubber::builtin_detector_names()[0], "bearer_token");
    /// assert_eq!(Scrubber::builtin_detector_names().len(), 15);
    /// ```
    pub fn builtin_detector_names() -> &'static [&'static str] {
        &BUILTIN_NAMES
    }

    /// Replaces every hit in `text`. Returns the input borrowed when nothing matched (or scrubbing
    /// is disabled), so clean text is not copied.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.is_active() {
            return Cow::Borrowed(text);
        }
        self.render(text, 0, text.len())
    }

    /// Scrubs, then cuts to at most `max_chars` characters on a char boundary. The work is
    /// O(`max_chars`) whatever the size of `text`: it scrubs a window of `max_chars` + 256
    /// characters ending at a safe cut (a place no built-in match spans), and adds further
    /// windows only while redactions have kept the output shorter than `max_chars`, up to about
    /// 4 × `max_chars` characters read in total.
    ///
    /// The result is the first `max_chars` characters of [`scrub`](Self::scrub)`(text)`, with two
    /// bounded-work exceptions that can only shorten it: when redactions shrink the text more
    /// than the budget allows, the output may stop before `max_chars` characters; and a run of
    /// ≥ 256 characters without a safe cut that straddles the window edge (a long token) is
    /// replaced whole by the replacement string. Either way, no fragment of a detected token is
    /// left visible at the cut. A cut may shorten a replacement marker (`[REDA`).
    ///
    /// ```
    /// use botanu::content::{ScrubOptions, Scrubber};
    ///
    /// let scrubber = Scrubber::new(&ScrubOptions::default())?;
    /// // The card straddles the cut; it is redacted before cutting, so no digit survives.
    /// assert_eq!(scrubber.scrub_bounded("card 4111 1111 1111 1111 ok", 9), "card [RED");
    /// # Ok::<(), botanu::content::ScrubError>(())
    /// ```
    pub fn scrub_bounded(&self, text: &str, max_chars: usize) -> String {
        if max_chars == 0 {
            return String::new();
        }
        if !self.is_active() {
            return truncate_chars(text, max_chars).to_owned();
        }
        let bytes = text.as_bytes();
        // Input we are willing to read when redactions keep the output short: 4× the output in
        // characters (4 bytes each at most), plus margins.
        let byte_budget = max_chars.saturating_mul(4).saturating_add(MARGIN_CHARS).saturating_mul(4);
        let mut out = String::new();
        let mut out_chars = 0;
        // Always 0 or a safe cut, so each window is scrubbed exactly as in the whole text.
        let mut pos = 0;
        while out_chars < max_chars && pos < text.len() {
            let visible_end = advance_chars(text, pos, max_chars - out_chars);
            let window_end = advance_chars(text, visible_end, MARGIN_CHARS);
            let piece_end = if window_end == text.len() {
                text.len()
            } else if let Some(cut) = (visible_end..window_end).rev().find(|&c| is_safe_cut(bytes, c)) {
                cut
            } else {
                // A long token runs across the visible end: keep what precedes it and hide it
                // whole, since its end (and so whether it matches) is beyond the window.
                let run_start = (pos..visible_end)
                    .rev()
                    .find(|&c| is_safe_cut(bytes, c))
                    .map_or(pos, |c| next_char_boundary(text, c));
                out.push_str(&self.render(text, pos, run_start));
                out.push_str(&self.replacement);
                break;
            };
            let piece = self.render(text, pos, piece_end);
            out_chars += piece.chars().count();
            out.push_str(&piece);
            pos = piece_end;
            if pos >= byte_budget {
                break;
            }
        }
        let keep = truncate_chars(&out, max_chars).len();
        out.truncate(keep);
        out
    }

    fn is_active(&self) -> bool {
        self.enabled && !self.detectors.is_empty()
    }

    /// `text[start..limit]` with every hit replaced. `start` must be 0 or a safe cut.
    fn render<'a>(&self, text: &'a str, start: usize, limit: usize) -> Cow<'a, str> {
        let mut out: Option<String> = None;
        let mut copied = start;
        self.for_each_hit(text, start, limit, |hit| {
            let out = out.get_or_insert_with(|| String::with_capacity(limit - start));
            out.push_str(&text[copied..hit.start]);
            out.push_str(&self.detectors[hit.detector].replacement);
            copied = hit.end;
        });
        match out {
            None => Cow::Borrowed(&text[start..limit]),
            Some(mut out) => {
                out.push_str(&text[copied..limit]);
                Cow::Owned(out)
            }
        }
    }

    /// Calls `emit` for each hit in `text[start..limit]`, in order, without overlaps: the built-in
    /// stream and one stream per custom pattern are merged leftmost-first, ties to the earlier
    /// detector.
    fn for_each_hit(&self, text: &str, start: usize, limit: usize, mut emit: impl FnMut(Hit)) {
        let mut pos = start;
        let mut segment = Segment { start, end: start };
        let mut builtin = Pending::Unknown;
        let mut customs: Vec<Pending> = self.detectors[self.builtin_count..].iter().map(|_| Pending::Unknown).collect();
        loop {
            if builtin.is_stale(pos) {
                builtin = Pending::from_hit(self.next_builtin_hit(text, limit, pos, &mut segment));
            }
            let mut best = match builtin {
                Pending::At(hit) => Some(hit),
                _ => None,
            };
            for (i, pending) in customs.iter_mut().enumerate() {
                let detector = self.builtin_count + i;
                if pending.is_stale(pos) {
                    *pending = Pending::from_hit(self.next_custom_hit(text, limit, pos, detector));
                }
                if let Pending::At(hit) = *pending {
                    if best.is_none_or(|b| hit.start < b.start) {
                        best = Some(hit);
                    }
                }
            }
            let Some(hit) = best else {
                return;
            };
            debug_assert!(hit.start >= pos && hit.end > hit.start && hit.end <= limit);
            emit(hit);
            pos = hit.end;
        }
    }

    fn next_custom_hit(&self, text: &str, limit: usize, from: usize, detector: usize) -> Option<Hit> {
        let DetectorKind::Custom { regex } = &self.detectors[detector].kind else {
            return None;
        };
        let haystack = &text[..limit];
        let mut from = from;
        while from <= limit {
            let m = regex.find_at(haystack, from)?;
            if !m.is_empty() {
                return Some(Hit { start: m.start(), end: m.end(), detector });
            }
            // Empty matches (e.g. a bare `\b`) redact nothing; step over them.
            from = next_char_boundary(text, m.start());
        }
        None
    }

    /// The first accepted built-in hit starting at or after `from` in `text[..limit]`.
    fn next_builtin_hit(&self, text: &str, limit: usize, from: usize, segment: &mut Segment) -> Option<Hit> {
        let combined = self.combined.as_ref()?;
        let bytes = text.as_bytes();
        let mut pos = from;
        loop {
            if pos >= limit {
                return None;
            }
            if !self.prefilter {
                *segment = Segment { start: pos, end: limit };
            } else if pos < segment.start || pos >= segment.end {
                let trigger = next_trigger(bytes, pos, limit)?;
                let start = cut_before(bytes, trigger, pos);
                *segment = Segment { start, end: cut_after(bytes, trigger, limit) };
                pos = start;
            } else if next_trigger(bytes, pos, segment.end).is_none() {
                // Every built-in hit contains a passing trigger: none is left in this segment.
                pos = segment.end;
                continue;
            }
            // The search stops at the segment's safe cut; no match can cross it.
            let haystack = &text[..segment.end];
            let Some(m) = combined.find_at(haystack, pos) else {
                pos = segment.end;
                continue;
            };
            if let Some(hit) = self.resolve(text, haystack, m.start(), m.end()) {
                return Some(hit);
            }
            pos = next_char_boundary(text, m.start());
        }
    }

    /// Turns a combined-regex match into an accepted hit: finds which detector matched, runs its
    /// validator, and on rejection tries the later built-ins at the same position.
    fn resolve(&self, text: &str, haystack: &str, s: usize, e: usize) -> Option<Hit> {
        let lead = *text.as_bytes().get(s)?;
        let startable = self.start_masks[lead as usize];
        let (first, first_end) = self.identify(haystack, s, e, startable)?;
        for index in first..self.builtin_count {
            let DetectorKind::Builtin { id, .. } = self.detectors[index].kind else {
                break;
            };
            let candidate_end = if index == first {
                first_end
            } else if startable & (1 << index) == 0 {
                continue;
            } else {
                match self.anchored_end(index, haystack, s) {
                    Some(end) => end,
                    None => continue,
                }
            };
            if let Some(end) = id.validate(text, s, candidate_end) {
                debug_assert!(end > s && end <= candidate_end);
                return Some(Hit { start: s, end, detector: index });
            }
        }
        None
    }

    /// Which built-in produced the combined match `haystack[s..e]`: in a leftmost-first
    /// alternation it is the first alternative that matches at `s`. Returns its index and end.
    /// `startable` holds the built-ins whose match can start with the byte at `s`.
    fn identify(&self, haystack: &str, s: usize, e: usize, startable: u32) -> Option<(usize, usize)> {
        let matched = haystack.as_bytes().get(s..e)?;
        let mut compatible = 0u32;
        let mut rest = startable;
        while rest != 0 {
            let index = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            if let DetectorKind::Builtin { id, .. } = self.detectors[index].kind {
                if id.could_produce(matched) {
                    compatible |= 1 << index;
                }
            }
        }
        if compatible.count_ones() == 1 {
            let index = compatible.trailing_zeros() as usize;
            debug_assert_eq!(
                self.anchored_end(index, haystack, s),
                Some(e),
                "could_produce mis-identified {:?}",
                &haystack[s..e]
            );
            return Some((index, e));
        }
        // Ambiguous (or, defensively, no candidate at all): ask the anchored regexes in order.
        (0..self.builtin_count)
            .filter(|&index| compatible == 0 || compatible & (1 << index) != 0)
            .find_map(|index| Some((index, self.anchored_end(index, haystack, s)?)))
    }

    /// The end of built-in `index`'s match starting exactly at `s`, if any.
    fn anchored_end(&self, index: usize, haystack: &str, s: usize) -> Option<usize> {
        let DetectorKind::Builtin { at_start, after_char, .. } = &self.detectors[index].kind else {
            return None;
        };
        if s == 0 {
            return at_start.find(haystack).map(|m| m.end());
        }
        let prev = haystack.get(..s)?.char_indices().next_back().map_or(0, |(i, _)| i);
        after_char.find(haystack.get(prev..)?).map(|m| prev + m.end())
    }
}

/// The byte offset `n` characters after `from` (or the end of `text`).
fn advance_chars(text: &str, from: usize, n: usize) -> usize {
    text.get(from..).and_then(|rest| rest.char_indices().nth(n)).map_or(text.len(), |(i, _)| from + i)
}

/// `text` cut to at most `max_chars` characters, on a char boundary.
///
/// ```
/// use botanu::content::truncate_chars;
/// assert_eq!(truncate_chars("héllo", 2), "hé");
/// assert_eq!(truncate_chars("hi", 10), "hi");
/// ```
pub fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

// === impl SecretKeys ===

/// Words (or word sequences) that make an attribute *key* secret. Keys are compared segment by
/// segment, so `token` matches `access_token` but not `max_tokens` or `tokenizer`.
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "auth",
    "cookie",
    "credential",
    "credentials",
    "private_key",
    "privatekey",
    "access_key",
    "signing_key",
    "encryption_key",
    "bearer",
    "jwt",
];

/// Segments next to `token` that make it a count, limit or kind rather than a credential
/// (`llm.token_count.prompt`, `token_type`, `max_token`).
const TOKEN_QUALIFIERS_AFTER: &[&str] =
    &["count", "counts", "usage", "limit", "limits", "budget", "type", "id", "ids", "index", "length", "size"];
const TOKEN_QUALIFIERS_BEFORE: &[&str] = &["max", "min", "num", "total"];

/// Recognises attribute keys whose *values* are secrets (`db.password`, `x-api-key`,
/// `Authorization`), so the caller can drop or mask the value.
///
/// A key is split into segments on `.`, `_`, `-`, spaces and camelCase, and matches when its
/// segments contain a secret word's segments in order (ASCII case-insensitive).
///
/// ```
/// use botanu::content::SecretKeys;
///
/// let keys = SecretKeys::new(&["ssn".to_owned()]);
/// assert!(keys.is_secret("apiKey"));
/// assert!(keys.is_secret("user.ssn"));
/// assert!(!keys.is_secret("gen_ai.usage.output_tokens"));
/// ```
#[derive(Clone, Debug)]
pub struct SecretKeys {
    /// Each entry is a lower-case segment sequence, e.g. `["api", "key"]`.
    phrases: Vec<Vec<String>>,
}

impl Default for SecretKeys {
    fn default() -> Self {
        SecretKeys::new(&[])
    }
}

impl SecretKeys {
    /// The built-in secret words plus `extra` (each split like a key, so `apiKey` and `api_key`
    /// mean the same; a multi-segment word also matches its joined form).
    pub fn new(extra: &[String]) -> Self {
        let mut phrases: Vec<Vec<String>> = Vec::new();
        let words = SECRET_KEY_WORDS.iter().copied().chain(extra.iter().map(String::as_str));
        for word in words {
            let segments: Vec<String> = key_segments(word).map(|s| s.to_ascii_lowercase()).collect();
            if segments.is_empty() {
                continue;
            }
            if segments.len() > 1 {
                phrases.push(vec![segments.concat()]);
            }
            phrases.push(segments);
        }
        phrases.sort();
        phrases.dedup();
        SecretKeys { phrases }
    }

    /// Whether values under `key` should be treated as secrets.
    pub fn is_secret(&self, key: &str) -> bool {
        let segments: Vec<&str> = key_segments(key).collect();
        self.phrases.iter().any(|phrase| {
            segments.windows(phrase.len()).enumerate().any(|(at, window)| {
                let matches = window.iter().zip(phrase).all(|(segment, word)| segment.eq_ignore_ascii_case(word));
                matches && !(phrase.len() == 1 && phrase[0] == "token" && is_token_count(&segments, at))
            })
        })
    }
}

/// `token` at `segments[at]` qualified as a count or kind (`token_count`, `max_token`).
fn is_token_count(segments: &[&str], at: usize) -> bool {
    let after =
        segments.get(at + 1).is_some_and(|next| TOKEN_QUALIFIERS_AFTER.iter().any(|q| q.eq_ignore_ascii_case(next)));
    let before = at > 0 && TOKEN_QUALIFIERS_BEFORE.iter().any(|q| q.eq_ignore_ascii_case(segments[at - 1]));
    after || before
}

/// Splits a key on `.`, `_`, `-`, whitespace and camelCase (`APIKey` → `API`, `Key`).
fn key_segments(key: &str) -> impl Iterator<Item = &str> {
    let bytes = key.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i <= bytes.len() {
            let at = i;
            i += 1;
            let boundary = if at == bytes.len() {
                Some((at, at))
            } else if matches!(bytes[at], b'.' | b'_' | b'-' | b'/' | b':') || bytes[at].is_ascii_whitespace() {
                Some((at, at + 1))
            } else if at > start && bytes[at].is_ascii_uppercase() {
                let prev = bytes[at - 1];
                let next_lower = bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase);
                let camel = prev.is_ascii_lowercase() || prev.is_ascii_digit();
                let acronym_end = prev.is_ascii_uppercase() && next_lower;
                (camel || acronym_end).then_some((at, at))
            } else {
                None
            };
            if let Some((end, next_start)) = boundary {
                let segment = &key[start..end];
                start = next_start;
                if !segment.is_empty() {
                    return Some(segment);
                }
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fake secrets are assembled at run time so that secret scanners do not flag this file.
    fn jwt() -> String {
        format!("ey{}.ey{}.{}", "JhbGciOiJIUzI1NiJ9", "JzdWIiOiIxMjM0NTY3ODkwIn0", "dozjgNryP4J3jVmNHl0w5N_XgL0")
    }
    fn long_jwt(payload_len: usize) -> String {
        format!("ey{}.{}.{}", "JhbGciOiJIUzI1NiJ9", "Qa9".repeat(payload_len / 3), "sig0")
    }
    fn aws_key() -> String {
        format!("AK{}", "IAIOSFODNN7EXAMPLE")
    }
    fn github_token(kind: char) -> String {
        format!("gh{kind}_{}", "A1b2C3d4E5".repeat(4))
    }
    fn stripe_key(prefix: &str) -> String {
        format!("{prefix}k{}{}", "_live_", "4eC39HqLyjWDarjtT1zdp7dc")
    }
    fn slack_token() -> String {
        format!("xo{}", "xb-123456789012-abcdefABCDEF")
    }
    fn anthropic_key() -> String {
        format!("sk{}{}", "-ant-api03-", "abcdefghijklmnopqrstuvwxyz012345")
    }
    fn openai_key(proj: bool) -> String {
        let prefix = if proj { "-proj-" } else { "-" };
        format!("sk{prefix}{}", "abcdefghijklmnopqrstuvwx1234")
    }

    fn scrubber(opts: ScrubOptions) -> Scrubber {
        match Scrubber::new(&opts) {
            Ok(s) => s,
            Err(err) => panic!("options should be valid: {err}"),
        }
    }
    fn defaults() -> Scrubber {
        scrubber(ScrubOptions::default())
    }
    fn typed() -> Scrubber {
        scrubber(ScrubOptions { typed_replacement: true, ..ScrubOptions::default() })
    }
    fn without_prefilter(opts: ScrubOptions) -> Scrubber {
        let mut s = scrubber(opts);
        s.prefilter = false;
        s
    }

    #[test]
    fn contract_vectors() {
        let s = defaults();
        let cases = [
            ("contact me at alice@example.com please", "contact me at [REDACTED] please"),
            ("call (415) 555-1234 or 415-555-1234", "call [REDACTED] or [REDACTED]"),
            ("call 4155551234", "call 4155551234"),
            ("card 4111 1111 1111 1111 expires soon", "card [REDACTED] expires soon"),
            ("order id 4111111111111112 placed", "order id 4111111111111112 placed"),
            ("request from 192.168.1.100 failed", "request from [REDACTED] failed"),
            ("bad ip 999.1.1.1 ok", "bad ip 999.1.1.1 ok"),
            ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.foo.bar", "Authorization: [REDACTED]"),
            ("emails a.b+c@sub.example.co.uk, x@y.z", "emails [REDACTED], x@y.z"),
            ("The quick brown fox jumps over the lazy dog", "The quick brown fox jumps over the lazy dog"),
        ];
        for (input, expected) in cases {
            assert_eq!(s.scrub(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn each_detector_positive() {
        let s = typed();
        let jwt = jwt();
        let (header, payload) = {
            let mut parts = jwt.split('.');
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
        };
        let cases: Vec<(String, String)> = vec![
            // bearer_token
            (format!("Authorization: Bearer {jwt}"), "Authorization: [REDACTED:bearer_token]".into()),
            ("auth: bearer abcd1234efgh".into(), "auth: [REDACTED:bearer_token]".into()),
            ("BEARER  Zm9vYmFyYmF6cXV4.".into(), "[REDACTED:bearer_token].".into()),
            // jwt
            (format!("token={jwt}&x=1"), "token=[REDACTED:jwt]&x=1".into()),
            (format!("unsigned {header}.{payload}. done"), "unsigned [REDACTED:jwt] done".into()),
            // aws_access_key
            (format!("key {} end", aws_key()), "key [REDACTED:aws_access_key] end".into()),
            (format!("AWS_ACCESS_KEY_ID={}", aws_key()), "AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]".into()),
            // github_token
            (format!("{} x", github_token('p')), "[REDACTED:github_token] x".into()),
            (format!("\"{}\"", github_token('s')), "\"[REDACTED:github_token]\"".into()),
            (format!("t={}", github_token('r')), "t=[REDACTED:github_token]".into()),
            // stripe_key
            (format!("stripe {}", stripe_key("s")), "stripe [REDACTED:stripe_key]".into()),
            (format!("restricted {}.", stripe_key("r")), "restricted [REDACTED:stripe_key].".into()),
            // slack_token
            (format!("slack {} ok", slack_token()), "slack [REDACTED:slack_token] ok".into()),
            // anthropic_key (not the openai_key that also matches it)
            (format!("ANTHROPIC_API_KEY={}", anthropic_key()), "ANTHROPIC_API_KEY=[REDACTED:anthropic_key]".into()),
            // openai_key
            (format!("key: {}", openai_key(true)), "key: [REDACTED:openai_key]".into()),
            (format!("key: {}", openai_key(false)), "key: [REDACTED:openai_key]".into()),
            // credit_card
            ("4111 1111 1111 1111".into(), "[REDACTED:credit_card]".into()),
            ("pay 4111-1111-1111-1111.".into(), "pay [REDACTED:credit_card].".into()),
            ("pay 5555555555554444 now".into(), "pay [REDACTED:credit_card] now".into()),
            ("amex 3782 822463 10005".into(), "amex [REDACTED:credit_card]".into()),
            ("visa13 4222222222222".into(), "visa13 [REDACTED:credit_card]".into()),
            ("card 4111 1111 1111 1111 12/25".into(), "card [REDACTED:credit_card] 12/25".into()),
            ("qty 2 4111 1111 1111 1111".into(), "qty 2 [REDACTED:credit_card]".into()),
            // ssn
            ("SSN 123-45-6789.".into(), "SSN [REDACTED:ssn].".into()),
            // email
            ("mail alice@example.com".into(), "mail [REDACTED:email]".into()),
            ("<first.last+tag@mail.example.co.uk>".into(), "<[REDACTED:email]>".into()),
            ("x_y@ex-ample.io, bye".into(), "[REDACTED:email], bye".into()),
            // phone_e164
            ("call +14155551234 now".into(), "call [REDACTED:phone_e164] now".into()),
            ("(+442071838750)".into(), "([REDACTED:phone_e164])".into()),
            // phone_us
            ("(415) 555-1234".into(), "[REDACTED:phone_us]".into()),
            ("(415)555-1234".into(), "[REDACTED:phone_us]".into()),
            ("tel 415-555-1234.".into(), "tel [REDACTED:phone_us].".into()),
            ("tel 415.555.1234".into(), "tel [REDACTED:phone_us]".into()),
            ("+1 415-555-1234".into(), "+1 [REDACTED:phone_us]".into()),
            // ipv6
            ("ping ::1".into(), "ping [REDACTED:ipv6]".into()),
            ("ping fe80::1 ok".into(), "ping [REDACTED:ipv6] ok".into()),
            ("from 2001:db8::8a2e:370:7334.".into(), "from [REDACTED:ipv6].".into()),
            ("from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok".into(), "from [REDACTED:ipv6] ok".into()),
            ("http://[::1]:8080/".into(), "http://[[REDACTED:ipv6]]:8080/".into()),
            ("iface fe80::1%eth0 up".into(), "iface [REDACTED:ipv6] up".into()),
            ("mapped ::ffff:192.168.1.1".into(), "mapped [REDACTED:ipv6]".into()),
            ("connect to fe80::1: timeout".into(), "connect to [REDACTED:ipv6]: timeout".into()),
            ("FF02::2".into(), "[REDACTED:ipv6]".into()),
            // ipv4
            ("ip 0.0.0.0 and 255.255.255.255".into(), "ip [REDACTED:ipv4] and [REDACTED:ipv4]".into()),
            ("host 10.0.0.1:8080".into(), "host [REDACTED:ipv4]:8080".into()),
            ("ip=8.8.8.8.".into(), "ip=[REDACTED:ipv4].".into()),
        ];
        for (input, expected) in &cases {
            assert_eq!(s.scrub(input), expected.as_str(), "input: {input:?}");
        }
    }

    #[test]
    fn each_detector_negative() {
        let s = defaults();
        let cases: Vec<String> = vec![
            // prose and code
            "The quick brown fox jumps over the lazy dog".into(),
            "We shipped 3 items at 12:30, in 2024: version 2.1 costs $1,299.99 (15% off).".into(),
            "fn main() { let v = std::vec::Vec::new(); Foo::new(a::b); }".into(),
            // bearer_token
            "the bearer of bad news".into(),
            "Bearer bonds and bearer responsibilities".into(),
            "Bearer abc1".into(),
            "XBearer abcd1234efgh".into(),
            // jwt
            "eyJ alone".into(),
            format!("ey{}", "Jabc.def"),
            // aws_access_key
            format!("AK{}", "IA1234"),
            format!("X{}", aws_key()),
            format!("{}Z", aws_key()),
            // github_token
            format!("gh{}", "p_short"),
            format!("gh{}_{}", "x", "a".repeat(36)),
            // stripe_key (test keys are not secret)
            format!("sk{}{}", "_test_", "4eC39HqLyjWDarjtT1zdp7dc"),
            format!("sk{}{}", "_live_", "short"),
            // slack_token
            format!("xo{}", "xz-123"),
            // anthropic_key / openai_key
            format!("sk{}", "-ant-short"),
            "task-force-assignment-for-the-quarter".into(),
            "risk-management-framework-for-everything".into(),
            // credit_card
            "order id 4111111111111112 placed".into(),
            "4111 1111 1111 1112".into(),
            "id4111111111111111".into(),
            "4111111111111111x".into(),
            "12345678901234567890123".into(),
            "call 4155551234".into(),
            // ssn
            "123-45-67890".into(),
            "1234-56-7890".into(),
            "date 2024-01-15".into(),
            // email
            "x@y.z and @handle and user@localhost".into(),
            // phone_e164
            "+123456".into(),
            "1+2345678".into(),
            "C+1234567".into(),
            "+1234567890123456".into(),
            // phone_us
            "415-5551-234".into(),
            "415-555-12345".into(),
            "415 555 1234".into(),
            // ipv6
            "at 12:30 or 12:30:45".into(),
            "a::b dead::beef x::1 ::".into(),
            "1:2:3:4:5:6:7:8:9".into(),
            "mac 00:1a:2b:3c:4d:5e".into(),
            "2024-01-15T12:30:45Z".into(),
            "deadbeef::1".into(),
            // ipv4
            "bad ip 999.1.1.1 ok".into(),
            "256.1.1.1".into(),
            "version 1.2.3.4.5".into(),
            "v1.2.3.4".into(),
            "1.2.3".into(),
        ];
        for input in &cases {
            assert_eq!(s.scrub(input), input.as_str(), "should be unchanged: {input:?}");
            assert!(matches!(s.scrub(input), Cow::Borrowed(_)), "{input:?}");
        }
    }

    #[test]
    fn overlaps_resolve_to_the_earlier_detector() {
        let s = typed();
        let phone_like_card: Vec<u8> = b"4155551234123".iter().map(|b| b - b'0').collect();
        assert!(!luhn_valid(&phone_like_card), "test precondition");
        let cases: Vec<(String, String)> = vec![
            // Bearer wins over the JWT inside it.
            (format!("Authorization: Bearer {}", jwt()), "Authorization: [REDACTED:bearer_token]".into()),
            // Bearer wins over the OpenAI key inside it.
            (format!("Bearer {}", openai_key(true)), "[REDACTED:bearer_token]".into()),
            // Anthropic is listed before OpenAI and both match at the same place.
            (anthropic_key(), "[REDACTED:anthropic_key]".into()),
            // A 13-digit card candidate that fails Luhn falls back to the phone number in it.
            ("call 415-555-1234 123 items".into(), "call [REDACTED:phone_us] 123 items".into()),
            // An IPv4 inside an IPv6 address is one IPv6 hit.
            ("::ffff:10.0.0.1".into(), "[REDACTED:ipv6]".into()),
            // Same start: the card (earlier) wins over the e-mail.
            ("4111111111111111@example.com".into(), "[REDACTED:credit_card]@example.com".into()),
            // A Luhn-invalid number before '@' is not a card, so the e-mail wins.
            ("4111111111111112@example.com".into(), "[REDACTED:email]".into()),
            // Leftmost: an e-mail whose local part holds a phone-like number is one hit.
            ("415-555-1234@example.com".into(), "[REDACTED:email]".into()),
        ];
        for (input, expected) in &cases {
            assert_eq!(s.scrub(input), expected.as_str(), "input: {input:?}");
        }
    }

    #[test]
    fn luhn() {
        let cases = [
            ("4111111111111111", true),
            ("4111111111111112", false),
            ("378282246310005", true),
            ("79927398713", true),
            ("79927398710", false),
            ("0000000000000", true),
        ];
        for (number, valid) in cases {
            let digits: Vec<u8> = number.bytes().map(|b| b - b'0').collect();
            assert_eq!(luhn_valid(&digits), valid, "{number}");
        }
    }

    #[test]
    fn options() {
        let text = "mail alice@example.com from 192.168.1.1";
        let only = |names: &[&str]| ScrubOptions {
            enable_only: Some(names.iter().map(|n| n.to_string()).collect()),
            ..ScrubOptions::default()
        };
        let cases: Vec<(ScrubOptions, &str, &str)> = vec![
            (only(&["email"]), text, "mail [REDACTED] from 192.168.1.1"),
            (only(&[" Email "]), text, "mail [REDACTED] from 192.168.1.1"),
            (only(&[]), text, text),
            (
                ScrubOptions { disable: vec!["email".into()], ..ScrubOptions::default() },
                text,
                "mail alice@example.com from [REDACTED]",
            ),
            (ScrubOptions { replacement: "***".into(), ..ScrubOptions::default() }, text, "mail *** from ***"),
            (
                ScrubOptions { replacement: "<pii>".into(), typed_replacement: true, ..ScrubOptions::default() },
                text,
                "mail <pii>:email from <pii>:ipv4",
            ),
            (ScrubOptions { enabled: false, ..ScrubOptions::default() }, text, text),
            (
                ScrubOptions {
                    custom: vec![("employee_id".into(), r"\bEMP-\d{6}\b".into())],
                    typed_replacement: true,
                    ..ScrubOptions::default()
                },
                "EMP-123456 mailed alice@example.com; EMP-12 did not",
                "[REDACTED:employee_id] mailed [REDACTED:email]; EMP-12 did not",
            ),
            // Custom patterns run even with every built-in off.
            (
                ScrubOptions {
                    enable_only: Some(vec![]),
                    custom: vec![("ticket".into(), r"TICKET-\d+".into())],
                    ..ScrubOptions::default()
                },
                "see TICKET-42 and alice@example.com",
                "see [REDACTED] and alice@example.com",
            ),
            // Same start: the built-in wins the tie.
            (
                ScrubOptions {
                    custom: vec![("alice".into(), r"alice@\w+".into())],
                    typed_replacement: true,
                    ..ScrubOptions::default()
                },
                "alice@example.com",
                "[REDACTED:email]",
            ),
            // A custom hit that starts first wins, and the built-in resumes after it.
            (
                ScrubOptions {
                    custom: vec![("user_field".into(), r"user=\S+".into())],
                    typed_replacement: true,
                    ..ScrubOptions::default()
                },
                "user=alice@example.com done bob@example.com",
                "[REDACTED:user_field] done [REDACTED:email]",
            ),
            // Earlier custom patterns win ties over later ones.
            (
                ScrubOptions {
                    custom: vec![("first".into(), "abc".into()), ("second".into(), "abcdef".into())],
                    typed_replacement: true,
                    ..ScrubOptions::default()
                },
                "xabcdef",
                "x[REDACTED:first]def",
            ),
            // A custom pattern that only matches empty at some places is harmless.
            (
                ScrubOptions { custom: vec![("boundary".into(), r"\b".into())], ..ScrubOptions::default() },
                "plain words",
                "plain words",
            ),
        ];
        for (opts, input, expected) in cases {
            let s = scrubber(opts.clone());
            assert_eq!(s.scrub(input), expected, "options: {opts:?}");
            let unfiltered = without_prefilter(opts.clone());
            assert_eq!(unfiltered.scrub(input), expected, "options (no prefilter): {opts:?}");
        }
        let disabled = scrubber(ScrubOptions { enabled: false, ..ScrubOptions::default() });
        assert!(matches!(disabled.scrub(text), Cow::Borrowed(t) if t == text));
        assert_eq!(disabled.scrub_bounded("héllo alice@example.com", 3), "hél");
    }

    #[test]
    fn option_errors() {
        let custom = |name: &str, pattern: &str| ScrubOptions {
            custom: vec![(name.into(), pattern.into())],
            ..ScrubOptions::default()
        };
        let cases: Vec<(ScrubOptions, &str)> = vec![
            (ScrubOptions { enable_only: Some(vec!["e-mail".into()]), ..ScrubOptions::default() }, "e-mail"),
            (ScrubOptions { disable: vec!["passport".into()], ..ScrubOptions::default() }, "passport"),
            (custom("broken", "(unclosed"), "broken"),
            (custom("everything", "a*"), "everything"),
            // Reported even when scrubbing is off.
            (ScrubOptions { enabled: false, ..custom("late", "[z-a]") }, "late"),
        ];
        for (opts, name) in cases {
            let err = match Scrubber::new(&opts) {
                Ok(_) => panic!("expected an error for {opts:?}"),
                Err(err) => err,
            };
            let (ScrubError::InvalidCustomPattern { name: got, .. } | ScrubError::UnknownDetector { name: got }) = &err;
            assert_eq!(got, name);
            assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
        }
        let err = Scrubber::new(&custom("broken", "(")).err();
        assert!(matches!(err, Some(ScrubError::InvalidCustomPattern { .. })));
        let err = Scrubber::new(&ScrubOptions { disable: vec!["x".into()], ..ScrubOptions::default() }).err();
        assert!(matches!(&err, Some(ScrubError::UnknownDetector { .. })));
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("bearer_token"));
    }

    #[test]
    fn builtin_names_are_in_contract_order() {
        assert_eq!(
            Scrubber::builtin_detector_names(),
            [
                "bearer_token",
                "jwt",
                "aws_access_key",
                "github_token",
                "stripe_key",
                "slack_token",
                "anthropic_key",
                "openai_key",
                "credit_card",
                "ssn",
                "email",
                "phone_e164",
                "phone_us",
                "ipv6",
                "ipv4",
            ]
        );
        for (id, name) in Builtin::ALL.iter().zip(BUILTIN_NAMES) {
            assert_eq!(id.name(), name);
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        let s = defaults();
        for text in ["", "hello", "3 items at 12:30", "日本語のテキスト", "ünïcödé – text"] {
            assert!(matches!(s.scrub(text), Cow::Borrowed(t) if t == text), "{text:?}");
        }
    }

    #[test]
    fn scrubber_is_send_sync_debug() {
        fn assert_send_sync<T: Send + Sync + fmt::Debug>() {}
        assert_send_sync::<Scrubber>();
        let debug = format!("{:?}", defaults());
        assert!(debug.contains("bearer_token") && debug.contains("[REDACTED]"), "{debug}");
    }

    #[test]
    fn truncate_chars_cuts_on_char_boundaries() {
        let cases = [
            ("", 0, ""),
            ("", 5, ""),
            ("abc", 0, ""),
            ("abc", 2, "ab"),
            ("abc", 3, "abc"),
            ("abc", 99, "abc"),
            ("héllo", 2, "hé"),
            ("日本語", 1, "日"),
            ("a😀b", 2, "a😀"),
        ];
        for (text, max, expected) in cases {
            assert_eq!(truncate_chars(text, max), expected, "{text:?} {max}");
        }
    }

    #[test]
    fn scrub_bounded_cuts_after_scrubbing() {
        let s = typed();
        let token = "abcd1234efgh5678";
        let jwt_long = long_jwt(900);
        let bearer_long = format!("Zz9{}", "x".repeat(600));
        let cases: Vec<(String, usize, String)> = vec![
            ("héllo wörld".into(), 2, "hé".into()),
            ("a😀b".into(), 2, "a😀".into()),
            ("anything".into(), 0, String::new()),
            ("short".into(), 100, "short".into()),
            // Card straddling the cut: no digit survives.
            ("card 4111 1111 1111 1111 ok".into(), 9, "card [RED".into()),
            // E-mail straddling the cut.
            ("mail alice@example.com now".into(), 12, "mail [REDACT".into()),
            // PII past the cut never matters.
            ("clean text then alice@example.com".into(), 10, "clean text".into()),
            // A short bearer token straddling the cut, with the rest of the text beyond the margin.
            (
                format!("Authorization: Bearer {token} {}", "more words ".repeat(60)),
                40,
                "Authorization: [REDACTED:bearer_token] m".into(),
            ),
            // A JWT longer than the margin straddling the cut is replaced whole.
            (format!("x {jwt_long} tail"), 20, "x [REDACTED]".into()),
            // A long bearer token too.
            (format!("Authorization: Bearer {bearer_long} tail"), 30, "Authorization: [REDACTED]".into()),
            // A JWT within the window is found whole even though the cut falls inside it.
            (format!("x {} {}", jwt(), "y".repeat(400)), 16, "x [REDACTED:jwt]".into()),
        ];
        for (input, max, expected) in &cases {
            let got = s.scrub_bounded(input, *max);
            assert_eq!(&got, expected, "input: {:?} max {max}", truncate_chars(input, 60));
            assert!(got.chars().count() <= *max);
        }
    }

    #[test]
    fn scrub_bounded_reads_a_bounded_window_of_huge_input() {
        let s = defaults();
        let prose = "The model answered 3 questions about billing, then stopped. ";
        let mut huge = prose.repeat(10 * 1024 * 1024 / prose.len());
        huge.push_str("alice@example.com 4111 1111 1111 1111");
        let small = prose.repeat(5 * 1024 / prose.len());

        let expected = truncate_chars(&huge, 4096).to_owned();
        assert_eq!(s.scrub_bounded(&huge, 4096), expected);

        let time = |text: &str| {
            let start = std::time::Instant::now();
            for _ in 0..20 {
                std::hint::black_box(s.scrub_bounded(std::hint::black_box(text), 4096));
            }
            start.elapsed()
        };
        let (small_time, huge_time) = (time(&small), time(&huge));
        // Scanning 10 MB would be ~2000× the 5 KB work; allow generous noise.
        assert!(
            huge_time < small_time * 20 + std::time::Duration::from_millis(50),
            "5 KB: {small_time:?}, 10 MB: {huge_time:?}"
        );

        // PII at the very end of a huge text with no safe cut near the window edge.
        let mut run = "x".repeat(10 * 1024 * 1024);
        run.push_str(" alice@example.com");
        assert_eq!(s.scrub_bounded(&run, 100), "[REDACTED]");
    }

    #[test]
    fn secret_keys() {
        let keys = SecretKeys::new(&["ssn".to_owned(), "customerId".to_owned()]);
        let cases = [
            ("api_key", true),
            ("apiKey", true),
            ("APIKey", true),
            ("x-api-key", true),
            ("X-Api-Key", true),
            ("OPENAI_API_KEY", true),
            ("apikey", true),
            ("db.password", true),
            ("Authorization", true),
            ("http.request.header.authorization", true),
            ("session_cookie", true),
            ("set-cookie", true),
            ("access_token", true),
            ("accessToken", true),
            ("refresh_token", true),
            ("id_token", true),
            ("client_secret", true),
            ("aws.secret_access_key", true),
            ("private_key", true),
            ("privateKey", true),
            ("passwd", true),
            ("auth", true),
            ("user.credentials", true),
            ("user.ssn", true),
            ("customer_id", true),
            ("CustomerID", true),
            ("customerid", true),
            ("max_tokens", false),
            ("input_tokens", false),
            ("gen_ai.usage.output_tokens", false),
            ("llm.token_count.prompt", false),
            ("token_type", false),
            ("max_token", false),
            ("author", false),
            ("authority", false),
            ("tokenizer", false),
            ("monkey", false),
            ("cache_key", false),
            ("session.id", false),
            ("gen_ai.request.model", false),
            ("", false),
            ("日本.名前", false),
        ];
        for (key, secret) in cases {
            assert_eq!(keys.is_secret(key), secret, "{key:?}");
        }
        assert!(!SecretKeys::default().is_secret("user.ssn"));
    }

    #[test]
    fn key_segments_split_like_identifiers() {
        let cases: [(&str, &[&str]); 7] = [
            ("apiKey", &["api", "Key"]),
            ("APIKey", &["API", "Key"]),
            ("XApiKey", &["X", "Api", "Key"]),
            ("gen_ai.usage.output_tokens", &["gen", "ai", "usage", "output", "tokens"]),
            ("x--api..key", &["x", "api", "key"]),
            ("oauth2Token", &["oauth2", "Token"]),
            ("", &[]),
        ];
        for (key, expected) in cases {
            assert_eq!(key_segments(key).collect::<Vec<_>>(), expected, "{key:?}");
        }
    }

    /// Small deterministic generator (xorshift) for the property tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
            &items[self.below(items.len())]
        }
    }

    fn fragments() -> Vec<String> {
        let mut items: Vec<String> = [
            "alice@example.com",
            "a.b+c@sub.example.co.uk",
            "x@y.z",
            "@",
            "4111 1111 1111 1111",
            "4111111111111112",
            "4111-1111-1111-1111",
            "12/25",
            "123-45-6789",
            "+14155551234",
            "+1",
            "(415) 555-1234",
            "415-555-1234",
            "415.555.1234",
            "4155551234",
            "192.168.1.100",
            "999.1.1.1",
            "1.2.3.4.5",
            "::1",
            "fe80::1",
            "2001:db8::8a2e:370:7334",
            "a::b",
            "12:30",
            "12:30:45",
            "::ffff:10.0.0.1",
            "fe80::1%eth0",
            "Bearer",
            "bearer",
            "Bearer abcd1234efgh",
            "the",
            "quick",
            "fox",
            "3",
            "items",
            "2024",
            "v2.1",
            "é",
            "日本",
            "😀",
            "-",
            "_",
            ".",
            ":",
            "::",
            "(",
            ")",
            "+",
            "sk",
            "gh",
            "xox",
            "ey",
            "J",
            "AKIA",
            "0",
            "7",
            "12",
            "123",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        items.extend([
            jwt(),
            aws_key(),
            github_token('p'),
            stripe_key("s"),
            slack_token(),
            anthropic_key(),
            openai_key(true),
        ]);
        items
    }

    /// Iteration count for the property tests; `SCRUB_FUZZ_SCALE=50` runs a long soak.
    fn iterations(base: usize) -> usize {
        let scale = std::env::var("SCRUB_FUZZ_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
        base * scale
    }

    fn random_text(rng: &mut Rng, fragments: &[String], separators: &[&str]) -> String {
        let mut text = String::new();
        for _ in 0..rng.below(30) + 1 {
            text.push_str(rng.pick(fragments));
            text.push_str(separators[rng.below(separators.len())]);
        }
        text
    }

    /// The prefilter (triggers and safe cuts) must never change a result.
    #[test]
    fn prefilter_never_changes_results() {
        let fragments = fragments();
        let separators = [" ", "", "", ", ", "\n", ":", "-", ".", " 1", "é", ") ", ")", "(", "+"];
        let option_sets = [
            ScrubOptions { typed_replacement: true, ..ScrubOptions::default() },
            ScrubOptions {
                typed_replacement: true,
                custom: vec![("digits".into(), r"\d{3} \d".into())],
                ..ScrubOptions::default()
            },
            ScrubOptions {
                typed_replacement: true,
                enable_only: Some(vec!["phone_us".into(), "ipv6".into(), "ipv4".into()]),
                ..ScrubOptions::default()
            },
            ScrubOptions {
                typed_replacement: true,
                disable: vec!["credit_card".into(), "email".into(), "bearer_token".into()],
                ..ScrubOptions::default()
            },
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for opts in option_sets {
            let fast = scrubber(opts.clone());
            let slow = without_prefilter(opts);
            for _ in 0..iterations(3000) {
                let text = random_text(&mut rng, &fragments, &separators);
                assert_eq!(fast.scrub(&text), slow.scrub(&text), "text: {text:?}");
            }
        }
    }

    /// Without long runs at the edge, the bounded result is exactly "scrub, then cut".
    #[test]
    fn bounded_equals_scrub_then_cut() {
        let s = typed();
        let fragments = fragments();
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        for _ in 0..iterations(1500) {
            let text = random_text(&mut rng, &fragments, &[" ", "\n", ", "]);
            let full = s.scrub(&text);
            for max in [0, 1, 5, 17, 40, 100, 300, 1000] {
                assert_eq!(s.scrub_bounded(&text, max), truncate_chars(&full, max), "text: {text:?} max {max}");
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        let s = scrubber(ScrubOptions {
            typed_replacement: true,
            custom: vec![("word".into(), r"(?i)secret\w*".into())],
            ..ScrubOptions::default()
        });
        let alphabet: Vec<char> = "aA0189 .:-_@+()%/=~eyJKBbgxské日😀\n\t".chars().collect();
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..iterations(3000) {
            let len = rng.below(120);
            let text: String = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            let full = s.scrub(&text);
            for max in [0, 1, 2, 7, 50, 500] {
                let bounded = s.scrub_bounded(&text, max);
                assert!(bounded.chars().count() <= max);
                assert_eq!(bounded, truncate_chars(&full, max), "text: {text:?} max {max}");
            }
        }
    }
}
