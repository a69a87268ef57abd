//! The one fast hash: FxHash (rustc's), for the short strings and pointers botanu hashes on every span
//! (callsite ids, metric attribute sets, provider/model names, recent string values) where the default
//! SipHash costs several times more. It is not DoS-resistant; every map hashed with it is bounded (a
//! hostile key can at worst slow lookups, never grow a map), and where a collision matters the stored key
//! is compared whole.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

/// One round: `h` with `word` mixed in.
#[inline]
pub(crate) const fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(K)
}

/// `h` with `bytes` mixed in, 8 bytes a round (the last word zero-padded).
#[inline]
pub(crate) fn mix_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(word));
    }
    h
}

/// [`mix`] as a `std::hash::Hasher`, for `HashMap`s ([`FxBuild`]).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = mix_bytes(self.0, bytes);
    }

    fn write_u8(&mut self, byte: u8) {
        self.0 = mix(self.0, u64::from(byte));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0, n);
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = mix(self.0, n as u64);
    }
}

/// The `BuildHasher` of maps keyed by what botanu hashes per span.
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_hashed_by_words_and_distinct_inputs_differ() {
        // 8 bytes are one round; a shorter tail is zero-padded into one more.
        assert_eq!(mix_bytes(0, b"abcdefgh"), mix(0, u64::from_le_bytes(*b"abcdefgh")));
        assert_eq!(mix_bytes(0, b"ab"), mix(0, u64::from_le_bytes(*b"ab\0\0\0\0\0\0")));
        let mut seen = std::collections::HashSet::new();
        for s in ["", "a", "b", "ab", "ba", "openai", "anthropic", "gpt-4o", "gpt-4o-mini"] {
            let mut h = FxHasher::default();
            h.write(s.as_bytes());
            h.write_u8(0xff);
            assert!(seen.insert(h.finish()), "{s}");
        }
    }
}
