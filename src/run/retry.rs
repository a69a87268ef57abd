//! Retries: a new run that retries an earlier one.
//!
//! A retry is a run of its own (a new run id, its own cost) that names the run it retries
//! (`botanu.retry_of_run_id`), keeps the chain's root (`botanu.root_run_id`) and the business event
//! (`botanu.event_id`), and counts its attempt (`botanu.attempt` = the previous attempt + 1). So a backend
//! counts the attempts of one business event by grouping run spans on `botanu.root_run_id`, and prices a
//! success with the cost of the attempts that failed before it.
//!
//! In process, start the retry from the failed run: `run_span!(workflow = "x", retry_of = &failed_span)`
//! (or `span.retry_of(&previous)` right after creating it), where the previous run is a span in it, a
//! [`RunAttempt`] taken from it, or the [`InboundRun`] a consumer received. Across a queue, a consumer
//! that receives a message again (a redelivery, or a producer that re-publishes it with the failed run's
//! context) starts the retry with [`RunRelation::Retry`](super::RunRelation::Retry).

use std::sync::Arc;

use super::{InboundRun, RemoteContext, RunContext};

/// Where a run stands in its retry chain: what a retry of it needs.
///
/// ```
/// # use botanu::prelude::*;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// use botanu::RunAttempt;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// let first = run_span!(workflow = "support", event_id = "T-42");
/// let attempt = RunAttempt::of(&first).expect("a run");
/// assert_eq!((attempt.attempt, attempt.event_id.as_deref()), (1, Some("T-42")));
/// assert_eq!(attempt.root_run_id, attempt.run_id, "a first attempt is its own root");
/// # });
/// # Ok::<(), botanu::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAttempt {
    /// The run's id: the retry's `botanu.retry_of_run_id`.
    pub run_id: String,
    /// The run's workflow: the retry's workflow unless the retry names one.
    pub workflow: String,
    /// The root of the chain: the retry's `botanu.root_run_id`.
    pub root_run_id: String,
    /// The run's attempt, from 1: the retry is attempt `attempt + 1`.
    pub attempt: i64,
    /// The business event: the retry's event id unless it gives one. `None` when it is unknown (a
    /// producer that did not send it).
    pub event_id: Option<String>,
}

impl RunAttempt {
    /// The attempt number of a retry of this run.
    pub fn next_attempt(&self) -> i64 {
        // Inbound attempts are bounded (1..=10 000); a run's own `attempt` field is the user's.
        self.attempt.saturating_add(1)
    }
}

impl From<&RunContext> for RunAttempt {
    fn from(run: &RunContext) -> Self {
        RunAttempt {
            run_id: run.run_id.to_string(),
            workflow: run.workflow.to_string(),
            root_run_id: run.root_run_id.to_string(),
            attempt: run.attempt,
            event_id: run.event_id().map(|e| e.to_string()),
        }
    }
}

impl From<&InboundRun> for RunAttempt {
    fn from(run: &InboundRun) -> Self {
        RunAttempt {
            run_id: run.run_id.clone(),
            workflow: run.workflow.clone(),
            // Absent on the wire: the run is its own root (and in lean mode the root does not travel).
            root_run_id: run.root_run_id.clone().unwrap_or_else(|| run.run_id.clone()),
            attempt: run.attempt,
            event_id: run.event_id.clone(),
        }
    }
}

/// A previous run a retry can name: a span in it (`tracing::Span`), a [`RunAttempt`], an [`InboundRun`] or the
/// [`RemoteContext`] that carried one; `Option`s of them, where `None` means "no previous run: a first
/// attempt".
pub trait PreviousRun {
    /// The previous run's place in its chain, if there is a previous run.
    fn previous_run(&self) -> Option<RunAttempt>;
}

impl PreviousRun for RunAttempt {
    fn previous_run(&self) -> Option<RunAttempt> {
        Some(self.clone())
    }
}

impl PreviousRun for InboundRun {
    fn previous_run(&self) -> Option<RunAttempt> {
        Some(RunAttempt::from(self))
    }
}

impl PreviousRun for RemoteContext {
    fn previous_run(&self) -> Option<RunAttempt> {
        self.run().map(RunAttempt::from)
    }
}

impl<T: PreviousRun + ?Sized> PreviousRun for &T {
    fn previous_run(&self) -> Option<RunAttempt> {
        (**self).previous_run()
    }
}

impl<T: PreviousRun> PreviousRun for Option<T> {
    fn previous_run(&self) -> Option<RunAttempt> {
        self.as_ref().and_then(PreviousRun::previous_run)
    }
}

impl RunContext {
    /// The run of a run span (whose context is `own`) as a retry of `previous`: the same run id and
    /// enclosing run, the previous run's root, event (unless the span gave one) and workflow (unless the
    /// span named one), attempt + 1.
    pub(crate) fn retry(own: &RunContext, previous: &RunAttempt, environment: Arc<str>) -> RunContext {
        let workflow = if own.workflow.as_ref() == super::UNKNOWN_WORKFLOW {
            Arc::from(previous.workflow.as_str())
        } else {
            own.workflow.clone()
        };
        let ctx = RunContext::new(
            own.run_id.clone(),
            workflow,
            Arc::from(previous.root_run_id.as_str()),
            own.parent_run_id.clone(),
            previous.next_attempt(),
            environment,
        );
        {
            let mut fields = ctx.fields_mut();
            *fields = own.fields().clone();
            fields.retry_of_run_id = Some(Arc::from(previous.run_id.as_str()));
            if fields.event_id.is_none() {
                fields.event_id = previous.event_id.as_deref().map(Arc::from);
                // The run id must not stand in for an event the previous run did not know either.
                fields.event_id_unknown = fields.event_id.is_none();
            }
        }
        ctx
    }
}
