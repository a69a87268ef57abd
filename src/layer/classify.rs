//! Deciding, once per callsite, what a span is and what each of its fields means.
//!
//! `tracing` hands the layer a span's fields by index. Matching field *names* against the contract on
//! every span would put string comparisons on the hot path, so the layer does it once, when a callsite
//! registers: the result is a [`CallsiteInfo`] with the span's [`Kind`] (see `kinds`) and a [`Role`] per field index.
//! Recognition is by field names alone, which is what makes `#[instrument(fields(gen_ai.provider.name =
//! …))]` spans and third-party GenAI spans work without the crate's macros.

use tracing_core::Metadata;

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
    /// `gen_ai.response.finish_reasons`: always exported as a string array (a JSON-array string from a
    /// foreign span is parsed).
    FinishReasons,
    /// `error.type` recorded by a setter: marks the span failed.
    ErrorType,
    /// A field whose name looks like a secret (`api_key`, `password`, …): exported redacted.
    Secret(&'static str),
    /// Not exported (`message` of a span, `otel.*` control fields).
    Ignore,
}

/// The per-callsite decision.
#[derive(Debug)]
pub(crate) struct CallsiteInfo {
    pub(crate) kind: Kind,
    /// Role per field index.
    pub(crate) roles: Box<[Role]>,
}

impl CallsiteInfo {
    pub(crate) fn role(&self, index: usize) -> Role {
        self.roles.get(index).copied().unwrap_or(Role::Ignore)
    }
}

/// Classifies a callsite by the names of its fields; `is_secret` flags secret-looking field names.
pub(crate) fn classify(meta: &Metadata<'_>, is_secret: &dyn Fn(&str) -> bool) -> CallsiteInfo {
    let fields = meta.fields();
    let kind = kind_of(meta);
    let roles = fields
        .iter()
        .map(|f| match role_of(kind, f.name()) {
            Role::Attr(name) if is_secret(name) => Role::Secret(name),
            role => role,
        })
        .collect();
    CallsiteInfo { kind, roles }
}

/// The span kind a callsite's field names say, without the per-field roles.
pub(crate) fn kind_of(meta: &Metadata<'_>) -> Kind {
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
        k::GEN_AI_RESPONSE_FINISH_REASONS => return Role::FinishReasons,
        k::METADATA => return Role::Metadata,
        k::ERROR_TYPE => return Role::ErrorType,
        k::EVAL_INPUT_CONTENT | k::GEN_AI_INPUT_MESSAGES | k::GEN_AI_PROMPT => {
            return Role::Content(k::EVAL_INPUT_CONTENT)
        }
        k::EVAL_OUTPUT_CONTENT | k::GEN_AI_OUTPUT_MESSAGES | k::GEN_AI_COMPLETION => {
            return Role::Content(k::EVAL_OUTPUT_CONTENT)
        }
        k::GEN_AI_SYSTEM_INSTRUCTIONS => return Role::Content(k::GEN_AI_SYSTEM_INSTRUCTIONS),
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
}
