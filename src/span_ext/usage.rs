//! [`Tokens`] from the usage types of Rust LLM clients, so recording a response's usage is one line:
//! `span.set_tokens(usage.into())`. Each behind the optional feature named after the client.
//!
//! | feature | type | `input` | cache fields | `reasoning` |
//! |---|---|---|---|---|
//! | `async-openai` | `async_openai::types::chat::CompletionUsage` | `prompt_tokens` | `prompt_tokens_details.cached_tokens` as `cache_read`; with `cache_write_tokens` (gateways that report it), Anthropic-style (below) | `completion_tokens_details.reasoning_tokens` |
//! | `genai` | `genai::chat::Usage` | `prompt_tokens` | `prompt_tokens_details.cached_tokens` as `cache_read`; with `cache_creation_tokens`, Anthropic-style | `completion_tokens_details.reasoning_tokens` |
//! | `aws-bedrock` | `aws_sdk_bedrockruntime::types::TokenUsage` | `input_tokens` (cache reads and writes reported beside it, Anthropic-style) | `cache_read_input_tokens`, `cache_write_input_tokens` | not reported |
//!
//! Both clients report every input token in `prompt_tokens`, cached and cache-written ones included
//! (genai adds Anthropic's cache reads and writes into it). Without cache writes that is
//! [`Tokens`]' default convention (`cache_read` is a part of `input`). With cache writes the conversion
//! uses the Anthropic convention (`InputCounting::ExcludesCache`), where `input` excludes the cache: the conversion then subtracts the cache
//! reads and writes from `prompt_tokens` and reports them as `cache_read` and `cache_write`, so each
//! token is priced once, at its own price.
//!
//! A count the response does not report stays unknown: the cache and reasoning fields are written only
//! when > 0 (see [`LlmSpanExt::set_tokens`](crate::LlmSpanExt::set_tokens)), so a missing one is absent
//! on the span, never a recorded zero. The contract writes input and output together, so a missing one
//! of those two is 0; a usage with neither is priced as `botanu.cost.unpriced_reason = no_usage`, never
//! as $0. A negative count (genai's fields are `i32`) is treated as unreported.

use super::Tokens;

/// [`Tokens`] from a client that counts every input token in one total (`prompt_tokens`), with the
/// cache reads and writes as parts of it.
fn from_inclusive_total(total_input: u64, cache_read: u64, cache_write: u64, output: u64, reasoning: u64) -> Tokens {
    if cache_write > 0 {
        Tokens {
            input: total_input.saturating_sub(cache_read).saturating_sub(cache_write),
            cache_read,
            cache_write,
            output,
            reasoning,
            input_counting: crate::cost::InputCounting::ExcludesCache,
            ..Tokens::ZERO
        }
    } else {
        Tokens { input: total_input, cache_read, output, reasoning, ..Tokens::default() }
    }
}

#[cfg(feature = "async-openai")]
mod async_openai_usage {
    use async_openai::types::chat::CompletionUsage;

    use super::{from_inclusive_total, Tokens};

    /// `CompletionUsage` of a chat completion (feature `async-openai`); see the module docs for the mapping.
    ///
    /// ```
    /// use async_openai::types::chat::{CompletionUsage, PromptTokensDetails};
    /// use botanu::Tokens;
    ///
    /// let usage = CompletionUsage {
    ///     prompt_tokens: 1_000,
    ///     completion_tokens: 200,
    ///     total_tokens: 1_200,
    ///     prompt_tokens_details: Some(PromptTokensDetails { cached_tokens: Some(600), ..Default::default() }),
    ///     completion_tokens_details: None,
    /// };
    /// let tokens: Tokens = usage.into();
    /// assert_eq!(tokens, Tokens { input: 1_000, cache_read: 600, output: 200, ..Default::default() });
    /// ```
    impl From<&CompletionUsage> for Tokens {
        fn from(usage: &CompletionUsage) -> Tokens {
            let prompt = usage.prompt_tokens_details.as_ref();
            let cache_read = prompt.and_then(|d| d.cached_tokens).map_or(0, u64::from);
            let cache_write = prompt.and_then(|d| d.cache_write_tokens).and_then(|n| u64::try_from(n).ok());
            let reasoning = usage.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens);
            from_inclusive_total(
                u64::from(usage.prompt_tokens),
                cache_read,
                cache_write.unwrap_or(0),
                u64::from(usage.completion_tokens),
                reasoning.map_or(0, u64::from),
            )
        }
    }

    /// See `From<&CompletionUsage>`.
    impl From<CompletionUsage> for Tokens {
        fn from(usage: CompletionUsage) -> Tokens {
            Tokens::from(&usage)
        }
    }
}

#[cfg(feature = "genai")]
mod genai_usage {
    use genai::chat::Usage;

    use super::{from_inclusive_total, Tokens};

    /// A count genai reports (`Option<i32>`): absent or negative is unreported, 0.
    fn count(n: Option<i32>) -> u64 {
        n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
    }

    /// genai's `Usage` (feature `genai`); see the module docs for the mapping.
    ///
    /// ```
    /// use botanu::Tokens;
    /// use genai::chat::{PromptTokensDetails, Usage};
    ///
    /// // Anthropic through genai: 2,000 uncached + 10,000 read from + 1,000 written to the cache.
    /// let usage = Usage {
    ///     prompt_tokens: Some(13_000),
    ///     prompt_tokens_details: Some(PromptTokensDetails {
    ///         cached_tokens: Some(10_000),
    ///         cache_creation_tokens: Some(1_000),
    ///         ..Default::default()
    ///     }),
    ///     completion_tokens: Some(500),
    ///     ..Default::default()
    /// };
    /// let tokens: Tokens = usage.into();
    /// assert_eq!(
    ///     tokens,
    ///     Tokens::anthropic(2_000, 10_000, 1_000, 500)
    /// );
    /// ```
    impl From<&Usage> for Tokens {
        fn from(usage: &Usage) -> Tokens {
            let prompt = usage.prompt_tokens_details.as_ref();
            let reasoning = usage.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens);
            from_inclusive_total(
                count(usage.prompt_tokens),
                count(prompt.and_then(|d| d.cached_tokens)),
                count(prompt.and_then(|d| d.cache_creation_tokens)),
                count(usage.completion_tokens),
                count(reasoning),
            )
        }
    }

    /// See `From<&Usage>`.
    impl From<Usage> for Tokens {
        fn from(usage: Usage) -> Tokens {
            Tokens::from(&usage)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inclusive_totals_map_to_one_convention_per_call() {
        // (total input, cache read, cache write, output, reasoning) -> Tokens
        let table = [
            ((1_000, 0, 0, 10, 0), Tokens { input: 1_000, output: 10, ..Tokens::default() }),
            (
                (1_000, 600, 0, 10, 4),
                Tokens { input: 1_000, cache_read: 600, output: 10, reasoning: 4, ..Tokens::default() },
            ),
            ((13_000, 10_000, 1_000, 500, 0), Tokens::anthropic(2_000, 10_000, 1_000, 500)),
            // A total smaller than its parts (a client's rounding, a malformed response) never wraps.
            ((100, 80, 50, 1, 0), Tokens::anthropic(0, 80, 50, 1)),
        ];
        for ((total, read, write, output, reasoning), want) in table {
            assert_eq!(from_inclusive_total(total, read, write, output, reasoning), want, "{total} {read} {write}");
        }
    }
}

#[cfg(feature = "aws-bedrock")]
mod bedrock_usage {
    use aws_sdk_bedrockruntime::types::TokenUsage;

    use super::Tokens;

    /// A count Bedrock reports (`i32`): negative is unreported, 0.
    fn count(n: i32) -> u64 {
        u64::try_from(n).unwrap_or(0)
    }

    /// Bedrock Runtime's `TokenUsage` (`ConverseOutput::usage`, ConverseStream's metadata event; feature
    /// `aws-bedrock`): `input_tokens` does not count the cache reads and writes, which Bedrock reports
    /// beside it, so with a cache they map Anthropic-style; see the module docs.
    ///
    /// ```
    /// use aws_sdk_bedrockruntime::types::TokenUsage;
    /// use botanu::Tokens;
    ///
    /// let usage = TokenUsage::builder()
    ///     .input_tokens(2_000)
    ///     .output_tokens(500)
    ///     .total_tokens(13_500)
    ///     .cache_read_input_tokens(10_000)
    ///     .cache_write_input_tokens(1_000)
    ///     .build()?;
    /// assert_eq!(Tokens::from(&usage), Tokens::anthropic(2_000, 10_000, 1_000, 500));
    /// # Ok::<(), aws_sdk_bedrockruntime::error::BuildError>(())
    /// ```
    impl From<&TokenUsage> for Tokens {
        fn from(usage: &TokenUsage) -> Tokens {
            let cache_read = usage.cache_read_input_tokens.map_or(0, count);
            let cache_write = usage.cache_write_input_tokens.map_or(0, count);
            let (input, output) = (count(usage.input_tokens), count(usage.output_tokens));
            if cache_read > 0 || cache_write > 0 {
                Tokens::anthropic(input, cache_read, cache_write, output)
            } else {
                Tokens { input, output, ..Tokens::default() }
            }
        }
    }

    /// See `From<&TokenUsage>`.
    impl From<TokenUsage> for Tokens {
        fn from(usage: TokenUsage) -> Tokens {
            Tokens::from(&usage)
        }
    }
}
