//! Cost at span close: the price of an LLM call or a data operation on its span (contract §7), the
//! roll-up on its run, the `botanu.cost` metric and the per-workflow summary the guard hands out.
//!
//! The pricing itself is [`crate::cost`] (pure); this module only reads a closed span's recorded
//! figures, asks the engine, and writes the answer. Two calls reach it: [`opened`] when a span of a run
//! opens (to count what is still open when the run closes) and [`finish`] when any span closes, before
//! the span's other close-time attributes are derived.
//!
//! What the run roll-up cannot see, and why `botanu.run.cost.scope = "process"` says so: spans of the
//! same run in other services (the run continued over HTTP or a queue), and spans of the run that were
//! still open when the run span closed (`botanu.run.cost.open_spans` counts them; `tracing` closes a
//! parent after its children, so this is normally 0, and non-zero for spans that joined the run
//! without being its descendants). A nested run rolls up into itself only, not into its parent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::metrics::{BoundCounter, Counter, Meter};
use opentelemetry::{Key, KeyValue, Value};

use super::bound_cache::BoundCache;
use super::bound_index::BoundIndex;
use super::kinds::Kind;
use super::metrics::{MAX_WORKFLOWS, OTHER_WORKFLOW};
use super::state::SpanState;
use super::Shared;
use crate::cost::{
    AttributeValue, Cost, CostCategory, CostSummary, DataUsage, LlmCall, Priced, PricingEngine, ServiceTier, Tokens,
    UnpricedReason, WorkflowCost, DATA_PRICES,
};
use crate::pipeline::CostLedger;
use crate::run::RunContext;
use crate::semconv as k;

/// The layer's pricing: the engine, the `botanu.cost` counter (bound per attribute set, as the LLM
/// metrics are) and the per-workflow summary.
pub(crate) struct CostLayer {
    engine: PricingEngine,
    usd: Counter<f64>,
    /// Spans whose local estimate and provider-reported cost differ by more than 1 %.
    drift: Counter<u64>,
    bound: BoundCache<BoundCounter<f64>>,
    /// The bound counters by the raw strings they came from (see [`CostParts`]), in front of `bound`.
    index: BoundIndex<BoundCounter<f64>, 7>,
    /// The customer / tenant attribute of the metric; `None` when not configured (no such attribute).
    customers: Option<CustomerSeries>,
    /// The cost ledger, when configured (see [`ledger_line`]).
    pub(crate) ledger: Option<Arc<CostLedger>>,
    summary: Arc<SummaryStore>,
}

impl std::fmt::Debug for CostLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CostLayer").field("engine", &self.engine).finish_non_exhaustive()
    }
}

impl CostLayer {
    pub(crate) fn new(
        engine: PricingEngine,
        meter: &Meter,
        summary: Arc<SummaryStore>,
        ledger: Option<Arc<CostLedger>>,
    ) -> Self {
        let usd = meter.f64_counter(k::METRIC_COST).with_unit(k::METRIC_COST_UNIT).build();
        let drift = meter
            .u64_counter(k::METRIC_COST_ESTIMATE_DRIFT)
            .with_unit(k::METRIC_COST_ESTIMATE_DRIFT_UNIT)
            .with_description("LLM spans whose local cost estimate differs from the provider-reported cost by > 1 %")
            .build();
        let customers = CustomerSeries::new(&engine.metric_customers.0, engine.metric_customers.1);
        CostLayer {
            engine,
            usd,
            drift,
            bound: BoundCache::default(),
            index: BoundIndex::default(),
            customers,
            ledger,
            summary,
        }
    }

    /// The pricing engine (budget estimates are priced with it).
    pub(crate) fn engine(&self) -> &PricingEngine {
        &self.engine
    }

    /// Adds `usd` to the series of `attrs`, bound on first use; the bound counter is kept in the index
    /// under `parts`, the raw values `attrs` was built from (`None`: not indexable).
    fn add(&self, usd: f64, attrs: Vec<KeyValue>, parts: Option<&CostParts<'_>>) {
        let bound = match self.bound.get(&attrs) {
            Some(bound) => bound,
            None => match self.bound.get_or_bind(attrs, |attrs| self.usd.bind(attrs)) {
                Ok(bound) => bound,
                Err(attrs) => return self.usd.add(usd, &attrs),
            },
        };
        bound.add(usd);
        if let Some(parts) = parts {
            self.index.insert(parts, bound);
        }
    }
}

/// The `botanu.cost` metric's customer (or tenant) attribute, bounded: the allow-listed ids, then the
/// first `limit` other ids seen (separately for customers and tenants), everything else
/// [`k::COST_METRIC_OTHER`]. Customer ids come from requests, so without this bound a metrics backend
/// would get one series per customer.
#[derive(Debug)]
struct CustomerSeries {
    allowed: std::collections::HashSet<Arc<str>>,
    limit: usize,
    /// Ids admitted past the allow-list: customers, tenants.
    seen: [Mutex<std::collections::HashSet<Arc<str>>>; 2],
}

impl CustomerSeries {
    fn new(allowed: &[String], limit: usize) -> Option<Self> {
        if allowed.is_empty() && limit == 0 {
            return None;
        }
        Some(CustomerSeries {
            allowed: allowed.iter().map(|id| Arc::from(id.as_str())).collect(),
            limit,
            seen: Default::default(),
        })
    }

    /// The series value of `id` (`which`: 0 customer, 1 tenant).
    fn admit(&self, which: usize, id: &str) -> Arc<str> {
        if let Some(allowed) = self.allowed.get(id) {
            return allowed.clone();
        }
        if self.limit == 0 {
            return Arc::from(k::COST_METRIC_OTHER);
        }
        let mut seen = crate::contention::lock(crate::contention::Site::MetricIndex, &self.seen[which]);
        if let Some(known) = seen.get(id) {
            return known.clone();
        }
        if seen.len() < self.limit {
            let id: Arc<str> = Arc::from(id);
            seen.insert(id.clone());
            return id;
        }
        Arc::from(k::COST_METRIC_OTHER)
    }
}

/// The per-workflow totals of closed runs, behind the guard's [`cost_summary`](crate::BotanuGuard::cost_summary).
/// Bounded like the metrics' workflow attribute: past [`MAX_WORKFLOWS`] workflows, runs count under
/// [`OTHER_WORKFLOW`].
#[derive(Debug, Default)]
pub(crate) struct SummaryStore {
    rows: Mutex<HashMap<Arc<str>, WorkflowCost>>,
}

impl SummaryStore {
    fn record_run(&self, workflow: &Arc<str>, tally: &crate::cost::RunCost, outcome_amount: f64) {
        let mut rows = crate::contention::lock(crate::contention::Site::Summary, &self.rows);
        let key = if rows.len() < MAX_WORKFLOWS || rows.contains_key(workflow) {
            workflow.clone()
        } else {
            Arc::from(OTHER_WORKFLOW)
        };
        let row =
            rows.entry(key.clone()).or_insert_with(|| WorkflowCost { workflow: key.to_string(), ..Default::default() });
        row.runs += 1;
        row.llm_calls = row.llm_calls.saturating_add(tally.llm_calls);
        row.tokens_input = row.tokens_input.saturating_add(tally.tokens_input);
        row.tokens_output = row.tokens_output.saturating_add(tally.tokens_output);
        row.cost_usd += tally.total_usd;
        row.unpriced = row.unpriced.saturating_add(tally.unpriced_count);
        row.outcome_amount += outcome_amount;
    }

    /// The summary so far, sorted by workflow.
    pub(crate) fn summary(&self) -> CostSummary {
        let rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut workflows: Vec<WorkflowCost> = rows.values().cloned().collect();
        workflows.sort_by(|a, b| a.workflow.cmp(&b.workflow));
        CostSummary { workflows }
    }
}

/// A span opened: counted as open in its run until it closes (a nested run span counts in its own run
/// only as the run itself, so it is not counted).
pub(crate) fn opened(state: &SpanState, shared: &Shared) {
    if shared.cost.is_some() && state.kind != Kind::Run {
        if let Some(run) = &state.run {
            run.cost.opened();
        }
    }
}

/// A span closed: prices it if it is an LLM call or a data operation, adds it to its run's roll-up, and,
/// for a run span, writes the roll-up (`run_open`: see `closed::closing`). Called before the span's other
/// close-time attributes. Returns the span's cost if it is cost-bearing (for budget settlement).
pub(crate) fn finish(state: &mut SpanState, shared: &Shared, run_open: u64) -> Option<Cost> {
    let Some(layer) = &shared.cost else { return None };
    if state.kind == Kind::Run {
        finish_run(state, layer, run_open);
        return None;
    }
    let run = state.run.clone();
    if let Some(run) = &run {
        if let Some(amount) = outcome_amount(state) {
            run.cost.update(|tally| tally.outcome_amount += amount);
        }
    }
    let mut extras = LlmExtras::default();
    let (category, usage, cost) = match state.kind {
        Kind::Llm if state.is_model_call() => {
            let mut usage = token_usage(state);
            let (cost, llm_extras) = price_llm(state, layer, &mut usage);
            extras = llm_extras;
            (CostCategory::Llm, Some(usage), cost)
        }
        Kind::Db | Kind::Storage | Kind::Messaging => match price_data(state, &layer.engine) {
            Some(cost) => (CostCategory::Data, None, cost),
            None => return None,
        },
        Kind::Tool if layer.engine.prices_tools() => match price_tool(state, &layer.engine) {
            Some(cost) => (CostCategory::Tool, None, cost),
            None => return None,
        },
        _ => return None,
    };
    let mut attributes = cost.attributes();
    if let Some(tier) = extras.tier {
        attributes.push((k::COST_SERVICE_TIER, AttributeValue::Str(tier)));
    }
    if extras.searches_unpriced {
        attributes.push((k::COST_UNPRICED_PARTS, AttributeValue::Str(Arc::from(k::UNPRICED_PART_WEB_SEARCH))));
    }
    write_attributes(state, attributes);
    if let Cost::Priced(priced) = &cost {
        if category == CostCategory::Llm && shared.semconv.gen_ai_latest_experimental {
            // The proposal's shape, beside `botanu.cost.*` (contract §9).
            state.set(Key::from_static_str(k::GEN_AI_USAGE_COST_AMOUNT), Value::F64(priced.total_usd));
            state.set(Key::from_static_str(k::GEN_AI_USAGE_COST_CURRENCY), Value::from(k::METRIC_COST_UNIT));
            let source = if &*priced.provenance.source == crate::cost::PROVIDER_SOURCE {
                k::COST_SOURCE_PROVIDER
            } else {
                k::COST_SOURCE_LOCAL
            };
            state.set(Key::from_static_str(k::GEN_AI_USAGE_COST_SOURCE), Value::from(source));
        }
        record_metric(layer, shared, state, category, priced, run.as_deref());
    }
    if let Some(run) = &run {
        run.cost.update(|tally| match usage {
            Some(usage) => tally.cost.add_llm_call(&usage, &cost),
            None => tally.cost.add(category, &cost),
        });
    }
    Some(cost)
}

/// The roll-up of a closing run span, the open spans it cannot include, and the summary row.
fn finish_run(state: &mut SpanState, layer: &CostLayer, run_open: u64) {
    let Some(run) = state.run.clone() else { return };
    let tally = run.cost.tally();
    let amount = tally.outcome_amount + outcome_amount(state).unwrap_or(0.0);
    // Cost per outcome is unknown, not zero, when everything cost-bearing went unpriced.
    let known = !(tally.cost.priced_count == 0 && tally.cost.unpriced_count > 0);
    let per_unit_of = (amount > 0.0 && known).then_some(amount);
    write_attributes(state, tally.cost.attributes(per_unit_of));
    let open = i64::try_from(run_open).unwrap_or(i64::MAX);
    state.set(Key::from_static_str(k::RUN_COST_OPEN_SPANS), Value::I64(open));
    layer.summary.record_run(&run.workflow, &tally.cost, amount);
}

/// Writes the cost attributes. They are all `botanu.cost.*`, run roll-up or `botanu.outcome.cost_per_unit`
/// keys the span does not normally carry yet, so when one scan finds none of
/// them they are appended without `SpanState::set`'s per-key search (the attribute cap still applies).
fn write_attributes(state: &mut SpanState, attributes: Vec<(&'static str, AttributeValue)>) {
    let taken = state.attrs.iter().any(|kv| {
        let key = kv.key.as_str();
        key.starts_with(k::COST_PREFIX)
            || key.starts_with(k::RUN_COST_PREFIX)
            || key.starts_with(k::RUN_TOKENS_PREFIX)
            || key == k::RUN_LLM_CALLS
            || key == k::OUTCOME_COST_PER_UNIT
    });
    let room = super::state::MAX_SPAN_ATTRIBUTES.saturating_sub(state.attrs.len());
    if taken || attributes.len() > room {
        for (key, value) in attributes {
            state.set(Key::from_static_str(key), value_of(value));
        }
        return;
    }
    state.attrs.extend(attributes.into_iter().map(|(key, value)| KeyValue::new(key, value_of(value))));
}

fn value_of(value: AttributeValue) -> Value {
    match value {
        AttributeValue::F64(v) => Value::F64(v),
        AttributeValue::I64(v) => Value::I64(v),
        AttributeValue::Bool(v) => Value::Bool(v),
        AttributeValue::Str(v) => Value::String(v.into()),
    }
}

/// A whole, non-negative count recorded on the span (integer, float or numeric text); 0 when absent.
fn count(state: &SpanState, key: &str) -> u64 {
    state.get(key).map_or(0, count_of)
}

/// [`count`] of a value.
fn count_of(value: &Value) -> u64 {
    match value {
        Value::I64(v) => u64::try_from(*v).unwrap_or(0),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // finite, >= 0, saturating cast
        Value::F64(v) if v.is_finite() && *v > 0.0 => *v as u64,
        Value::String(s) => s.as_str().trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// A finite, positive number recorded on the span.
fn amount(state: &SpanState, key: &str) -> Option<f64> {
    amount_of(state.get(key)?)
}

/// [`amount`] of a value.
fn amount_of(value: &Value) -> Option<f64> {
    let value = match value {
        Value::F64(v) => *v,
        #[allow(clippy::cast_precision_loss)] // request units and amounts are far below 2^53
        Value::I64(v) => *v as f64,
        Value::String(s) => s.as_str().trim().parse().ok()?,
        _ => return None,
    };
    (value.is_finite() && value > 0.0).then_some(value)
}

fn outcome_amount(state: &SpanState) -> Option<f64> {
    amount(state, k::OUTCOME_VALUE_AMOUNT)
}

/// The span's tokens: read once at close through the dialect table (`crate::dialect`), which knows every
/// spelling a crate writes and which way its input counts the cache.
fn token_usage(state: &SpanState) -> Tokens {
    state.usage.unwrap_or_else(|| reading(state)).tokens
}

/// Reads an LLM span's token counts through the dialect table: every attribute whose key is a token
/// spelling, with the span's provider and its callsite's dialect. Called by `export::finish` before
/// anything is written back to the span.
pub(crate) fn reading(state: &SpanState) -> crate::dialect::Reading {
    let provider = match state.get(k::GEN_AI_PROVIDER_NAME) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let dialect = state.info.map_or_else(Default::default, |info| info.dialect);
    // Only the token keys' values are read as counts (a string value is parsed: most attributes are
    // strings, and reading them all was ≈ 700 instructions per LLM span).
    let counts = state
        .attrs
        .iter()
        .filter(|kv| crate::dialect::may_be_token_key(kv.key.as_str()))
        .map(|kv| (kv.key.as_str(), count_of(&kv.value)));
    crate::dialect::read(counts, provider, dialect)
}

/// What the cost-depth keys say about an LLM call, read in one pass over the attributes (this runs on
/// every LLM span): the service tier, web searches, a provider-reported cost, and the token kinds beside
/// what [`token_usage`] reads (1-hour cache writes, audio / image tokens; parts of the totals it read).
/// Kept apart from `token_usage`, which the token-count dialects own.
#[derive(Debug, Default)]
struct CostDepth<'a> {
    /// Response tier, application tier, requested tier: the first present wins, in that order.
    tiers: [Option<&'a Value>; 3],
    web_searches: u64,
    /// Provider-reported cost: `set_provider_cost`'s key, then the dialect key.
    reported: [Option<&'a Value>; 2],
}

impl<'a> CostDepth<'a> {
    fn read(state: &'a SpanState, usage: &mut Tokens) -> Self {
        let mut depth = CostDepth::default();
        for kv in &state.attrs {
            let value = &kv.value;
            let first = |slot: &mut Option<&'a Value>| {
                slot.get_or_insert(value);
            };
            match kv.key.as_str() {
                k::OPENAI_RESPONSE_SERVICE_TIER => first(&mut depth.tiers[0]),
                k::REQUEST_SERVICE_TIER => first(&mut depth.tiers[1]),
                k::OPENAI_REQUEST_SERVICE_TIER => first(&mut depth.tiers[2]),
                k::USAGE_WEB_SEARCH_REQUESTS => depth.web_searches = count_of(value),
                k::USAGE_PROVIDER_COST_USD => first(&mut depth.reported[0]),
                k::GEN_AI_USAGE_COST => first(&mut depth.reported[1]),
                k::USAGE_CACHE_WRITE_1H_TOKENS => usage.cache_write_1h = count_of(value),
                _ => {}
            }
        }
        depth
    }

    /// The tier the span named, as text.
    /// An empty, `none` or `null` tier is no tier (a crate recording an absent option), so the next
    /// spelling is read.
    fn tier(&self) -> Option<std::borrow::Cow<'a, str>> {
        self.tiers.iter().flatten().find_map(|value| {
            let text = match value {
                Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
                other => std::borrow::Cow::Owned(other.to_string()),
            };
            let trimmed = text.trim();
            let absent =
                trimmed.is_empty() || trimmed.eq_ignore_ascii_case("none") || trimmed.eq_ignore_ascii_case("null");
            (!absent).then_some(text)
        })
    }

    fn reported(&self) -> Option<f64> {
        self.reported.iter().flatten().find_map(|value| amount_of(value))
    }
}

/// What pricing an LLM call writes besides the cost's own attributes.
#[derive(Default)]
struct LlmExtras {
    /// The service tier to write as `botanu.cost.service_tier` (when the span named one).
    tier: Option<Arc<str>>,
    /// The call made web searches the total does not include (no per-search rate in the catalog, or a
    /// price override without one): written as `botanu.cost.unpriced_parts`, so a partial total is never
    /// read as complete.
    searches_unpriced: bool,
}

/// The call's cost, and what else to write (see [`LlmExtras`]).
///
/// A provider-reported cost (`set_provider_cost`, OpenRouter's / rig's `usage.cost`) is the total, with
/// the local estimate beside it; a tier this crate does not know is unpriced `no_tier_price`.
fn price_llm(state: &SpanState, layer: &CostLayer, usage: &mut Tokens) -> (Cost, LlmExtras) {
    let depth = CostDepth::read(state, usage);
    let (tier, tier_name) = match depth.tier() {
        None => (Some(ServiceTier::Standard), None),
        Some(name) => match ServiceTier::parse(&name) {
            Some(tier) => (Some(tier), Some(Arc::from(tier.as_str()))),
            None => (None, Some(Arc::from(name.trim().to_ascii_lowercase()))),
        },
    };
    let provider = state.get_str(k::GEN_AI_PROVIDER_NAME);
    let estimate = match (tier, &provider) {
        (None, _) => Cost::unpriced(UnpricedReason::NoTierPrice),
        (_, None) => Cost::unpriced(UnpricedReason::UnknownProvider),
        (Some(tier), Some(provider)) => {
            let model = state.get_str(k::GEN_AI_REQUEST_MODEL).or_else(|| state.get_str(k::GEN_AI_RESPONSE_MODEL));
            match model {
                None => Cost::unpriced(UnpricedReason::UnknownModel),
                // Prices apply at the call's start time (price history).
                Some(model) => {
                    let call = LlmCall::new(provider, &model, *usage, state.start)
                        .with_tier(tier)
                        .with_web_searches(depth.web_searches);
                    layer.engine.price_call(&call)
                }
            }
        }
    };
    let Some(reported) = depth.reported() else {
        let searches_unpriced =
            depth.web_searches > 0 && matches!(&estimate, Cost::Priced(priced) if priced.parts.web_search_usd == 0.0);
        return (estimate, LlmExtras { tier: tier_name, searches_unpriced });
    };
    let priced = Priced::provider_reported(reported, &estimate, provider.as_deref().unwrap_or_default());
    if priced.estimate_drifts() {
        // The provider attribute is the catalog's (an estimate exists), so the series stay bounded.
        layer.drift.add(1, &[KeyValue::new(k::GEN_AI_PROVIDER_NAME, priced.provenance.provider.to_string())]);
    }
    // The provider's figure is the bill, searches included.
    (Cost::Priced(priced), LlmExtras { tier: tier_name, searches_unpriced: false })
}

/// A tool call's cost at its configured unit price, or `None` for a tool without one.
fn price_tool(state: &SpanState, engine: &PricingEngine) -> Option<Cost> {
    let tool = state.get_str(k::GEN_AI_TOOL_NAME)?;
    let items = state.get(k::TOOL_ITEMS_RETURNED).map(count_of);
    engine.price_tool(&tool, items)
}

/// The data operation's cost, or `None` for a system without any public per-operation list price (a
/// self-hosted database, Kafka): such spans are not cost-bearing and carry no cost attributes.
fn price_data(state: &SpanState, engine: &PricingEngine) -> Option<Cost> {
    let spec = state.kind.spec();
    let system = state.get_str(spec.system.as_ref()?.key)?;
    if !DATA_PRICES.iter().any(|row| row.system.eq_ignore_ascii_case(&system)) {
        return None;
    }
    let operation = spec.operation.as_ref().and_then(|op| state.get_str(op.key)).unwrap_or_default();
    let transferred = count(state, k::MESSAGING_BYTES_TRANSFERRED).max(count(state, k::BYTES_TRANSFERRED));
    let usage = DataUsage {
        system: &system,
        operation: &operation,
        bytes_scanned: count(state, k::WAREHOUSE_BYTES_SCANNED),
        bytes_transferred: transferred,
        // A storage or messaging span is one API request (a batch send is one request, as SQS bills it),
        // unless the AWS SDK interceptor counted the attempts the provider bills (issue 29).
        requests: match state.kind {
            Kind::Storage | Kind::Messaging => state.get(k::DATA_BILLED_REQUESTS).map_or(1, count_of),
            _ => 0,
        },
        read_units: amount(state, k::DATA_READ_UNITS).unwrap_or(0.0),
        write_units: amount(state, k::DATA_WRITE_UNITS).unwrap_or(0.0),
    };
    Some(engine.price_data(&usage))
}

/// `botanu.cost` by category, provider (LLM) or system (data), the catalog's model (LLM) and the
/// workflow — all bounded: providers, systems and models are the ones a price was found for, and the
/// workflow is folded past [`MAX_WORKFLOWS`].
fn record_metric(
    layer: &CostLayer,
    shared: &Shared,
    state: &SpanState,
    category: CostCategory,
    priced: &crate::cost::Priced,
    run: Option<&RunContext>,
) {
    let workflow = match (run, &shared.metrics) {
        (Some(run), Some(_)) => Some(&*run.workflow),
        _ => None,
    };
    let (system_key, system) = match category {
        CostCategory::Llm => (Some(k::GEN_AI_PROVIDER_NAME), state.get(k::GEN_AI_PROVIDER_NAME)),
        CostCategory::Data | CostCategory::Tool => match state.kind.spec().system.as_ref() {
            Some(system) => (Some(system.key), state.get(system.key)),
            None => (None, None),
        },
    };
    let model = match category {
        CostCategory::Llm => priced.provenance.model.as_deref(),
        CostCategory::Data | CostCategory::Tool => None,
    };
    // Customer and tenant, bounded, only when configured (a lock on the run's fields per priced span).
    let [customer, tenant] = match (&layer.customers, run) {
        (Some(series), Some(run)) => {
            let fields = run.fields();
            [
                fields.customer_id.as_deref().map(|id| series.admit(0, id)),
                fields.tenant_id.as_deref().map(|id| series.admit(1, id)),
            ]
        }
        _ => [None, None],
    };
    // The common case: this combination was bound before; no attribute vector is built.
    let parts = match system {
        None => {
            Some([Some(category.as_str()), system_key, None, model, workflow, customer.as_deref(), tenant.as_deref()])
        }
        Some(Value::String(value)) => Some([
            Some(category.as_str()),
            system_key,
            Some(value.as_str()),
            model,
            workflow,
            customer.as_deref(),
            tenant.as_deref(),
        ]),
        // A non-string system value (a foreign span's) takes the attribute-vector path only.
        Some(_) => None,
    };
    if let Some(parts) = &parts {
        if layer.index.with(parts, |bound| bound.add(priced.total_usd)) {
            return;
        }
    }
    let mut attrs = Vec::with_capacity(4);
    attrs.push(KeyValue::new(k::COST_CATEGORY, category.as_str()));
    match category {
        CostCategory::Llm => {
            if let Some(provider) = state.get(k::GEN_AI_PROVIDER_NAME) {
                attrs.push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, provider.clone()));
            }
            if let Some(model) = &priced.provenance.model {
                attrs.push(KeyValue::new(k::GEN_AI_REQUEST_MODEL, Value::String(model.clone().into())));
            }
        }
        CostCategory::Data | CostCategory::Tool => {
            if let Some(system) = state.kind.spec().system.as_ref() {
                if let Some(value) = state.get(system.key) {
                    attrs.push(KeyValue::new(system.key, value.clone()));
                }
            }
        }
    }
    if let (Some(run), Some(metrics)) = (run, &shared.metrics) {
        attrs.push(KeyValue::new(k::WORKFLOW, metrics.workflow(&run.workflow)));
    }
    if let Some(customer) = &customer {
        attrs.push(KeyValue::new(k::CUSTOMER_ID, Value::String(customer.clone().into())));
    }
    if let Some(tenant) = &tenant {
        attrs.push(KeyValue::new(k::TENANT_ID, Value::String(tenant.clone().into())));
    }
    layer.add(priced.total_usd, attrs, parts.as_ref());
}

/// The raw values of one `botanu.cost` attribute set: category, the system attribute's key and value
/// (provider for LLM calls), the catalog's model, the workflow before it is bounded, the customer and
/// tenant after they are bounded.
type CostParts<'a> = super::bound_index::Parts<'a, 7>;

/// The span's cost-ledger line, if it is priced (`botanu.cost.usd`): a projection of its final
/// attributes, so every figure in the ledger is the one on the exported span. Identifiers, counts and
/// figures only, never content. Called once the span's name is known, before its attributes move.
pub(crate) fn ledger_line(state: &SpanState, span_name: &str, ledger: &CostLedger) {
    use serde_json::{Map, Value as Json};
    if state.get(k::COST_USD).is_none() {
        return;
    }
    let text = |key: &str| state.get_str(key).map_or(Json::Null, |value| Json::String(value.into_owned()));
    let number = |key: &str| match state.get(key) {
        Some(Value::F64(v)) => serde_json::Number::from_f64(*v).map_or(Json::Null, Json::Number),
        Some(Value::I64(v)) => Json::Number((*v).into()),
        _ => Json::Null,
    };
    let mut tokens = Map::new();
    for (name, key) in [
        ("input", k::GEN_AI_USAGE_INPUT_TOKENS),
        ("output", k::GEN_AI_USAGE_OUTPUT_TOKENS),
        ("cache_read", k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
        ("cache_write", k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
        ("cache_write_1h", k::USAGE_CACHE_WRITE_1H_TOKENS),
        ("reasoning", k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
        ("audio_input", k::GEN_AI_USAGE_AUDIO_INPUT_TOKENS),
        ("audio_output", k::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS),
        ("image_input", k::GEN_AI_USAGE_IMAGE_INPUT_TOKENS),
        ("image_output", k::GEN_AI_USAGE_IMAGE_OUTPUT_TOKENS),
        ("web_searches", k::USAGE_WEB_SEARCH_REQUESTS),
    ] {
        if let Some(value) = state.get(key) {
            tokens.insert(name.to_owned(), Json::Number(count_of(value).into()));
        }
    }
    let mut line = Map::new();
    line.insert("time".to_owned(), Json::String(crate::run::rfc3339(state.start)));
    line.insert("run_id".to_owned(), text(k::RUN_ID));
    line.insert("workflow".to_owned(), text(k::WORKFLOW));
    line.insert("customer_id".to_owned(), text(k::CUSTOMER_ID));
    line.insert("tenant_id".to_owned(), text(k::TENANT_ID));
    line.insert("span_name".to_owned(), Json::String(span_name.to_owned()));
    line.insert("provider".to_owned(), text(k::COST_PROVIDER));
    line.insert("model".to_owned(), text(k::COST_MODEL));
    line.insert("request_id".to_owned(), text(k::GEN_AI_RESPONSE_ID));
    line.insert("tokens".to_owned(), Json::Object(tokens));
    line.insert("service_tier".to_owned(), text(k::COST_SERVICE_TIER));
    line.insert("cost_usd".to_owned(), number(k::COST_USD));
    line.insert("source".to_owned(), text(k::COST_SOURCE));
    line.insert(
        "estimated".to_owned(),
        state.get(k::COST_ESTIMATED).map_or(Json::Null, |v| Json::Bool(matches!(v, Value::Bool(true)))),
    );
    if state.get(k::COST_ESTIMATE_USD).is_some() {
        line.insert("estimate_usd".to_owned(), number(k::COST_ESTIMATE_USD));
    }
    ledger.append(Json::Object(line).to_string());
}
