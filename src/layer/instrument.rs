//! `#[tracing::instrument]` as a run: the function's arguments and return value as the run's eval
//! content, gated and scrubbed like any other content.
//!
//! `#[instrument(fields(botanu.workflow = "support"))] fn handle(question: &str, user_id: u64)` makes a
//! run span whose fields include `question` and `user_id`. Exported as attributes they would bypass the
//! content gate and the scrubber, so on such a run (see `classify::takes_arguments`) every plain field
//! is an argument instead: kept aside as it is recorded, rendered `name=value` pairs joined with `, `
//! (strings quoted and escaped as Rust's `Debug` prints them, other values as recorded, a secret-looking
//! name's value replaced), and at close captured as `botanu.eval.input_content`. With
//! `#[instrument(ret)]` the function emits an event with one field, `return`, inside its span; that
//! value becomes `botanu.eval.output_content` and the event is not exported. Both go through
//! [`ContentPolicy::capture`](crate::content::ContentPolicy::capture): with content capture off
//! (the default) neither is exported at all. A value the code set itself (`set_input_content`,
//! `set_output_content`) wins.

use opentelemetry::{Key, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::state::SpanState;
use super::Shared;
use crate::semconv as k;
use crate::text::{cut_str, debug_string, SCRUB_INPUT_BYTES};

/// The name of the field `#[instrument(ret)]` records the return value under.
const RETURN_FIELD: &str = "return";

/// Text kept for one run's arguments or return value before it is scrubbed and cut: the scrubber's
/// input bound, so the content path does no more work than for any other captured value.
const MAX_KEPT_BYTES: usize = SCRUB_INPUT_BYTES;

/// Keeps an argument of a run made by `#[instrument]`; `value` is already rendered (see the module docs).
pub(crate) fn record_argument(state: &mut SpanState, name: &'static str, value: &str) {
    let io = state.io.get_or_insert_with(Box::default);
    if let Some(i) = io.arguments.iter().position(|(n, _)| *n == name) {
        let (_, old) = io.arguments.remove(i);
        io.argument_bytes -= old.len();
    }
    let room = MAX_KEPT_BYTES.saturating_sub(io.argument_bytes);
    let kept = cut_str(value, room).to_owned();
    io.argument_bytes += kept.len();
    io.arguments.push((name, kept));
}

/// How a string argument is rendered: quoted and escaped, like the `Debug` form of other arguments.
pub(crate) fn render_str(value: &str) -> String {
    debug_string(cut_str(value, MAX_KEPT_BYTES))
}

/// Whether an event's callsite is `#[instrument(ret)]`'s: one field, named `return`.
#[inline]
pub(crate) fn is_return_event(meta: &Metadata<'_>) -> bool {
    let fields = meta.fields();
    fields.len() == 1 && fields.field(RETURN_FIELD).is_some()
}

/// Keeps the return value of a function instrumented as a run. Returns whether the event was such a
/// return value (and so is not exported as a span event): its span is the run itself (not a span
/// inside it: an inner function's return is not the run's) and it comes from the same file and target,
/// as the attribute macro's expansion does.
pub(crate) fn record_return<S>(event: &Event<'_>, ctx: &Context<'_, S>, shared: &Shared) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.event_span(event) else { return false };
    let (span_meta, meta) = (span.metadata(), event.metadata());
    if span_meta.target() != meta.target() || span_meta.file() != meta.file() {
        return false;
    }
    let is_run_return =
        span.extensions().get::<SpanState>().is_some_and(|state| state.info.is_some_and(|info| info.takes_arguments));
    if !is_run_return {
        return false;
    }
    if !shared.content.is_enabled() {
        // Dropped unformatted: with capture off it could never be exported.
        return true;
    }
    // Formatted with no lock held: the value's `Debug` is user code and may call back into botanu.
    let mut value = ReturnValue(None);
    event.record(&mut value);
    if let Some(output) = value.0 {
        if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
            state.io.get_or_insert_with(Box::default).output = Some(output);
        }
    }
    true
}

/// At close: the run's arguments and return value through the content gate and the scrubber, unless
/// the run set that content itself.
pub(crate) fn finish(state: &mut SpanState, shared: &Shared) {
    let Some(io) = state.io.take() else { return };
    let run_id = state.run.as_ref().map(|r| r.run_id.clone());
    let mut capture = |key: &'static str, text: &str| {
        if state.get(key).is_none() {
            if let Some(text) = shared.content.capture(run_id.as_deref(), text) {
                state.set(Key::from_static_str(key), Value::from(text));
            }
        }
    };
    if !io.arguments.is_empty() {
        let mut text = String::with_capacity(io.argument_bytes + io.arguments.len() * 8);
        for (i, (name, value)) in io.arguments.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(name);
            text.push('=');
            text.push_str(value);
        }
        capture(k::EVAL_INPUT_CONTENT, &text);
    }
    if let Some(output) = &io.output {
        capture(k::EVAL_OUTPUT_CONTENT, output);
    }
}

/// The `return` field of a return event, as `Debug` (or `Display`, for `ret(Display)`) printed it.
struct ReturnValue(Option<String>);

impl Visit for ReturnValue {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == RETURN_FIELD {
            self.0 = Some(cut_str(value, MAX_KEPT_BYTES).to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == RETURN_FIELD {
            self.0 = Some(debug_string(value));
        }
    }
}
