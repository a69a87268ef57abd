//! The prefilter: trigger bytes that every hit of the combined regex contains, and safe cuts that
//! no built-in hit crosses (see the module docs of [`scrub`](super)). E-mail and JWT are searched
//! on their own, so `@` and the `J` of `eyJ` are not triggers.

use super::detectors::is_bearer_scheme;

const T_DIGIT: u8 = 1;
const T_PLUS: u8 = 3;
const T_COLON: u8 = 4;
const T_UNDERSCORE: u8 = 5;
const T_DASH: u8 = 6;
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
    table[b'+' as usize] = T_PLUS;
    table[b':' as usize] = T_COLON;
    table[b'_' as usize] = T_UNDERSCORE;
    table[b'-' as usize] = T_DASH;
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
pub(super) fn is_safe_cut(bytes: &[u8], c: usize) -> bool {
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
pub(super) fn cut_before(bytes: &[u8], t: usize, floor: usize) -> usize {
    (floor..t).rev().find(|&c| is_safe_cut(bytes, c)).unwrap_or(floor)
}

/// The first safe cut in `(t, limit)`, or `limit`.
pub(super) fn cut_after(bytes: &[u8], t: usize, limit: usize) -> usize {
    (t + 1..limit).find(|&c| is_safe_cut(bytes, c)).unwrap_or(limit)
}

/// The first byte in `[from, end)` whose trigger check passes. This is the whole cost of clean
/// text, so the common path is a table lookup per byte.
#[inline]
pub(super) fn next_trigger(bytes: &[u8], from: usize, end: usize) -> Option<usize> {
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
        | (b == b'K')
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
