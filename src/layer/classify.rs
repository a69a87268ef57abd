//! Deciding, once per callsite, what a span is and what each of its fields means.
//!
//! `tracing` hands the layer a span's fields by index. Matching field *names* against the contract on
//! every span would put string comparisons on the hot path, so the layer does it once, when a callsite
//! registers: the result is a [`CallsiteInfo`] with the span's [`Kind`] (see `kinds`) and a [`Role`] per field index.
//! Recognition is by field names alone, which is what makes `#[instrument(fields(gen_ai.provider.name =
//! …))]` spans and third-party GenAI spans work without the crate's macros.

use tracing_core::Metadata;

use super::aws::{self, AwsOperation};
use super::kinds::{Kind, KINDS};
use crate::semconv as k;

/// What a field means for the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Exported as an attribute under its own (static) name.
    Attr(&'static str),
    /// The system (vendor) field of this kind's row: normalized, and mirrored into `botanu.vendor`
    /// (and cloud provider).
    System(Kind),
    /// The operation field of this kind's row, case-normalized.
    Operation(Kind),
    /// Captured content: gated, scrubbed and cut before export, exported under the given key.
    Content(&'static str),
    /// Structured metadata, flattened into `botanu.*` attributes.
    Metadata,
    /// `otel.name`: overrides the exported name.
    OtelName,
    /// `otel.kind`: overrides the exported kind.
    OtelKind,
    /// `otel.status_code`: `error` fails the span, `ok` marks it succeeded.
    OtelStatusCode,
    /// `otel.status_description`: the description of an ERROR status.
    OtelStatusDescription,
    /// `gen_ai.response.finish_reasons`, `gen_ai.request.stop_sequences`: always exported as a string
    /// array under the given key (a JSON-array or `Debug`-array string from a foreign span is parsed).
    StringArray(&'static str),
    /// `error.type` recorded by a setter: marks the span failed.
    ErrorType,
    /// A field whose name looks like a secret (`api_key`, `password`, …): exported redacted.
    Secret(&'static str),
    /// An argument of a function instrumented as a run (see [`takes_arguments`]): not an attribute, but
    /// a part of the run's `botanu.eval.input_content`, gated and scrubbed (see `instrument`). `secret`:
    /// the name looks like a secret, so the value is replaced before it is ever kept.
    Argument { name: &'static str, secret: bool },
    /// Not exported (`message` of a span, `otel.*` control fields).
    Ignore,
}

/// The per-callsite decision.
#[derive(Debug)]
pub(crate) struct CallsiteInfo {
    pub(crate) kind: Kind,
    /// Whether this callsite is a run whose plain fields are a function's arguments (see
    /// [`takes_arguments`]); its `#[instrument(ret)]` event is then the run's output.
    pub(crate) takes_arguments: bool,
    /// Role per field index.
    pub(crate) roles: Box<[Role]>,
    /// How the callsite's token counts are to be read (see `crate::dialect`).
    pub(crate) dialect: crate::dialect::Dialect,
    /// The provider of an LLM callsite that names none in its fields, known from where it is: swiftide's
    /// model-call spans (`langfuse.type`) live in `swiftide_integrations::<provider>`.
    pub(crate) provider_hint: Option<&'static str>,
    /// The AWS SDK operation this callsite is (its kind, system and operation come from the callsite's
    /// name, not from fields: see `aws`).
    pub(crate) aws: Option<AwsOperation>,
}

impl CallsiteInfo {
    pub(crate) fn role(&self, index: usize) -> Role {
        self.roles.get(index).copied().unwrap_or(Role::Ignore)
    }
}

/// Classifies a callsite by the names of its fields; `is_secret` flags secret-looking field names.
pub(crate) fn classify(meta: &Metadata<'_>, is_secret: &dyn Fn(&str) -> bool) -> CallsiteInfo {
    let fields = meta.fields();
    let aws = aws::recognize(meta);
    let kind = aws.map_or_else(|| kind_of_fields(meta), |op| op.kind);
    let arguments = takes_arguments(kind, meta);
    let roles = fields
        .iter()
        .map(|f| match role_of(kind, f.name()) {
            Role::Attr(name) if arguments && is_argument_name(name) => Role::Argument { name, secret: is_secret(name) },
            Role::Attr(name) if is_secret(name) => Role::Secret(name),
            role => role,
        })
        .collect();
    let dialect = crate::dialect::callsite_dialect(|name| fields.field(name).is_some());
    let provider_hint = match kind {
        Kind::Llm if fields.field(k::GEN_AI_PROVIDER_NAME).is_none() && fields.field(k::GEN_AI_SYSTEM).is_none() => {
            crate::dialect::provider_of_module(meta.module_path().unwrap_or_default())
        }
        _ => None,
    };
    CallsiteInfo { kind, takes_arguments: arguments, roles, dialect, provider_hint, aws }
}

/// Whether a callsite's plain fields are a function's arguments: a run span that botanu's own
/// `run_span!` did not make, which is what `#[tracing::instrument(fields(botanu.workflow = …))]` makes
/// (its arguments become fields named after them). `run_span!`'s extra fields are attributes the caller
/// chose to declare; they stay attributes.
fn takes_arguments(kind: Kind, meta: &Metadata<'_>) -> bool {
    kind == Kind::Run && meta.name() != k::span_names::RUN
}

/// Whether a field of such a callsite is an argument: a plain identifier (`question`, `user_id`). A
/// dotted name (`botanu.workflow`, `gen_ai.request.model`, `http.route`) is a key of some convention,
/// which no Rust argument can be named.
fn is_argument_name(name: &str) -> bool {
    !name.contains('.')
}

/// The span kind of a callsite, without the per-field roles.
pub(crate) fn kind_of(meta: &Metadata<'_>) -> Kind {
    aws::recognize(meta).map_or_else(|| kind_of_fields(meta), |op| op.kind)
}

/// The span kind a callsite's field names say.
fn kind_of_fields(meta: &Metadata<'_>) -> Kind {
    let fields = meta.fields();
    let has = |name: &str| fields.field(name).is_some();
    KINDS.iter().find(|spec| spec.recognized_by.iter().any(|name| has(name))).map_or(Kind::Other, |s| s.kind)
}

fn role_of(kind: Kind, name: &'static str) -> Role {
    match name {
        k::MESSAGE => return Role::Ignore,
        k::OTEL_NAME => return Role::OtelName,
        k::OTEL_KIND => return Role::OtelKind,
        k::OTEL_STATUS_CODE => return Role::OtelStatusCode,
        k::OTEL_STATUS_DESCRIPTION => return Role::OtelStatusDescription,
        // Control fields of the tracing-opentelemetry convention that botanu does not interpret
        // (`otel.scope.name`, …) configure an exporter; they are not data.
        _ if name.starts_with(k::OTEL_PREFIX) => return Role::Ignore,
        k::GEN_AI_RESPONSE_FINISH_REASONS => return Role::StringArray(k::GEN_AI_RESPONSE_FINISH_REASONS),
        k::GEN_AI_REQUEST_STOP_SEQUENCES => return Role::StringArray(k::GEN_AI_REQUEST_STOP_SEQUENCES),
        // adk-rust's spelling, exported under the semconv key.
        k::ADK_TOOL_CALL_ID => return Role::Attr(k::GEN_AI_TOOL_CALL_ID),
        k::METADATA => return Role::Metadata,
        k::ERROR_TYPE => return Role::ErrorType,
        k::EVAL_INPUT_CONTENT | k::GEN_AI_INPUT_MESSAGES | k::GEN_AI_PROMPT | k::LANGFUSE_INPUT => {
            return Role::Content(k::EVAL_INPUT_CONTENT)
        }
        k::EVAL_OUTPUT_CONTENT | k::GEN_AI_OUTPUT_MESSAGES | k::GEN_AI_COMPLETION | k::LANGFUSE_OUTPUT => {
            return Role::Content(k::EVAL_OUTPUT_CONTENT)
        }
        // The stable database names are read as today's (contract §9: both always read); what is written
        // follows `OTEL_SEMCONV_STABILITY_OPT_IN` at close.
        k::DB_OPERATION_NAME if kind == Kind::Db => return Role::Operation(Kind::Db),
        k::DB_NAMESPACE if kind == Kind::Db => return Role::Attr(k::DB_NAME),
        k::GEN_AI_SYSTEM_INSTRUCTIONS => return Role::Content(k::GEN_AI_SYSTEM_INSTRUCTIONS),
        k::GEN_AI_TOOL_CALL_ARGUMENTS => return Role::Content(k::GEN_AI_TOOL_CALL_ARGUMENTS),
        k::GEN_AI_TOOL_CALL_RESULT => return Role::Content(k::GEN_AI_TOOL_CALL_RESULT),
        k::EVAL_RETRIEVAL_CONTENT => return Role::Content(k::EVAL_RETRIEVAL_CONTENT),
        _ => {}
    }
    for spec in &KINDS {
        if spec.system.as_ref().is_some_and(|s| s.fields.contains(&name)) {
            return Role::System(spec.kind);
        }
        if spec.operation.as_ref().is_some_and(|op| op.key == name && (op.anywhere || spec.kind == kind)) {
            return Role::Operation(spec.kind);
        }
    }
    Role::Attr(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_party_names_are_recognized() {
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry());
        for (span, kind) in [
            (tracing::info_span!("x", gen_ai.system = "openai", gen_ai.request.model = "m"), Kind::Llm),
            (tracing::info_span!("x", db.system.name = "postgresql"), Kind::Db),
            (tracing::info_span!("x", messaging.system = "kafka"), Kind::Messaging),
            (tracing::info_span!("x", gen_ai.tool.name = "t", gen_ai.provider.name = "o"), Kind::Tool),
            (tracing::info_span!("x", a = 1), Kind::Other),
        ] {
            let meta = span.metadata().expect("an enabled span has metadata");
            assert_eq!(classify(meta, &|_| false).kind, kind, "{}", meta.fields());
        }
    }

    /// The plain fields of a run that botanu's macro did not make are arguments; nothing else is.
    #[test]
    fn arguments_are_the_plain_fields_of_a_foreign_run() {
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry());
        let is_secret = |name: &str| name == "api_key";
        let roles = |span: tracing::Span| {
            let meta = span.metadata().expect("an enabled span has metadata");
            let info = classify(meta, &is_secret);
            let roles: Vec<(&str, Role)> = meta.fields().iter().map(|f| (f.name(), info.role(f.index()))).collect();
            (info.takes_arguments, roles)
        };
        let (takes, foreign) = roles(tracing::info_span!(
            "handle",
            botanu.workflow = "w",
            question = "q",
            api_key = "k",
            http.route = "/"
        ));
        assert!(takes);
        assert_eq!(
            foreign,
            [
                (k::WORKFLOW, Role::Attr(k::WORKFLOW)),
                ("question", Role::Argument { name: "question", secret: false }),
                ("api_key", Role::Argument { name: "api_key", secret: true }),
                ("http.route", Role::Attr("http.route")),
            ]
        );
        let (takes, own) = roles(crate::run_span!(workflow = "w", tier = "gold", api_key = "k"));
        assert!(!takes);
        assert!(own.contains(&("tier", Role::Attr("tier"))) && own.contains(&("api_key", Role::Secret("api_key"))));
        let (takes, step) = roles(tracing::info_span!("s", botanu.step = "s", question = "q"));
        assert!(!takes);
        assert!(step.contains(&("question", Role::Attr("question"))));
    }
}
