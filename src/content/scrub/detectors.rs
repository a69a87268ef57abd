//! The built-in detectors: their names, candidate patterns and validators.

use std::net::Ipv6Addr;

/// Built-in detectors, in contract order (the order decides ties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Builtin {
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

pub(super) const BUILTIN_NAMES: [&str; 15] = [
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
    pub(super) const ALL: [Builtin; 15] = [
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

    pub(super) fn name(self) -> &'static str {
        BUILTIN_NAMES[self as usize]
    }

    /// The candidate pattern. `(?-u:\b)` is an ASCII word boundary (cheap for the lazy DFA, and
    /// `[0-9]` rather than `\d` because `\d` is Unicode-aware here). The safe-cut and trigger
    /// rules in this module depend on these patterns: change them together.
    pub(super) fn pattern(self) -> &'static str {
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

    /// Whether this detector is searched by its own regex instead of inside the combined
    /// alternation. These two have an unbounded run of common characters before the part that
    /// decides a match (an e-mail's local part before `@`, a JWT's header before its dots). In a
    /// leftmost-first alternation such a thread, started earlier, outranks any later candidate, so
    /// each search scans to where it dies; with the search restarting after every rejected
    /// candidate (`1-1-1-…`, `1.1.1.…`), that made scrubbing quadratic. On its own, the pattern's
    /// search runs once per hit: a search that finds nothing ends the stream.
    pub(super) fn searched_alone(self) -> bool {
        matches!(self, Builtin::Email | Builtin::Jwt)
    }

    /// Whether this detector's match at some position can be exactly `m`. Only necessary
    /// conditions: they let [`Scrubber::identify`] skip the anchored regexes when exactly one
    /// detector fits, which is the common case.
    pub(super) fn could_produce(self, m: &[u8]) -> bool {
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
    pub(super) fn may_start_with(self, b: u8) -> bool {
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

    /// Whether this detector's pattern can match at `s`, from the first few bytes there. Only
    /// necessary conditions: when a candidate is rejected, the later detectors are tried at the
    /// same place, and this spares an anchored regex search for most of them (on `1-1-1-…` that
    /// is several searches per byte).
    pub(super) fn may_match_at(self, bytes: &[u8], s: usize) -> bool {
        let at = |i: usize| bytes.get(s + i).copied().unwrap_or(0);
        let digits = |n: usize| (0..n).all(|i| at(i).is_ascii_digit());
        match self {
            Builtin::Ssn => digits(3) && at(3) == b'-',
            Builtin::PhoneUs => at(0) == b'(' || (digits(3) && matches!(at(3), b'-' | b'.')),
            // One to three digits, then a dot.
            Builtin::Ipv4 => (1..=3).any(|n| digits(n) && at(n) == b'.'),
            // An optional group of up to four hex digits, then a colon.
            Builtin::Ipv6 => (0..=4).any(|n| (0..n).all(|i| at(i).is_ascii_hexdigit()) && at(n) == b':'),
            Builtin::PhoneE164 => at(0) == b'+' && at(1).is_ascii_digit(),
            Builtin::CreditCard => digits(1) && (at(1).is_ascii_digit() || matches!(at(1), b' ' | b'-')),
            _ => true,
        }
    }

    /// Checks a candidate `text[s..e]` found by this detector's pattern. Returns the end of the
    /// hit (validators may shorten it), or `None` to reject the candidate.
    pub(super) fn validate(self, text: &str, s: usize, e: usize) -> Option<usize> {
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

pub(super) fn is_bearer_scheme(word: &[u8]) -> bool {
    word == b"Bearer" || word == b"bearer" || word == b"BEARER"
}

pub(super) fn is_word_byte(b: u8) -> bool {
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
pub(super) fn luhn_valid(digits: &[u8]) -> bool {
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
