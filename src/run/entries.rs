//! The one list of a run's entries: what each is called on spans and in baggage, when it travels,
//! where it is stamped, and how it is read from a [`RunContext`].
//!
//! Stamping (`layer::run_span`), the run span's own attributes, the baggage a producer injects
//! (`propagation::inject`), the `baggage()` reader and the sync from a run span's recorded fields all
//! walk [`RUN_ENTRIES`]; adding a run field is one row here (plus its slot in `RunContext` or
//! `RunFields`, and its parse in `propagation::extract`).

use std::sync::Arc;

use opentelemetry::Value;

use super::{RunContext, RunFields};
use crate::semconv::{self as k, propagation as p};

/// When an entry travels in the `baggage` header.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wire {
    /// In lean and full propagation mode (when the run has a value).
    Lean,
    /// In full mode only.
    Full,
    /// In lean and full mode, unless the run has the entry's default value (the test says whether it
    /// has): the retry chain, so it survives default propagation while a first attempt stays two members.
    LeanUnless(fn(&RunContext) -> bool),
}

/// Which exported spans carry an entry as an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Every exported span of the run (never overwriting a span's own value).
    Every,
    /// The run span only.
    RunSpan,
    /// No span: the entry only travels.
    Never,
}

/// How a run span's recorded field feeds the run context (`run_span!(event_id = …)`, a later
/// `span.record(…)`): spans exported later in the run are stamped with the current value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input {
    /// Not settable from the run span's fields (fixed when the run starts or is adopted).
    None,
    /// A string slot of `RunFields`.
    Str(fn(&mut RunFields) -> &mut Option<Arc<str>>),
    /// Epoch milliseconds (an integer, or a string holding one).
    Millis(fn(&mut RunFields) -> &mut Option<i64>),
}

/// One entry of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunEntry {
    /// The attribute key on spans.
    pub(crate) key: &'static str,
    /// The key in the `baggage` header.
    pub(crate) baggage_key: &'static str,
    pub(crate) wire: Wire,
    pub(crate) stamp: Stamp,
    /// Whether `botanu::baggage(key)` answers it from the run (otherwise from user baggage).
    pub(crate) readable: bool,
    pub(crate) input: Input,
    /// The entry's current value; `None` when the run has none.
    pub(crate) read: fn(&RunContext, &RunFields) -> Option<Value>,
}

fn shared(s: &Arc<str>) -> Value {
    // Refcounted: stamping a descendant shares the run's strings instead of copying them.
    Value::from(s.clone())
}

/// Every run entry, in the order they go on the wire.
pub(crate) static RUN_ENTRIES: [RunEntry; 12] = [
    RunEntry {
        key: k::RUN_ID,
        baggage_key: k::RUN_ID,
        wire: Wire::Lean,
        stamp: Stamp::Every,
        readable: true,
        input: Input::None,
        read: |run, _| Some(shared(&run.run_id)),
    },
    RunEntry {
        key: k::WORKFLOW,
        baggage_key: k::WORKFLOW,
        wire: Wire::Lean,
        stamp: Stamp::Every,
        readable: true,
        input: Input::None,
        read: |run, _| Some(shared(&run.workflow)),
    },
    RunEntry {
        key: k::EVENT_ID,
        baggage_key: k::EVENT_ID,
        wire: Wire::Full,
        stamp: Stamp::Every,
        readable: true,
        input: Input::Str(|f| &mut f.event_id),
        read: |run, fields| run.event_id_in(fields).map(Value::from),
    },
    RunEntry {
        key: k::CUSTOMER_ID,
        baggage_key: k::CUSTOMER_ID,
        wire: Wire::Full,
        stamp: Stamp::Every,
        readable: true,
        input: Input::Str(|f| &mut f.customer_id),
        read: |_, fields| fields.customer_id.as_ref().map(shared),
    },
    RunEntry {
        key: k::ENVIRONMENT,
        baggage_key: k::ENVIRONMENT,
        wire: Wire::Full,
        stamp: Stamp::Every,
        readable: true,
        input: Input::None,
        read: |run, _| Some(shared(&run.environment)),
    },
    RunEntry {
        key: k::TENANT_ID,
        baggage_key: k::TENANT_ID,
        wire: Wire::Full,
        stamp: Stamp::Every,
        readable: true,
        input: Input::Str(|f| &mut f.tenant_id),
        read: |_, fields| fields.tenant_id.as_ref().map(shared),
    },
    RunEntry {
        key: k::PARENT_RUN_ID,
        baggage_key: k::PARENT_RUN_ID,
        wire: Wire::Full,
        stamp: Stamp::Every,
        readable: true,
        input: Input::None,
        read: |run, _| run.parent_run_id.as_ref().map(shared),
    },
    RunEntry {
        key: k::ROOT_RUN_ID,
        baggage_key: k::ROOT_RUN_ID,
        // Absent on the wire means "the run is its own root".
        wire: Wire::LeanUnless(|run| run.root_run_id == run.run_id),
        stamp: Stamp::RunSpan,
        readable: true,
        input: Input::None,
        read: |run, _| Some(shared(&run.root_run_id)),
    },
    RunEntry {
        key: k::ATTEMPT,
        baggage_key: k::ATTEMPT,
        wire: Wire::LeanUnless(|run| run.attempt <= 1),
        stamp: Stamp::RunSpan,
        readable: true,
        input: Input::None,
        read: |run, _| Some(Value::I64(run.attempt)),
    },
    RunEntry {
        key: k::RETRY_OF_RUN_ID,
        baggage_key: k::RETRY_OF_RUN_ID,
        // Read as `None` (so not sent) unless the run is a retry.
        wire: Wire::Lean,
        stamp: Stamp::RunSpan,
        readable: false,
        input: Input::Str(|f| &mut f.retry_of_run_id),
        read: |_, fields| fields.retry_of_run_id.as_ref().map(shared),
    },
    RunEntry {
        key: k::RUN_DEADLINE_TS,
        baggage_key: p::DEADLINE,
        wire: Wire::Full,
        stamp: Stamp::RunSpan,
        readable: false,
        input: Input::Millis(|f| &mut f.deadline_ms),
        read: |_, fields| fields.deadline_ms.map(Value::I64),
    },
    RunEntry {
        key: p::CANCELLED,
        baggage_key: p::CANCELLED,
        wire: Wire::Full,
        stamp: Stamp::Never,
        readable: false,
        input: Input::None,
        read: |_, fields| fields.cancelled.then(|| Value::from("true")),
    },
];

impl RunEntry {
    /// Whether the entry goes in the `baggage` header for `run` (`full`: full propagation mode).
    pub(crate) fn travels(&self, run: &RunContext, full: bool) -> bool {
        match self.wire {
            Wire::Lean => true,
            Wire::Full => full,
            Wire::LeanUnless(is_default) => !is_default(run),
        }
    }

    /// Whether the run span's recorded value of this entry feeds the run context.
    pub(crate) fn is_input(&self) -> bool {
        !matches!(self.input, Input::None)
    }

    /// Copies the run span's recorded value (`value`) into `fields`.
    pub(crate) fn write(&self, fields: &mut RunFields, value: Option<&Value>) {
        match self.input {
            Input::None => {}
            Input::Str(slot) => *slot(fields) = value.map(|v| Arc::from(v.as_str().as_ref())),
            Input::Millis(slot) => {
                *slot(fields) = match value {
                    Some(Value::I64(ms)) => Some(*ms),
                    Some(other) => other.as_str().trim().parse().ok(),
                    None => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        for (i, a) in RUN_ENTRIES.iter().enumerate() {
            for b in &RUN_ENTRIES[i + 1..] {
                assert_ne!(a.key, b.key);
                assert_ne!(a.baggage_key, b.baggage_key);
            }
        }
    }
}
