//! Service tiers: the same call billed at different rates by how it was processed.
//!
//! OpenAI bills `flex` processing at about half the standard rate and `priority` above it, and both OpenAI's
//! Batch API and Anthropic's Message Batches bill half price; the request says which tier was asked for
//! (`openai.request.service_tier`) and the response which one was used (`openai.response.service_tier`).
//! The `genai-prices` catalog keeps a tier's rates as a price variant selected by a price context
//! (`service_tier=flex`, `service_tier=priority`, `processing=batch`), per model and from a date.
//!
//! Where the catalog has no rate for the tier of a call (a model without a flex variant, or a call before
//! the variant's start date), the call is **not** priced at the standard rate: it is unpriced with
//! `botanu.cost.unpriced_reason = no_tier_price` (a price override for the model still prices it, since an
//! operator's negotiated price is the price whatever the tier).

/// How a call was processed, as far as its price is concerned (`botanu.cost.service_tier`).
///
/// ```
/// use botanu::cost::ServiceTier;
///
/// assert_eq!(ServiceTier::parse("Flex"), Some(ServiceTier::Flex));
/// assert_eq!(ServiceTier::parse("default"), Some(ServiceTier::Standard));
/// assert_eq!(ServiceTier::parse("scale"), None);
/// assert_eq!(ServiceTier::Batch.as_str(), "batch");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServiceTier {
    /// The standard (on-demand) rate: OpenAI `default` / `auto`, Anthropic `standard`.
    #[default]
    Standard,
    /// OpenAI flex processing (slower, cheaper).
    Flex,
    /// OpenAI priority processing (also reported as `fast`), Anthropic priority tier.
    Priority,
    /// A batch job: OpenAI Batch API, Anthropic Message Batches, Gemini batch mode.
    Batch,
}

impl ServiceTier {
    /// The tier a provider's or a crate's tier name means, case-insensitively; `None` for a name no
    /// price depends on in this crate (e.g. OpenAI `scale`), which is then reported as given and unpriced.
    pub fn parse(name: &str) -> Option<ServiceTier> {
        let name = name.trim();
        let is = |candidate: &str| name.eq_ignore_ascii_case(candidate);
        if is("standard") || is("default") || is("auto") || is("on_demand") || is("on-demand") {
            Some(ServiceTier::Standard)
        } else if is("flex") {
            Some(ServiceTier::Flex)
        } else if is("priority") || is("fast") {
            Some(ServiceTier::Priority)
        } else if is("batch") {
            Some(ServiceTier::Batch)
        } else {
            None
        }
    }

    /// The wire value of `botanu.cost.service_tier`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Standard => "standard",
            ServiceTier::Flex => "flex",
            ServiceTier::Priority => "priority",
            ServiceTier::Batch => "batch",
        }
    }

    /// The catalog's price context selecting this tier's rates (`None`: the standard rates).
    pub(crate) const fn price_context(self) -> Option<(&'static str, &'static str)> {
        match self {
            ServiceTier::Standard => None,
            ServiceTier::Flex => Some(("service_tier", "flex")),
            ServiceTier::Priority => Some(("service_tier", "priority")),
            ServiceTier::Batch => Some(("processing", "batch")),
        }
    }
}

impl std::fmt::Display for ServiceTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
