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
use super::{Cost, CostParts, LlmCall, Priced, Provenance, ServiceTier, Tokens, UnpricedReason};

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

/// Rate cards kept per model: one per prompt-size tier and service tier in use (catalog models have at
/// most a few of each).
const MAX_CARDS_PER_MODEL: usize = 16;

/// Prompts above this many input tokens are priced by the catalog directly each time: the tier search
/// stops here (no model has a context window anywhere near it).
const TIER_SEARCH_CAP: u64 = 1 << 40;

/// The prices of one model for one prompt-size tier and service tier during one UTC minute, as USD per
/// token (per call for `request`, per search for `web_search`): pricing a call inside that tier and
/// minute is then a dozen multiplications.
///
/// Derived from the catalog itself (not from its JSON), so the catalog's rules stay the only source:
/// which cache and reasoning prices exist (a kind without its own price falls back to the input or
/// output price, as the catalog does), tiers, provider-specific billing and price history.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    input: f64,
    cache_read: f64,
    cache_write: f64,
    cache_write_1h: f64,
    audio_input: f64,
    image_input: f64,
    output: f64,
    reasoning: f64,
    audio_output: f64,
    image_output: f64,
    request: f64,
    web_search: f64,
}

impl Rates {
    fn all(&self) -> [f64; 12] {
        [
            self.input,
            self.cache_read,
            self.cache_write,
            self.cache_write_1h,
            self.audio_input,
            self.image_input,
            self.output,
            self.reasoning,
            self.audio_output,
            self.image_output,
            self.request,
            self.web_search,
        ]
    }
}

/// [`Rates`] and where they hold: total input tokens in `(above, up_to]`, start times in `minute`, calls
/// of service tier `tier`. `rates` is `None` when the catalog has no rate for `tier` (the tier's price
/// variant is missing or not yet in force): such calls are unpriced, never priced at the standard rate.
///
/// The validity window in time is one UTC minute because the catalog does not expose its price
/// periods: periods start at midnight UTC (`start_date`) or at a time of day (`start_time`, whole
/// minutes in the catalog), so rates derived for a minute hold for all of it. A span that started in an
/// earlier minute than the newest card is priced by the catalog directly (price history stays exact).
#[derive(Debug, Clone, Copy)]
struct RateCard {
    minute: u64,
    tier: ServiceTier,
    above: u64,
    up_to: u64,
    rates: Option<Rates>,
}

impl Matched {
    /// `price` applied to the rates of the card for these conditions (`None`: no rate for the tier), or
    /// `None` when no card covers them yet. The rates are read in place, under the read lock.
    fn with_rates<R>(
        &self,
        input: u64,
        minute: u64,
        tier: ServiceTier,
        price: impl FnOnce(Option<&Rates>) -> R,
    ) -> Option<R> {
        let cards = crate::contention::read(crate::contention::Site::MetricIndex, &self.cards);
        let card =
            cards.iter().find(|c| c.minute == minute && c.tier == tier && c.above < input && input <= c.up_to)?;
        Some(price(card.rates.as_ref()))
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
        let map = crate::contention::read(crate::contention::Site::MetricIndex, &self.map);
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
    /// the call's start time, at the standard service tier.
    ///
    /// The first call for a model matches it in the catalog; then, per prompt-size tier and UTC minute,
    /// its rates are derived once from the catalog, and every call inside them is priced by arithmetic
    /// on those rates (tens of nanoseconds instead of the catalog's microseconds).
    pub fn price(&self, provider: &str, model: &str, usage: &Tokens, at: SystemTime) -> Cost {
        self.price_call(&LlmCall::new(provider, model, *usage, at))
    }

    /// Prices one LLM call with its service tier and web searches (see [`Catalog::price`]).
    ///
    /// ```
    /// # #[cfg(feature = "bundled-prices")] {
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use botanu::cost::{Catalog, LlmCall, ServiceTier, Tokens};
    ///
    /// let catalog = Catalog::bundled();
    /// let december_2026 = UNIX_EPOCH + Duration::from_secs(1_796_083_200);
    /// // claude-sonnet-4-5 in a Message Batch (catalog, prompts up to 200k: input $1.5, output $7.5 per
    /// // million from 2026-10-14; standard $3 and $15).
    /// let usage = Tokens::anthropic(100_000, 0, 0, 100_000);
    /// let call = LlmCall::new("anthropic", "claude-sonnet-4-5", usage, december_2026);
    /// let batch = catalog.price_call(&call.with_tier(ServiceTier::Batch)).usd().unwrap_or_default();
    /// assert!((batch - 0.9).abs() < 1e-12, "{batch}");
    /// let standard = catalog.price_call(&call).usd().unwrap_or_default();
    /// assert!((standard - 1.8).abs() < 1e-12, "{standard}");
    /// # }
    /// ```
    pub fn price_call(&self, call: &LlmCall<'_>) -> Cost {
        let usage = &call.tokens;
        if usage.is_empty() {
            return Cost::unpriced(UnpricedReason::NoUsage);
        }
        let provider_id = catalog_provider_id(call.provider);
        let model = call.model;
        let lookup = match self.lookups.get(provider_id, model) {
            Some(lookup) => lookup,
            None => self.resolve(provider_id, model),
        };
        let matched = match lookup {
            Lookup::Missing(reason) => return Cost::unpriced(reason),
            Lookup::Found(matched) => matched,
        };
        let input = usage.total_input();
        let minute = minute_of(call.at);
        let cached = matched.with_rates(input, minute, call.tier, |rates| {
            rates.map(|rates| price_with(rates, usage, call.web_searches)).ok_or(UnpricedReason::NoTierPrice)
        });
        let priced = match cached {
            Some(priced) => priced,
            None => self.price_uncached(&matched, provider_id, call, minute),
        };
        match priced {
            Ok((total_usd, parts)) if total_usd.is_finite() && total_usd > 0.0 => Cost::Priced(Priced {
                total_usd,
                parts,
                provenance: Provenance {
                    source: self.source.clone(),
                    provider: matched.provider.clone(),
                    model: Some(matched.model.clone()),
                    estimated: true,
                },
                estimate_usd: None,
            }),
            Err(reason) => Cost::unpriced(reason),
            Ok(_) => Cost::unpriced(UnpricedReason::NoPrice),
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
        call: &LlmCall<'_>,
        minute: u64,
    ) -> Result<(f64, CostParts), UnpricedReason> {
        let usage = &call.tokens;
        let input = usage.total_input();
        if input == 0 || input > TIER_SEARCH_CAP || !matched.accepts(minute) {
            return self.price_matched(provider_id, call);
        }
        match self.derive_card(provider_id, call.model, input, call.at, minute, call.tier) {
            Some(card) => {
                matched.store(card);
                match card.rates {
                    Some(rates) => Ok(price_with(&rates, usage, call.web_searches)),
                    None => Err(UnpricedReason::NoTierPrice),
                }
            }
            None => self.price_matched(provider_id, call),
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

    /// The rates at prompt size `input` (total input tokens, which pick the tier), time `at` and service
    /// tier `tier`, from one catalog calculation per kind: every input token of that kind (uncached, read
    /// from the cache, written to it for 5 minutes / 1 hour, audio, image) with a million output tokens
    /// of a kind (plain, reasoning, audio, image), and a thousand web searches. A kind without its own
    /// price comes out at the price the catalog charges it instead (its parent kind's).
    fn rates_at(&self, provider_id: &str, model: &str, input: u64, at: SystemTime, tier: ServiceTier) -> Option<Rates> {
        const OUTPUT: f64 = 1_000_000.0;
        const SEARCHES: f64 = 1_000.0;
        #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
        let tokens = input as f64;
        let probe = |pairs: &[(UsageKey, f64)]| {
            let mut usage = Usage::new();
            for (key, value) in pairs {
                usage.insert(key.clone(), *value);
            }
            self.calculate(provider_id, model, &usage, at, tier)
        };
        let with_input =
            |key: UsageKey| probe(&[(UsageKey::INPUT_TOKENS, tokens), (key, tokens)]).map(|p| p.input_price / tokens);
        let with_output = |key: UsageKey| {
            probe(&[(UsageKey::INPUT_TOKENS, tokens), (UsageKey::OUTPUT_TOKENS, OUTPUT), (key, OUTPUT)])
                .map(|p| p.output_price / OUTPUT)
        };
        let plain = probe(&[(UsageKey::INPUT_TOKENS, tokens), (UsageKey::OUTPUT_TOKENS, OUTPUT)])?;
        let request = (plain.total_price - plain.input_price - plain.output_price).max(0.0);
        let searches = probe(&[(UsageKey::INPUT_TOKENS, tokens), (UsageKey::WEB_SEARCHES, SEARCHES)])?;
        let rates = Rates {
            input: plain.input_price / tokens,
            cache_read: with_input(UsageKey::CACHE_READ_TOKENS)?,
            cache_write: with_input(UsageKey::CACHE_WRITE_TOKENS)?,
            cache_write_1h: probe(&[
                (UsageKey::INPUT_TOKENS, tokens),
                (UsageKey::CACHE_WRITE_TOKENS, tokens),
                (UsageKey::CACHE_WRITE_1H_TOKENS, tokens),
            ])
            .map(|p| p.input_price / tokens)?,
            audio_input: with_input(UsageKey::INPUT_AUDIO_TOKENS)?,
            image_input: with_input(UsageKey::INPUT_IMAGE_TOKENS)?,
            output: plain.output_price / OUTPUT,
            reasoning: with_output(UsageKey::OUTPUT_REASONING_TOKENS)?,
            audio_output: with_output(UsageKey::OUTPUT_AUDIO_TOKENS)?,
            image_output: with_output(UsageKey::OUTPUT_IMAGE_TOKENS)?,
            request,
            web_search: ((searches.total_price - searches.input_price - searches.output_price - request) / SEARCHES)
                .max(0.0),
        };
        rates.all().iter().all(|rate| rate.is_finite() && *rate >= 0.0).then_some(rates)
    }

    /// One number that changes whenever any per-token rate changes with the prompt size: the price per
    /// input token of a call with every kind of token in fixed proportions to `input`.
    fn tier_signature(
        &self,
        provider_id: &str,
        model: &str,
        input: u64,
        at: SystemTime,
        tier: ServiceTier,
    ) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
        let tokens = input as f64;
        let mut usage = Usage::new();
        usage.insert(UsageKey::INPUT_TOKENS, tokens);
        usage.insert(UsageKey::CACHE_READ_TOKENS, tokens / 4.0);
        usage.insert(UsageKey::CACHE_WRITE_TOKENS, tokens / 8.0);
        usage.insert(UsageKey::CACHE_WRITE_1H_TOKENS, tokens / 16.0);
        usage.insert(UsageKey::INPUT_AUDIO_TOKENS, tokens / 32.0);
        usage.insert(UsageKey::INPUT_IMAGE_TOKENS, tokens / 64.0);
        usage.insert(UsageKey::OUTPUT_TOKENS, tokens);
        usage.insert(UsageKey::OUTPUT_REASONING_TOKENS, tokens / 2.0);
        usage.insert(UsageKey::OUTPUT_AUDIO_TOKENS, tokens / 8.0);
        usage.insert(UsageKey::OUTPUT_IMAGE_TOKENS, tokens / 16.0);
        let priced = self.calculate(provider_id, model, &usage, at, tier)?;
        Some((priced.input_price + priced.output_price) / tokens)
    }

    /// The rate card around prompt size `input`: its rates, and the prompt sizes they hold for, found by
    /// doubling away from `input` until the tier signature changes, then bisecting to the exact
    /// threshold (the catalog's tiers are steps in the prompt size). About a hundred catalog
    /// calculations, once per model, tier and minute.
    ///
    /// For a service tier other than the standard one, the tier's rates are first compared with the
    /// standard rates: the catalog answers a tier it has no variant for (or one not yet in force at `at`)
    /// with the standard rates, so identical rates mean "no rate for this tier", and the card says so for
    /// every prompt size in this minute.
    fn derive_card(
        &self,
        provider_id: &str,
        model: &str,
        input: u64,
        at: SystemTime,
        minute: u64,
        tier: ServiceTier,
    ) -> Option<RateCard> {
        let rates = self.rates_at(provider_id, model, input, at, tier)?;
        if tier != ServiceTier::Standard {
            let standard = self.rates_at(provider_id, model, input, at, ServiceTier::Standard)?;
            if rates.all().iter().zip(standard.all()).all(|(a, b)| same(*a, b)) {
                return Some(RateCard { minute, tier, above: 0, up_to: u64::MAX, rates: None });
            }
        }
        let here = self.tier_signature(provider_id, model, input, at, tier)?;
        let same_tier =
            |tokens: u64| self.tier_signature(provider_id, model, tokens, at, tier).is_some_and(|s| same(s, here));

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
        Some(RateCard { minute, tier, above, up_to, rates: Some(rates) })
    }

    fn calculate(
        &self,
        provider_id: &str,
        model: &str,
        usage: &Usage,
        at: SystemTime,
        tier: ServiceTier,
    ) -> Option<PriceCalculation> {
        let mut request = PriceRequest::new(model, usage).with_provider_id(provider_id).with_timestamp(at);
        if let Some((key, value)) = tier.price_context() {
            request = request.with_price_context(key, value);
        }
        self.calculator().calculate(&request).ok()
    }

    /// The total straight from the catalog (no rate card) with the parts split at the rates of this
    /// prompt size, time and tier; `Err` when the catalog has no (non-zero) price for this call, or no
    /// rate for its service tier. Also the reference the rate cards are tested against.
    fn price_matched(&self, provider_id: &str, call: &LlmCall<'_>) -> Result<(f64, CostParts), UnpricedReason> {
        let (model, at, tier) = (call.model, call.at, call.tier);
        let split = Split::of(&call.tokens);
        let input = call.tokens.total_input();
        let rates = self.rates_at(provider_id, model, input.max(1), at, tier).ok_or(UnpricedReason::NoPrice)?;
        if tier != ServiceTier::Standard {
            let standard = self
                .rates_at(provider_id, model, input.max(1), at, ServiceTier::Standard)
                .ok_or(UnpricedReason::NoPrice)?;
            if rates.all().iter().zip(standard.all()).all(|(a, b)| same(*a, b)) {
                return Err(UnpricedReason::NoTierPrice);
            }
        }
        // genai-prices' `input_tokens` includes every more specific input count (cache reads and writes,
        // audio, image), and `output_tokens` every more specific output count: the catalog subtracts the
        // ones it has prices for.
        #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
        let count = |n: u64| n as f64;
        let mut full = Usage::new();
        full.insert(UsageKey::INPUT_TOKENS, count(input));
        full.insert(UsageKey::OUTPUT_TOKENS, count(split.output));
        for (key, value) in [
            (UsageKey::CACHE_READ_TOKENS, split.cache_read),
            (UsageKey::CACHE_WRITE_TOKENS, split.cache_write),
            (UsageKey::CACHE_WRITE_1H_TOKENS, split.cache_write_1h),
            (UsageKey::INPUT_AUDIO_TOKENS, split.audio_input),
            (UsageKey::INPUT_IMAGE_TOKENS, split.image_input),
            (UsageKey::OUTPUT_REASONING_TOKENS, split.reasoning),
            (UsageKey::OUTPUT_AUDIO_TOKENS, split.audio_output),
            (UsageKey::OUTPUT_IMAGE_TOKENS, split.image_output),
            (UsageKey::WEB_SEARCHES, call.web_searches),
        ] {
            if value > 0 {
                full.insert(key, count(value));
            }
        }
        let priced = self.calculate(provider_id, model, &full, at, tier).ok_or(UnpricedReason::NoPrice)?;
        if !(priced.total_price.is_finite() && priced.total_price > 0.0) {
            return Err(UnpricedReason::NoPrice);
        }
        let (_, parts) = price_with(&rates, &call.tokens, call.web_searches);
        Ok((priced.total_price, parts))
    }
}

/// A call's tokens split into disjoint kinds, the way the catalog splits them: cache reads, then cache
/// writes (of which 1-hour ones), then audio and image input, out of the input total; reasoning, then
/// audio and image output, out of the output total. Counts that do not fit (a response's inconsistent
/// figures) are cut to what is left, so no token is priced twice.
#[derive(Debug, Clone, Copy)]
struct Split {
    text_input: u64,
    cache_read: u64,
    cache_write: u64,
    cache_write_1h: u64,
    audio_input: u64,
    image_input: u64,
    output: u64,
    text_output: u64,
    reasoning: u64,
    audio_output: u64,
    image_output: u64,
}

impl Split {
    fn of(usage: &Tokens) -> Split {
        let input = usage.total_input();
        let cache_read = usage.cache_read.min(input);
        let cache_write = usage.cache_writes().min(input - cache_read);
        let cache_write_1h = usage.cache_write_1h.min(cache_write);
        let rest = input - cache_read - cache_write;
        let audio_input = usage.audio_input.min(rest);
        let image_input = usage.image_input.min(rest - audio_input);
        let output = usage.total_output();
        let reasoning = usage.reasoning.min(output);
        let audio_output = usage.audio_output.min(output - reasoning);
        let image_output = usage.image_output.min(output - reasoning - audio_output);
        Split {
            text_input: rest - audio_input - image_input,
            cache_read,
            cache_write,
            cache_write_1h,
            audio_input,
            image_input,
            output,
            text_output: output - reasoning - audio_output - image_output,
            reasoning,
            audio_output,
            image_output,
        }
    }
}

/// The total and its parts of `usage` and `web_searches` at `rates`, split as [`Split`] says. Inlined:
/// this is the whole per-span arithmetic of a priced call.
#[inline(always)]
fn price_with(rates: &Rates, usage: &Tokens, web_searches: u64) -> (f64, CostParts) {
    #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
    let tokens = |count: u64| count as f64;
    // The common call has none of the kinds below: priced without splitting them out (the same figures).
    let plain = usage.cache_write_1h
        | usage.audio_input
        | usage.image_input
        | usage.audio_output
        | usage.image_output
        | web_searches
        == 0;
    if plain {
        let input = usage.total_input();
        let cache_read = usage.cache_read.min(input);
        let cache_write = usage.cache_writes().min(input - cache_read);
        let output = usage.total_output();
        let reasoning = usage.reasoning.min(output);
        let parts = CostParts {
            input_usd: rates.input * tokens(input - cache_read - cache_write),
            output_usd: rates.output * tokens(output - reasoning),
            cache_read_usd: rates.cache_read * tokens(cache_read),
            cache_write_usd: rates.cache_write * tokens(cache_write),
            reasoning_usd: rates.reasoning * tokens(reasoning),
            request_usd: rates.request,
            ..CostParts::default()
        };
        let total = parts.input_usd
            + parts.output_usd
            + parts.cache_read_usd
            + parts.cache_write_usd
            + parts.reasoning_usd
            + parts.request_usd;
        return (total, parts);
    }
    price_split(rates, usage, web_searches)
}

/// [`price_with`] of a call with 1-hour cache writes, audio or image tokens, or web searches.
#[inline(never)]
fn price_split(rates: &Rates, usage: &Tokens, web_searches: u64) -> (f64, CostParts) {
    #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
    let tokens = |count: u64| count as f64;
    let split = Split::of(usage);
    let parts = CostParts {
        input_usd: rates.input * tokens(split.text_input),
        output_usd: rates.output * tokens(split.text_output),
        cache_read_usd: rates.cache_read * tokens(split.cache_read),
        cache_write_usd: rates.cache_write * tokens(split.cache_write - split.cache_write_1h)
            + rates.cache_write_1h * tokens(split.cache_write_1h),
        reasoning_usd: rates.reasoning * tokens(split.reasoning),
        request_usd: rates.request,
        data_usd: 0.0,
        audio_usd: rates.audio_input * tokens(split.audio_input) + rates.audio_output * tokens(split.audio_output),
        image_usd: rates.image_input * tokens(split.image_input) + rates.image_output * tokens(split.image_output),
        web_search_usd: rates.web_search * tokens(web_searches),
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
            Tokens { cache_write_1h: 600, ..Tokens::anthropic(2_000, 10_000, 1_000, 500) },
            Tokens {
                audio_input: 700,
                image_input: 200,
                audio_output: 50,
                image_output: 30,
                ..Tokens::openai(1_000, 0, 400)
            },
        ];
        let models = [
            ("openai", "gpt-4o"),
            ("openai", "o3"),
            ("anthropic", "claude-3-5-sonnet"),
            ("anthropic", "claude-sonnet-4"),
            ("gcp.vertex_ai", "gemini-2.5-pro"),
            ("gcp.vertex_ai", "gemini-2.5-flash"),
            ("deepseek", "deepseek-chat"),
            ("anthropic", "claude-sonnet-4-5"),
            ("openai", "gpt-realtime"),
            ("openai", "gpt-5"),
        ];
        let tiers = [ServiceTier::Standard, ServiceTier::Flex, ServiceTier::Priority, ServiceTier::Batch];
        for ((provider, model), tier) in models.into_iter().flat_map(|m| tiers.map(|t| (m, t))) {
            let provider_id = catalog_provider_id(provider);
            for usage in &usages {
                // Twice: the first call derives the card, the second prices from it.
                for _ in 0..2 {
                    let call = LlmCall::new(provider, model, *usage, now).with_tier(tier).with_web_searches(2);
                    let cost = catalog.price_call(&call);
                    let direct = catalog.price_matched(provider_id, &call);
                    match (&cost, direct) {
                        (Cost::Priced(priced), Ok((total, parts))) => {
                            assert!(
                                (priced.total_usd - total).abs() < 1e-12,
                                "{model} {tier} {usage:?}: {cost:?} vs {total}"
                            );
                            for (a, b) in [
                                (priced.parts.input_usd, parts.input_usd),
                                (priced.parts.output_usd, parts.output_usd),
                                (priced.parts.cache_read_usd, parts.cache_read_usd),
                                (priced.parts.cache_write_usd, parts.cache_write_usd),
                                (priced.parts.reasoning_usd, parts.reasoning_usd),
                                (priced.parts.request_usd, parts.request_usd),
                                (priced.parts.audio_usd, parts.audio_usd),
                                (priced.parts.image_usd, parts.image_usd),
                                (priced.parts.web_search_usd, parts.web_search_usd),
                            ] {
                                assert!((a - b).abs() < 1e-12, "{model} {usage:?}: {priced:?} vs {parts:?}");
                            }
                        }
                        (Cost::Unpriced { reason }, Err(direct)) => assert_eq!(*reason, direct, "{model} {tier}"),
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
