//! Negotiated prices, discounts and the operator's catalog file, and the engine that applies them.
//!
//! The users who care most about cost rarely pay list price. [`PriceOverrides`] holds per-model and
//! per-provider prices (USD per million tokens) and a per-provider discount factor; [`PricingEngine`]
//! prices a call from, in order: a matching price override, the operator's catalog file, the bundled
//! catalog. A discount applies to catalog prices only (an override price is already the negotiated one).
//! Whatever an override touched carries `botanu.cost.source = "override"`.
//!
//! [`PriceOverrides`] is plain data, so the configuration layer can fill it from code, environment and
//! YAML with the usual precedence; [`PriceOverrides::parse`] reads the compact text form used by
//! [`PRICE_OVERRIDES_ENV`]:
//!
//! ```text
//! BOTANU_PRICE_OVERRIDES="openai/gpt-4o=input:2.5,output:10;anthropic/*=discount:0.8"
//! ```
//!
//! Entries are separated by `;`. Each is `provider/model=field:value,…` where `provider` is the
//! normalized botanu vendor (`openai`, `anthropic`, `gcp.vertex_ai`, …), `model` is the model name as the
//! span records it (case-insensitive) or `*` for every model of the provider (`provider` alone means the
//! same). Fields: `input`, `output`, `cache_read`, `cache_write` (USD per million tokens; when prices are
//! given, `input` and `output` are required, cache reads and writes default to the input price) and
//! `discount` (a factor in (0, 1], e.g. `0.8` for 20% off). A model entry wins over a `*` entry.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::data_prices::{price_data_operation, DataUsage};
use super::{Catalog, Cost, CostParts, LlmCall, Priced, Provenance, Tokens, ToolPrices, UnpricedReason};

/// `botanu.cost.source` of a price an override set or changed.
pub(crate) const OVERRIDE_SOURCE: &str = "override";

/// Environment variable read by the configuration layer for [`PriceOverrides::parse`].
pub(crate) const PRICE_OVERRIDES_ENV: &str = "BOTANU_PRICE_OVERRIDES";

/// Prices in USD per million tokens. `None` = not overridden.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokenPrices {
    /// Uncached input tokens.
    pub input: Option<f64>,
    /// Output tokens (reasoning included).
    pub output: Option<f64>,
    /// Input tokens read from the prompt cache; defaults to `input`.
    pub cache_read: Option<f64>,
    /// Input tokens written to the prompt cache; defaults to `input`.
    pub cache_write: Option<f64>,
}

impl TokenPrices {
    fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none() && self.cache_read.is_none() && self.cache_write.is_none()
    }
}

/// One override: prices and/or a discount for a model of a provider, or for all its models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceOverride {
    /// Normalized botanu vendor (`openai`, `anthropic`, `gcp.vertex_ai`, …), case-insensitive.
    pub provider: String,
    /// Model name as the span records it (case-insensitive); `None` (or `*`) = every model of the provider.
    pub model: Option<String>,
    /// Negotiated prices.
    pub prices: TokenPrices,
    /// Discount factor in (0, 1] applied to catalog prices (`0.8` = 20% off).
    pub discount: Option<f64>,
}

impl PriceOverride {
    fn target(&self) -> String {
        format!("{}/{}", self.provider, self.model.as_deref().unwrap_or("*"))
    }

    fn validate(&self, key: &str) -> Result<(), PriceConfigError> {
        let key = format!("{key}[{}]", self.target());
        if self.provider.trim().is_empty() {
            return Err(PriceConfigError::new(&key, PriceConfigErrorKind::Malformed("empty provider".into())));
        }
        let prices = &self.prices;
        for (field, value) in [
            ("input", prices.input),
            ("output", prices.output),
            ("cache_read", prices.cache_read),
            ("cache_write", prices.cache_write),
        ] {
            if let Some(value) = value {
                if !value.is_finite() || value < 0.0 {
                    return Err(PriceConfigError::new(
                        &format!("{key}.{field}"),
                        PriceConfigErrorKind::NegativePrice(value),
                    ));
                }
            }
        }
        if !prices.is_empty() {
            for (field, value) in [("input", prices.input), ("output", prices.output)] {
                if value.is_none() {
                    return Err(PriceConfigError::new(&format!("{key}.{field}"), PriceConfigErrorKind::MissingPrice));
                }
            }
        }
        if let Some(discount) = self.discount {
            if !(discount > 0.0 && discount <= 1.0) {
                return Err(PriceConfigError::new(
                    &format!("{key}.discount"),
                    PriceConfigErrorKind::DiscountOutOfRange(discount),
                ));
            }
        }
        if prices.is_empty() && self.discount.is_none() {
            return Err(PriceConfigError::new(&key, PriceConfigErrorKind::NothingToOverride));
        }
        Ok(())
    }

    fn matches(&self, provider: &str, model: Option<&str>) -> bool {
        self.provider.eq_ignore_ascii_case(provider)
            && match (self.model.as_deref(), model) {
                (None, None) => true,
                (Some(mine), Some(theirs)) => mine.eq_ignore_ascii_case(theirs),
                _ => false,
            }
    }
}

/// All price overrides. Later entries win over earlier ones for the same target, so merging a
/// higher-precedence source is appending it ([`PriceOverrides::merge`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceOverrides {
    /// The overrides, lowest precedence first.
    pub entries: Vec<PriceOverride>,
}

impl PriceOverrides {
    /// Parses the compact text form (see the module docs); `key` names the source in errors
    /// (e.g. `BOTANU_PRICE_OVERRIDES`), and each error names the entry and field:
    /// `BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input`.
    ///
    /// ```
    /// use botanu::cost::PriceOverrides;
    ///
    /// let overrides =
    ///     PriceOverrides::parse("openai/gpt-4o=input:2.5,output:10;anthropic/*=discount:0.8", "env")?;
    /// assert_eq!(overrides.entries[0].prices.input, Some(2.5));
    /// assert_eq!(overrides.entries[1].discount, Some(0.8));
    ///
    /// let error = PriceOverrides::parse("openai/gpt-4o=input:-1,output:10", "env").unwrap_err();
    /// assert_eq!(error.key, "env[openai/gpt-4o].input");
    /// # Ok::<(), botanu::cost::PriceConfigError>(())
    /// ```
    pub fn parse(text: &str, key: &str) -> Result<Self, PriceConfigError> {
        let mut entries = Vec::new();
        for entry in text.split(';').map(str::trim).filter(|entry| !entry.is_empty()) {
            let Some((target, fields)) = entry.split_once('=') else {
                return Err(PriceConfigError::new(
                    &format!("{key}[{entry}]"),
                    PriceConfigErrorKind::Malformed("expected provider/model=field:value,…".into()),
                ));
            };
            let target = target.trim();
            let (provider, model) = match target.split_once('/') {
                Some((provider, model)) => (provider.trim(), model.trim()),
                None => (target, "*"),
            };
            let mut item = PriceOverride {
                provider: provider.to_ascii_lowercase(),
                model: (model != "*" && !model.is_empty()).then(|| model.to_owned()),
                ..PriceOverride::default()
            };
            let entry_key = format!("{key}[{}]", item.target());
            for field in fields.split(',').map(str::trim).filter(|field| !field.is_empty()) {
                let Some((name, value)) = field.split_once(':') else {
                    return Err(PriceConfigError::new(
                        &format!("{entry_key}.{field}"),
                        PriceConfigErrorKind::Malformed("expected field:value".into()),
                    ));
                };
                let name = name.trim();
                let field_key = format!("{entry_key}.{name}");
                let value: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| PriceConfigError::new(&field_key, PriceConfigErrorKind::NotANumber(value.into())))?;
                let slot = match name {
                    "input" => &mut item.prices.input,
                    "output" => &mut item.prices.output,
                    "cache_read" => &mut item.prices.cache_read,
                    "cache_write" => &mut item.prices.cache_write,
                    "discount" => &mut item.discount,
                    _ => {
                        return Err(PriceConfigError::new(&field_key, PriceConfigErrorKind::UnknownField(name.into())))
                    }
                };
                *slot = Some(value);
            }
            entries.push(item);
        }
        let overrides = PriceOverrides { entries };
        overrides.validate(key)?;
        Ok(overrides)
    }

    /// Checks every entry: prices finite and ≥ 0, `input` and `output` given together, discount in (0, 1],
    /// something to override. `key` names the source in errors.
    pub fn validate(&self, key: &str) -> Result<(), PriceConfigError> {
        self.entries.iter().try_for_each(|entry| entry.validate(key))
    }

    /// These overrides with `higher`'s appended: where both set the same target, `higher` wins.
    pub fn merge(mut self, higher: PriceOverrides) -> Self {
        self.entries.extend(higher.entries);
        self
    }

    /// The winning entry for exactly this target (the last one).
    fn find(&self, provider: &str, model: Option<&str>) -> Option<&PriceOverride> {
        self.entries.iter().rev().find(|entry| entry.matches(provider, model))
    }

    /// Prices set for the model, else for the provider.
    fn prices_for(&self, provider: &str, model: &str) -> Option<&PriceOverride> {
        let with_prices = |entry: &&PriceOverride| !entry.prices.is_empty();
        self.entries
            .iter()
            .rev()
            .filter(with_prices)
            .find(|entry| entry.matches(provider, Some(model)))
            .or_else(|| self.entries.iter().rev().filter(with_prices).find(|entry| entry.matches(provider, None)))
    }

    /// The discount for the model, else for the provider.
    fn discount_for(&self, provider: &str, model: &str) -> Option<f64> {
        self.find(provider, Some(model))
            .and_then(|entry| entry.discount)
            .or_else(|| self.find(provider, None).and_then(|entry| entry.discount))
    }
}

/// Pricing settings: whether spans are priced, negotiated prices and discounts, the operator's catalog
/// file; what the pricing engine is built from (`Config::pricing`, `PricingEngine::new`).
#[derive(Debug, Clone, PartialEq)]
pub struct PricingConfig {
    /// Whether LLM calls and data operations are priced at all (default true). Off: no cost attributes,
    /// no roll-up, no `botanu.cost` metric. The engine itself ignores it; the layer does not build one.
    pub enabled: bool,
    /// Price overrides and discounts.
    pub overrides: PriceOverrides,
    /// An operator-supplied catalog in `genai-prices`' JSON format, consulted before the bundled one.
    pub catalog_file: Option<PathBuf>,
    /// Whether to use the bundled catalog (only with the `bundled-prices` feature).
    pub bundled_catalog: bool,
    /// Unit prices of tool calls (`pricing.tool_prices`, `BOTANU_TOOL_PRICES`).
    pub tool_prices: ToolPrices,
    /// Customer or tenant ids the `botanu.cost` metric is broken down by (`pricing.metric_customers`,
    /// `BOTANU_COST_METRIC_CUSTOMERS`); every other id counts under `_other`.
    pub metric_customers: Vec<String>,
    /// Besides the allow-list, how many further customer (and tenant) ids get their own `botanu.cost`
    /// series, first seen first served, at most [`MAX_METRIC_CUSTOMERS`]
    /// (`pricing.metric_customer_limit`, `BOTANU_COST_METRIC_CUSTOMER_LIMIT`; default 0). With neither
    /// this nor an allow-list, the metric has no customer or tenant attribute at all.
    pub metric_customer_limit: usize,
    /// The cost ledger: a JSON-lines file with one line per priced span, for reconciling with the
    /// provider's invoice (`pricing.ledger.file`, `BOTANU_COST_LEDGER_FILE`; default none = off).
    pub ledger_file: Option<PathBuf>,
    /// The ledger file's size at which it is rotated (`pricing.ledger.max_bytes`; default 64 MiB).
    pub ledger_max_bytes: u64,
    /// Rotated ledger files kept (`<file>.1` … `<file>.N`; `pricing.ledger.max_files`; default 4).
    pub ledger_max_files: usize,
}

/// The most customer (or tenant) ids [`PricingConfig::metric_customer_limit`] admits: the bound of every
/// free-form metric attribute in this crate.
pub const MAX_METRIC_CUSTOMERS: usize = 256;

// Derivable only when the bundled catalog is compiled out (`cfg!` is then `false`).
#[allow(clippy::derivable_impls)]
impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            enabled: true,
            overrides: PriceOverrides::default(),
            catalog_file: None,
            bundled_catalog: cfg!(feature = "bundled-prices"),
            tool_prices: ToolPrices::default(),
            metric_customers: Vec::new(),
            metric_customer_limit: 0,
            ledger_file: None,
            ledger_max_bytes: 64 << 20,
            ledger_max_files: 4,
        }
    }
}

/// Prices LLM calls and data operations: overrides > catalog file > bundled catalog for LLM calls; the
/// list-price table for data operations. Cheap to share (`&self` everywhere, internally synchronized).
#[derive(Debug)]
pub struct PricingEngine {
    overrides: PriceOverrides,
    tool_prices: ToolPrices,
    /// The `botanu.cost` metric's customer allow-list and limit (see [`PricingConfig`]).
    pub(crate) metric_customers: (Vec<String>, usize),
    file: Option<Catalog>,
    bundled: Option<Catalog>,
    override_source: Arc<str>,
}

impl PricingEngine {
    /// Builds the engine from its configuration: validates the overrides and loads the catalog file.
    pub fn new(config: &PricingConfig) -> Result<Self, PriceConfigError> {
        let file = config.catalog_file.as_ref().map(Catalog::from_file).transpose()?;
        #[cfg(feature = "bundled-prices")]
        let bundled = config.bundled_catalog.then(Catalog::bundled);
        #[cfg(not(feature = "bundled-prices"))]
        let bundled = None;
        let mut engine = PricingEngine::with_catalogs(config.overrides.clone(), file, bundled)?;
        config.tool_prices.validate("tool_prices")?;
        engine.tool_prices = config.tool_prices.clone();
        engine.metric_customers =
            (config.metric_customers.clone(), config.metric_customer_limit.min(MAX_METRIC_CUSTOMERS));
        Ok(engine)
    }

    /// Builds the engine from catalogs already loaded (e.g. a catalog from [`Catalog::from_json`]).
    pub fn with_catalogs(
        overrides: PriceOverrides,
        file: Option<Catalog>,
        bundled: Option<Catalog>,
    ) -> Result<Self, PriceConfigError> {
        overrides.validate("overrides")?;
        Ok(PricingEngine {
            overrides,
            tool_prices: ToolPrices::default(),
            metric_customers: (Vec::new(), 0),
            file,
            bundled,
            override_source: Arc::from(OVERRIDE_SOURCE),
        })
    }

    /// Prices one LLM call of `model` from `provider` (a normalized botanu vendor) with `usage`, at `at`
    /// (the call's start time).
    pub fn price_llm(&self, provider: &str, model: &str, usage: &Tokens, at: SystemTime) -> Cost {
        self.price_call(&LlmCall::new(provider, model, *usage, at))
    }

    /// Prices one LLM call with its service tier and web searches: an override's prices (the
    /// negotiated price, whatever the tier; web searches are then not priced), else the first catalog
    /// that knows the model, at the tier's rates (unpriced `no_tier_price` where it has none).
    ///
    /// ```
    /// # #[cfg(feature = "bundled-prices")] {
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use botanu::cost::{Cost, LlmCall, PricingConfig, PricingEngine, ServiceTier, Tokens, UnpricedReason};
    ///
    /// let engine = PricingEngine::new(&PricingConfig::default())?;
    /// let december_2026 = UNIX_EPOCH + Duration::from_secs(1_796_083_200);
    /// // gpt-4o has no flex rate in the catalog: unpriced, not priced at the standard rate.
    /// let call = LlmCall::new("openai", "gpt-4o", Tokens::openai(1_000, 0, 100), december_2026);
    /// assert_eq!(engine.price_call(&call.with_tier(ServiceTier::Flex)), Cost::unpriced(UnpricedReason::NoTierPrice));
    /// // Two web searches at $10 per thousand on top of the tokens.
    /// let searched = engine.price_call(&call.with_web_searches(2));
    /// let Cost::Priced(priced) = searched else { panic!("gpt-4o is priced") };
    /// assert!((priced.parts.web_search_usd - 0.02).abs() < 1e-12);
    /// # }
    /// # Ok::<(), botanu::cost::PriceConfigError>(())
    /// ```
    pub fn price_call(&self, call: &LlmCall<'_>) -> Cost {
        let (provider, model, usage) = (call.provider, call.model, &call.tokens);
        if usage.is_empty() {
            return Cost::unpriced(UnpricedReason::NoUsage);
        }
        // The common setup, the bundled catalog alone without overrides: its answer is the answer, returned
        // in place (a priced result is about 160 bytes; each move of it is a copy).
        if let (None, Some(bundled), true) = (&self.file, &self.bundled, self.overrides.entries.is_empty()) {
            return bundled.price_call(call);
        }
        if let Some(entry) = self.overrides.prices_for(provider, model) {
            return Cost::Priced(self.price_override(entry, provider, model, usage));
        }
        let mut reason = UnpricedReason::UnknownProvider;
        for catalog in [self.file.as_ref(), self.bundled.as_ref()].into_iter().flatten() {
            let mut cost = catalog.price_call(call);
            match &mut cost {
                // Returned as it came (not taken apart and rebuilt): a priced result is a few hundred bytes.
                Cost::Priced(priced) => {
                    if let Some(discount) = self.overrides.discount_for(provider, model) {
                        priced.parts = priced.parts.scaled(discount);
                        priced.total_usd *= discount;
                        priced.provenance.source = self.override_source.clone();
                    }
                    return cost;
                }
                // The most specific reason across catalogs: a known provider beats an unknown one.
                Cost::Unpriced { reason: found } => {
                    if reason == UnpricedReason::UnknownProvider
                        || matches!(found, UnpricedReason::NoPrice | UnpricedReason::NoTierPrice)
                    {
                        reason = *found;
                    }
                }
            }
        }
        Cost::unpriced(reason)
    }

    /// The cost of one call of `tool` that returned `items` (`None`: not recorded) at its configured unit
    /// price, or `None` when the tool has none ([`ToolPrices::price`]).
    ///
    /// ```
    /// use botanu::cost::{PricingConfig, PricingEngine, ToolPrices};
    ///
    /// let config = PricingConfig { tool_prices: ToolPrices::parse("search=call:0.005", "code")?, ..PricingConfig::default() };
    /// let engine = PricingEngine::new(&config)?;
    /// assert_eq!(engine.price_tool("search", None).and_then(|cost| cost.usd()), Some(0.005));
    /// # Ok::<(), botanu::cost::PriceConfigError>(())
    /// ```
    pub fn price_tool(&self, tool: &str, items: Option<u64>) -> Option<Cost> {
        self.tool_prices.price(tool, items)
    }

    /// Whether any tool has a unit price.
    pub(crate) fn prices_tools(&self) -> bool {
        !self.tool_prices.is_empty()
    }

    /// Prices one data operation from the list-price table ([`price_data_operation`]).
    pub fn price_data(&self, usage: &DataUsage<'_>) -> Cost {
        price_data_operation(usage)
    }

    fn price_override(&self, entry: &PriceOverride, provider: &str, model: &str, usage: &Tokens) -> Priced {
        let prices = &entry.prices;
        // `validate` guarantees input and output are set whenever any price is.
        let input_rate = prices.input.unwrap_or(0.0);
        let output_rate = prices.output.unwrap_or(0.0);
        let per_token = |rate: f64, tokens: u64| {
            #[allow(clippy::cast_precision_loss)] // token counts are far below 2^53
            let tokens = tokens as f64;
            rate * tokens / 1_000_000.0
        };
        let reasoning = usage.reasoning.min(usage.total_output());
        let parts = CostParts {
            input_usd: per_token(input_rate, usage.uncached_input()),
            output_usd: per_token(output_rate, usage.total_output() - reasoning),
            cache_read_usd: per_token(
                prices.cache_read.unwrap_or(input_rate),
                usage.cache_read.min(usage.total_input()),
            ),
            cache_write_usd: per_token(
                prices.cache_write.unwrap_or(input_rate),
                usage.cache_write.min(usage.total_input() - usage.cache_read.min(usage.total_input())),
            ),
            reasoning_usd: per_token(output_rate, reasoning),
            ..CostParts::default()
        };
        Priced {
            total_usd: parts.sum(),
            parts,
            provenance: Provenance {
                source: self.override_source.clone(),
                provider: Arc::from(provider),
                model: Some(Arc::from(entry.model.as_deref().unwrap_or(model))),
                estimated: true,
            },
            estimate_usd: None,
        }
    }
}

/// A price configuration error, naming the key (environment entry, YAML path or file) that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceConfigError {
    /// The key: `BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input`, `cost.overrides[openai/*].discount`, a path.
    pub key: String,
    /// What is wrong with it.
    pub kind: PriceConfigErrorKind,
}

impl PriceConfigError {
    pub(crate) fn new(key: &str, kind: PriceConfigErrorKind) -> Self {
        PriceConfigError { key: key.to_owned(), kind }
    }
}

/// What is wrong with a price setting.
#[derive(Debug, Clone, PartialEq)]
pub enum PriceConfigErrorKind {
    /// A price below zero or not finite.
    NegativePrice(f64),
    /// Prices were given without `input` or without `output`.
    MissingPrice,
    /// A discount factor outside (0, 1].
    DiscountOutOfRange(f64),
    /// A value that is not a number.
    NotANumber(String),
    /// A field other than `input`, `output`, `cache_read`, `cache_write`, `discount`.
    UnknownField(String),
    /// Text that does not follow the format.
    Malformed(String),
    /// An entry with neither prices nor a discount.
    NothingToOverride,
    /// A catalog file that could not be read or parsed.
    CatalogFile(String),
}

impl PriceConfigErrorKind {
    /// What would have been accepted, for a configuration error that names the key itself.
    pub(crate) fn expected(&self) -> String {
        match self {
            PriceConfigErrorKind::NegativePrice(value) => {
                format!("a price in USD per million tokens, a finite number >= 0 (got {value})")
            }
            PriceConfigErrorKind::MissingPrice => "both input and output when an override gives prices".to_owned(),
            PriceConfigErrorKind::DiscountOutOfRange(value) => {
                format!("a discount factor in (0, 1], e.g. 0.8 for 20% off (got {value})")
            }
            PriceConfigErrorKind::NotANumber(value) => format!("a number (got {value:?})"),
            PriceConfigErrorKind::UnknownField(name) => {
                format!("fields input, output, cache_read, cache_write or discount (got {name:?})")
            }
            PriceConfigErrorKind::Malformed(what) => what.clone(),
            PriceConfigErrorKind::NothingToOverride => "prices or a discount".to_owned(),
            PriceConfigErrorKind::CatalogFile(error) => {
                format!("a price catalog file in genai-prices' JSON format ({error})")
            }
        }
    }
}

impl fmt::Display for PriceConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match &self.kind {
            PriceConfigErrorKind::NegativePrice(value) => {
                write!(f, "{key}: price must be a finite number >= 0 (USD per million tokens), got {value}")
            }
            PriceConfigErrorKind::MissingPrice => {
                write!(f, "{key}: missing; an override with prices needs both input and output")
            }
            PriceConfigErrorKind::DiscountOutOfRange(value) => {
                write!(f, "{key}: discount must be in (0, 1] (0.8 = 20% off), got {value}")
            }
            PriceConfigErrorKind::NotANumber(value) => write!(f, "{key}: not a number: {value:?}"),
            PriceConfigErrorKind::UnknownField(name) => {
                write!(f, "{key}: unknown field {name:?} (expected input, output, cache_read, cache_write or discount)")
            }
            PriceConfigErrorKind::Malformed(what) => write!(f, "{key}: {what}"),
            PriceConfigErrorKind::NothingToOverride => write!(f, "{key}: neither prices nor a discount"),
            PriceConfigErrorKind::CatalogFile(error) => write!(f, "{key}: cannot load the price catalog: {error}"),
        }
    }
}

impl std::error::Error for PriceConfigError {}
