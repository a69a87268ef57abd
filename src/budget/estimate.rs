//! What a call is expected to cost before it is made.

use std::sync::Arc;
use std::time::SystemTime;

use crate::cost::{Cost, PricingEngine, Tokens, UnpricedReason};

/// The characters per token [`Estimate::from_prompt`] assumes: OpenAI's rule of thumb for English text
/// ("one token is about four characters"). Code, non-Latin scripts and JSON run at fewer characters per
/// token, so a prompt estimate can be low by a factor of two or more; give [`Estimate::llm`] the
/// tokenizer's count when it matters.
pub const CHARS_PER_TOKEN: u64 = 4;

/// What a reservation is for: a fixed amount, or an LLM call's tokens priced with the same engine (and
/// the same catalog, overrides and discounts) as the span's cost at close.
///
/// ```
/// use botanu::budget::Estimate;
///
/// let known = Estimate::llm("openai", "gpt-4o", 1_000, 500);
/// assert_eq!(known.input_tokens(), Some(1_000));
/// // 9 characters → ⌈9 / 4⌉ = 3 input tokens.
/// assert_eq!(Estimate::from_prompt("openai", "gpt-4o", "Hi there!", 500).input_tokens(), Some(3));
/// assert_eq!(Estimate::usd(0.02).fixed_usd(), Some(0.02));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    what: What,
}

#[derive(Debug, Clone, PartialEq)]
enum What {
    Usd(f64),
    Llm { provider: Arc<str>, model: Arc<str>, input_tokens: u64, max_output_tokens: u64 },
}

impl Estimate {
    /// A fixed amount in USD (a negative or NaN amount counts as unpriced).
    ///
    /// ```
    /// assert_eq!(botanu::budget::Estimate::usd(0.5).fixed_usd(), Some(0.5));
    /// ```
    pub fn usd(amount: f64) -> Self {
        Estimate { what: What::Usd(amount) }
    }

    /// An LLM call of `provider` (any spelling botanu normalizes, e.g. `Claude`) and `model` with
    /// `input_tokens` known and at most `max_output_tokens` (the request's `max_tokens`): the most the
    /// call can cost, priced at the uncached input and output prices.
    ///
    /// ```
    /// let e = botanu::budget::Estimate::llm("Claude", "claude-3-5-sonnet", 2_000, 1_000);
    /// assert_eq!(e.max_output_tokens(), Some(1_000));
    /// ```
    pub fn llm(provider: &str, model: &str, input_tokens: u64, max_output_tokens: u64) -> Self {
        let provider = crate::normalize::normalize_llm_vendor(provider);
        Estimate {
            what: What::Llm {
                provider: Arc::from(&*provider),
                model: Arc::from(model),
                input_tokens,
                max_output_tokens,
            },
        }
    }

    /// An LLM call whose input tokens are estimated from the prompt text: ⌈characters /
    /// [`CHARS_PER_TOKEN`]⌉ (a heuristic; see its caveats).
    ///
    /// ```
    /// let e = botanu::budget::Estimate::from_prompt("openai", "gpt-4o", &"x".repeat(4_001), 100);
    /// assert_eq!(e.input_tokens(), Some(1_001));
    /// ```
    pub fn from_prompt(provider: &str, model: &str, prompt: &str, max_output_tokens: u64) -> Self {
        let chars = prompt.chars().count() as u64;
        Estimate::llm(provider, model, chars.div_ceil(CHARS_PER_TOKEN), max_output_tokens)
    }

    /// The fixed amount of [`Estimate::usd`].
    ///
    /// ```
    /// assert_eq!(botanu::budget::Estimate::llm("openai", "gpt-4o", 1, 1).fixed_usd(), None);
    /// ```
    pub fn fixed_usd(&self) -> Option<f64> {
        match self.what {
            What::Usd(usd) => Some(usd),
            What::Llm { .. } => None,
        }
    }

    /// The input tokens of an LLM estimate.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Estimate::usd(1.0).input_tokens(), None);
    /// ```
    pub fn input_tokens(&self) -> Option<u64> {
        match self.what {
            What::Llm { input_tokens, .. } => Some(input_tokens),
            What::Usd(_) => None,
        }
    }

    /// The output tokens an LLM estimate allows for.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Estimate::llm("openai", "gpt-4o", 1, 7).max_output_tokens(), Some(7));
    /// ```
    pub fn max_output_tokens(&self) -> Option<u64> {
        match self.what {
            What::Llm { max_output_tokens, .. } => Some(max_output_tokens),
            What::Usd(_) => None,
        }
    }

    /// The estimate in USD as `engine` prices it at `at` (the span's pricing: catalog, overrides,
    /// discounts); without an engine (pricing off) an LLM estimate is unpriced.
    ///
    /// ```
    /// # #[cfg(feature = "bundled-prices")] {
    /// use botanu::budget::Estimate;
    /// use botanu::cost::{PricingConfig, PricingEngine};
    ///
    /// let engine = PricingEngine::new(&PricingConfig::default()).unwrap();
    /// // gpt-4o: 1,000 × 2.5 + 500 × 10 USD per million tokens = 0.0075 USD.
    /// let usd = Estimate::llm("openai", "gpt-4o", 1_000, 500).price(Some(&engine), std::time::SystemTime::now()).usd();
    /// assert!((usd.unwrap() - 0.0075).abs() < 1e-12);
    /// # }
    /// ```
    pub fn price(&self, engine: Option<&PricingEngine>, at: SystemTime) -> Cost {
        match &self.what {
            What::Usd(usd) if usd.is_finite() && *usd >= 0.0 => Cost::Priced(crate::cost::Priced {
                total_usd: *usd,
                parts: crate::cost::CostParts::default(),
                provenance: crate::cost::Provenance {
                    source: Arc::from("estimate"),
                    provider: Arc::from(""),
                    model: None,
                    estimated: true,
                },
                estimate_usd: None,
            }),
            What::Usd(_) => Cost::unpriced(UnpricedReason::NoPrice),
            What::Llm { provider, model, input_tokens, max_output_tokens } => match engine {
                Some(engine) => {
                    let usage = Tokens { input: *input_tokens, output: *max_output_tokens, ..Tokens::ZERO };
                    engine.price_llm(provider, model, &usage, at)
                }
                None => Cost::unpriced(UnpricedReason::NoPrice),
            },
        }
    }
}
