//! Runs: the business events that cost is attributed to.
//!
//! A run is opened by a run span (`run_span!`). The layer gives it a [`RunContext`] — a UUIDv7 run id,
//! its workflow, event, customer and tenant — and every span opened inside it shares that context
//! through an `Arc`, so the run's keys can be stamped on each exported descendant without copying them
//! per span. Values that can change while the run is open (a customer set by `set_business_context`, an
//! outcome status) live behind a mutex that is taken only when a span is exported.
//!
//! This module owns the run: its context, how it starts (from a run span's fields and the enclosing
//! run) and how it is adopted from a remote producer ([`inbound`]), its event id, and the one list of
//! its entries ([`entries`]) that stamping, baggage and the readers consume. It knows nothing of
//! `tracing` or of the layer: the layer applies what this module computes to its span state.

pub(crate) mod entries;
mod inbound;
mod outcome;
mod retry;
pub mod w3c;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::Value;
use rand::Rng;

use crate::semconv as k;
pub(crate) use entries::{RunEntry, Stamp, RUN_ENTRIES};
pub(crate) use inbound::RemoteSpan;
#[cfg(feature = "tower")]
pub(crate) use inbound::MAX_NAME;
pub(crate) use inbound::{remote_context, remote_from_context};
pub use inbound::{InboundRun, RemoteContext, RunRelation};
pub use outcome::{InvalidOutcomeStatus, OutcomeStatus};
pub use retry::{PreviousRun, RunAttempt};

/// The workflow of a run span that did not name one.
pub(crate) const UNKNOWN_WORKFLOW: &str = "unknown";

/// Generates a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits, lower-case
/// `8-4-4-4-12` hex. Time-ordered ids keep a backend's run index append-mostly.
pub fn new_run_id() -> String {
    uuid_v7_at(SystemTime::now(), rand::rng().random::<u128>())
}

fn uuid_v7_at(now: SystemTime, random: u128) -> String {
    let millis = now.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    let rand_a = (random >> 64) as u64 & 0x0FFF;
    let rand_b = random as u64 & 0x3FFF_FFFF_FFFF_FFFF;
    let value: u128 = (u128::from(millis) << 80)
        | (0x7u128 << 76)
        | (u128::from(rand_a) << 64)
        | (0b10u128 << 62)
        | u128::from(rand_b);
    let hex = format!("{value:032x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Whether `s` looks like a UUID (any version) in the canonical lower- or upper-case form.
#[cfg(test)]
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Formats a time as RFC 3339 UTC with microseconds, e.g. `2026-11-21T15:57:14.123456Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The identity and billing context of one run, shared by every span inside it.
#[derive(Debug)]
pub struct RunContext {
    /// The run's id (UUIDv7 unless continued from an inbound context).
    pub run_id: Arc<str>,
    /// Workflow name.
    pub workflow: Arc<str>,
    /// Id of the outermost run.
    pub root_run_id: Arc<str>,
    /// Id of the enclosing run, for nested runs.
    pub parent_run_id: Option<Arc<str>>,
    /// Attempt number, from 1.
    pub attempt: i64,
    /// Environment from the configuration.
    pub environment: Arc<str>,
    mutable: Mutex<RunFields>,
    /// The cost roll-up of the spans that close inside the run (see `layer::cost`).
    pub(crate) cost: crate::cost::RunCostCell,
    /// Bumped by every [`fields_mut`](Self::fields_mut): a cache of what the run carries is fresh while
    /// this is unchanged.
    revision: AtomicU64,
    /// The OTel context holding the run's baggage, built by the layer, and the revision it was built at:
    /// each entered span of the run adds only its span context to it.
    otel_baggage: Mutex<Option<(u64, opentelemetry::Context)>>,
}

/// A run's mutable fields, locked for reading: `Deref` only, so a write must go through
/// [`RunContext::fields_mut`], which bumps the revision the baggage cache relies on.
#[derive(Debug)]
pub struct RunFieldsRef<'a>(MutexGuard<'a, RunFields>);

impl std::ops::Deref for RunFieldsRef<'_> {
    type Target = RunFields;
    fn deref(&self) -> &RunFields {
        &self.0
    }
}

/// The parts of a run that may be set or changed while it is open.
#[derive(Debug, Default, Clone)]
pub struct RunFields {
    /// Business event id.
    pub event_id: Option<Arc<str>>,
    /// Customer id.
    pub customer_id: Option<Arc<str>>,
    /// Tenant id.
    pub tenant_id: Option<Arc<str>>,
    /// Outcome status set by `emit_outcome`, written on the run span at close.
    pub outcome_status: Option<&'static str>,
    /// Baggage entries set by `set_baggage`, readable by `baggage()` anywhere in the run.
    pub baggage: Vec<(String, String)>,
    /// The run this one retries.
    pub retry_of_run_id: Option<Arc<str>>,
    /// Deadline, epoch milliseconds.
    pub deadline_ms: Option<i64>,
    /// Whether an upstream service cancelled the run.
    pub cancelled: bool,
    /// The run was continued from a remote producer that did not send its event id: the run id must
    /// not stand in for it (it would contradict the producer's spans).
    pub event_id_unknown: bool,
}

impl RunContext {
    /// A new run context.
    pub fn new(
        run_id: Arc<str>,
        workflow: Arc<str>,
        root_run_id: Arc<str>,
        parent_run_id: Option<Arc<str>>,
        attempt: i64,
        environment: Arc<str>,
    ) -> Self {
        RunContext {
            run_id,
            workflow,
            root_run_id,
            parent_run_id,
            attempt,
            environment,
            mutable: Mutex::new(RunFields::default()),
            cost: crate::cost::RunCostCell::default(),
            revision: AtomicU64::new(0),
            otel_baggage: Mutex::new(None),
        }
    }

    /// The mutable fields, to read (the guard gives no `&mut`). A poisoned lock is recovered: the data
    /// is plain values, never half-written. To change them, use [`fields_mut`](Self::fields_mut).
    pub fn fields(&self) -> RunFieldsRef<'_> {
        RunFieldsRef(self.lock())
    }

    /// The mutable fields, to change: marks the run's cached views (see [`revision`](Self::revision))
    /// stale. The only way to write them, so no change can bypass the revision.
    pub fn fields_mut(&self) -> MutexGuard<'_, RunFields> {
        let guard = self.lock();
        self.revision.fetch_add(1, Ordering::Release);
        guard
    }

    fn lock(&self) -> MutexGuard<'_, RunFields> {
        self.mutable.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many times the mutable fields were taken for a change.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    /// The OTel context with the run's baggage, from `build` when the run changed since the last call.
    pub(crate) fn baggage_context(
        &self,
        build: impl FnOnce(&RunContext) -> opentelemetry::Context,
    ) -> opentelemetry::Context {
        // The revision is read before building: a change made meanwhile leaves a stale revision behind,
        // so the next call rebuilds.
        let revision = self.revision();
        let mut slot = self.otel_baggage.lock().unwrap_or_else(|p| p.into_inner());
        match &*slot {
            Some((built_at, cx)) if *built_at == revision => cx.clone(),
            _ => {
                let cx = build(self);
                *slot = Some((revision, cx.clone()));
                cx
            }
        }
    }

    /// Starts the run of a run span: `attr` reads the span's recorded fields, `enclosing` is the run the
    /// span was opened in (its root and parent). The entries the span records itself (event, customer,
    /// tenant, retry, deadline) are copied in.
    pub(crate) fn start<'a>(
        attr: &dyn Fn(&str) -> Option<&'a Value>,
        enclosing: Option<&RunContext>,
        environment: Arc<str>,
    ) -> RunContext {
        let text = |key| attr(key).map(|v| v.as_str());
        let run_id: Arc<str> = match text(k::RUN_ID) {
            Some(id) if !id.trim().is_empty() => Arc::from(id.trim()),
            _ => Arc::from(new_run_id()),
        };
        let workflow: Arc<str> = Arc::from(text(k::WORKFLOW).as_deref().unwrap_or(UNKNOWN_WORKFLOW));
        let root_run_id: Arc<str> = match (text(k::ROOT_RUN_ID), enclosing) {
            (Some(root), _) => Arc::from(root.as_ref()),
            (None, Some(outer)) => outer.root_run_id.clone(),
            (None, None) => run_id.clone(),
        };
        let attempt = match attr(k::ATTEMPT) {
            Some(Value::I64(a)) if *a >= 1 => *a,
            Some(Value::String(s)) => s.as_str().trim().parse::<i64>().ok().filter(|a| *a >= 1).unwrap_or(1),
            _ => 1,
        };
        let parent_run_id = enclosing.map(|outer| outer.run_id.clone());
        let run = RunContext::new(run_id, workflow, root_run_id, parent_run_id, attempt, environment);
        run.sync_inputs(attr, |_| true);
        run
    }

    /// Copies the run span's recorded entries that `which` selects (by key) into the run, so spans
    /// exported later in the run are stamped with the current values.
    pub(crate) fn sync_inputs<'a>(
        &self,
        attr: &dyn Fn(&str) -> Option<&'a Value>,
        which: impl Fn(&'static str) -> bool,
    ) {
        let mut fields = self.fields_mut();
        for entry in RUN_ENTRIES.iter().filter(|e| e.is_input() && which(e.key)) {
            entry.write(&mut fields, attr(entry.key));
        }
    }

    /// The run adopted from a remote producer by a span (`is_run_span`: a run span, whose own context
    /// is `own`). With [`RunRelation::Child`] a run span keeps its own id and becomes a child of the
    /// inbound run; otherwise the inbound run continues here. Inbound customer and tenant are honored
    /// only when `trust_inbound`.
    pub(crate) fn adopt(
        inbound: &InboundRun,
        remote_entries: &[(String, String)],
        own: Option<&RunContext>,
        is_run_span: bool,
        relation: RunRelation,
        trust_inbound: bool,
        environment: Arc<str>,
    ) -> RunContext {
        let root = || Arc::from(inbound.root_run_id.as_deref().unwrap_or(&inbound.run_id));
        let ctx = match (is_run_span, relation, own) {
            (true, RunRelation::Child, Some(own)) => RunContext::new(
                own.run_id.clone(),
                own.workflow.clone(),
                root(),
                Some(Arc::from(inbound.run_id.as_str())),
                own.attempt,
                environment,
            ),
            (true, RunRelation::Retry, Some(own)) => RunContext::new(
                own.run_id.clone(),
                Arc::from(inbound.workflow.as_str()),
                root(),
                inbound.parent_run_id.as_deref().map(Arc::from),
                RunAttempt::from(inbound).next_attempt(),
                environment,
            ),
            _ => RunContext::new(
                Arc::from(inbound.run_id.as_str()),
                Arc::from(inbound.workflow.as_str()),
                root(),
                inbound.parent_run_id.as_deref().map(Arc::from),
                inbound.attempt,
                environment,
            ),
        };
        {
            let own_fields = own.map(|o| o.fields().clone()).unwrap_or_default();
            let mut fields = ctx.fields_mut();
            let arc = |v: &Option<String>| v.as_deref().map(Arc::from);
            fields.event_id = own_fields.event_id.or_else(|| arc(&inbound.event_id));
            let continued = relation == RunRelation::Continue || !is_run_span;
            let retried = !continued && relation == RunRelation::Retry;
            // A continued run, or a retry of one, is the producer's business event: its own run id must
            // not stand in for an event id the producer did not send.
            fields.event_id_unknown = (continued || retried) && fields.event_id.is_none();
            let trusted = |v: &Option<String>| if trust_inbound { arc(v) } else { None };
            fields.customer_id = own_fields.customer_id.or_else(|| trusted(&inbound.customer_id));
            fields.tenant_id = own_fields.tenant_id.or_else(|| trusted(&inbound.tenant_id));
            fields.baggage = own_fields.baggage;
            for (key, value) in remote_entries {
                if !fields.baggage.iter().any(|(k, _)| k == key) {
                    fields.baggage.push((key.clone(), value.clone()));
                }
            }
            if continued {
                fields.retry_of_run_id = arc(&inbound.retry_of_run_id);
                fields.deadline_ms = inbound.deadline_ms;
            } else if retried {
                fields.retry_of_run_id = Some(Arc::from(inbound.run_id.as_str()));
                fields.deadline_ms = own_fields.deadline_ms.or(inbound.deadline_ms);
            } else {
                fields.retry_of_run_id = own_fields.retry_of_run_id;
                fields.deadline_ms = own_fields.deadline_ms.or(inbound.deadline_ms);
            }
            fields.cancelled = inbound.cancelled;
        }
        ctx
    }

    /// Whether the run has a deadline (`botanu.run.deadline_ts`, baggage `botanu.deadline`) and `at` is
    /// past it.
    pub(crate) fn deadline_passed(&self, at: SystemTime) -> bool {
        let Some(deadline_ms) = self.fields().deadline_ms else { return false };
        let at_ms = at.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        at_ms > deadline_ms
    }

    /// The run's event id; without one the run id stands in (one run per business event), except for a
    /// run continued from a producer that did not send it.
    pub(crate) fn event_id(&self) -> Option<Arc<str>> {
        self.event_id_in(&self.fields())
    }

    fn event_id_in(&self, fields: &RunFields) -> Option<Arc<str>> {
        match &fields.event_id {
            Some(e) => Some(e.clone()),
            None if fields.event_id_unknown => None,
            None => Some(self.run_id.clone()),
        }
    }

    /// Calls `f` with each entry `select` picks and its current value (entries without one are
    /// skipped), under one lock of the mutable fields.
    pub(crate) fn for_each_entry(
        &self,
        select: impl Fn(&RunEntry) -> bool,
        mut f: impl FnMut(&'static RunEntry, Value),
    ) {
        let fields = self.fields();
        for entry in RUN_ENTRIES.iter().filter(|e| select(e)) {
            if let Some(value) = (entry.read)(self, &fields) {
                f(entry, value);
            }
        }
    }

    /// The `(baggage key, value)` pairs the run carries in the `baggage` header (`full`: full
    /// propagation mode), then the user's baggage entries.
    pub(crate) fn baggage_entries(&self, full: bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(if full { RUN_ENTRIES.len() } else { 2 });
        self.for_each_entry(
            |entry| entry.travels(self, full),
            |entry, value| {
                out.push((entry.baggage_key, value.to_string()));
            },
        );
        out
    }

    /// A baggage value of the run: one of its readable entries, else an entry set with `set_baggage`.
    pub(crate) fn read(&self, key: &str) -> Option<String> {
        match RUN_ENTRIES.iter().find(|e| e.readable && e.key == key) {
            Some(entry) => (entry.read)(self, &self.fields()).map(|v| v.to_string()),
            None => self.fields().baggage.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn uuid_v7_layout() {
        let t = UNIX_EPOCH + Duration::from_millis(0x0190_1234_5678);
        let id = uuid_v7_at(t, u128::MAX);
        assert_eq!(id, "01901234-5678-7fff-bfff-ffffffffffff");
        let id = uuid_v7_at(t, 0);
        assert_eq!(id, "01901234-5678-7000-8000-000000000000");
        assert!(is_uuid(&id));
    }

    #[test]
    fn run_ids_are_unique_version_7_and_lower_case() {
        let a = new_run_id();
        let b = new_run_id();
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert!(is_uuid(id), "{id}");
            assert_eq!(&id[14..15], "7");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
            assert_eq!(id.to_lowercase(), *id);
        }
    }

    #[test]
    fn uuid_shape_check() {
        for (s, ok) in [
            ("01901234-5678-7fff-bfff-ffffffffffff", true),
            ("01901234-5678-7fff-bfff-fffffffffff", false),
            ("01901234_5678-7fff-bfff-ffffffffffff", false),
            ("0190123g-5678-7fff-bfff-ffffffffffff", false),
            ("", false),
        ] {
            assert_eq!(is_uuid(s), ok, "{s}");
        }
    }

    #[test]
    fn rfc3339_dates() {
        for (secs, micros, want) in [
            (0u64, 0u32, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.000005Z"),
            (1_795_276_634, 123_456, "2026-11-21T15:57:14.123456Z"),
            (4_102_444_799, 999_999, "2099-12-31T23:59:59.999999Z"),
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into());
            assert_eq!(rfc3339(t), want);
        }
    }
}
