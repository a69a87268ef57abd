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
//! * **Two detectors on their own.** `email` and `jwt` begin with an unbounded run of common
//!   characters (a local part before `@`, a header before the dots). Inside the alternation such a
//!   run, started earlier, outranks every later candidate, so each search read to the end of the
//!   run, and the search restarts after every rejected candidate: `1-1-1-…`, `1.1.1.…` or glued
//!   SSNs took time quadratic in their length. They are searched by their own regexes, merged
//!   with the same leftmost-first, earlier-detector rule (a test checks that this never changes a
//!   result); every other built-in candidate is bounded in length or begins with a literal, so
//!   scrubbing takes time linear in the input (`benches/scrub.rs`, group `worst_case`).
//! * **Validators with fall-back.** Some detectors match a loose *candidate* that code then checks:
//!   card numbers (Luhn, also on shorter group-aligned prefixes), IPv6 (parsed by
//!   [`std::net::Ipv6Addr`]), IPv4 (octets 0–255), E.164 (what precedes the `+`) and bearer
//!   tokens (the token must look like a credential). A rejected candidate is treated as if that
//!   detector had not matched: the later detectors are tried at the same position, then the
//!   scan resumes one character further on. `call 415-555-1234 123 items` first looks like a
//!   13-digit card; it fails Luhn, so the US phone number inside it is still found.
//! * **Prefilter.** Every hit of the combined regex contains a *trigger* byte that passes a cheap local check:
//!   `+` before a digit; a digit run that is ≥ 7 long, or continues after ` `, `-`, `)` or
//!   `) ` with another digit, or begins two dot-separated runs; `::`, or a colon before a hex
//!   digit with ≥ 5 colons in 40 bytes; the `K` of `AKIA`, the `_` of
//!   `gh?_`/`_live_`, the `-` of `sk-`/`xox?-`, the `B`/`b` of `Bearer`. The text is also split
//!   at *safe cuts*: bytes that no built-in match can contain (anything outside
//!   `[A-Za-z0-9 -._~+/=%@():]`, and a space unless it is followed by a digit or follows
//!   `Bearer`). The regex only runs on the segments between safe cuts that hold a passing
//!   trigger, so clean prose (`3 items`, `12:30`, `in 2024`, `version 2.1`) costs a SIMD-friendly
//!   byte scan and never reaches the regex engine. A test checks that the prefilter never
//!   changes a result.
//! * **Custom patterns** are separate regexes whose hits are merged with the built-in hits under
//!   the same leftmost-first rule (ties go to built-ins, then to earlier custom patterns). They
//!   are compiled by the `regex` crate: one search is linear in the input, but finding every hit
//!   of a pattern such as `\d+x|\d` is not (each search reads ahead to the end of the digit run),
//!   which no choice of ours can fix for an arbitrary pattern; use [`Scrubber::scrub_bounded`] or
//!   [`Scrubber::scrub_capped`] on untrusted input of unbounded size.
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

mod detectors;
mod prefilter;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use regex::Regex;

/// Re-exported so the path `botanu::content::scrub::SecretKeys` keeps working.
use detectors::{Builtin, BUILTIN_NAMES};
use prefilter::{cut_after, cut_before, is_safe_cut, next_trigger};

/// Characters past `max_chars` that [`Scrubber::scrub_bounded`] reads to find a place where no
/// built-in match can be cut in two. Every bounded built-in match is far shorter than this.
const MARGIN_CHARS: usize = 256;

/// Bytes past `max_bytes` that [`Scrubber::scrub_capped`] reads to find a safe cut; as
/// [`MARGIN_CHARS`], far longer than any bounded built-in match.
pub(crate) const CAPPED_MARGIN_BYTES: usize = 1024;

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
    /// A built-in searched on its own rather than in the combined regex (see
    /// [`Builtin::searched_alone`]).
    Solo {
        id: Builtin,
        regex: Regex,
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
    /// A passing trigger at or after the last position searched, with none between: while the
    /// search position has not passed it, the segment still holds a trigger and is not rescanned
    /// (a rescan per rejected candidate would make runs of candidates quadratic).
    trigger: usize,
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
        Scrubber::build(opts, true)
    }

    /// [`new`](Self::new), with `solo` choosing whether the built-ins with unbounded prefixes are
    /// searched on their own (always, except in the test that checks this never changes a result).
    fn build(opts: &ScrubOptions, solo: bool) -> Result<Scrubber, ScrubError> {
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
            let kind = if solo && id.searched_alone() {
                DetectorKind::Solo { id, regex: Regex::new(pattern).expect("built-in PII patterns compile") }
            } else {
                alternatives.push(format!("(?:{pattern})"));
                DetectorKind::Builtin {
                    id,
                    at_start: Regex::new(&format!("^(?:{pattern})")).expect("built-in PII patterns compile"),
                    after_char: Regex::new(&format!("^(?s:.)(?:{pattern})")).expect("built-in PII patterns compile"),
                }
            };
            detectors.push(Detector {
                name: id.name().to_owned(),
                replacement: replacement_for(opts, id.name()),
                kind,
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
            // Triggers cover the combined regex only, which holds every built-in without `solo`.
            prefilter: solo,
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

    /// Scrubs at most about `max_bytes` of `text` and returns at most `max_bytes` bytes, cut on a
    /// char boundary: the entry point for event and error messages, which have a byte cap and are
    /// scrubbed on the application thread. The work is O(`max_bytes`) whatever the size of `text`.
    ///
    /// The input is first cut at a safe cut (a place no built-in match spans) between `max_bytes`
    /// and `max_bytes` + 1 KiB, then scrubbed, then cut to `max_bytes`. So a token that straddles
    /// `max_bytes` is scrubbed whole before the cut and no fragment of it is left visible; only a
    /// cut replacement marker (`[REDA`) can show at the end. When no safe cut is found in that
    /// margin (one run of ≥ 1 KiB token characters across `max_bytes`), that run is replaced whole.
    /// Redactions may leave the output shorter than `max_bytes` even though more input followed.
    /// Returns the input borrowed when nothing matched.
    ///
    /// ```
    /// use botanu::content::{ScrubOptions, Scrubber};
    ///
    /// let scrubber = Scrubber::new(&ScrubOptions::default())?;
    /// let message = format!("retry for bob@example.com {}", "x".repeat(100_000));
    /// assert_eq!(scrubber.scrub_capped(&message, 20), "retry for [REDACTED]");
    /// // The address straddles the cap: it is redacted before the cut.
    /// assert_eq!(scrubber.scrub_capped("mail bob@example.com now", 12), "mail [REDACT");
    /// # Ok::<(), botanu::content::ScrubError>(())
    /// ```
    pub fn scrub_capped<'a>(&self, text: &'a str, max_bytes: usize) -> Cow<'a, str> {
        if !self.is_active() {
            return Cow::Borrowed(&text[..floor_char_boundary(text, max_bytes)]);
        }
        let bytes = text.as_bytes();
        let window_end = floor_char_boundary(text, max_bytes.saturating_add(CAPPED_MARGIN_BYTES));
        // The replacement may be longer than what it replaces, so even a short text is cut after.
        let cut = if window_end == text.len() {
            Some(window_end)
        } else {
            (max_bytes..window_end).rev().find(|&c| is_safe_cut(bytes, c))
        };
        let scrubbed = match cut {
            Some(cut) => self.render(text, 0, cut),
            None => {
                // A long token runs across the cap: keep what precedes it and hide it whole, since
                // its end (and so whether it matches) is beyond the margin.
                let run_start =
                    (0..max_bytes).rev().find(|&c| is_safe_cut(bytes, c)).map_or(0, |c| next_char_boundary(text, c));
                let mut out = self.render(text, 0, run_start).into_owned();
                out.push_str(&self.replacement);
                Cow::Owned(out)
            }
        };
        match scrubbed {
            Cow::Borrowed(clean) => Cow::Borrowed(&clean[..floor_char_boundary(clean, max_bytes)]),
            Cow::Owned(mut out) => {
                out.truncate(floor_char_boundary(&out, max_bytes));
                Cow::Owned(out)
            }
        }
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
        let mut segment = Segment { start, end: start, trigger: start };
        let mut builtin = Pending::Unknown;
        // One stream per detector outside the combined regex: solo built-ins, then custom patterns.
        let mut streams: Vec<(usize, Pending)> = (0..self.detectors.len())
            .filter(|&i| !matches!(self.detectors[i].kind, DetectorKind::Builtin { .. }))
            .map(|i| (i, Pending::Unknown))
            .collect();
        loop {
            if builtin.is_stale(pos) {
                builtin = Pending::from_hit(self.next_builtin_hit(text, limit, pos, &mut segment));
            }
            let mut best = match builtin {
                Pending::At(hit) => Some(hit),
                _ => None,
            };
            for (detector, pending) in streams.iter_mut() {
                if pending.is_stale(pos) {
                    *pending = Pending::from_hit(self.next_stream_hit(text, limit, pos, *detector));
                }
                if let Pending::At(hit) = *pending {
                    // Leftmost first; at the same start, the earlier detector.
                    if best.is_none_or(|b| (hit.start, hit.detector) < (b.start, b.detector)) {
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

    /// The first accepted hit of a detector searched on its own (a solo built-in or a custom
    /// pattern) starting at or after `from` in `text[..limit]`.
    fn next_stream_hit(&self, text: &str, limit: usize, from: usize, detector: usize) -> Option<Hit> {
        let (regex, validator) = match &self.detectors[detector].kind {
            DetectorKind::Solo { id, regex } => (regex, Some(*id)),
            DetectorKind::Custom { regex } => (regex, None),
            DetectorKind::Builtin { .. } => return None,
        };
        let haystack = &text[..limit];
        let mut from = from;
        if validator == Some(Builtin::Email) {
            // An e-mail holds exactly one `@` and no safe cut, so the leftmost one starts after the
            // last safe cut before the first `@`: the regex need not read the text before it.
            let bytes = text.as_bytes();
            // `str::find` with a char runs core's word-at-a-time memchr: on clean text this scan is
            // most of the e-mail detector's cost, and a byte-by-byte `position` halved throughput.
            let at = from
                + match text.get(from..limit) {
                    Some(rest) => rest.find('@')?,
                    None => bytes.get(from..limit)?.iter().position(|&b| b == b'@')?,
                };
            from = cut_before(bytes, at, from);
        }
        while from <= limit {
            let m = regex.find_at(haystack, from)?;
            // Empty matches (e.g. a bare `\b`) redact nothing; step over them, as over a rejected
            // candidate.
            let end = match validator {
                _ if m.is_empty() => None,
                Some(id) => id.validate(text, m.start(), m.end()),
                None => Some(m.end()),
            };
            if let Some(end) = end {
                return Some(Hit { start: m.start(), end, detector });
            }
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
                *segment = Segment { start: pos, end: limit, trigger: pos };
            } else if pos < segment.start || pos >= segment.end {
                let trigger = next_trigger(bytes, pos, limit)?;
                let start = cut_before(bytes, trigger, pos);
                *segment = Segment { start, end: cut_after(bytes, trigger, limit), trigger };
                pos = start;
            } else if pos > segment.trigger {
                match next_trigger(bytes, pos, segment.end) {
                    Some(trigger) => segment.trigger = trigger,
                    None => {
                        // Every combined-regex hit contains a passing trigger: none is left in this segment.
                        pos = segment.end;
                        continue;
                    }
                }
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
                // A solo built-in: its own stream competes in the merge.
                continue;
            };
            let candidate_end = if index == first {
                first_end
            } else if startable & (1 << index) == 0 || !id.may_match_at(text.as_bytes(), s) {
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

/// The largest char boundary of `text` at or below `i`.
fn floor_char_boundary(text: &str, i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    // A UTF-8 character is at most 4 bytes, so a boundary is at most 3 bytes back.
    (i.saturating_sub(3)..=i).rev().find(|&c| text.is_char_boundary(c)).unwrap_or(0)
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
