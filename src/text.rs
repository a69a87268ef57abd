//! Text from user values, made safe to export: formatting that survives a panicking `Debug` or `Display`
//! impl and stops at a cap (so a huge value costs no more than the cap), and the one cut on a char
//! boundary every exported string goes through. A leaf: the layer, the stderr field formatter
//! (`fmt_fields`) and the setters all use it, and it imports nothing of theirs.

use std::fmt;

/// Longest string that leaves the process, in bytes: attribute values, event names and attributes,
/// exception types and messages, span names. Longer strings are cut on a char boundary by [`cut_str`]
/// (attributes are named in `botanu.truncated_attributes`). Captured content has its own, smaller cut.
pub(crate) const MAX_VALUE_BYTES: usize = 16 * 1024;
/// What is kept of text that is scrubbed before its final cut (event and error messages): the cap plus
/// the scrubber's look-ahead plus one char, so [`Scrubber::scrub_capped`](crate::content::Scrubber::scrub_capped)
/// sees a secret straddling the cap whole and knows the text goes on past its window (a token run
/// across the cap is then hidden whole, not taken for the end of the text and partly shown).
pub(crate) const SCRUB_INPUT_BYTES: usize = MAX_VALUE_BYTES + crate::content::scrub::CAPPED_MARGIN_BYTES + 4;
/// The one cut: `s` cut to at most `max` bytes, on a char boundary. Every string that leaves the
/// process goes through it (with [`MAX_VALUE_BYTES`]) before any copy, normalization or scrubbing.
#[inline]
pub(crate) fn cut_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// Formats a user value with `Debug`, keeping at most [`SCRUB_INPUT_BYTES`]: formatting stops there, so
/// a huge value costs no more than the cap. A `Debug` (or `Display`, through `%`) impl that panics must
/// not take the application down from inside the layer: the panic is caught and the value exported as a
/// marker.
pub(crate) fn debug_string<T: fmt::Debug + ?Sized>(value: &T) -> String {
    format_capped(|w| fmt::write(w, format_args!("{value:?}"))).unwrap_or_else(|| DEBUG_PANICKED.to_owned())
}

/// `Display` of a user value, bounded and with a panicking impl caught like in [`debug_string`].
pub(crate) fn display_string<T: fmt::Display + ?Sized>(value: &T) -> String {
    format_capped(|w| fmt::write(w, format_args!("{value}"))).unwrap_or_else(|| DISPLAY_PANICKED.to_owned())
}

/// What a field whose `Debug` impl panicked is exported as.
pub(crate) const DEBUG_PANICKED: &str = "<Debug panicked>";
/// What an error whose `Display` impl panicked is exported as.
pub(crate) const DISPLAY_PANICKED: &str = "<Display panicked>";

/// Runs `format` into a buffer that takes at most [`SCRUB_INPUT_BYTES`]; `None` if it panicked.
fn format_capped(format: impl FnOnce(&mut CappedWriter) -> fmt::Result) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut w = CappedWriter(String::new());
        // An error here is the writer refusing more bytes (or the impl's own): what was written stays.
        let _ = format(&mut w);
        w.0
    }))
    .ok()
}

/// A `fmt::Write` that keeps the first [`SCRUB_INPUT_BYTES`] and then refuses, which ends the
/// formatting early (a derived `Debug` stops at the first refused write).
struct CappedWriter(String);

impl fmt::Write for CappedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = SCRUB_INPUT_BYTES - self.0.len();
        if s.len() <= room {
            self.0.push_str(s);
            Ok(())
        } else {
            self.0.push_str(cut_str(s, room));
            Err(fmt::Error)
        }
    }
}

/// A best-effort type name for a `dyn Error`: Rust has no runtime kind names, so the `Debug` form's
/// leading identifier (`Io`, `ParseIntError`, …) stands in, as it usually names the variant or type.
pub(crate) fn error_type_name(err: &(dyn std::error::Error + 'static)) -> String {
    let debug = debug_string(&err);
    let end = debug.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(debug.len());
    let name = &debug[..end];
    if name.is_empty() {
        "Error".to_owned()
    } else {
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}

/// `std::any::type_name` without module paths, generics or `dyn` (`hyper::Error` → `Error`), for an error
/// named from its type rather than its value.
pub(crate) fn short_type_name<E: ?Sized>() -> &'static str {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).trim_start_matches("dyn ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_str_cuts_on_a_char_boundary_at_or_below_the_cap() {
        // (input, max, expected)
        let table: &[(&str, usize, &str)] = &[
            ("", 4, ""),
            ("abcd", 4, "abcd"),
            ("abcde", 4, "abcd"),
            ("aé", 2, "a"), // 'é' is 2 bytes: cutting inside it backs off
            ("aé", 3, "aé"),
            ("日本", 4, "日"),
            ("日本", 2, ""),
        ];
        for (input, max, want) in table {
            assert_eq!(cut_str(input, *max), *want, "{input:?} to {max}");
        }
    }

    /// A value that writes far more than the cap, one small piece at a time.
    struct Chatty;

    impl fmt::Debug for Chatty {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..10_000_000 {
                f.write_str("chatty ")?;
            }
            Ok(())
        }
    }

    struct Exploding;

    impl fmt::Display for Exploding {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("boom")
        }
    }

    #[test]
    fn user_formatting_stops_at_the_scrub_input_size_and_panics_become_markers() {
        let start = std::time::Instant::now();
        let s = debug_string(&Chatty);
        assert!(s.len() <= SCRUB_INPUT_BYTES && s.len() > SCRUB_INPUT_BYTES - 8, "{}", s.len());
        // 70 MB of writes would take seconds in a debug build; the refused write ends it at once.
        assert!(start.elapsed() < std::time::Duration::from_secs(1), "{:?}", start.elapsed());
        assert_eq!(display_string(&Exploding), DISPLAY_PANICKED);
        assert_eq!(debug_string("short"), "\"short\"");
    }
}
