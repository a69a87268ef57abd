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
use std::time::{SystemTime, UNIX_EPOCH};

use genai_prices::{Calculator, ErrorKind, PriceCalculation, PriceRequest, Usage, UsageKey};

use super::overrides::{PriceConfigError, PriceConfigErrorKind};
use super::{Cost, CostParts, Priced, Provenance, Tokens, UnpricedReason};

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
    Found(Arc<Matched>),
    Missing(UnpricedReason),
}

/// A matched model: the catalog's ids for it, and the rate cards derived for it so far.
#[derive(Debug)]
struct Matched {
    provider: Arc<str>,
    model: Arc<str>,
    cards: RwLock<Vec<RateCard>>,
}

/// Rate cards kept per model: one per prompt-size tier in use (catalog models have at most a few).
const MAX_CARDS_PER_MODEL: usize = 8;

/// Prompts above this many input tokens are priced by the catalog directly each time: the tier search
/// stops here (no model has a context window anywhere near it).
const TIER_SEARCH_CAP: u64 = 1 << 40;

/// The prices of one model for one prompt-size tier during one UTC minute, as USD per token (per call
/// for `request`): pricing a call inside that tier and minute is then six multiplications.
///
/// Derived from the catalog itself (not from its JSON), so the catalog's rules stay the only source:
/// which cache and reasoning prices exist (a kind without its own price falls back to the input or
/// output price, as the catalog does), tiers, provider-specific billing and price history.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    input: f64,
    cache_read: f64,
    cache_write: f64,
    output: f64,
    reasoning: f64,
    request: f64,
}

/// [`Rates`] and where they hold: total input tokens in `(above, up_to]`, start times in `minute`.
///
/// The validity window in time is one UTC minute because the catalog does not expose its price
/// periods: periods start at midnight UTC (`start_date`) or at a time of day (`start_time`, whole
/// minutes in the catalog), so rates derived for a minute hold for all of it. A span that started in an
/// earlier minute than the newest card is priced by the catalog directly (price history stays exact).
#[derive(Debug, Clone, Copy)]
struct RateCard {
    minute: u64,
    above: u64,
    up_to: u64,
    rates: Rates,
}

impl Matched {
    fn rates(&self, input: u64, minute: u64) -> Option<Rates> {
        let cards = self.cards.read().unwrap_or_else(PoisonError::into_inner);
        cards.iter().find(|c| c.minute == minute && c.above < input && input <= c.up_to).map(|c| c.rates)
    }

    /// Whether a card for `minute` may be stored: not older than the cards held.
    fn accepts(&self, minute: u64) -> bool {
        let cards = self.cards.read().unwrap_or_else(PoisonError::into_inner);
        cards.iter().all(|c| c.minute <= minute)
    }

    fn store(&self, card: RateCard) {
        let mut cards = self.cards.write().unwrap_or_else(PoisonError::into_inner);
        cards.retain(|c| c.minute == card.minute);
        if cards.len() >= MAX_CARDS_PER_MODEL {
            cards.remove(0);
        }
        cards.push(card);
    }
}

// Provider and model names are hashed on every priced span: FxHash (`crate::fxhash`) costs a third of the
// default SipHash here. Collisions cannot grow the map (it is bounded at [`LOOKUP_CACHE_CAPACITY`]).
use crate::fxhash::FxBuild;

/// Model → resolution, for one provider.
type ModelLookups = HashMap<Box<str>, Lookup, FxBuild>;

/// The per-catalog lookup cache: provider → model → resolution. Two levels, so a lookup borrows the
/// caller's `&str`s and allocates nothing.
#[derive(Debug, Default)]
struct LookupCache {
    map: RwLock<HashMap<Box<str>, ModelLookups, FxBuild>>,
    len: AtomicUsize,
}

impl LookupCache {
    fn get(&self, provider: &str, model: &str) -> Option<Lookup> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(provider)?.get(model).cloned()
    }

    /// Remembers `lookup`; false when the cache is full (the caller then keeps it for this call only).
    fn insert(&self, provider: &str, model: &str, lookup: Lookup) -> bool {
        if self.len.load(Ordering::Relaxed) >= LOOKUP_CACHE_CAPACITY {
            return false;
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let models = map.entry(Box::from(provider)).or_default();
        if models.insert(Box::from(model), lookup).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
        true
    }
}

/// The UTC minute of `at` (0 before the epoch).
fn minute_of(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60)
}

/// Whether two derived figures are the same price (they come out of the same float arithmetic, so
/// only rounding separates equal ones).
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
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
    ///
    /// The first call for a model matches it in the catalog; then, per prompt-size tier and UTC minute,
    /// its rates are derived once from the catalog, and every call inside them is priced by arithmetic
    /// on those rates (tens of nanoseconds instead of the catalog's microseconds).
    pub fn price(&self, provider: &str, model: &str, usage: &Tokens, at: SystemTime) -> Cost {
        if usage.is_empty() {
            return Cost::unpriced(UnpricedReason::NoUsage);
        }
        let provider_id = catalog_provider_id(provider);
        let lookup = match self.lookups.get(provider_id, model) {
            Some(lookup) => lookup,
            None => self.resolve(provider_id, model),
        };
        let matched = match lookup {
            Lookup::Missing(reason) => return Cost::unpriced(reason),
            Lookup::Found(matched) => matched,
        };
        let input = usage.total_input();
        let minute = minute_of(at);
        let priced = match matched.rates(input, minute) {
            Some(rates) => Some(price_with(&rates, usage)),
            None => self.price_uncached(&matched, provider_id, model, usage, at, minute),
        };
        match priced {
            Some((total_usd, parts)) if total_usd.is_finite() && total_usd > 0.0 => Cost::Priced(Priced {
                total_usd,
                parts,
                provenance: Provenance {
                    source: self.source.clone(),
                    provider: matched.provider.clone(),
                    model: Some(matched.model.clone()),
                    estimated: true,
                },
            }),
            _ => Cost::unpriced(UnpricedReason::NoPrice),
        }
    }

    /// A call no rate card covers yet: derives and stores the card of its tier and minute when it can,
    /// else (an older minute, an empty prompt, a prompt past the tier search) asks the catalog directly.
    #[cold]
    #[inline(never)]
    fn price_uncached(
        &self,
        matched: &Matched,
        provider_id: &str,
        model: &str,
        usage: &Tokens,
        at: SystemTime,
        minute: u64,
    ) -> Option<(f64, CostParts)> {
        let input = usage.total_input();
        if input == 0 || input > TIER_SEARCH_CAP || !matched.accepts(minute) {
            return self.price_matched(provider_id, model, usage, at);
        }
        match self.derive_card(provider_id, model, input, at, minute) {
            Some(card) => {
                matched.store(card);
                Some(price_with(&card.rates, usage))
            }
            None => self.price_matched(provider_id, model, usage, at),
        }
    }

    /// Matches (provider, model) once and remembers the answer, found or not.
    #[inline(never)]
    fn resolve(&self, provider_id: &str, model: &str) -> Lookup {
        let empty = Usage::new();
        let request = PriceRequest::new(model, &empty).with_provider_id(provider_id);
        let lookup = match self.calculator().calculate(&request) {
            Ok(found) => Lookup::Found(Arc::new(Matched {
                provider: Arc::from(found.provider_id),
                model: Arc::from(found.model_id),
                cards: RwLock::new(Vec::new()),
            })),
            Err(error) => Lookup::Missing(match error.kind() {
                ErrorKind::ProviderNotFound => UnpricedReason::UnknownProvider,
                ErrorKind::ModelNotFound => UnpricedReason::UnknownModel,
                _ => UnpricedReason::NoPrice,
            }),
        };
        self.lookups.insert(provider_id, model, lookup.clone());
        lookup
    }

    /// The rates at prompt size `input` (total input tokens, which pick the tier) and time `at`, from
    /// three catalog calculations: every input token uncached / read from the cache / written to it,
    /// with a million output tokens plain / all reasoning.
    fn rates_at(&self, provider_id: &str, model: &str, input: u64, at: SystemTime) -> Option<Rates> {
        const OUTPUT: f64 = 1_000_000.0;
        #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
        let tokens = input as f64;
        let probe = |pairs: &[(UsageKey, f64)]| {
            let mut usage = Usage::new();
            for (key, value) in pairs {
                usage.insert(key.clone(), *value);
            }
            self.calculate(provider_id, model, &usage, at)
        };
        let plain = probe(&[(UsageKey::INPUT_TOKENS, tokens), (UsageKey::OUTPUT_TOKENS, OUTPUT)])?;
        let read = probe(&[
            (UsageKey::INPUT_TOKENS, tokens),
            (UsageKey::CACHE_READ_TOKENS, tokens),
            (UsageKey::OUTPUT_TOKENS, OUTPUT),
            (UsageKey::OUTPUT_REASONING_TOKENS, OUTPUT),
        ])?;
        let write = probe(&[(UsageKey::INPUT_TOKENS, tokens), (UsageKey::CACHE_WRITE_TOKENS, tokens)])?;
        let rates = Rates {
            input: plain.input_price / tokens,
            cache_read: read.input_price / tokens,
            cache_write: write.input_price / tokens,
            output: plain.output_price / OUTPUT,
            reasoning: read.output_price / OUTPUT,
            request: (plain.total_price - plain.input_price - plain.output_price).max(0.0),
        };
        let all = [rates.input, rates.cache_read, rates.cache_write, rates.output, rates.reasoning, rates.request];
        all.iter().all(|rate| rate.is_finite() && *rate >= 0.0).then_some(rates)
    }

    /// One number that changes whenever any per-token rate changes with the prompt size: the price per
    /// input token of a call with every kind of token in fixed proportions to `input`.
    fn tier_signature(&self, provider_id: &str, model: &str, input: u64, at: SystemTime) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
        let tokens = input as f64;
        let mut usage = Usage::new();
        usage.insert(UsageKey::INPUT_TOKENS, tokens);
        usage.insert(UsageKey::CACHE_READ_TOKENS, tokens / 4.0);
        usage.insert(UsageKey::CACHE_WRITE_TOKENS, tokens / 8.0);
        usage.insert(UsageKey::OUTPUT_TOKENS, tokens);
        usage.insert(UsageKey::OUTPUT_REASONING_TOKENS, tokens / 2.0);
        let priced = self.calculate(provider_id, model, &usage, at)?;
        Some((priced.input_price + priced.output_price) / tokens)
    }

    /// The rate card around prompt size `input`: its rates, and the prompt sizes they hold for, found by
    /// doubling away from `input` until the tier signature changes, then bisecting to the exact
    /// threshold (the catalog's tiers are steps in the prompt size). About a hundred catalog
    /// calculations, once per model, tier and minute.
    fn derive_card(&self, provider_id: &str, model: &str, input: u64, at: SystemTime, minute: u64) -> Option<RateCard> {
        let rates = self.rates_at(provider_id, model, input, at)?;
        let here = self.tier_signature(provider_id, model, input, at)?;
        let same_tier =
            |tokens: u64| self.tier_signature(provider_id, model, tokens, at).is_some_and(|s| same(s, here));

        // Upwards: the last prompt size in the tier.
        let (mut inside, mut outside) = (input, None);
        while inside < TIER_SEARCH_CAP {
            let next = inside.saturating_mul(2).min(TIER_SEARCH_CAP);
            if same_tier(next) {
                inside = next;
            } else {
                outside = Some(next);
                break;
            }
        }
        let up_to = match outside {
            None => inside,
            Some(mut outside) => {
                while outside - inside > 1 {
                    let middle = inside + (outside - inside) / 2;
                    if same_tier(middle) {
                        inside = middle;
                    } else {
                        outside = middle;
                    }
                }
                inside
            }
        };

        // Downwards: the last prompt size below the tier (0 = none).
        let (mut inside, mut outside) = (input, None);
        while inside > 1 {
            let next = inside / 2;
            if same_tier(next) {
                inside = next;
            } else {
                outside = Some(next);
                break;
            }
        }
        let above = match outside {
            None => 0,
            Some(mut outside) => {
                while inside - outside > 1 {
                    let middle = outside + (inside - outside) / 2;
                    if same_tier(middle) {
                        inside = middle;
                    } else {
                        outside = middle;
                    }
                }
                outside
            }
        };
        Some(RateCard { minute, above, up_to, rates })
    }

    fn calculate(&self, provider_id: &str, model: &str, usage: &Usage, at: SystemTime) -> Option<PriceCalculation> {
        let request = PriceRequest::new(model, usage).with_provider_id(provider_id).with_timestamp(at);
        self.calculator().calculate(&request).ok()
    }

    /// The total and its parts straight from the catalog (no rate card), or `None` when the catalog has
    /// no (non-zero) price for this usage. Also the reference the rate cards are tested against.
    fn price_matched(
        &self,
        provider_id: &str,
        model: &str,
        usage: &Tokens,
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

/// The total and its parts of `usage` at `rates`. The same split as the catalog's: uncached input is
/// every input token not read from or written to the cache; plain output is every output token that
/// is not reasoning.
fn price_with(rates: &Rates, usage: &Tokens) -> (f64, CostParts) {
    let input = usage.total_input();
    let cache_read = usage.cache_read.min(input);
    let cache_write = usage.cache_write.min(input - cache_read);
    let output = usage.total_output();
    let reasoning = usage.reasoning.min(output);
    #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
    let tokens = |count: u64| count as f64;
    let parts = CostParts {
        input_usd: rates.input * tokens(input - cache_read - cache_write),
        output_usd: rates.output * tokens(output - reasoning),
        cache_read_usd: rates.cache_read * tokens(cache_read),
        cache_write_usd: rates.cache_write * tokens(cache_write),
        reasoning_usd: rates.reasoning * tokens(reasoning),
        request_usd: rates.request,
        data_usd: 0.0,
    };
    (parts.sum(), parts)
}

#[cfg(all(test, feature = "bundled-prices"))]
mod tests {
    use super::*;

    /// Rate-card arithmetic gives what the catalog computes directly, across tiers (both sides of
    /// gemini-2.5-pro's 200,000-token threshold), cache kinds, reasoning and providers, and the card
    /// found for a tier stops exactly at the catalog's threshold.
    #[test]
    fn rate_cards_agree_with_the_catalog() {
        let catalog = Catalog::bundled();
        let now = SystemTime::now();
        let usages = [
            Tokens::openai(1_200, 0, 300),
            Tokens::openai(10_000, 4_000, 2_000),
            Tokens::anthropic(2_000, 10_000, 1_000, 500).with_reasoning(200),
            Tokens::openai(200_000, 50_000, 1_000),
            Tokens::openai(200_001, 50_000, 1_000).with_reasoning(600),
            Tokens::semconv(900_000, 10_000, 100_000, 20_000, 5_000),
            Tokens::openai(0, 0, 700),
        ];
        let models = [
            ("openai", "gpt-4o"),
            ("openai", "o3"),
            ("anthropic", "claude-3-5-sonnet"),
            ("anthropic", "claude-sonnet-4"),
            ("gcp.vertex_ai", "gemini-2.5-pro"),
            ("gcp.vertex_ai", "gemini-2.5-flash"),
            ("deepseek", "deepseek-chat"),
        ];
        for (provider, model) in models {
            let provider_id = catalog_provider_id(provider);
            for usage in &usages {
                // Twice: the first call derives the card, the second prices from it.
                for _ in 0..2 {
                    let cost = catalog.price(provider, model, usage, now);
                    let direct = catalog.price_matched(provider_id, model, usage, now);
                    match (&cost, direct) {
                        (Cost::Priced(priced), Some((total, parts))) => {
                            assert!((priced.total_usd - total).abs() < 1e-12, "{model} {usage:?}: {cost:?} vs {total}");
                            for (a, b) in [
                                (priced.parts.input_usd, parts.input_usd),
                                (priced.parts.output_usd, parts.output_usd),
                                (priced.parts.cache_read_usd, parts.cache_read_usd),
                                (priced.parts.cache_write_usd, parts.cache_write_usd),
                                (priced.parts.reasoning_usd, parts.reasoning_usd),
                                (priced.parts.request_usd, parts.request_usd),
                            ] {
                                assert!((a - b).abs() < 1e-12, "{model} {usage:?}: {priced:?} vs {parts:?}");
                            }
                        }
                        (Cost::Unpriced { .. }, None) => {}
                        (cost, direct) => panic!("{model} {usage:?}: {cost:?} vs {direct:?}"),
                    }
                }
            }
        }
        let Some(Lookup::Found(matched)) = catalog.lookups.get("google", "gemini-2.5-pro") else {
            panic!("gemini-2.5-pro is cached");
        };
        let cards = matched.cards.read().unwrap_or_else(PoisonError::into_inner);
        assert!(cards.iter().any(|c| c.up_to == 200_000), "{cards:?}");
        assert!(cards.iter().any(|c| c.above == 200_000), "{cards:?}");
    }

    /// A call that started in an earlier minute than the newest card is priced by the catalog directly:
    /// price history holds however the cache was warmed.
    #[test]
    fn older_start_times_bypass_the_cards() {
        let catalog = Catalog::bundled();
        let usage = Tokens::openai(1_000_000, 0, 1_000_000);
        let july_2025 = UNIX_EPOCH + std::time::Duration::from_secs(1_751_328_000);
        let january_2025 = UNIX_EPOCH + std::time::Duration::from_secs(1_735_689_600);
        assert_eq!(catalog.price("openai", "o3", &usage, july_2025).usd(), Some(10.0));
        assert_eq!(catalog.price("openai", "o3", &usage, january_2025).usd(), Some(50.0));
        assert_eq!(catalog.price("openai", "o3", &usage, july_2025).usd(), Some(10.0));
    }
}
