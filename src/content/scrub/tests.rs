//! Unit tests of the scrubber: contract vectors, each detector, options, the bounded path and
//! property tests of the prefilter.

use super::detectors::luhn_valid;
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

/// Searching e-mail and JWT on their own (for linear time) must never change a result compared
/// with the single leftmost-first alternation of every built-in.
#[test]
fn solo_detectors_never_change_results() {
    let fragments = fragments();
    let separators = [" ", "", "", ", ", "\n", ":", "-", ".", " 1", "é", ") ", ")", "(", "+", "@", "_"];
    let option_sets = [
        ScrubOptions { typed_replacement: true, ..ScrubOptions::default() },
        ScrubOptions {
            typed_replacement: true,
            custom: vec![("digits".into(), r"\d{3} \d".into()), ("mailish".into(), r"[a-z]+@".into())],
            ..ScrubOptions::default()
        },
        ScrubOptions {
            typed_replacement: true,
            disable: vec!["credit_card".into(), "bearer_token".into()],
            ..ScrubOptions::default()
        },
    ];
    let mut rng = Rng(0x6A09_E667_F3BC_C908);
    for opts in option_sets {
        let split = scrubber(opts.clone());
        let combined = match Scrubber::build(&opts, false) {
            Ok(s) => s,
            Err(err) => panic!("options should be valid: {err}"),
        };
        for _ in 0..iterations(3000) {
            let text = random_text(&mut rng, &fragments, &separators);
            assert_eq!(split.scrub(&text), combined.scrub(&text), "text: {text:?}");
        }
    }
}

#[test]
fn scrub_capped_cuts_bytes_after_scrubbing() {
    let s = typed();
    let bearer_long = format!("Zz9{}", "x".repeat(2000));
    let cases: Vec<(String, usize, String)> = vec![
        ("short alice@example.com".into(), 100, "short [REDACTED:email]".into()),
        ("anything".into(), 0, String::new()),
        // Cut on a char boundary: `é` is two bytes.
        ("héllo".into(), 2, "h".into()),
        ("héllo".into(), 3, "hé".into()),
        // The card straddles the cap: no digit survives.
        ("card 4111 1111 1111 1111 ok".into(), 9, "card [RED".into()),
        // PII past the cap never matters; clean text is cut.
        (format!("clean text then alice@example.com {}", "z".repeat(5000)), 10, "clean text".into()),
        // A token longer than the margin straddling the cap is replaced whole.
        (format!("Authorization: Bearer {bearer_long} tail"), 30, "Authorization: [REDACTED]".into()),
    ];
    for (input, max, expected) in &cases {
        let got = s.scrub_capped(input, *max);
        assert_eq!(&got, expected, "input: {:?} max {max}", truncate_chars(input, 60));
        assert!(got.len() <= *max);
    }
    assert!(matches!(s.scrub_capped("clean words", 5), Cow::Borrowed("clean")));
    let disabled = scrubber(ScrubOptions { enabled: false, ..ScrubOptions::default() });
    assert_eq!(disabled.scrub_capped("héllo alice@example.com", 2), "h");
}

/// Without long runs at the cap, the capped result is "scrub, then cut to a char boundary".
#[test]
fn capped_equals_scrub_then_cut() {
    let s = typed();
    let fragments = fragments();
    let mut rng = Rng(0xBB67_AE85_84CA_A73B);
    for _ in 0..iterations(1500) {
        let text = random_text(&mut rng, &fragments, &[" ", "\n", ", "]);
        let full = s.scrub(&text);
        for max in [0, 1, 5, 17, 40, 100, 300, 1000] {
            let expected = &full[..floor_char_boundary(&full, max)];
            let got = s.scrub_capped(&text, max);
            if text.len() <= max + CAPPED_MARGIN_BYTES {
                assert_eq!(got, expected, "text: {text:?} max {max}");
            } else {
                // Redactions in the window may leave the output short, never different.
                assert!(expected.starts_with(&*got), "text: {text:?} max {max}");
            }
        }
    }
}

/// `may_match_at` only skips detectors that cannot match there.
#[test]
fn may_match_at_is_a_necessary_condition() {
    let fragments = fragments();
    let separators = [" ", "", "-", ".", ":", "(", ") ", "+", "1", "a"];
    let patterns: Vec<(Builtin, regex::Regex)> = Builtin::ALL
        .iter()
        .map(|&id| (id, regex::Regex::new(id.pattern()).unwrap_or_else(|err| panic!("{err}"))))
        .collect();
    let mut rng = Rng(0x3C6E_F372_FE94_F82B);
    for _ in 0..iterations(1000) {
        let text = random_text(&mut rng, &fragments, &separators);
        for s in (0..text.len()).filter(|&s| text.is_char_boundary(s)) {
            for (id, regex) in &patterns {
                if regex.find_at(&text, s).is_some_and(|m| m.start() == s) {
                    assert!(id.may_match_at(text.as_bytes(), s), "{id:?} at {s} in {text:?}");
                }
            }
        }
    }
}
