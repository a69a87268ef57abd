//! The span macros.
//!
//! Each macro expands to an ordinary `tracing::span!` whose fields are named by the constants of
//! [`semconv`](crate::semconv), so the spans work with every `tracing` layer and the [`BotanuLayer`](crate::BotanuLayer)
//! recognizes them by their fields. Keyword arguments the macro knows (`provider`, `model`, `workflow`, …)
//! are renamed to their contract keys; any other `key = value` pair passes through as a field of its own;
//! `%` and `?` work as in `tracing`. Every other field of the span's contract row is declared `Empty`, so
//! the setters ([`BotanuSpanExt`](crate::BotanuSpanExt), [`LlmSpanExt`](crate::LlmSpanExt), …) can record it
//! later.
//!
//! Optional prefixes, in this order: `parent: <span or None>,` and `level: <tracing::Level>,`
//! (INFO by default).
//!
//! How the expansion works: `__botanu_span!` munches the arguments one `key = value` pair at a time into
//! a list of fields (known keys renamed), then emits one `span!` with the given fields first and the
//! `Empty` declarations after them. A key given by the caller is therefore declared twice; `tracing`
//! resolves a field name to its first declaration, so later `record`s reach the given value's slot and the
//! `Empty` twin is never written.

#[doc(hidden)]
#[macro_export]
macro_rules! __botanu_span {
    (@munch run [$($st:tt)*] [$($given:tt)*] ; workflow = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::WORKFLOW } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; event_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::EVENT_ID } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; customer_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::CUSTOMER_ID } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; tenant_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::TENANT_ID } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; attempt = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::ATTEMPT } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; root_run_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::ROOT_RUN_ID } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; retry_of_run_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::RETRY_OF_RUN_ID } =] ; $($rest)*)
    };
    // `retry_of = <previous run>`: the previous run is taken first, then the span is made and turned
    // into a retry of it (new run id, the previous root and event, attempt + 1).
    (@munch run [$($st:tt)*] [$($given:tt)*] ; retry_of = $v:expr $(, $($rest:tt)*)?) => {
        {
            let previous = &$v;
            $crate::__private::retry_of($crate::__botanu_span!(@munch run [$($st)*] [$($given)*] ; $($($rest)*)?), previous)
        }
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; deadline = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::RUN_DEADLINE_TS } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; workflow_version = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::WORKFLOW_VERSION } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; use_case = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::USE_CASE } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; run_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::RUN_ID } =] ; $($rest)*)
    };
    (@munch run [$($st:tt)*] [$($given:tt)*] ; kind = $($rest:tt)*) => {
        $crate::__botanu_span!(@value run [$($st)*] [$($given)* { $crate::semconv::OTEL_KIND } =] ; $($rest)*)
    };
    (@munch llm [$($st:tt)*] [$($given:tt)*] ; provider = $($rest:tt)*) => {
        $crate::__botanu_span!(@value llm [$($st)*] [$($given)* { $crate::semconv::GEN_AI_PROVIDER_NAME } =] ; $($rest)*)
    };
    (@munch llm [$($st:tt)*] [$($given:tt)*] ; model = $($rest:tt)*) => {
        $crate::__botanu_span!(@value llm [$($st)*] [$($given)* { $crate::semconv::GEN_AI_REQUEST_MODEL } =] ; $($rest)*)
    };
    (@munch llm [$($st:tt)*] [$($given:tt)*] ; operation = $($rest:tt)*) => {
        $crate::__botanu_span!(@value llm [$($st)*] [$($given)* { $crate::semconv::GEN_AI_OPERATION_NAME } =] ; $($rest)*)
    };
    (@munch llm [$($st:tt)*] [$($given:tt)*] ; client_request_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value llm [$($st)*] [$($given)* { $crate::semconv::VENDOR_CLIENT_REQUEST_ID } =] ; $($rest)*)
    };
    (@munch tool [$($st:tt)*] [$($given:tt)*] ; name = $($rest:tt)*) => {
        $crate::__botanu_span!(@value tool [$($st)*] [$($given)* { $crate::semconv::GEN_AI_TOOL_NAME } =] ; $($rest)*)
    };
    (@munch tool [$($st:tt)*] [$($given:tt)*] ; call_id = $($rest:tt)*) => {
        $crate::__botanu_span!(@value tool [$($st)*] [$($given)* { $crate::semconv::GEN_AI_TOOL_CALL_ID } =] ; $($rest)*)
    };
    (@munch tool [$($st:tt)*] [$($given:tt)*] ; provider = $($rest:tt)*) => {
        $crate::__botanu_span!(@value tool [$($st)*] [$($given)* { $crate::semconv::GEN_AI_PROVIDER_NAME } =] ; $($rest)*)
    };
    (@munch db [$($st:tt)*] [$($given:tt)*] ; system = $($rest:tt)*) => {
        $crate::__botanu_span!(@value db [$($st)*] [$($given)* { $crate::semconv::DB_SYSTEM } =] ; $($rest)*)
    };
    (@munch db [$($st:tt)*] [$($given:tt)*] ; operation = $($rest:tt)*) => {
        $crate::__botanu_span!(@value db [$($st)*] [$($given)* { $crate::semconv::DB_OPERATION } =] ; $($rest)*)
    };
    (@munch db [$($st:tt)*] [$($given:tt)*] ; database = $($rest:tt)*) => {
        $crate::__botanu_span!(@value db [$($st)*] [$($given)* { $crate::semconv::DB_NAME } =] ; $($rest)*)
    };
    (@munch db [$($st:tt)*] [$($given:tt)*] ; cloud_provider = $($rest:tt)*) => {
        $crate::__botanu_span!(@value db [$($st)*] [$($given)* { $crate::semconv::CLOUD_PROVIDER } =] ; $($rest)*)
    };
    (@munch storage [$($st:tt)*] [$($given:tt)*] ; system = $($rest:tt)*) => {
        $crate::__botanu_span!(@value storage [$($st)*] [$($given)* { $crate::semconv::STORAGE_SYSTEM } =] ; $($rest)*)
    };
    (@munch storage [$($st:tt)*] [$($given:tt)*] ; operation = $($rest:tt)*) => {
        $crate::__botanu_span!(@value storage [$($st)*] [$($given)* { $crate::semconv::STORAGE_OPERATION } =] ; $($rest)*)
    };
    (@munch storage [$($st:tt)*] [$($given:tt)*] ; bucket = $($rest:tt)*) => {
        $crate::__botanu_span!(@value storage [$($st)*] [$($given)* { $crate::semconv::STORAGE_BUCKET } =] ; $($rest)*)
    };
    (@munch storage [$($st:tt)*] [$($given:tt)*] ; cloud_provider = $($rest:tt)*) => {
        $crate::__botanu_span!(@value storage [$($st)*] [$($given)* { $crate::semconv::CLOUD_PROVIDER } =] ; $($rest)*)
    };
    (@munch messaging [$($st:tt)*] [$($given:tt)*] ; system = $($rest:tt)*) => {
        $crate::__botanu_span!(@value messaging [$($st)*] [$($given)* { $crate::semconv::MESSAGING_SYSTEM } =] ; $($rest)*)
    };
    (@munch messaging [$($st:tt)*] [$($given:tt)*] ; operation = $($rest:tt)*) => {
        $crate::__botanu_span!(@value messaging [$($st)*] [$($given)* { $crate::semconv::MESSAGING_OPERATION } =] ; $($rest)*)
    };
    (@munch messaging [$($st:tt)*] [$($given:tt)*] ; destination = $($rest:tt)*) => {
        $crate::__botanu_span!(@value messaging [$($st)*] [$($given)* { $crate::semconv::MESSAGING_DESTINATION_NAME } =] ; $($rest)*)
    };
    (@munch messaging [$($st:tt)*] [$($given:tt)*] ; cloud_provider = $($rest:tt)*) => {
        $crate::__botanu_span!(@value messaging [$($st)*] [$($given)* { $crate::semconv::CLOUD_PROVIDER } =] ; $($rest)*)
    };
    // Any other key passes through: dotted identifiers, string literals, `{ CONST }`.
    (@munch $kind:tt [$($st:tt)*] [$($given:tt)*] ; $($k:ident).+ = $($rest:tt)*) => {
        $crate::__botanu_span!(@value $kind [$($st)*] [$($given)* $($k).+ =] ; $($rest)*)
    };
    (@munch $kind:tt [$($st:tt)*] [$($given:tt)*] ; $k:literal = $($rest:tt)*) => {
        $crate::__botanu_span!(@value $kind [$($st)*] [$($given)* $k =] ; $($rest)*)
    };
    (@munch $kind:tt [$($st:tt)*] [$($given:tt)*] ; { $k:expr } = $($rest:tt)*) => {
        $crate::__botanu_span!(@value $kind [$($st)*] [$($given)* { $k } =] ; $($rest)*)
    };
    // Values, with tracing's sigils.
    (@value $kind:tt [$($st:tt)*] [$($given:tt)*] ; % $v:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span!(@munch $kind [$($st)*] [$($given)* % $v,] ; $($($rest)*)?)
    };
    (@value $kind:tt [$($st:tt)*] [$($given:tt)*] ; ? $v:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span!(@munch $kind [$($st)*] [$($given)* ? $v,] ; $($($rest)*)?)
    };
    (@value $kind:tt [$($st:tt)*] [$($given:tt)*] ; $v:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span!(@munch $kind [$($st)*] [$($given)* $v,] ; $($($rest)*)?)
    };
    (@munch run [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::RUN, $($pre)* $($given)*
            { $crate::semconv::RUN_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::WORKFLOW } = $crate::__private::tracing::field::Empty, { $crate::semconv::EVENT_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::CUSTOMER_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::TENANT_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::ATTEMPT } = $crate::__private::tracing::field::Empty, { $crate::semconv::ROOT_RUN_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::RETRY_OF_RUN_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::RUN_DEADLINE_TS } = $crate::__private::tracing::field::Empty, { $crate::semconv::WORKFLOW_VERSION } = $crate::__private::tracing::field::Empty, { $crate::semconv::USE_CASE } = $crate::__private::tracing::field::Empty, { $crate::semconv::OTEL_KIND } = $crate::__private::tracing::field::Empty, { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
    (@munch step [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::STEP, $($pre)* $($given)*
            { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
    (@munch llm [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::LLM, $($pre)* $($given)*
            { $crate::semconv::GEN_AI_PROVIDER_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_REQUEST_MODEL } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_OPERATION_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_USAGE_INPUT_TOKENS } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_USAGE_OUTPUT_TOKENS } = $crate::__private::tracing::field::Empty, { $crate::semconv::USAGE_CACHED_TOKENS } = $crate::__private::tracing::field::Empty, { $crate::semconv::USAGE_CACHE_READ_TOKENS } = $crate::__private::tracing::field::Empty, { $crate::semconv::USAGE_CACHE_WRITE_TOKENS } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_RESPONSE_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::VENDOR_REQUEST_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::VENDOR_CLIENT_REQUEST_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_RESPONSE_MODEL } = $crate::__private::tracing::field::Empty, { $crate::semconv::REQUEST_STREAMING } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK } = $crate::__private::tracing::field::Empty, { $crate::semconv::REQUEST_CACHE_HIT } = $crate::__private::tracing::field::Empty, { $crate::semconv::REQUEST_ATTEMPT } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_REQUEST_TEMPERATURE } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_REQUEST_TOP_P } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_REQUEST_MAX_TOKENS } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_REQUEST_FREQUENCY_PENALTY } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_REQUEST_PRESENCE_PENALTY } = $crate::__private::tracing::field::Empty, { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
    (@munch tool [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::TOOL, $($pre)* $($given)*
            { $crate::semconv::GEN_AI_TOOL_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_TOOL_CALL_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::GEN_AI_PROVIDER_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::TOOL_SUCCESS } = $crate::__private::tracing::field::Empty, { $crate::semconv::TOOL_ITEMS_RETURNED } = $crate::__private::tracing::field::Empty, { $crate::semconv::TOOL_BYTES_PROCESSED } = $crate::__private::tracing::field::Empty, { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
    (@munch db [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::DB, $($pre)* $($given)*
            { $crate::semconv::DB_SYSTEM } = $crate::__private::tracing::field::Empty, { $crate::semconv::DB_OPERATION } = $crate::__private::tracing::field::Empty, { $crate::semconv::DB_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::CLOUD_PROVIDER } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_ROWS_RETURNED } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_ROWS_AFFECTED } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_BYTES_READ } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_BYTES_WRITTEN } = $crate::__private::tracing::field::Empty, { $crate::semconv::DB_COLLECTION_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::DB_SCHEMA } = $crate::__private::tracing::field::Empty, { $crate::semconv::WAREHOUSE_QUERY_ID } = $crate::__private::tracing::field::Empty, { $crate::semconv::WAREHOUSE_BYTES_SCANNED } = $crate::__private::tracing::field::Empty, { $crate::semconv::WAREHOUSE_PARTITIONS_SCANNED } = $crate::__private::tracing::field::Empty, { $crate::semconv::BYTES_TRANSFERRED } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_ERROR } = $crate::__private::tracing::field::Empty, { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
    (@munch storage [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::STORAGE, $($pre)* $($given)*
            { $crate::semconv::STORAGE_SYSTEM } = $crate::__private::tracing::field::Empty, { $crate::semconv::STORAGE_OPERATION } = $crate::__private::tracing::field::Empty, { $crate::semconv::STORAGE_BUCKET } = $crate::__private::tracing::field::Empty, { $crate::semconv::CLOUD_PROVIDER } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_OBJECTS_COUNT } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_BYTES_READ } = $crate::__private::tracing::field::Empty, { $crate::semconv::DATA_BYTES_WRITTEN } = $crate::__private::tracing::field::Empty, { $crate::semconv::BYTES_TRANSFERRED } = $crate::__private::tracing::field::Empty, { $crate::semconv::STORAGE_ERROR } = $crate::__private::tracing::field::Empty, { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
    (@munch messaging [($($par:tt)*) $lvl:expr ; $($pre:tt)*] [$($given:tt)*] ; ) => {
        $crate::__private::tracing::span!(
            $($par)* $lvl, $crate::semconv::span_names::MESSAGING, $($pre)* $($given)*
            { $crate::semconv::MESSAGING_SYSTEM } = $crate::__private::tracing::field::Empty, { $crate::semconv::MESSAGING_OPERATION } = $crate::__private::tracing::field::Empty, { $crate::semconv::MESSAGING_DESTINATION_NAME } = $crate::__private::tracing::field::Empty, { $crate::semconv::CLOUD_PROVIDER } = $crate::__private::tracing::field::Empty, { $crate::semconv::MESSAGING_MESSAGE_COUNT } = $crate::__private::tracing::field::Empty, { $crate::semconv::MESSAGING_BYTES_TRANSFERRED } = $crate::__private::tracing::field::Empty, { $crate::semconv::BYTES_TRANSFERRED } = $crate::__private::tracing::field::Empty, { $crate::semconv::MESSAGING_ERROR } = $crate::__private::tracing::field::Empty, { $crate::semconv::ERROR_TYPE } = $crate::__private::tracing::field::Empty, { $crate::semconv::METADATA } = $crate::__private::tracing::field::Empty,
        )
    };
}

/// Generates the four public arms (with or without `parent:` and `level:`) of one span macro.
#[doc(hidden)]
#[macro_export]
macro_rules! __botanu_span_entry {
    ($kind:tt [$($pre:tt)*] parent: $p:expr, level: $l:expr, $($rest:tt)*) => {
        $crate::__botanu_span!(@munch $kind [(parent: $p,) $l ; $($pre)*] [] ; $($rest)*)
    };
    ($kind:tt [$($pre:tt)*] parent: $p:expr, $($rest:tt)*) => {
        $crate::__botanu_span!(@munch $kind [(parent: $p,) $crate::__private::tracing::Level::INFO ; $($pre)*] [] ; $($rest)*)
    };
    ($kind:tt [$($pre:tt)*] level: $l:expr, $($rest:tt)*) => {
        $crate::__botanu_span!(@munch $kind [() $l ; $($pre)*] [] ; $($rest)*)
    };
    ($kind:tt [$($pre:tt)*] $($rest:tt)*) => {
        $crate::__botanu_span!(@munch $kind [() $crate::__private::tracing::Level::INFO ; $($pre)*] [] ; $($rest)*)
    };
}

/// Opens a **run**: one business event (a ticket resolved, a document processed) that cost is attributed to.
///
/// Keyword arguments: `workflow` (the workflow name; it is what makes the span a run), and optionally
/// `event_id`, `customer_id`, `tenant_id`, `attempt` (integer, default 1), `root_run_id`, `retry_of_run_id`,
/// `deadline` (epoch ms), `workflow_version`, `use_case`, `run_id` (continue a known run instead of minting a
/// UUIDv7), `kind` (`"server"` by default; `"consumer"`, `"internal"`, …). Without `event_id` the run id is used.
///
/// `retry_of = previous` starts a retry of an earlier run: `previous` is a span in it, a
/// [`RunAttempt`](crate::RunAttempt), an [`InboundRun`](crate::propagation::InboundRun) — anything
/// [`PreviousRun`](crate::PreviousRun), or an `Option` of one (`None`: a first attempt). The new run keeps
/// the previous run's `botanu.root_run_id` and event id (unless `event_id` is given), names it in
/// `botanu.retry_of_run_id`, and is attempt `botanu.attempt` + 1:
///
/// ```
/// use botanu::{run_span, RunAttempt};
/// let mut previous: Option<RunAttempt> = None;
/// for _ in 0..3 {
///     let run = run_span!(workflow = "support", event_id = "T-42", retry_of = previous);
///     let failed = run.in_scope(|| true /* the work of the run failed */);
///     if !failed {
///         break;
///     }
///     previous = RunAttempt::of(&run);
/// }
/// ```
///
/// The exported span is named `botanu.run/{workflow}`; every span opened inside it carries the run's keys.
///
/// ```
/// use botanu::run_span;
/// let ticket = 42;
/// let run = run_span!(workflow = "support", event_id = %ticket, customer_id = "acme");
/// run.in_scope(|| { /* the work of the run */ });
/// ```
#[macro_export]
macro_rules! run_span {
    ($($args:tt)*) => {
        $crate::__botanu_span_entry!(run [] $($args)*)
    };
}

/// Opens a **step** of a run: `step_span!("fetch-context")`, exported as `botanu.step/{name}`.
///
/// Every span opened inside the step carries `botanu.step`. Extra `key = value` pairs may follow the name.
///
/// ```
/// use botanu::{run_span, step_span};
/// run_span!(workflow = "support").in_scope(|| {
///     step_span!("fetch-context", source = "kb").in_scope(|| { /* … */ });
/// });
/// ```
#[macro_export]
macro_rules! step_span {
    (parent: $p:expr, level: $l:expr, $name:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span_entry!(step [{ $crate::semconv::STEP } = $name,] parent: $p, level: $l, $($($rest)*)?)
    };
    (parent: $p:expr, $name:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span_entry!(step [{ $crate::semconv::STEP } = $name,] parent: $p, $($($rest)*)?)
    };
    (level: $l:expr, $name:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span_entry!(step [{ $crate::semconv::STEP } = $name,] level: $l, $($($rest)*)?)
    };
    ($name:expr $(, $($rest:tt)*)?) => {
        $crate::__botanu_span_entry!(step [{ $crate::semconv::STEP } = $name,] $($($rest)*)?)
    };
}

/// Opens an **LLM call** span, exported as `{operation} {model}` (e.g. `chat gpt-4`) with kind CLIENT.
///
/// Keyword arguments: `provider` (normalized: `Claude` → `anthropic`), `model`, optionally `operation`
/// (`chat` by default; `embeddings`, `text_completion`, …) and `client_request_id` (your own request id,
/// exported as `botanu.vendor.client_request_id`). Record the outcome with [`LlmSpanExt`](crate::LlmSpanExt).
///
/// ```
/// use botanu::{llm_span, LlmSpanExt, Tokens};
/// let span = llm_span!(provider = "openai", model = "gpt-4o");
/// span.in_scope(|| { /* call the model */ });
/// span.set_tokens(Tokens { input: 120, output: 30, ..Default::default() });
/// ```
#[macro_export]
macro_rules! llm_span {
    ($($args:tt)*) => {
        $crate::__botanu_span_entry!(llm [] $($args)*)
    };
}

/// Opens a **tool call** span, exported as `execute_tool {name}`.
///
/// Keyword arguments: `name`, optionally `call_id` and `provider`. Record the result with
/// [`BotanuSpanExt::set_result`](crate::BotanuSpanExt::set_result).
///
/// ```
/// use botanu::prelude::*;
/// let span = tool_span!(name = "search", call_id = "call_abc");
/// span.set_result(ToolResult { success: true, items_returned: 3, ..Default::default() });
/// ```
#[macro_export]
macro_rules! tool_span {
    ($($args:tt)*) => {
        $crate::__botanu_span_entry!(tool [] $($args)*)
    };
}

/// Opens a **database** span, exported as `db.{system}.{operation}` with kind CLIENT.
///
/// Keyword arguments: `system` (normalized: `postgres` → `postgresql`), `operation` (upper-cased), optionally
/// `database` and `cloud_provider` (derived from the system when omitted, e.g. `dynamodb` → `aws`). Record the
/// result with [`BotanuSpanExt::set_result`](crate::BotanuSpanExt::set_result) and
/// [`DbSpanExt`](crate::DbSpanExt).
///
/// ```
/// use botanu::prelude::*;
/// let span = db_span!(system = "postgres", operation = "select", database = "app");
/// span.set_result(DbResult { rows_returned: 12, ..Default::default() });
/// ```
#[macro_export]
macro_rules! db_span {
    ($($args:tt)*) => {
        $crate::__botanu_span_entry!(db [] $($args)*)
    };
}

/// Opens an **object storage** span, exported as `storage.{system}.{operation}` with kind CLIENT.
///
/// Keyword arguments: `system` (`s3`, `gcs`, `azure_blob`, …), `operation` (`GET`, `PUT`, …), optionally
/// `bucket` and `cloud_provider`. Record the result with
/// [`BotanuSpanExt::set_result`](crate::BotanuSpanExt::set_result).
///
/// ```
/// use botanu::prelude::*;
/// let span = storage_span!(system = "s3", operation = "PUT", bucket = "reports");
/// span.set_result(StorageResult { objects_count: 1, bytes_written: 2048, ..Default::default() });
/// ```
#[macro_export]
macro_rules! storage_span {
    ($($args:tt)*) => {
        $crate::__botanu_span_entry!(storage [] $($args)*)
    };
}

/// Opens a **messaging** span, exported as `messaging.{system}.{operation}`: kind PRODUCER for
/// `publish`/`send` (any case), CONSUMER otherwise.
///
/// Keyword arguments: `system` (`sqs`, `kafka`, …), `operation` (`publish`, `consume`, `receive`, `send`,
/// `subscribe`), `destination`, optionally `cloud_provider`. Record the result with
/// [`BotanuSpanExt::set_result`](crate::BotanuSpanExt::set_result).
///
/// ```
/// use botanu::prelude::*;
/// let span = messaging_span!(system = "sqs", operation = "publish", destination = "orders");
/// span.set_result(MessagingResult { message_count: 1, bytes_transferred: 512, ..Default::default() });
/// ```
#[macro_export]
macro_rules! messaging_span {
    ($($args:tt)*) => {
        $crate::__botanu_span_entry!(messaging [] $($args)*)
    };
}
