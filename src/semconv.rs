//! Every key botanu puts on the wire, spelled once.
//!
//! Backends read botanu's spans, metrics and baggage by these names (see the crate's wire contract), so a
//! typo anywhere is a silent data loss. This module is the only place in the crate that spells a key; the
//! macros use these constants as `tracing` field names (`{ semconv::RUN_ID } = …`), the layer matches on
//! them, and the tests compare against them.
//!
//! `gen_ai.*` keys are defined here rather than taken from `opentelemetry-semantic-conventions`, where
//! they are experimental and deprecated; the spellings follow the OpenTelemetry GenAI conventions.

// === run (business event) ===

/// Unique id of a run: a lower-case UUIDv7.
pub const RUN_ID: &str = "botanu.run_id";
/// The workflow a run belongs to (its presence makes a span a run span).
pub const WORKFLOW: &str = "botanu.workflow";
/// The business event id (ticket, document, …) a run handles.
pub const EVENT_ID: &str = "botanu.event_id";
/// The customer a run is billed to.
pub const CUSTOMER_ID: &str = "botanu.customer_id";
/// Deployment environment, from the configuration.
pub const ENVIRONMENT: &str = "botanu.environment";
/// Tenant of a multi-tenant application.
pub const TENANT_ID: &str = "botanu.tenant_id";
/// Run id of the enclosing run, for nested runs.
pub const PARENT_RUN_ID: &str = "botanu.parent_run_id";
/// Run id of the outermost run (itself for a root run).
pub const ROOT_RUN_ID: &str = "botanu.root_run_id";
/// Attempt number of the run, from 1.
pub const ATTEMPT: &str = "botanu.attempt";
/// Run id of the run this one retries.
pub const RETRY_OF_RUN_ID: &str = "botanu.retry_of_run_id";
/// Start of the run, RFC 3339 UTC.
pub const RUN_START_TIME: &str = "botanu.run.start_time";
/// Deadline of the run, epoch milliseconds.
pub const RUN_DEADLINE_TS: &str = "botanu.run.deadline_ts";
/// Version of the workflow.
pub const WORKFLOW_VERSION: &str = "botanu.workflow.version";
/// Use case label of the run.
pub const USE_CASE: &str = "botanu.use_case";
/// Wall-clock duration of the run in milliseconds (float), written at close.
pub const RUN_DURATION_MS: &str = "botanu.run.duration_ms";
/// Event recorded when a run starts.
pub const EVENT_RUN_STARTED: &str = "botanu.run.started";
/// Event recorded when a run completes.
pub const EVENT_RUN_COMPLETED: &str = "botanu.run.completed";
/// `status` attribute of [`EVENT_RUN_COMPLETED`].
pub const RUN_EVENT_STATUS: &str = "status";
/// `duration_ms` attribute of [`EVENT_RUN_COMPLETED`].
pub const RUN_EVENT_DURATION_MS: &str = "duration_ms";
/// [`RUN_EVENT_STATUS`] of a run that closed without a failure (and without another outcome status).
pub const RUN_STATUS_SUCCESS: &str = "success";
/// [`RUN_EVENT_STATUS`] of a failed run (the reference's spelling, not `error`).
pub const RUN_STATUS_FAILURE: &str = "failure";
/// [`RUN_EVENT_STATUS`] of a run whose outcome was `partial`.
pub const RUN_STATUS_PARTIAL: &str = "partial";
/// [`RUN_EVENT_STATUS`] of a run whose outcome was `timeout`.
pub const RUN_STATUS_TIMEOUT: &str = "timeout";
/// [`RUN_EVENT_STATUS`] of a run whose outcome was `canceled`.
pub const RUN_STATUS_CANCELED: &str = "canceled";
/// `error_class` attribute of [`EVENT_RUN_COMPLETED`].
pub const RUN_EVENT_ERROR_CLASS: &str = "error_class";
/// `run_id` attribute of the run events.
pub const RUN_EVENT_RUN_ID: &str = "run_id";
/// `workflow` attribute of the run events.
pub const RUN_EVENT_WORKFLOW: &str = "workflow";

// === step ===

/// Name of a step; on a step span, and stamped on every descendant of that step.
pub const STEP: &str = "botanu.step";

// === outcome, business context, correlation ===

/// Outcome status written on the enclosing run span.
pub const OUTCOME_STATUS: &str = "botanu.outcome.status";
/// Outcome value type.
pub const OUTCOME_VALUE_TYPE: &str = "botanu.outcome.value_type";
/// Outcome value amount.
pub const OUTCOME_VALUE_AMOUNT: &str = "botanu.outcome.value_amount";
/// Outcome confidence.
pub const OUTCOME_CONFIDENCE: &str = "botanu.outcome.confidence";
/// Outcome reason.
pub const OUTCOME_REASON: &str = "botanu.outcome.reason";
/// Outcome error type.
pub const OUTCOME_ERROR_TYPE: &str = "botanu.outcome.error_type";
/// Prefix of outcome metadata keys.
pub const OUTCOME_METADATA_PREFIX: &str = "botanu.outcome.metadata.";
/// Event recorded by `emit_outcome`; its attributes use the short keys below (the reference's).
pub const EVENT_OUTCOME_EMITTED: &str = "botanu.outcome_emitted";
/// `value_type` attribute of [`EVENT_OUTCOME_EMITTED`].
pub const OUTCOME_EVENT_VALUE_TYPE: &str = "value_type";
/// `value_amount` attribute of [`EVENT_OUTCOME_EMITTED`].
pub const OUTCOME_EVENT_VALUE_AMOUNT: &str = "value_amount";
/// `error_type` attribute of [`EVENT_OUTCOME_EMITTED`].
pub const OUTCOME_EVENT_ERROR_TYPE: &str = "error_type";
/// `status` attribute of [`EVENT_OUTCOME_EMITTED`].
pub const OUTCOME_EVENT_STATUS: &str = "status";
/// `reason` attribute of [`EVENT_OUTCOME_EMITTED`].
pub const OUTCOME_EVENT_REASON: &str = "reason";
/// `confidence` attribute of [`EVENT_OUTCOME_EMITTED`].
pub const OUTCOME_EVENT_CONFIDENCE: &str = "confidence";
/// Team owning the cost.
pub const TEAM: &str = "botanu.team";
/// Cost center.
pub const COST_CENTER: &str = "botanu.cost_center";
/// Region.
pub const REGION: &str = "botanu.region";
/// Prefix of correlation keys.
pub const CORRELATION_PREFIX: &str = "botanu.correlation.";
/// Prefix of free-form metadata keys on run, step and LLM spans.
pub const METADATA_PREFIX: &str = "botanu.";
/// Field that carries structured metadata (flattened into `botanu.<key>` attributes).
pub const METADATA: &str = "botanu.metadata";
/// Names of u64 attributes that were above `i64::MAX` and were clamped to it.
pub const CLAMPED_ATTRIBUTES: &str = "botanu.clamped_attributes";
/// Number of attributes dropped because of the per-span attribute cap.
pub const DROPPED_ATTRIBUTES: &str = "botanu.dropped_attributes";
/// Names of string attributes cut to the value-length cap.
pub const TRUNCATED_ATTRIBUTES: &str = "botanu.truncated_attributes";
/// Number of span events dropped because of the per-span event cap.
pub const DROPPED_EVENTS: &str = "botanu.dropped_events";

// === vendor, cloud ===

/// Normalized vendor of an LLM, tool, database, storage or messaging span.
pub const VENDOR: &str = "botanu.vendor";
/// Vendor's request id.
pub const VENDOR_REQUEST_ID: &str = "botanu.vendor.request_id";
/// Client-side request id sent to the vendor.
pub const VENDOR_CLIENT_REQUEST_ID: &str = "botanu.vendor.client_request_id";
/// Cloud provider of a data or messaging system.
pub const CLOUD_PROVIDER: &str = "botanu.cloud_provider";

// === GenAI (LLM calls) ===

/// GenAI operation (`chat`, `embeddings`, …).
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// Normalized GenAI provider.
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// Deprecated GenAI provider key, still emitted by some crates; recognized and normalized.
pub const GEN_AI_SYSTEM: &str = "gen_ai.system";
/// Requested model.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// Model that answered.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// Time to the first chunk of a streamed response, in seconds (f64): measured from when the request was
/// issued. genai (feature `otel`) writes it on its streaming spans too.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// Vendor's response id.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// Finish reasons (string array).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Input tokens.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Output tokens.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Request temperature.
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// Request top_p.
pub const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// Request max tokens.
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// Request stop sequences (string array).
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// Request frequency penalty.
pub const GEN_AI_REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// Request presence penalty.
pub const GEN_AI_REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// Tool name.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// Tool call id.
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// Third-party content field: input messages (gated and scrubbed, never exported raw).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// Third-party content field: output messages.
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// Third-party content field: system instructions.
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// Third-party content field: a tool call's arguments (genai), gated and scrubbed like all content.
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// Third-party content field: a tool call's result (genai), gated and scrubbed like all content.
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// Third-party content field (legacy): prompt.
pub const GEN_AI_PROMPT: &str = "gen_ai.prompt";
/// Third-party content field (legacy): completion.
pub const GEN_AI_COMPLETION: &str = "gen_ai.completion";
/// Input tokens read from the provider's prompt cache (semconv); read from foreign spans as the cached-token
/// figure and written by `set_tokens` beside [`USAGE_CACHE_READ_TOKENS`].
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to the provider's prompt cache (semconv); the counterpart of
/// [`USAGE_CACHE_WRITE_TOKENS`].
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
/// Reasoning (thinking) output tokens, a part of the output tokens (semconv).
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// Input tokens written to the provider's prompt cache: the newer semconv spelling of
/// [`GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS`] (semantic-conventions-genai changelog 440), written under
/// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`; both are always read.
pub const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
/// Audio input tokens, a part of the input tokens (semconv per-modality usage).
pub const GEN_AI_USAGE_AUDIO_INPUT_TOKENS: &str = "gen_ai.usage.audio.input_tokens";
/// Image input tokens, a part of the input tokens (semconv per-modality usage).
pub const GEN_AI_USAGE_IMAGE_INPUT_TOKENS: &str = "gen_ai.usage.image.input_tokens";
/// Audio output tokens, a part of the output tokens (semconv per-modality usage).
pub const GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS: &str = "gen_ai.usage.audio.output_tokens";
/// Image output tokens, a part of the output tokens (semconv per-modality usage).
pub const GEN_AI_USAGE_IMAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.image.output_tokens";
/// A crate's own total of input and output tokens: read only as a cross-check, never added.
pub const GEN_AI_USAGE_TOTAL_TOKENS: &str = "gen_ai.usage.total_tokens";
/// Older semconv spelling of the input tokens (read).
pub const GEN_AI_USAGE_PROMPT_TOKENS: &str = "gen_ai.usage.prompt_tokens";
/// Older semconv spelling of the output tokens (read).
pub const GEN_AI_USAGE_COMPLETION_TOKENS: &str = "gen_ai.usage.completion_tokens";
/// adk-rust's cache-read input tokens (read; written back as [`GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS`]).
pub const ADK_USAGE_CACHE_READ_TOKENS: &str = "gen_ai.usage.cache_read_tokens";
/// adk-rust's cache-write input tokens (read).
pub const ADK_USAGE_CACHE_CREATION_TOKENS: &str = "gen_ai.usage.cache_creation_tokens";
/// adk-rust's and tirea's reasoning tokens (read).
pub const ADK_USAGE_THINKING_TOKENS: &str = "gen_ai.usage.thinking_tokens";
/// adk-rust's audio input tokens (read).
pub const ADK_USAGE_AUDIO_INPUT_TOKENS: &str = "gen_ai.usage.audio_input_tokens";
/// adk-rust's audio output tokens (read).
pub const ADK_USAGE_AUDIO_OUTPUT_TOKENS: &str = "gen_ai.usage.audio_output_tokens";
/// rig's reasoning tokens (read).
pub const RIG_USAGE_REASONING_TOKENS: &str = "gen_ai.usage.reasoning_tokens";
/// rig's Gemini tool-use prompt tokens (read, exported as recorded, not priced separately).
pub const RIG_USAGE_TOOL_USE_PROMPT_TOKENS: &str = "gen_ai.usage.tool_use_prompt_tokens";
/// adk-rust's spelling of the tool call id (read; exported as [`GEN_AI_TOOL_CALL_ID`]).
pub const ADK_TOOL_CALL_ID: &str = "gen_ai.tool.call_id";
/// swiftide's (feature `langfuse`) usage: a JSON object on an event, its members read as
/// `langfuse.usage.<member>`.
pub const LANGFUSE_USAGE: &str = "langfuse.usage";
/// `prompt_tokens` of [`LANGFUSE_USAGE`].
pub const LANGFUSE_USAGE_PROMPT_TOKENS: &str = "langfuse.usage.prompt_tokens";
/// `completion_tokens` of [`LANGFUSE_USAGE`].
pub const LANGFUSE_USAGE_COMPLETION_TOKENS: &str = "langfuse.usage.completion_tokens";
/// `total_tokens` of [`LANGFUSE_USAGE`].
pub const LANGFUSE_USAGE_TOTAL_TOKENS: &str = "langfuse.usage.total_tokens";
/// `details.prompt_tokens_details.cached_tokens` of [`LANGFUSE_USAGE`] (swiftide-core's `Usage`).
pub const LANGFUSE_USAGE_PROMPT_CACHED_TOKENS: &str = "langfuse.usage.details.prompt_tokens_details.cached_tokens";
/// `details.input_tokens_details.cached_tokens` of [`LANGFUSE_USAGE`] (the Responses API's shape).
pub const LANGFUSE_USAGE_INPUT_CACHED_TOKENS: &str = "langfuse.usage.details.input_tokens_details.cached_tokens";
/// `details.completion_tokens_details.reasoning_tokens` of [`LANGFUSE_USAGE`].
pub const LANGFUSE_USAGE_COMPLETION_REASONING_TOKENS: &str =
    "langfuse.usage.details.completion_tokens_details.reasoning_tokens";
/// `details.output_tokens_details.reasoning_tokens` of [`LANGFUSE_USAGE`].
pub const LANGFUSE_USAGE_OUTPUT_REASONING_TOKENS: &str =
    "langfuse.usage.details.output_tokens_details.reasoning_tokens";
/// swiftide's marker of a model-call span (`#[instrument(fields(langfuse.type = "GENERATION"))]`): a span
/// declaring it is recognized as an LLM span.
pub const LANGFUSE_TYPE: &str = "langfuse.type";
/// `input` of [`LANGFUSE_USAGE`] (Langfuse's generic usage shape).
pub const LANGFUSE_USAGE_INPUT: &str = "langfuse.usage.input";
/// `output` of [`LANGFUSE_USAGE`].
pub const LANGFUSE_USAGE_OUTPUT: &str = "langfuse.usage.output";
/// swiftide's model name (read as the request model of an LLM-shaped span).
pub const LANGFUSE_MODEL: &str = "langfuse.model";
/// swiftide's captured prompt (content: gated and scrubbed, never exported raw).
pub const LANGFUSE_INPUT: &str = "langfuse.input";
/// swiftide's captured completion (content: gated and scrubbed, never exported raw).
pub const LANGFUSE_OUTPUT: &str = "langfuse.output";
/// Written on an LLM span whose crate-reported total (`gen_ai.usage.total_tokens`, …) differs from its
/// input + output as read: the reported figure, for the record (never used to price).
pub const USAGE_TOTAL_TOKENS_MISMATCH: &str = "botanu.usage.total_tokens_mismatch";
/// The cost of an LLM call in the proposal's shape (double), written beside `botanu.cost.usd` under
/// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`.
pub const GEN_AI_USAGE_COST_AMOUNT: &str = "gen_ai.usage.cost.amount";
/// Currency of [`GEN_AI_USAGE_COST_AMOUNT`]: always `USD`.
pub const GEN_AI_USAGE_COST_CURRENCY: &str = "gen_ai.usage.cost.currency";
/// Where [`GEN_AI_USAGE_COST_AMOUNT`] came from: `local` (priced by botanu) or `provider` (reported by it).
pub const GEN_AI_USAGE_COST_SOURCE: &str = "gen_ai.usage.cost.source";
/// [`GEN_AI_USAGE_COST_SOURCE`] of a cost botanu computed.
pub const COST_SOURCE_LOCAL: &str = "local";
/// [`GEN_AI_USAGE_COST_SOURCE`] of a cost the provider reported (`set_provider_cost`, `gen_ai.usage.cost`).
pub const COST_SOURCE_PROVIDER: &str = "provider";
/// Token modality metric attribute of the `gen_ai.client.inference.usage.*` counters: `text`, `audio`,
/// `image`, or `unknown` (a failed call's zero).
pub const GEN_AI_TOKEN_MODALITY: &str = "gen_ai.token.modality";
/// Token type metric attribute.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Cached input tokens.
pub const USAGE_CACHED_TOKENS: &str = "botanu.usage.cached_tokens";
/// Cache-read input tokens.
pub const USAGE_CACHE_READ_TOKENS: &str = "botanu.usage.cache_read_tokens";
/// Cache-write input tokens.
pub const USAGE_CACHE_WRITE_TOKENS: &str = "botanu.usage.cache_write_tokens";
/// Whether the response was streamed.
pub const REQUEST_STREAMING: &str = "botanu.request.streaming";
/// Whether the response came from a cache.
pub const REQUEST_CACHE_HIT: &str = "botanu.request.cache_hit";
/// Attempt number of this call.
pub const REQUEST_ATTEMPT: &str = "botanu.request.attempt";
/// Captured prompt (gated, scrubbed, cut).
pub const EVAL_INPUT_CONTENT: &str = "botanu.eval.input_content";
/// Captured completion (gated, scrubbed, cut).
pub const EVAL_OUTPUT_CONTENT: &str = "botanu.eval.output_content";
/// Captured retrieval content of a DB span (gated, scrubbed, cut).
pub const EVAL_RETRIEVAL_CONTENT: &str = "botanu.eval.retrieval_content";
/// Error type of a failed operation.
pub const ERROR_TYPE: &str = "error.type";

// === tool ===

/// Whether the tool call succeeded.
pub const TOOL_SUCCESS: &str = "botanu.tool.success";
/// Items the tool returned.
pub const TOOL_ITEMS_RETURNED: &str = "botanu.tool.items_returned";
/// Bytes the tool processed.
pub const TOOL_BYTES_PROCESSED: &str = "botanu.tool.bytes_processed";
/// Tool duration in milliseconds.
pub const TOOL_DURATION_MS: &str = "botanu.tool.duration_ms";
/// Prefix of tool metadata keys.
pub const TOOL_METADATA_PREFIX: &str = "botanu.tool.";

// === database ===

/// Database system (normalized).
pub const DB_SYSTEM: &str = "db.system";
/// Newer spelling of the database system key, recognized on third-party spans.
pub const DB_SYSTEM_NAME: &str = "db.system.name";
/// Database operation (upper case).
pub const DB_OPERATION: &str = "db.operation";
/// Database name.
pub const DB_NAME: &str = "db.name";
/// Stable spelling of [`DB_OPERATION`], written under `OTEL_SEMCONV_STABILITY_OPT_IN=database`
/// (`database/dup`: both); read always.
pub const DB_OPERATION_NAME: &str = "db.operation.name";
/// Stable spelling of [`DB_NAME`], written under `OTEL_SEMCONV_STABILITY_OPT_IN=database` (`database/dup`: both).
pub const DB_NAMESPACE: &str = "db.namespace";
/// Collection / table.
pub const DB_COLLECTION_NAME: &str = "db.collection.name";
/// Schema.
pub const DB_SCHEMA: &str = "db.schema";
/// Rows returned.
pub const DATA_ROWS_RETURNED: &str = "botanu.data.rows_returned";
/// Rows affected.
pub const DATA_ROWS_AFFECTED: &str = "botanu.data.rows_affected";
/// Bytes read.
pub const DATA_BYTES_READ: &str = "botanu.data.bytes_read";
/// Bytes written.
pub const DATA_BYTES_WRITTEN: &str = "botanu.data.bytes_written";
/// Objects touched by a storage operation.
pub const DATA_OBJECTS_COUNT: &str = "botanu.data.objects_count";
/// Warehouse query id.
pub const WAREHOUSE_QUERY_ID: &str = "botanu.warehouse.query_id";
/// Warehouse bytes scanned.
pub const WAREHOUSE_BYTES_SCANNED: &str = "botanu.warehouse.bytes_scanned";
/// Warehouse partitions scanned.
pub const WAREHOUSE_PARTITIONS_SCANNED: &str = "botanu.warehouse.partitions_scanned";
/// Bytes transferred (data, storage, messaging).
pub const BYTES_TRANSFERRED: &str = "botanu.bytes_transferred";
/// Data operation error.
pub const DATA_ERROR: &str = "botanu.data.error";
/// Data operation duration in milliseconds.
pub const DATA_DURATION_MS: &str = "botanu.data.duration_ms";
/// Prefix of data metadata keys.
pub const DATA_METADATA_PREFIX: &str = "botanu.data.";

// === object storage ===

/// Storage system (normalized).
pub const STORAGE_SYSTEM: &str = "botanu.storage.system";
/// Storage operation (upper case).
pub const STORAGE_OPERATION: &str = "botanu.storage.operation";
/// Bucket.
pub const STORAGE_BUCKET: &str = "botanu.storage.bucket";
/// Storage error.
pub const STORAGE_ERROR: &str = "botanu.storage.error";
/// Storage duration in milliseconds.
pub const STORAGE_DURATION_MS: &str = "botanu.storage.duration_ms";
/// Prefix of storage metadata keys.
pub const STORAGE_METADATA_PREFIX: &str = "botanu.storage.";

// === messaging ===

/// Messaging system (normalized).
pub const MESSAGING_SYSTEM: &str = "messaging.system";
/// Messaging operation (lower case).
pub const MESSAGING_OPERATION: &str = "messaging.operation";
/// Destination (queue, topic).
pub const MESSAGING_DESTINATION_NAME: &str = "messaging.destination.name";
/// Messages handled.
pub const MESSAGING_MESSAGE_COUNT: &str = "botanu.messaging.message_count";
/// Bytes handled by the messaging operation.
pub const MESSAGING_BYTES_TRANSFERRED: &str = "botanu.messaging.bytes_transferred";
/// Messaging error.
pub const MESSAGING_ERROR: &str = "botanu.messaging.error";
/// Messaging duration in milliseconds.
pub const MESSAGING_DURATION_MS: &str = "botanu.messaging.duration_ms";
/// Prefix of messaging metadata keys.
pub const MESSAGING_METADATA_PREFIX: &str = "botanu.messaging.";

// === AWS SDK (OpenTelemetry RPC and AWS SDK conventions; issue 29) ===

/// `rpc.system` of an AWS SDK operation span (its value there is [`RPC_SYSTEM_AWS_API`]).
pub const RPC_SYSTEM: &str = "rpc.system";
/// The AWS service of an SDK operation span (`S3`, `DynamoDB`, …).
pub const RPC_SERVICE: &str = "rpc.service";
/// The SDK operation (`PutObject`, `GetItem`, …).
pub const RPC_METHOD: &str = "rpc.method";
/// `rpc.system` of the AWS SDKs.
pub const RPC_SYSTEM_AWS_API: &str = "aws-api";
/// The cloud provider written on AWS SDK operation spans.
pub const CLOUD_PROVIDER_AWS: &str = "aws";
/// The AWS request id of the operation's last response (`x-amz-request-id`, `x-amzn-requestid`).
pub const AWS_REQUEST_ID: &str = "aws.request_id";
/// The S3 bucket of an operation.
pub const AWS_S3_BUCKET: &str = "aws.s3.bucket";
/// The DynamoDB tables of an operation (string array).
pub const AWS_DYNAMODB_TABLE_NAMES: &str = "aws.dynamodb.table_names";
/// Requests the provider bills for one operation: its attempts that got a response below 500 (S3 bills
/// no 5xx response); written by the AWS SDK interceptor, read by pricing instead of one request.
pub const DATA_BILLED_REQUESTS: &str = "botanu.data.billed_requests";

// === HTTP server (OpenTelemetry HTTP conventions, stable) ===

/// HTTP request method (`GET`, `POST`, …) of the run an HTTP server opened for a request.
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// Route of the request: the framework's low-cardinality template (`/users/{id}`) when it has one.
pub const HTTP_ROUTE: &str = "http.route";

// === exception event (OpenTelemetry) ===

/// Name of the exception event.
pub const EVENT_EXCEPTION: &str = "exception";
/// Exception type.
pub const EXCEPTION_TYPE: &str = "exception.type";
/// Exception message.
pub const EXCEPTION_MESSAGE: &str = "exception.message";

// === tracing conventions understood on any span ===

/// Overrides the exported span name (the `tracing-opentelemetry` convention).
pub const OTEL_NAME: &str = "otel.name";
/// Overrides the exported span kind: `server`, `client`, `producer`, `consumer`, `internal`.
pub const OTEL_KIND: &str = "otel.kind";
/// Sets the span status (the `tracing-opentelemetry` convention): `error` fails the span, `ok` marks it
/// succeeded, `unset` leaves it. Never exported as an attribute.
pub const OTEL_STATUS_CODE: &str = "otel.status_code";
/// The description of an ERROR status set through [`OTEL_STATUS_CODE`]. Never exported as an attribute.
pub const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";
/// Prefix of the `tracing-opentelemetry` control fields: none of them is exported as an attribute.
pub const OTEL_PREFIX: &str = "otel.";
/// The `message` field of `tracing` events.
pub const MESSAGE: &str = "message";
/// Field that marks an event as an error when true or present (`error = %e`).
pub const ERROR_FIELD: &str = "error";

// === span names ===

/// Prefix of run span names: `botanu.run/{workflow}`.
pub const RUN_SPAN_PREFIX: &str = "botanu.run/";
/// Prefix of step span names: `botanu.step/{name}`.
pub const STEP_SPAN_PREFIX: &str = "botanu.step/";
/// Prefix of database span names: `db.{system}.{operation}`.
pub const DB_SPAN_PREFIX: &str = "db.";
/// Prefix of object storage span names: `storage.{system}.{operation}`.
pub const STORAGE_SPAN_PREFIX: &str = "storage.";
/// Prefix of messaging span names: `messaging.{system}.{operation}`.
pub const MESSAGING_SPAN_PREFIX: &str = "messaging.";
/// GenAI operation of tool spans.
pub const OPERATION_EXECUTE_TOOL: &str = "execute_tool";
/// Default GenAI operation.
pub const OPERATION_CHAT: &str = "chat";

// === resource ===

/// `telemetry.sdk.name` value.
pub const SDK_NAME: &str = "botanu";
/// Resource key of the deployment environment.
pub const RESOURCE_DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";
/// Resource key of the SDK name.
pub const RESOURCE_SDK_NAME: &str = "telemetry.sdk.name";
/// Resource key of the SDK version.
pub const RESOURCE_SDK_VERSION: &str = "telemetry.sdk.version";
/// Resource key of the service name.
pub const RESOURCE_SERVICE_NAME: &str = "service.name";
/// Resource key of the service version.
pub const RESOURCE_SERVICE_VERSION: &str = "service.version";
/// Resource key of the service namespace.
pub const RESOURCE_SERVICE_NAMESPACE: &str = "service.namespace";

/// The names `tracing` uses for the spans the macros create; the exported name is computed by the layer.
pub mod span_names {
    /// `run_span!`.
    pub const RUN: &str = "botanu.run";
    /// `step_span!`.
    pub const STEP: &str = "botanu.step";
    /// `llm_span!`.
    pub const LLM: &str = "botanu.llm";
    /// `tool_span!`.
    pub const TOOL: &str = "botanu.tool";
    /// `db_span!`.
    pub const DB: &str = "botanu.db";
    /// `storage_span!`.
    pub const STORAGE: &str = "botanu.storage";
    /// `messaging_span!`.
    pub const MESSAGING: &str = "botanu.messaging";
}

/// Metric instrument names, units and metric-only attribute keys.
pub mod metrics {
    /// Token usage histogram (per token type).
    pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
    /// Unit of [`TOKEN_USAGE`].
    pub const TOKEN_USAGE_UNIT: &str = "{token}";
    /// LLM call duration histogram.
    pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
    /// Time-to-first-chunk histogram of streamed LLM calls (OTel GenAI semconv client metric, from
    /// [`GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK`](super::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)), unit
    /// [`SECONDS`].
    pub const TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
    /// Inference duration histogram: [`OPERATION_DURATION`] for model calls under
    /// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`.
    pub const INFERENCE_DURATION: &str = "gen_ai.client.inference.duration";
    /// [`TIME_TO_FIRST_CHUNK`] under `gen_ai_latest_experimental`.
    pub const INFERENCE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.inference.time_to_first_chunk";
    /// Input-token counter (`{token}`, with `gen_ai.token.modality`) under `gen_ai_latest_experimental`,
    /// replacing [`TOKEN_USAGE`]; recorded on failed calls too (0, modality `unknown`).
    pub const INFERENCE_INPUT_TOKENS: &str = "gen_ai.client.inference.usage.input_tokens";
    /// Output-token counter under `gen_ai_latest_experimental`.
    pub const INFERENCE_OUTPUT_TOKENS: &str = "gen_ai.client.inference.usage.output_tokens";
    /// Cache-read input-token counter under `gen_ai_latest_experimental`.
    pub const INFERENCE_CACHE_READ_TOKENS: &str = "gen_ai.client.inference.usage.cache_read.input_tokens";
    /// Cache-write input-token counter under `gen_ai_latest_experimental`.
    pub const INFERENCE_CACHE_WRITE_TOKENS: &str = "gen_ai.client.inference.usage.cache_write.input_tokens";
    /// Reasoning output-token counter under `gen_ai_latest_experimental`.
    pub const INFERENCE_REASONING_TOKENS: &str = "gen_ai.client.inference.usage.reasoning.output_tokens";
    /// `gen_ai.token.modality` values.
    pub const MODALITY_TEXT: &str = "text";
    /// `gen_ai.token.modality` of audio tokens.
    pub const MODALITY_AUDIO: &str = "audio";
    /// `gen_ai.token.modality` of image tokens.
    pub const MODALITY_IMAGE: &str = "image";
    /// `gen_ai.token.modality` of a failed call's zero.
    pub const MODALITY_UNKNOWN: &str = "unknown";
    /// Seconds.
    pub const SECONDS: &str = "s";
    /// LLM attempts counter.
    pub const ATTEMPTS: &str = "botanu.gen_ai.attempts";
    /// Unit of [`ATTEMPTS`].
    pub const ATTEMPTS_UNIT: &str = "{attempt}";
    /// Runs counter, one per closed run span: attributes `botanu.workflow`, [`STATUS`] (the run status of
    /// its `botanu.run.completed` event: success, failure, partial, timeout, canceled) and
    /// [`RUN_RETRY`]. Unit [`ATTEMPTS_UNIT`]: every run is an attempt at its business event.
    pub const RUN_ATTEMPTS: &str = "botanu.run.attempts";
    /// Attribute of [`RUN_ATTEMPTS`]: whether the run retries an earlier one (`botanu.attempt` > 1).
    pub const RUN_RETRY: &str = "botanu.run.retry";
    /// Tool duration histogram.
    pub const TOOL_DURATION: &str = "botanu.tool.duration";
    /// Tool executions counter.
    pub const TOOL_EXECUTIONS: &str = "botanu.tool.executions";
    /// Unit of [`TOOL_EXECUTIONS`].
    pub const TOOL_EXECUTIONS_UNIT: &str = "{execution}";
    /// Bytes scanned by warehouse queries.
    pub const DATA_BYTES_SCANNED: &str = "botanu.data.bytes_scanned";
    /// Rows returned by database operations.
    pub const DATA_ROWS_RETURNED: &str = "botanu.data.rows_returned";
    /// Rows affected by database operations.
    pub const DATA_ROWS_AFFECTED: &str = "botanu.data.rows_affected";
    /// Unit of the row counters.
    pub const ROWS_UNIT: &str = "{row}";
    /// Bytes read or written by object storage (attribute [`DIRECTION`]).
    pub const STORAGE_BYTES: &str = "botanu.storage.bytes";
    /// Objects touched by object storage operations.
    pub const STORAGE_OBJECTS: &str = "botanu.storage.objects";
    /// Unit of [`STORAGE_OBJECTS`].
    pub const OBJECTS_UNIT: &str = "{object}";
    /// Messages published or consumed.
    pub const MESSAGING_MESSAGES: &str = "botanu.messaging.messages";
    /// Unit of [`MESSAGING_MESSAGES`].
    pub const MESSAGES_UNIT: &str = "{message}";
    /// Bytes.
    pub const BYTES_UNIT: &str = "By";
    /// Self-metric: spans dropped because the export queue was full.
    pub const EXPORT_DROPPED_SPANS: &str = "botanu.export.dropped_spans";
    /// Self-metric: spans in batches the exporter failed to send.
    pub const EXPORT_FAILED_SPANS: &str = "botanu.export.failed_spans";
    /// Unit of the self-metrics.
    pub const SPANS_UNIT: &str = "{span}";
    /// Self-metric: metric export requests that failed (collector down, TLS refused, timeout).
    pub const EXPORT_FAILED_METRIC_EXPORTS: &str = "botanu.export.failed_metric_exports";
    /// Unit of `botanu.export.failed_metric_exports`.
    pub const EXPORTS_UNIT: &str = "{export}";
    /// Outcome attribute of the attempt/tool metrics: [`STATUS_SUCCESS`], [`STATUS_ERROR`] or
    /// [`STATUS_UNKNOWN`].
    pub const STATUS: &str = "status";
    /// `status` value of an operation with evidence of success: a response (tokens, response id, finish
    /// reasons, response model) on an LLM span, a recorded result on a tool span, or `otel.status_code = ok`.
    pub const STATUS_SUCCESS: &str = "success";
    /// `status` value of a failed operation (`error.type`, `set_error`, an error of its own, or
    /// `otel.status_code = error`).
    pub const STATUS_ERROR: &str = "error";
    /// `status` value of an operation that closed with no evidence either way (a client that records
    /// nothing when a call fails): counted, but never as a success.
    pub const STATUS_UNKNOWN: &str = "unknown";
    /// Direction attribute of [`STORAGE_BYTES`]: `read` or `write`.
    pub const DIRECTION: &str = "direction";
    /// Normalized operation attribute of the data-operation counters.
    pub const OPERATION: &str = "botanu.operation";
    /// `gen_ai.token.type` value for input tokens.
    pub const TOKEN_INPUT: &str = "input";
    /// `gen_ai.token.type` value for output tokens.
    pub const TOKEN_OUTPUT: &str = "output";
    /// Explicit buckets of [`TOKEN_USAGE`].
    pub const TOKEN_BUCKETS: [f64; 14] = [
        1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
        67108864.0,
    ];
    /// Explicit buckets of the duration histograms, in seconds.
    pub const DURATION_BUCKETS: [f64; 14] =
        [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
}

/// Propagation: W3C headers, baggage-only keys and HTTP fallback headers.
pub mod propagation {
    /// W3C trace context header.
    pub const TRACEPARENT: &str = "traceparent";
    /// W3C trace state header.
    pub const TRACESTATE: &str = "tracestate";
    /// W3C baggage header.
    pub const BAGGAGE: &str = "baggage";
    /// Baggage key of the run deadline (epoch milliseconds), full mode.
    pub const DEADLINE: &str = "botanu.deadline";
    /// Baggage key marking a cancelled run (`true`), full mode.
    pub const CANCELLED: &str = "botanu.cancelled";
    /// HTTP fallback header: run id.
    pub const HEADER_RUN_ID: &str = "x-botanu-run-id";
    /// HTTP fallback header: workflow.
    pub const HEADER_WORKFLOW: &str = "x-botanu-workflow";
    /// HTTP fallback header: customer id.
    pub const HEADER_CUSTOMER_ID: &str = "x-botanu-customer-id";
}

// === cost (contract §7) ===

/// Prefix of every per-span cost key (`botanu.cost.usd`, `botanu.cost.source`, …).
pub const COST_PREFIX: &str = "botanu.cost.";
/// Prefix of the run roll-up's cost keys (`botanu.run.cost.usd`, …).
pub const RUN_COST_PREFIX: &str = "botanu.run.cost.";
/// Prefix of the run roll-up's token keys (`botanu.run.tokens.input`, …).
pub const RUN_TOKENS_PREFIX: &str = "botanu.run.tokens.";
/// DynamoDB read request units of a database span (data metadata `read_units`), priced as data operations.
pub const DATA_READ_UNITS: &str = "botanu.data.read_units";
/// DynamoDB write request units of a database span (data metadata `write_units`).
pub const DATA_WRITE_UNITS: &str = "botanu.data.write_units";
/// Estimated cost of a priced span in USD (double): the sum of the parts below.
pub const COST_USD: &str = "botanu.cost.usd";
/// Part of [`COST_USD`] for uncached input tokens.
pub const COST_INPUT_USD: &str = "botanu.cost.input_usd";
/// Part of [`COST_USD`] for output tokens (reasoning excluded).
pub const COST_OUTPUT_USD: &str = "botanu.cost.output_usd";
/// Part of [`COST_USD`] for input tokens read from the prompt cache.
pub const COST_CACHE_READ_USD: &str = "botanu.cost.cache_read_usd";
/// Part of [`COST_USD`] for input tokens written to the prompt cache.
pub const COST_CACHE_WRITE_USD: &str = "botanu.cost.cache_write_usd";
/// Part of [`COST_USD`] for reasoning (thinking) output tokens.
pub const COST_REASONING_USD: &str = "botanu.cost.reasoning_usd";
/// Part of [`COST_USD`] charged per request.
pub const COST_REQUEST_USD: &str = "botanu.cost.request_usd";
/// Part of [`COST_USD`] for a data operation (bytes scanned, requests, messages, request units).
pub const COST_DATA_USD: &str = "botanu.cost.data_usd";
/// Where the price came from: `genai-prices 0.2.1`, `list-price 2026-12-02`, `override`, or a catalog file.
pub const COST_SOURCE: &str = "botanu.cost.source";
/// Provider (or data system) the price was matched under, as the price source spells it.
pub const COST_PROVIDER: &str = "botanu.cost.provider";
/// Model (or data price class) the price was matched under, as the price source spells it.
pub const COST_MODEL: &str = "botanu.cost.model";
/// Always `true` on a priced span: the cost is an estimate, never an invoice.
pub const COST_ESTIMATED: &str = "botanu.cost.estimated";
/// `true` on a span that should have been priced and was not (never a silent `0.0`).
pub const COST_UNPRICED: &str = "botanu.cost.unpriced";
/// Why a span is unpriced: `unknown_model`, `unknown_provider`, `no_usage`, `no_price`.
pub const COST_UNPRICED_REASON: &str = "botanu.cost.unpriced_reason";
/// Run roll-up: total estimated cost of what closed inside the run, in this process.
pub const RUN_COST_USD: &str = "botanu.run.cost.usd";
/// Run roll-up: LLM part of [`RUN_COST_USD`].
pub const RUN_COST_LLM_USD: &str = "botanu.run.cost.llm_usd";
/// Run roll-up: data-operation part of [`RUN_COST_USD`].
pub const RUN_COST_DATA_USD: &str = "botanu.run.cost.data_usd";
/// Run roll-up: tool part of [`RUN_COST_USD`].
pub const RUN_COST_TOOL_USD: &str = "botanu.run.cost.tool_usd";
/// Run roll-up: number of LLM (model) calls.
pub const RUN_LLM_CALLS: &str = "botanu.run.llm_calls";
/// Run roll-up: input tokens, cached ones included.
pub const RUN_TOKENS_INPUT: &str = "botanu.run.tokens.input";
/// Run roll-up: output tokens, reasoning ones included.
pub const RUN_TOKENS_OUTPUT: &str = "botanu.run.tokens.output";
/// Run roll-up: input tokens read from a prompt cache (a part of [`RUN_TOKENS_INPUT`]).
pub const RUN_TOKENS_CACHE_READ: &str = "botanu.run.tokens.cache_read";
/// Run roll-up: number of spans that should have been priced and were not.
pub const RUN_COST_UNPRICED_COUNT: &str = "botanu.run.cost.unpriced_count";
/// Run roll-up: what the roll-up can see; always [`RUN_COST_SCOPE_PROCESS`].
pub const RUN_COST_SCOPE: &str = "botanu.run.cost.scope";
/// [`RUN_COST_SCOPE`] value: only spans that closed inside the run, in this process.
pub const RUN_COST_SCOPE_PROCESS: &str = "process";
/// Run roll-up: spans of the run still open when it closed; what they cost is not in the roll-up.
pub const RUN_COST_OPEN_SPANS: &str = "botanu.run.cost.open_spans";
/// Run cost divided by the outcome's `value_amount` (written only when that is > 0).
pub const OUTCOME_COST_PER_UNIT: &str = "botanu.outcome.cost_per_unit";
/// Cost counter (contract §3), by category, provider or system, model and workflow.
pub const METRIC_COST: &str = "botanu.cost";
/// Unit of [`METRIC_COST`].
pub const METRIC_COST_UNIT: &str = "USD";
/// Category attribute of [`METRIC_COST`]: [`COST_CATEGORY_LLM`], [`COST_CATEGORY_DATA`], [`COST_CATEGORY_TOOL`].
pub const COST_CATEGORY: &str = "botanu.cost.category";
/// [`COST_CATEGORY`] value of LLM calls.
pub const COST_CATEGORY_LLM: &str = "llm";
/// [`COST_CATEGORY`] value of data operations (database, warehouse, storage, messaging).
pub const COST_CATEGORY_DATA: &str = "data";
/// [`COST_CATEGORY`] value of tool calls.
pub const COST_CATEGORY_TOOL: &str = "tool";

// === Budgets (contract §8) ===

/// Run span under a run cap: the cap's limit, USD.
pub const BUDGET_RUN_LIMIT_USD: &str = "botanu.budget.run.limit_usd";
/// Run span under a run cap: what the run spent (settled at close), USD.
pub const BUDGET_RUN_SPENT_USD: &str = "botanu.budget.run.spent_usd";
/// Run span: a reservation inside the run was denied or a cap applying to it passed 100 %.
pub const BUDGET_EXCEEDED: &str = "botanu.budget.exceeded";
/// Event on a span whose reservation was denied.
pub const EVENT_BUDGET_DENIED: &str = "botanu.budget.denied";
/// Event on a span whose reservation (or settlement) crossed a cap's threshold.
pub const EVENT_BUDGET_THRESHOLD: &str = "botanu.budget.threshold";
/// `scope` attribute of the budget events: `run`, `customer`, `tenant`, `workflow`, `process`.
pub const BUDGET_EVENT_SCOPE: &str = "scope";
/// `key` attribute of the budget events: the customer, tenant or workflow the cap counted.
pub const BUDGET_EVENT_KEY: &str = "key";
/// `window` attribute of the budget events: `run`, `minute`, `hour`, `day`, `month`.
pub const BUDGET_EVENT_WINDOW: &str = "window";
/// `limit_usd` attribute of the budget events.
pub const BUDGET_EVENT_LIMIT_USD: &str = "limit_usd";
/// `spent_usd` attribute of the budget events.
pub const BUDGET_EVENT_SPENT_USD: &str = "spent_usd";
/// `reserved_usd` attribute of [`EVENT_BUDGET_DENIED`].
pub const BUDGET_EVENT_RESERVED_USD: &str = "reserved_usd";
/// `estimate_usd` attribute of [`EVENT_BUDGET_DENIED`] (absent when the estimate was unpriced).
pub const BUDGET_EVENT_ESTIMATE_USD: &str = "estimate_usd";
/// `threshold` attribute of [`EVENT_BUDGET_THRESHOLD`] (0.5, 0.8, 1.0 by default).
pub const BUDGET_EVENT_THRESHOLD: &str = "threshold";
/// `soft = true` on [`EVENT_BUDGET_THRESHOLD`] of a soft cap.
pub const BUDGET_EVENT_SOFT: &str = "soft";
/// `reason` attribute of [`EVENT_BUDGET_DENIED`]: `limit`, `unpriced`, `store_unavailable`.
pub const BUDGET_EVENT_REASON: &str = "reason";
/// Counter of budget decisions (contract §8).
pub const METRIC_BUDGET_DECISIONS: &str = "botanu.budget.decisions";
/// Unit of [`METRIC_BUDGET_DECISIONS`].
pub const METRIC_BUDGET_DECISIONS_UNIT: &str = "{decision}";
/// Scope attribute of [`METRIC_BUDGET_DECISIONS`].
pub const BUDGET_SCOPE: &str = "botanu.budget.scope";
/// Decision attribute of [`METRIC_BUDGET_DECISIONS`]: `allowed`, `warned`, `soft_limited`, `denied`,
/// `store_unavailable`.
pub const BUDGET_DECISION: &str = "botanu.budget.decision";

// === cost depth (contract §7, "Added in round 3"; issue 26) ===
// Service tiers, cache-write durations, modalities, provider-reported cost, non-token charges. Kept apart
// from the token keys above: the token-count dialects (issue 24) own how token counts are read.

/// Part of [`COST_USD`] for audio input and output tokens, at their own rates.
pub const COST_AUDIO_USD: &str = "botanu.cost.audio_usd";
/// Part of [`COST_USD`] for image input and output tokens, at their own rates.
pub const COST_IMAGE_USD: &str = "botanu.cost.image_usd";
/// Part of [`COST_USD`] for the web searches an LLM call made.
pub const COST_WEB_SEARCH_USD: &str = "botanu.cost.web_search_usd";
/// On a priced span: the charges its [`COST_USD`] does not include because no rate for them is known
/// (so the total is a lower bound), e.g. [`UNPRICED_PART_WEB_SEARCH`].
pub const COST_UNPRICED_PARTS: &str = "botanu.cost.unpriced_parts";
/// [`COST_UNPRICED_PARTS`] of a call whose web searches have no per-search rate (catalog or override).
pub const UNPRICED_PART_WEB_SEARCH: &str = "web_search";
/// With a provider-reported [`COST_USD`]: the local estimate of the same call.
pub const COST_ESTIMATE_USD: &str = "botanu.cost.estimate_usd";
/// The service tier an LLM call was priced at (`standard`, `flex`, `priority`, `batch`); written when
/// not standard, or when the span said so.
pub const COST_SERVICE_TIER: &str = "botanu.cost.service_tier";
/// The service tier the application recorded (`set_service_tier`).
pub const REQUEST_SERVICE_TIER: &str = "botanu.request.service_tier";
/// OpenAI semantic conventions: the service tier requested.
pub const OPENAI_REQUEST_SERVICE_TIER: &str = "openai.request.service_tier";
/// OpenAI semantic conventions: the service tier that served the request (read before the requested one).
pub const OPENAI_RESPONSE_SERVICE_TIER: &str = "openai.response.service_tier";
/// Of the cache-write tokens, those written with a 1-hour lifetime (Anthropic
/// `cache_creation.ephemeral_1h_input_tokens`).
pub const USAGE_CACHE_WRITE_1H_TOKENS: &str = "botanu.usage.cache_write_1h_tokens";
/// Web searches an LLM call made (Anthropic `server_tool_use.web_search_requests`; `set_web_searches`).
pub const USAGE_WEB_SEARCH_REQUESTS: &str = "botanu.usage.web_search_requests";
/// The cost the provider reported it billed, USD (`set_provider_cost`).
pub const USAGE_PROVIDER_COST_USD: &str = "botanu.usage.provider_cost_usd";
/// The provider-reported cost as OpenRouter (`usage.cost`), LiteLLM and rig record it, USD.
pub const GEN_AI_USAGE_COST: &str = "gen_ai.usage.cost";
/// Counter of spans whose local estimate and provider-reported cost differ by more than 1 %.
pub const METRIC_COST_ESTIMATE_DRIFT: &str = "botanu.cost.estimate_drift";
/// Unit of [`METRIC_COST_ESTIMATE_DRIFT`].
pub const METRIC_COST_ESTIMATE_DRIFT_UNIT: &str = "{span}";
/// [`METRIC_COST`]'s customer or tenant value for everything outside the allow-list / top N.
pub const COST_METRIC_OTHER: &str = "_other";
