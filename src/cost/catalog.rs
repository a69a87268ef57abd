//! LLM prices from the `genai-prices` catalog, with a bounded lookup cache per (provider, model).
//!
//! `genai-prices` (MIT, by Pydantic) keeps a dated JSON catalog of providers and models with price history,
//! prompt-size tiers and cache-token rules, and does the arithmetic over it. It has no network code, and
//! neither does this module: the catalog is the one compiled into the binary (feature `bundled-prices`),
//! or a file the operator supplies in the same format ([`Catalog::from_file`]).
//!
//! The catalog's [`PriceCalculation`] gives input, output and total prices; the parts a span carries
//! (cache read, cache write, reasoning, request) are derived by pricing the same call with only that part
//! of the usage, at the same prompt size, so tiers and price history apply to each part as to the whole.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use genai_prices::{Calculator, ErrorKind, PriceCalculation, PriceRequest, Usage, UsageKey};

use super::overrides::{PriceConfigError, PriceConfigErrorKind};
use super::{Cost, CostParts, Priced, Provenance, TokenUsage, UnpricedReason};

/// `botanu.cost.source` of prices from the bundled catalog. The bundled data carries no date of its own,
/// so the provenance is the crate version that ships it (pinned exactly in `Cargo.toml` for that reason).
pub const BUNDLED_SOURCE: &str = "genai-prices 0.2.1";

/// At most this many distinct (provider, model) pairs are remembered per catalog. Model names come from
/// the application and from third-party spans, so a hostile or buggy caller could send endless distinct
/// names; past the bound, new names are looked up every time instead of growing the map.
pub const LOOKUP_CACHE_CAPACITY: usize = 4096;

/// The catalog's provider id for a normalized botanu vendor (contract §2), or the vendor itself when the
/// names agree or the vendor is unknown (the catalog then tries its own aliases).
///
/// ```
/// assert_eq!(botanu::cost::catalog_provider_id("gcp.vertex_ai"), "google");
/// assert_eq!(botanu::cost::catalog_provider_id("openai"), "openai");
/// ```
pub fn catalog_provider_id(vendor: &str) -> &str {
    match vendor {
        "gcp.vertex_ai" => "google",
        "aws.bedrock" => "aws",
        "azure.openai" => "azure",
        "xai" => "x-ai",
        "moonshot_ai" => "moonshotai",
        "mistral" => "mistral",
        other => other,
    }
}

/// What a (provider, model) pair resolved to in a catalog.
#[derive(Debug, Clone)]
enum Lookup {
    Found { provider: Arc<str>, model: Arc<str> },
    Missing(UnpricedReason),
}

/// Model → resolution, for one provider.
type ModelLookups = HashMap<Box<str>, Lookup>;

/// The per-catalog lookup cache: provider → model → resolution. Two levels, so a lookup borrows the
/// caller's `&str`s and allocates nothing.
#[derive(Debug, Default)]
struct LookupCache {
    map: RwLock<HashMap<Box<str>, ModelLookups>>,
    len: AtomicUsize,
}

impl LookupCache {
    fn get(&self, provider: &str, model: &str) -> Option<Lookup> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(provider)?.get(model).cloned()
    }

    fn insert(&self, provider: &str, model: &str, lookup: Lookup) {
        if self.len.load(Ordering::Relaxed) >= LOOKUP_CACHE_CAPACITY {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let models = map.entry(Box::from(provider)).or_default();
        if models.insert(Box::from(model), lookup).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Debug)]
enum CalculatorRef {
    #[cfg(feature = "bundled-prices")]
    Bundled(&'static Calculator),
    Owned(Box<Calculator>),
}

/// An LLM price catalog in `genai-prices`' format, with its provenance and lookup cache.
#[derive(Debug)]
pub struct Catalog {
    calculator: CalculatorRef,
    source: Arc<str>,
    lookups: LookupCache,
}

impl Catalog {
    /// The catalog bundled with `genai-prices` ([`BUNDLED_SOURCE`]). Decoding it takes tens of
    /// milliseconds on first use, so build the pricing engine at start-up.
    #[cfg(feature = "bundled-prices")]
    pub fn bundled() -> Self {
        Catalog {
            calculator: CalculatorRef::Bundled(Calculator::bundled()),
            source: Arc::from(BUNDLED_SOURCE),
            lookups: LookupCache::default(),
        }
    }

    /// A catalog from `genai-prices`' JSON format (its `data.json`); `source` becomes `botanu.cost.source`
    /// and names the input in errors.
    pub fn from_json(data: impl AsRef<[u8]>, source: &str) -> Result<Self, PriceConfigError> {
        let calculator = Calculator::from_json(data)
            .map_err(|error| PriceConfigError::new(source, PriceConfigErrorKind::CatalogFile(error.to_string())))?;
        Ok(Catalog {
            calculator: CalculatorRef::Owned(Box::new(calculator)),
            source: Arc::from(source),
            lookups: LookupCache::default(),
        })
    }

    /// A catalog from an operator-supplied file in `genai-prices`' JSON format. Its provenance is
    /// `catalog-file <file name>`; errors name the path.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PriceConfigError> {
        let path = path.as_ref();
        let key = path.display().to_string();
        let data = std::fs::read(path)
            .map_err(|error| PriceConfigError::new(&key, PriceConfigErrorKind::CatalogFile(error.to_string())))?;
        let name = path.file_name().map_or_else(|| key.clone(), |name| name.to_string_lossy().into_owned());
        let mut catalog = Catalog::from_json(data, &key)?;
        catalog.source = Arc::from(format!("catalog-file {name}"));
        Ok(catalog)
    }

    /// `botanu.cost.source` of this catalog's prices.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many (provider, model) pairs the lookup cache holds (at most [`LOOKUP_CACHE_CAPACITY`]).
    pub fn cached_lookups(&self) -> usize {
        self.lookups.len.load(Ordering::Relaxed)
    }

    fn calculator(&self) -> &Calculator {
        match &self.calculator {
            #[cfg(feature = "bundled-prices")]
            CalculatorRef::Bundled(calculator) => calculator,
            CalculatorRef::Owned(calculator) => calculator,
        }
    }

    /// Prices one LLM call of `model` from `provider` (a normalized botanu vendor such as `openai`,
    /// `anthropic`, `gcp.vertex_ai`, `aws.bedrock`, `azure.openai`; see [`catalog_provider_id`]) at `at`,
    /// the call's start time.
    pub fn price(&self, provider: &str, model: &str, usage: &TokenUsage, at: SystemTime) -> Cost {
        if usage.is_empty() {
            return Cost::unpriced(UnpricedReason::NoUsage);
        }
        let provider_id = catalog_provider_id(provider);
        let lookup = match self.lookups.get(provider_id, model) {
            Some(lookup) => lookup,
            None => self.resolve(provider_id, model),
        };
        match lookup {
            Lookup::Missing(reason) => Cost::unpriced(reason),
            Lookup::Found { provider: matched_provider, model: matched_model } => {
                match self.price_matched(provider_id, model, usage, at) {
                    Some((total_usd, parts)) => Cost::Priced(Priced {
                        total_usd,
                        parts,
                        provenance: Provenance {
                            source: self.source.clone(),
                            provider: matched_provider,
                            model: Some(matched_model),
                            estimated: true,
                        },
                    }),
                    None => Cost::unpriced(UnpricedReason::NoPrice),
                }
            }
        }
    }

    /// Matches (provider, model) once and remembers the answer, found or not.
    #[inline(never)]
    fn resolve(&self, provider_id: &str, model: &str) -> Lookup {
        let empty = Usage::new();
        let request = PriceRequest::new(model, &empty).with_provider_id(provider_id);
        let lookup = match self.calculator().calculate(&request) {
            Ok(found) => Lookup::Found { provider: Arc::from(found.provider_id), model: Arc::from(found.model_id) },
            Err(error) => Lookup::Missing(match error.kind() {
                ErrorKind::ProviderNotFound => UnpricedReason::UnknownProvider,
                ErrorKind::ModelNotFound => UnpricedReason::UnknownModel,
                _ => UnpricedReason::NoPrice,
            }),
        };
        self.lookups.insert(provider_id, model, lookup.clone());
        lookup
    }

    fn calculate(&self, provider_id: &str, model: &str, usage: &Usage, at: SystemTime) -> Option<PriceCalculation> {
        let request = PriceRequest::new(model, usage).with_provider_id(provider_id).with_timestamp(at);
        self.calculator().calculate(&request).ok()
    }

    /// The total and its parts, or `None` when the catalog has no (non-zero) price for this usage.
    fn price_matched(
        &self,
        provider_id: &str,
        model: &str,
        usage: &TokenUsage,
        at: SystemTime,
    ) -> Option<(f64, CostParts)> {
        // genai-prices' `input_tokens` includes cache reads and writes, and `output_tokens` includes
        // reasoning tokens: the catalog subtracts the more specific counts it has prices for.
        #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
        let (input, cache_read, cache_write, output, reasoning) = (
            usage.total_input() as f64,
            usage.cache_read.min(usage.total_input()) as f64,
            usage.cache_write.min(usage.total_input()) as f64,
            usage.total_output() as f64,
            usage.reasoning as f64,
        );
        let mut full = Usage::new();
        full.insert(UsageKey::INPUT_TOKENS, input);
        full.insert(UsageKey::OUTPUT_TOKENS, output);
        if cache_read > 0.0 {
            full.insert(UsageKey::CACHE_READ_TOKENS, cache_read);
        }
        if cache_write > 0.0 {
            full.insert(UsageKey::CACHE_WRITE_TOKENS, cache_write);
        }
        if reasoning > 0.0 {
            full.insert(UsageKey::OUTPUT_REASONING_TOKENS, reasoning);
        }
        let priced = self.calculate(provider_id, model, &full, at)?;
        if !(priced.total_price.is_finite() && priced.total_price > 0.0) {
            return None;
        }

        // A cache part: every input token as that cache kind, at the same prompt size (so the same
        // tier), then scaled to the share that really was.
        let cache_part = |key: UsageKey, tokens: f64| -> f64 {
            if tokens <= 0.0 {
                return 0.0;
            }
            let mut probe = Usage::new();
            probe.insert(UsageKey::INPUT_TOKENS, input);
            probe.insert(key, input);
            self.calculate(provider_id, model, &probe, at).map_or(0.0, |p| p.input_price * tokens / input)
        };
        let cache_read_usd = cache_part(UsageKey::CACHE_READ_TOKENS, cache_read);
        let cache_write_usd = cache_part(UsageKey::CACHE_WRITE_TOKENS, cache_write);
        let reasoning_usd = if reasoning > 0.0 {
            let mut probe = Usage::new();
            probe.insert(UsageKey::INPUT_TOKENS, input);
            probe.insert(UsageKey::OUTPUT_TOKENS, reasoning);
            probe.insert(UsageKey::OUTPUT_REASONING_TOKENS, reasoning);
            self.calculate(provider_id, model, &probe, at).map_or(0.0, |p| p.output_price)
        } else {
            0.0
        };
        let parts = CostParts {
            input_usd: (priced.input_price - cache_read_usd - cache_write_usd).max(0.0),
            output_usd: (priced.output_price - reasoning_usd).max(0.0),
            cache_read_usd,
            cache_write_usd,
            reasoning_usd,
            request_usd: (priced.total_price - priced.input_price - priced.output_price).max(0.0),
            data_usd: 0.0,
        };
        Some((priced.total_price, parts))
    }
}
