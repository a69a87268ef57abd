//! Unit prices of tool calls: what a paid API behind a tool charges per call and per item returned.
//!
//! No catalog knows what a search API, a scraping service or an enrichment provider charges an
//! application, so tool spans are priced only from the operator's own unit prices: per call and/or per
//! item (`botanu.tool.items_returned`). A priced tool span carries `botanu.cost.usd` with
//! `botanu.cost.source = "unit-price"` and rolls into `botanu.run.cost.tool_usd`. The text form read from
//! `BOTANU_TOOL_PRICES` (and, as a mapping, from YAML `pricing.tool_prices`):
//!
//! ```text
//! BOTANU_TOOL_PRICES="web_search=call:0.01;enrich_company=call:0.002,item:0.0005"
//! ```
//!
//! Entries are separated by `;`; each is `tool_name=field:value,…` with the tool name as
//! `gen_ai.tool.name` records it (case-insensitive) and fields `call` (USD per call) and `item` (USD per
//! item returned). A tool priced per item whose span did not record the items returned is unpriced
//! (`no_usage`), never priced as if it returned none.

use std::sync::Arc;

use super::overrides::{PriceConfigError, PriceConfigErrorKind};
use super::{Cost, CostParts, Priced, Provenance, UnpricedReason, UNIT_PRICE_SOURCE};

/// The unit prices of one tool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolPrice {
    /// The tool's name as `gen_ai.tool.name` records it (case-insensitive).
    pub tool: String,
    /// USD per call.
    pub per_call: Option<f64>,
    /// USD per item returned (`botanu.tool.items_returned`).
    pub per_item: Option<f64>,
}

impl ToolPrice {
    fn validate(&self, key: &str) -> Result<(), PriceConfigError> {
        let key = format!("{key}[{}]", self.tool);
        if self.tool.trim().is_empty() {
            return Err(PriceConfigError::new(&key, PriceConfigErrorKind::Malformed("empty tool name".into())));
        }
        for (field, value) in [("call", self.per_call), ("item", self.per_item)] {
            if let Some(value) = value {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(PriceConfigError::new(
                        &format!("{key}.{field}"),
                        PriceConfigErrorKind::Malformed(format!(
                            "a unit price in USD, a finite number >= 0 (got {value})"
                        )),
                    ));
                }
            }
        }
        if self.per_call.is_none() && self.per_item.is_none() {
            return Err(PriceConfigError::new(
                &key,
                PriceConfigErrorKind::Malformed("neither call nor item price".into()),
            ));
        }
        Ok(())
    }

    /// The cost of one call that returned `items` (`None`: not recorded).
    fn price(&self, items: Option<u64>) -> Cost {
        let item_usd = match (self.per_item, items) {
            (None, _) => 0.0,
            #[allow(clippy::cast_precision_loss)] // item counts are far below 2^53
            (Some(rate), Some(items)) => rate * items as f64,
            (Some(_), None) => return Cost::unpriced(UnpricedReason::NoUsage),
        };
        let total_usd = self.per_call.unwrap_or(0.0) + item_usd;
        Cost::Priced(Priced {
            total_usd,
            parts: CostParts { request_usd: total_usd, ..CostParts::default() },
            provenance: Provenance {
                source: Arc::from(UNIT_PRICE_SOURCE),
                provider: Arc::from(self.tool.as_str()),
                model: None,
                estimated: true,
            },
            estimate_usd: None,
        })
    }
}

/// The unit prices of every priced tool. Later entries win for the same tool, so merging a
/// higher-precedence source is appending it ([`ToolPrices::merge`]).
///
/// ```
/// use botanu::cost::ToolPrices;
///
/// let prices = ToolPrices::parse("web_search=call:0.01;enrich=call:0.002,item:0.0005", "env")?;
/// assert_eq!(prices.price("web_search", None).and_then(|cost| cost.usd()), Some(0.01));
/// assert_eq!(prices.price("ENRICH", Some(10)).and_then(|cost| cost.usd()), Some(0.007));
/// assert!(prices.price("other", Some(1)).is_none());
/// assert_eq!(ToolPrices::parse("x=call:-1", "env").unwrap_err().key, "env[x].call");
/// # Ok::<(), botanu::cost::PriceConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolPrices {
    /// The unit prices, lowest precedence first.
    pub entries: Vec<ToolPrice>,
}

impl ToolPrices {
    /// Parses the text form (see the module docs); `key` names the source in errors, each error names
    /// the entry and field (`BOTANU_TOOL_PRICES[web_search].call`).
    pub fn parse(text: &str, key: &str) -> Result<Self, PriceConfigError> {
        let mut entries = Vec::new();
        for entry in text.split(';').map(str::trim).filter(|entry| !entry.is_empty()) {
            let Some((tool, fields)) = entry.split_once('=') else {
                return Err(PriceConfigError::new(
                    &format!("{key}[{entry}]"),
                    PriceConfigErrorKind::Malformed("expected tool=call:value,item:value".into()),
                ));
            };
            let mut item = ToolPrice { tool: tool.trim().to_owned(), ..ToolPrice::default() };
            for field in fields.split(',').map(str::trim).filter(|field| !field.is_empty()) {
                let field_key = format!("{key}[{}].{}", item.tool, field.split(':').next().unwrap_or(field).trim());
                let Some((name, value)) = field.split_once(':') else {
                    return Err(PriceConfigError::new(
                        &field_key,
                        PriceConfigErrorKind::Malformed("expected field:value".into()),
                    ));
                };
                let value: f64 = value.trim().parse().map_err(|_| {
                    PriceConfigError::new(&field_key, PriceConfigErrorKind::NotANumber(value.trim().into()))
                })?;
                match name.trim() {
                    "call" => item.per_call = Some(value),
                    "item" => item.per_item = Some(value),
                    other => {
                        return Err(PriceConfigError::new(
                            &field_key,
                            PriceConfigErrorKind::Malformed(format!("fields call or item (got {other:?})")),
                        ))
                    }
                }
            }
            entries.push(item);
        }
        let prices = ToolPrices { entries };
        prices.validate(key)?;
        Ok(prices)
    }

    /// Checks every entry: a name, prices finite and ≥ 0, at least one of them. `key` names the source.
    ///
    /// ```
    /// use botanu::cost::{ToolPrice, ToolPrices};
    ///
    /// let prices = ToolPrices { entries: vec![ToolPrice { tool: "x".into(), ..Default::default() }] };
    /// assert_eq!(prices.validate("code").unwrap_err().key, "code[x]");
    /// ```
    pub fn validate(&self, key: &str) -> Result<(), PriceConfigError> {
        self.entries.iter().try_for_each(|entry| entry.validate(key))
    }

    /// These prices with `higher`'s appended: where both price the same tool, `higher` wins.
    ///
    /// ```
    /// use botanu::cost::ToolPrices;
    ///
    /// let file = ToolPrices::parse("search=call:0.5", "yaml")?;
    /// let env = ToolPrices::parse("search=call:0.25", "env")?;
    /// assert_eq!(file.merge(env).price("search", None).and_then(|c| c.usd()), Some(0.25));
    /// # Ok::<(), botanu::cost::PriceConfigError>(())
    /// ```
    pub fn merge(mut self, higher: ToolPrices) -> Self {
        self.entries.extend(higher.entries);
        self
    }

    /// Whether no tool is priced.
    ///
    /// ```
    /// assert!(botanu::cost::ToolPrices::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The cost of one call of `tool` that returned `items` (`None`: not recorded), or `None` when the
    /// tool has no unit price (then the tool span is not cost-bearing).
    ///
    /// ```
    /// use botanu::cost::{Cost, ToolPrices, UnpricedReason};
    ///
    /// let prices = ToolPrices::parse("enrich=item:0.002", "env")?;
    /// assert_eq!(prices.price("enrich", None), Some(Cost::unpriced(UnpricedReason::NoUsage)));
    /// assert_eq!(prices.price("enrich", Some(3)).and_then(|c| c.usd()), Some(0.006));
    /// # Ok::<(), botanu::cost::PriceConfigError>(())
    /// ```
    pub fn price(&self, tool: &str, items: Option<u64>) -> Option<Cost> {
        let entry = self.entries.iter().rev().find(|entry| entry.tool.eq_ignore_ascii_case(tool))?;
        Some(entry.price(items))
    }
}
