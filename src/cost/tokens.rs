//! Token counts and what they mean: providers count cached input tokens differently.
//!
//! OpenAI's `prompt_tokens` (and OpenTelemetry's `gen_ai.usage.input_tokens`) **include** the tokens read
//! from the prompt cache (`cached_tokens` is a part of them). Anthropic's `input_tokens` **exclude** cache
//! reads and cache writes, which come besides it (`cache_read_input_tokens`, `cache_creation_input_tokens`).
//! Pricing either as the other double-counts or drops the cached tokens, so [`Tokens`] records which
//! convention its `input` follows and derives the rest from that.

/// Whether [`Tokens::input`] includes the cache-read and cache-write tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputCounting {
    /// `input` is every input token, cached ones included: OpenAI (`prompt_tokens` / `cached_tokens`),
    /// OpenTelemetry semconv (`gen_ai.usage.input_tokens`), Gemini, most others. The default.
    #[default]
    IncludesCache,
    /// `input` is only the uncached input tokens; cache reads and writes come besides it: Anthropic
    /// (`input_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`).
    ExcludesCache,
}

/// Token counts of an LLM call (`set_tokens`, and what the pricing engine prices), as the provider's
/// response reports them.
///
/// Providers count cached input tokens differently; [`Tokens::input_counting`] says which way `input` was
/// counted, so the call is priced right (cached tokens at the cache price, never twice):
///
/// | provider convention | `input` | `input_counting` | constructor |
/// |---|---|---|---|
/// | OpenAI (and most others, and the OTel semconv): `prompt_tokens`, `prompt_tokens_details.cached_tokens` | **includes** `cache_read` (and `cache_write`) | `IncludesCache` (the default) | [`Tokens::openai`], [`Tokens::semconv`] |
/// | Anthropic: `input_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens` | **excludes** cache reads and writes | `ExcludesCache` | [`Tokens::anthropic`] |
///
/// Each field has one meaning whichever convention the counts came in:
/// - `input`: input (prompt) tokens, cached ones included or not as `input_counting` says;
/// - `output`: output (completion) tokens, reasoning tokens included (OpenAI `completion_tokens`,
///   Anthropic `output_tokens`, semconv `gen_ai.usage.output_tokens` all include them);
/// - `cache_read`: input tokens read from the provider's prompt cache (OpenAI `cached_tokens`, Anthropic
///   `cache_read_input_tokens`);
/// - `cache_write`: input tokens written to the prompt cache (Anthropic `cache_creation_input_tokens`);
/// - `reasoning`: reasoning (thinking) tokens, a part of `output`;
/// - `cache_write_1h`: of `cache_write`, the tokens written with a 1-hour lifetime (Anthropic
///   `cache_creation.ephemeral_1h_input_tokens`); the rest of `cache_write` are 5-minute writes;
/// - `audio_input` / `image_input`: input tokens of that modality, a part of the input total (OpenAI
///   `prompt_tokens_details.audio_tokens`, semconv `gen_ai.usage.audio.input_tokens`);
/// - `audio_output` / `image_output`: output tokens of that modality, a part of `output`.
///
/// Inconsistent counts are read generously rather than rejected, since they come from responses the
/// application does not control: cached tokens above an including `input` raise the input total to
/// their sum, and reasoning above `output` raises the output total to it.
///
/// ```
/// use botanu::Tokens;
///
/// // OpenAI: 10,000 prompt tokens of which 4,000 cached.
/// let openai = Tokens { input: 10_000, cache_read: 4_000, output: 2_000, ..Default::default() };
/// // Anthropic: 2,000 uncached input tokens, besides 10,000 read from and 1,000 written to the cache.
/// let anthropic = Tokens::anthropic(2_000, 10_000, 1_000, 500);
/// // The same call reported both ways prices the same.
/// assert_eq!(Tokens::openai(12_000, 10_000, 500).total_input(), Tokens::anthropic(2_000, 10_000, 0, 500).total_input());
/// assert_eq!(openai.uncached_input(), 6_000);
/// assert_eq!(anthropic.total_input(), 13_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    /// Input tokens; whether cached ones are included is [`Tokens::input_counting`].
    pub input: u64,
    /// Output tokens, reasoning ones included.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// Reasoning tokens, a part of `output`.
    pub reasoning: u64,
    /// Of `cache_write`, the tokens written to a 1-hour cache (the rest are 5-minute writes).
    pub cache_write_1h: u64,
    /// Audio input tokens, a part of the input total.
    pub audio_input: u64,
    /// Image input tokens, a part of the input total.
    pub image_input: u64,
    /// Audio output tokens, a part of `output`.
    pub audio_output: u64,
    /// Image output tokens, a part of `output`.
    pub image_output: u64,
    /// Whether `input` includes `cache_read` and `cache_write`.
    pub input_counting: InputCounting,
}

impl Tokens {
    /// No tokens, input counted as including the cache (the same as `Tokens::default()`, usable in `const`).
    pub const ZERO: Tokens = Tokens {
        input: 0,
        output: 0,
        cache_read: 0,
        cache_write: 0,
        reasoning: 0,
        cache_write_1h: 0,
        audio_input: 0,
        image_input: 0,
        audio_output: 0,
        image_output: 0,
        input_counting: InputCounting::IncludesCache,
    };

    /// OpenAI's usage: `prompt_tokens` (cached included), `cached_tokens`, `completion_tokens`.
    pub const fn openai(prompt_tokens: u64, cached_tokens: u64, completion_tokens: u64) -> Self {
        Tokens { input: prompt_tokens, output: completion_tokens, cache_read: cached_tokens, ..Tokens::ZERO }
    }

    /// Anthropic's usage: `input_tokens` (cache excluded), `cache_read_input_tokens`,
    /// `cache_creation_input_tokens`, `output_tokens`.
    pub const fn anthropic(input_tokens: u64, cache_read: u64, cache_write: u64, output_tokens: u64) -> Self {
        Tokens {
            input: input_tokens,
            output: output_tokens,
            cache_read,
            cache_write,
            input_counting: InputCounting::ExcludesCache,
            ..Tokens::ZERO
        }
    }

    /// OpenTelemetry GenAI semconv: `gen_ai.usage.input_tokens` (cached included),
    /// `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens`,
    /// `gen_ai.usage.cache_creation.input_tokens`, `gen_ai.usage.reasoning.output_tokens`.
    pub const fn semconv(input: u64, output: u64, cache_read: u64, cache_write: u64, reasoning: u64) -> Self {
        Tokens { input, output, cache_read, cache_write, reasoning, ..Tokens::ZERO }
    }

    /// The same usage with `reasoning` reasoning tokens (a part of `output`).
    pub const fn with_reasoning(mut self, reasoning: u64) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// Every input token written to the cache: `cache_write`, or `cache_write_1h` when a caller counted the
    /// 1-hour writes apart and above it (Anthropic reports the 5-minute and 1-hour writes as two fields).
    pub fn cache_writes(&self) -> u64 {
        self.cache_write.max(self.cache_write_1h)
    }

    /// Every input token, cached ones included.
    pub fn total_input(&self) -> u64 {
        let cached = self.cache_read.saturating_add(self.cache_writes());
        match self.input_counting {
            InputCounting::IncludesCache => self.input.max(cached),
            InputCounting::ExcludesCache => self.input.saturating_add(cached),
        }
    }

    /// Input tokens neither read from nor written to the cache.
    pub fn uncached_input(&self) -> u64 {
        self.total_input() - self.cache_read.saturating_add(self.cache_writes()).min(self.total_input())
    }

    /// Every output token, reasoning ones included.
    pub fn total_output(&self) -> u64 {
        self.output.max(self.reasoning)
    }

    /// True when the call recorded no tokens at all (nothing to price).
    pub fn is_empty(&self) -> bool {
        self.total_input() == 0 && self.total_output() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_conventions_agree() {
        // (usage, total input, uncached input, total output)
        let table = [
            (Tokens::openai(10_000, 4_000, 2_000), 10_000, 6_000, 2_000),
            (Tokens::anthropic(2_000, 10_000, 1_000, 500), 13_000, 2_000, 500),
            (Tokens::semconv(100, 50, 20, 10, 30), 100, 70, 50),
            // Inconsistent: cached above an including input; reasoning above output.
            (Tokens::openai(10, 40, 0).with_reasoning(7), 40, 0, 7),
            (Tokens::default(), 0, 0, 0),
            (Tokens::anthropic(u64::MAX, u64::MAX, 1, 0), u64::MAX, 0, 0),
        ];
        for (usage, total, uncached, output) in table {
            assert_eq!(usage.total_input(), total, "{usage:?}");
            assert_eq!(usage.uncached_input(), uncached, "{usage:?}");
            assert_eq!(usage.total_output(), output, "{usage:?}");
        }
        // 1-hour writes above the cache writes (counted apart): the writes are the larger count.
        let apart = Tokens { cache_write: 4_000, cache_write_1h: 10_000, ..Tokens::anthropic(1_000, 0, 0, 100) };
        assert_eq!((apart.cache_writes(), apart.total_input(), apart.uncached_input()), (10_000, 11_000, 1_000));
        assert!(Tokens::default().is_empty());
        assert!(!Tokens::anthropic(0, 5, 0, 0).is_empty());
    }
}
