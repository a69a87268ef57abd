//! What an LLM call or a data operation cost: price lookup, list prices, overrides and the run roll-up.
//!
//! botanu is a cost-attribution crate, so every LLM span and data operation it can price carries an
//! estimated cost in USD, and every run carries the sum of what closed inside it. The rules:
//!
//! - **An estimate, never an invoice.** Every priced result says where its price came from
//!   ([`Provenance`]): the catalog and its version, the list-price table and its date, or `override`.
//! - **Unknown is not zero.** A model or provider no catalog knows, a call without usage, or a model the
//!   catalog lists without a price gives [`Cost::Unpriced`] with an [`UnpricedReason`], never `0.0`.
//! - **Cached tokens are priced as cached, once.** [`Tokens`] records whether its `input` includes
//!   the cached tokens (OpenAI, OpenTelemetry semconv) or not (Anthropic), and prices both right.
//! - **Prices apply at the call's start time** (the catalog keeps price history and tiers).
//!
//! The pieces, all pure (no `tracing` or OpenTelemetry types; the layer composes them):
//! - [`Catalog`]: LLM prices from [`genai-prices`](https://github.com/pydantic/genai-prices) (bundled
//!   with the default feature `bundled-prices`, or loaded from an operator's file), with a bounded
//!   per-(provider, model) lookup cache;
//! - [`price_data_operation`] and [`DATA_PRICES`]: public list prices of warehouse scans, object-storage
//!   requests, queue messages and DynamoDB request units, each row with its source and date;
//! - [`PricingEngine`]: overrides (negotiated prices, discounts) > catalog file > bundled catalog;
//! - [`RunCost`]: the roll-up arithmetic of a run and the attributes it produces.
//!
//! ```
//! # #[cfg(feature = "bundled-prices")] {
//! use std::time::SystemTime;
//! use botanu::cost::{Cost, PricingConfig, PricingEngine, Tokens};
//!
//! let engine = PricingEngine::new(&PricingConfig::default())?;
//! // OpenAI style: 10,000 prompt tokens of which 4,000 cached, 2,000 completion tokens.
//! let usage = Tokens::openai(10_000, 4_000, 2_000);
//! let Cost::Priced(priced) = engine.price_llm("openai", "gpt-4o", &usage, SystemTime::now()) else {
//!     panic!("gpt-4o is in the bundled catalog");
//! };
//! assert!((priced.total_usd - 0.040).abs() < 1e-12);
//! assert_eq!(&*priced.provenance.source, "genai-prices 0.2.1");
//! # }
//! # Ok::<(), botanu::cost::PriceConfigError>(())
//! ```

use std::sync::Arc;

use crate::semconv;

mod catalog;
mod data_prices;
mod overrides;
mod rollup;
mod summary;
mod tier;
mod tokens;
mod tool_prices;

pub use catalog::{catalog_provider_id, Catalog, BUNDLED_SOURCE, LOOKUP_CACHE_CAPACITY};
pub use data_prices::{price_data_operation, DataPriceRow, DataUnit, DataUsage, DATA_PRICES, DATA_PRICES_SOURCE};
pub(crate) use overrides::PRICE_OVERRIDES_ENV;
pub use overrides::{
    PriceConfigError, PriceConfigErrorKind, PriceOverride, PriceOverrides, PricingConfig, PricingEngine, TokenPrices,
    MAX_METRIC_CUSTOMERS,
};
pub(crate) use rollup::RunCostCell;
pub use rollup::{CostCategory, RunCost};
pub use summary::{CostSummary, WorkflowCost};
pub use tier::ServiceTier;
pub use tokens::{InputCounting, Tokens};
pub use tool_prices::{ToolPrice, ToolPrices};

/// One LLM call to price: who served it, its tokens, its service tier and web searches, and when it
/// started (prices apply at the call's start time).
///
/// ```
/// # #[cfg(feature = "bundled-prices")] {
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use botanu::cost::{LlmCall, PricingConfig, PricingEngine, ServiceTier, Tokens};
///
/// let engine = PricingEngine::new(&PricingConfig::default())?;
/// let december_2026 = UNIX_EPOCH + Duration::from_secs(1_764_547_200 + 365 * 86_400);
/// // o3 at the flex rates (catalog: input $1, output $4 per million from 2026-10-12).
/// let call = LlmCall::new("openai", "o3", Tokens::openai(1_000_000, 0, 1_000_000), december_2026)
///     .with_tier(ServiceTier::Flex);
/// assert_eq!(engine.price_call(&call).usd(), Some(5.0));
/// # }
/// # Ok::<(), botanu::cost::PriceConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmCall<'a> {
    /// The normalized botanu vendor (`openai`, `anthropic`, `gcp.vertex_ai`, …).
    pub provider: &'a str,
    /// The model as the span records it.
    pub model: &'a str,
    /// The tokens the response reported.
    pub tokens: Tokens,
    /// How the call was processed ([`ServiceTier::Standard`] unless the span said otherwise).
    pub tier: ServiceTier,
    /// Web searches the call made (billed per thousand).
    pub web_searches: u64,
    /// When the call started.
    pub at: std::time::SystemTime,
}

impl<'a> LlmCall<'a> {
    /// A call at the standard tier without web searches.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use botanu::cost::{LlmCall, ServiceTier, Tokens};
    ///
    /// let call = LlmCall::new("openai", "gpt-4o", Tokens::openai(100, 0, 10), SystemTime::now());
    /// assert_eq!(call.tier, ServiceTier::Standard);
    /// assert_eq!(call.web_searches, 0);
    /// ```
    pub const fn new(provider: &'a str, model: &'a str, tokens: Tokens, at: std::time::SystemTime) -> Self {
        LlmCall { provider, model, tokens, tier: ServiceTier::Standard, web_searches: 0, at }
    }

    /// The same call processed at `tier`.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use botanu::cost::{LlmCall, ServiceTier, Tokens};
    ///
    /// let call = LlmCall::new("openai", "o3", Tokens::openai(100, 0, 10), SystemTime::now()).with_tier(ServiceTier::Batch);
    /// assert_eq!(call.tier, ServiceTier::Batch);
    /// ```
    #[must_use]
    pub const fn with_tier(mut self, tier: ServiceTier) -> Self {
        self.tier = tier;
        self
    }

    /// The same call with `searches` web searches.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use botanu::cost::{LlmCall, Tokens};
    ///
    /// let call = LlmCall::new("openai", "gpt-4o", Tokens::openai(100, 0, 10), SystemTime::now()).with_web_searches(3);
    /// assert_eq!(call.web_searches, 3);
    /// ```
    #[must_use]
    pub const fn with_web_searches(mut self, searches: u64) -> Self {
        self.web_searches = searches;
        self
    }
}

/// The result of pricing one LLM call or data operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Cost {
    /// A price was found; the estimate and where it came from.
    Priced(Priced),
    /// No price; never to be reported as `0.0`.
    Unpriced {
        /// Why.
        reason: UnpricedReason,
    },
}

impl Cost {
    /// An unpriced result with `reason`.
    pub const fn unpriced(reason: UnpricedReason) -> Self {
        Cost::Unpriced { reason }
    }

    /// The estimated total in USD, if priced.
    pub fn usd(&self) -> Option<f64> {
        match self {
            Cost::Priced(priced) => Some(priced.total_usd),
            Cost::Unpriced { .. } => None,
        }
    }

    /// The span attributes this result produces (contract §7), as plain data for the layer to export:
    /// for a priced result `botanu.cost.usd`, the parts that are > 0 and the provenance; for an unpriced
    /// one `botanu.cost.unpriced = true` and the reason.
    pub(crate) fn attributes(&self) -> Vec<(&'static str, AttributeValue)> {
        match self {
            Cost::Priced(priced) => priced.attributes(),
            Cost::Unpriced { reason } => vec![
                (semconv::COST_UNPRICED, AttributeValue::Bool(true)),
                (semconv::COST_UNPRICED_REASON, AttributeValue::Str(Arc::from(reason.as_str()))),
            ],
        }
    }
}

/// A priced LLM call or data operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    /// Total in USD: the sum of [`Priced::parts`], or the provider's billed figure when the provider
    /// reported one ([`Priced::provider_reported`]).
    pub total_usd: f64,
    /// What the total is made of (for a provider-reported total: what the local estimate was made of).
    pub parts: CostParts,
    /// Where the price came from.
    pub provenance: Provenance,
    /// With a provider-reported total: the local estimate of the same call (`botanu.cost.estimate_usd`),
    /// if the call could be estimated.
    pub estimate_usd: Option<f64>,
}

/// `botanu.cost.source` of a figure the provider reported (OpenRouter's `usage.cost`, rig's `Usage.cost`).
pub const PROVIDER_SOURCE: &str = "provider";

/// `botanu.cost.source` of a tool call priced from a configured unit price.
pub const UNIT_PRICE_SOURCE: &str = "unit-price";

impl Priced {
    /// The provider's billed figure `usd` for a call, with the local `estimate` of it (if any) kept
    /// beside it: `botanu.cost.usd` = `usd`, `botanu.cost.source = "provider"`,
    /// `botanu.cost.estimated = false`, `botanu.cost.estimate_usd` = the estimate.
    ///
    /// ```
    /// use botanu::cost::{Cost, Priced, UnpricedReason};
    ///
    /// let priced = Priced::provider_reported(0.0123, &Cost::unpriced(UnpricedReason::UnknownModel), "openrouter");
    /// assert_eq!(priced.total_usd, 0.0123);
    /// assert!(!priced.provenance.estimated);
    /// assert_eq!(priced.estimate_usd, None);
    /// ```
    pub fn provider_reported(usd: f64, estimate: &Cost, provider: &str) -> Priced {
        let (parts, estimate_usd, model, provider) = match estimate {
            Cost::Priced(priced) => (
                priced.parts,
                Some(priced.total_usd),
                priced.provenance.model.clone(),
                priced.provenance.provider.clone(),
            ),
            Cost::Unpriced { .. } => (CostParts::default(), None, None, Arc::from(provider)),
        };
        Priced {
            total_usd: usd,
            parts,
            provenance: Provenance { source: Arc::from(PROVIDER_SOURCE), provider, model, estimated: false },
            estimate_usd,
        }
    }

    /// Whether the local estimate and the provider's figure differ by more than 1 % of the provider's
    /// figure (`false` without an estimate).
    ///
    /// ```
    /// use botanu::cost::{Cost, Priced, UnpricedReason};
    ///
    /// let mut priced = Priced::provider_reported(1.0, &Cost::unpriced(UnpricedReason::NoPrice), "openrouter");
    /// priced.estimate_usd = Some(1.02);
    /// assert!(priced.estimate_drifts());
    /// priced.estimate_usd = Some(1.005);
    /// assert!(!priced.estimate_drifts());
    /// ```
    pub fn estimate_drifts(&self) -> bool {
        self.estimate_usd.is_some_and(|estimate| (estimate - self.total_usd).abs() > 0.01 * self.total_usd.abs())
    }

    fn attributes(&self) -> Vec<(&'static str, AttributeValue)> {
        let mut attributes = Vec::with_capacity(12);
        attributes.push((semconv::COST_USD, AttributeValue::F64(self.total_usd)));
        let parts = &self.parts;
        // A provider-reported total is not the sum of the estimate's parts: the parts are left out, and the
        // estimate is written whole beside the total.
        if self.provenance.estimated {
            for (key, value) in [
                (semconv::COST_INPUT_USD, parts.input_usd),
                (semconv::COST_OUTPUT_USD, parts.output_usd),
                (semconv::COST_CACHE_READ_USD, parts.cache_read_usd),
                (semconv::COST_CACHE_WRITE_USD, parts.cache_write_usd),
                (semconv::COST_REASONING_USD, parts.reasoning_usd),
                (semconv::COST_REQUEST_USD, parts.request_usd),
                (semconv::COST_DATA_USD, parts.data_usd),
                (semconv::COST_AUDIO_USD, parts.audio_usd),
                (semconv::COST_IMAGE_USD, parts.image_usd),
                (semconv::COST_WEB_SEARCH_USD, parts.web_search_usd),
            ] {
                if value > 0.0 {
                    attributes.push((key, AttributeValue::F64(value)));
                }
            }
        }
        if let Some(estimate) = self.estimate_usd {
            attributes.push((semconv::COST_ESTIMATE_USD, AttributeValue::F64(estimate)));
        }
        let provenance = &self.provenance;
        attributes.push((semconv::COST_SOURCE, AttributeValue::Str(provenance.source.clone())));
        attributes.push((semconv::COST_PROVIDER, AttributeValue::Str(provenance.provider.clone())));
        if let Some(model) = &provenance.model {
            attributes.push((semconv::COST_MODEL, AttributeValue::Str(model.clone())));
        }
        attributes.push((semconv::COST_ESTIMATED, AttributeValue::Bool(provenance.estimated)));
        attributes
    }
}

/// The parts of a [`Priced`] total, in USD. A part is `0.0` when nothing of that kind was charged.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostParts {
    /// Uncached input tokens.
    pub input_usd: f64,
    /// Output tokens other than reasoning ones.
    pub output_usd: f64,
    /// Input tokens read from the prompt cache.
    pub cache_read_usd: f64,
    /// Input tokens written to the prompt cache.
    pub cache_write_usd: f64,
    /// Reasoning (thinking) output tokens.
    pub reasoning_usd: f64,
    /// Per-request charges.
    pub request_usd: f64,
    /// Data operations (bytes scanned, requests, messages, request units).
    pub data_usd: f64,
    /// Audio input and output tokens, at their own rates.
    pub audio_usd: f64,
    /// Image input and output tokens, at their own rates.
    pub image_usd: f64,
    /// Web searches the call made.
    pub web_search_usd: f64,
}

impl CostParts {
    /// The sum of the parts.
    pub fn sum(&self) -> f64 {
        self.input_usd
            + self.output_usd
            + self.cache_read_usd
            + self.cache_write_usd
            + self.reasoning_usd
            + self.request_usd
            + self.data_usd
            + self.audio_usd
            + self.image_usd
            + self.web_search_usd
    }

    /// Every part multiplied by `factor` (a discount).
    pub(crate) fn scaled(&self, factor: f64) -> Self {
        CostParts {
            input_usd: self.input_usd * factor,
            output_usd: self.output_usd * factor,
            cache_read_usd: self.cache_read_usd * factor,
            cache_write_usd: self.cache_write_usd * factor,
            reasoning_usd: self.reasoning_usd * factor,
            request_usd: self.request_usd * factor,
            data_usd: self.data_usd * factor,
            audio_usd: self.audio_usd * factor,
            image_usd: self.image_usd * factor,
            web_search_usd: self.web_search_usd * factor,
        }
    }
}

/// Where a price came from. Strings are shared (`Arc<str>`), so pricing a span clones no text.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// `genai-prices 0.2.1`, `list-price 2026-12-02`, `override`, `provider`, `unit-price`, or the label of
    /// an operator's catalog file.
    pub source: Arc<str>,
    /// The provider (or data system) the price was matched under, as the source spells it.
    pub provider: Arc<str>,
    /// The model (or data price class) the price was matched under, as the source spells it.
    pub model: Option<Arc<str>>,
    /// `true` for a price from a catalog, a list or a unit price (an estimate, never an invoice); `false`
    /// only for the figure a provider reported it billed.
    pub estimated: bool,
}

/// Why a call or operation has no cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnpricedReason {
    /// The price source knows the provider but not this model (or the data system but not this operation).
    UnknownModel,
    /// No price source knows this provider or data system.
    UnknownProvider,
    /// The span recorded no tokens (or no figure the data price is charged on).
    NoUsage,
    /// The model is known but listed without a price (e.g. included in a subscription), or pricing failed.
    NoPrice,
    /// The call ran at a service tier (flex, priority, batch, or one this crate does not know) for which
    /// the catalog has no rate for this model at the call's time; never priced at the standard rate.
    NoTierPrice,
}

impl UnpricedReason {
    /// The wire value of `botanu.cost.unpriced_reason`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnpricedReason::UnknownModel => "unknown_model",
            UnpricedReason::UnknownProvider => "unknown_provider",
            UnpricedReason::NoUsage => "no_usage",
            UnpricedReason::NoPrice => "no_price",
            UnpricedReason::NoTierPrice => "no_tier_price",
        }
    }
}

impl std::fmt::Display for UnpricedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of a cost attribute, as plain data (the layer turns it into an OpenTelemetry value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttributeValue {
    /// A double (USD amounts, cost per unit).
    F64(f64),
    /// An integer (counts, tokens), clamped to `i64::MAX`.
    I64(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(Arc<str>),
}

#[cfg(test)]
mod tests;
