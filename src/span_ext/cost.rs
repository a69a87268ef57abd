//! [`CostSpanExt`]: what an LLM call was billed beyond its tokens — its service tier, its web searches,
//! and the cost the provider reported. (The token kinds with their own rates — 1-hour cache writes, audio
//! and image tokens — are parts of [`Tokens`] and written by `set_tokens`.)

use super::*;
use crate::cost::ServiceTier;

/// Setters of the figures the price of an LLM call depends on beyond its token totals (contract §7,
/// "Added in round 3"). The layer reads them when the span closes and prices the call with them.
pub trait CostSpanExt {
    /// How the call was processed (`botanu.request.service_tier`): priced at the tier's catalog rates,
    /// written as `botanu.cost.service_tier`; a tier the catalog has no rate for is unpriced
    /// (`no_tier_price`), never priced at the standard rate.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use botanu::cost::ServiceTier;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "o3");
    /// span.set_service_tier(ServiceTier::Flex);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::REQUEST_SERVICE_TIER).as_deref(), Some("flex"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_service_tier(&self, tier: ServiceTier) -> &Self;
    /// Web searches the call made (`botanu.usage.web_search_requests`), priced at the catalog's rate
    /// per thousand into `botanu.cost.web_search_usd`.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_web_searches(3);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::USAGE_WEB_SEARCH_REQUESTS).as_deref(), Some("3"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_web_searches(&self, searches: u64) -> &Self;
    /// The cost the provider reported it billed for the call, in USD (OpenRouter's `usage.cost`, rig's
    /// `Usage.cost`): `botanu.cost.usd` becomes this figure with `botanu.cost.source = "provider"` and
    /// `botanu.cost.estimated = false`, and the local estimate is kept in `botanu.cost.estimate_usd`.
    /// A figure that is not finite and > 0 is ignored.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openrouter", model = "some/model");
    /// span.set_tokens(Tokens::openai(100, 0, 10)).set_provider_cost(0.00042);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::COST_USD).as_deref(), Some("0.00042"));
    /// assert_eq!(attr(k::COST_SOURCE).as_deref(), Some("provider"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_provider_cost(&self, usd: f64) -> &Self;
}

impl CostSpanExt for Span {
    fn set_service_tier(&self, tier: ServiceTier) -> &Self {
        put_str(self, k::REQUEST_SERVICE_TIER, tier.as_str());
        self
    }

    fn set_web_searches(&self, searches: u64) -> &Self {
        put_positive(self, k::USAGE_WEB_SEARCH_REQUESTS, searches);
        self
    }

    fn set_provider_cost(&self, usd: f64) -> &Self {
        if usd.is_finite() && usd > 0.0 {
            put(self, k::USAGE_PROVIDER_COST_USD, Value::F64(usd));
        }
        self
    }
}
