//! The PII scrubber on arbitrary text: `scrub`, and `scrub_bounded` and `scrub_capped` against
//! their contracts.
//!
//! The first input byte picks the `max_chars` of `scrub_bounded` (and, × 4, the `max_bytes` of
//! `scrub_capped`); the rest is the text.
#![no_main]

use std::sync::OnceLock;

use botanu::content::{truncate_chars, ScrubOptions, Scrubber};
use libfuzzer_sys::fuzz_target;

fn scrubbers() -> &'static [Scrubber] {
    static SCRUBBERS: OnceLock<Vec<Scrubber>> = OnceLock::new();
    SCRUBBERS.get_or_init(|| {
        let typed = ScrubOptions {
            typed_replacement: true,
            custom: vec![("order".into(), r"\bORD-[0-9]{4,}\b".into())],
            ..ScrubOptions::default()
        };
        [ScrubOptions::default(), typed].iter().map(|o| Scrubber::new(o).expect("valid options")).collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let max_chars = usize::from(first) * 4;
    let text = String::from_utf8_lossy(rest);
    for scrubber in scrubbers() {
        let full = scrubber.scrub(&text);
        let bounded = scrubber.scrub_bounded(&text, max_chars);
        assert!(bounded.chars().count() <= max_chars);
        // A text within the first window (max_chars + 256 characters) is scrubbed whole, then cut.
        if text.chars().count() <= max_chars + 256 {
            assert_eq!(bounded, truncate_chars(&full, max_chars));
        } else {
            // Otherwise a prefix of that, possibly ending in (a cut of) the replacement.
            let common = bounded.bytes().zip(full.bytes()).take_while(|(a, b)| a == b).count();
            let ok = (0..=common)
                .filter(|&i| bounded.is_char_boundary(i))
                .any(|i| scrubber.replacement().starts_with(&bounded[i..]));
            assert!(ok, "{bounded:?} vs {full:?}");
        }
        let max_bytes = max_chars * 4;
        let capped = scrubber.scrub_capped(&text, max_bytes);
        assert!(capped.len() <= max_bytes);
        // A prefix of the full scrub, possibly ending in (a cut of) the replacement, or cut short.
        let common = capped.bytes().zip(full.bytes()).take_while(|(a, b)| a == b).count();
        let ok = (0..=common)
            .filter(|&i| capped.is_char_boundary(i))
            .any(|i| scrubber.replacement().starts_with(&capped[i..]));
        assert!(ok, "{capped:?} vs {full:?}");
    }
});
