//! Deciding, once per callsite, what a span is and what each of its fields means.
//!
//! `tracing` hands the layer a span's fields by index. Matching field *names* against the contract on
//! every span would put string comparisons on the hot path, so the layer does it once, when a callsite
//! registers: the result is a [`CallsiteInfo`] with the span's [`Class`] and a [`Role`] per field index.
//! Recognition is by field names alone, which is what makes `#[instrument(fields(gen_ai.provider.name =
//! …))]` spans and third-party GenAI spans work without the crate's macros.

use tracing_core::Metadata;

use crate::semconv as k;

/// What kind of cost-bearing operation a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Run,
    Step,
    Llm,
    Tool,
    Db,
    Storage,
    Messaging,
    /// Not a botanu span: exported only when the layer is asked to export everything.
    Other,
}

/// Which system table a vendor-bearing field is normalized with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SystemKind {
    Llm,
    Db,
    Storage,
    Messaging,
}

/// What a field means for the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Exported as an attribute under its own (static) name.
    Attr(&'static str),
    /// A vendor/system name: normalized, and mirrored into `botanu.vendor` (and cloud provider).
    System(SystemKind, &'static str),
    /// An operation name, case-normalized per class.
    Operation(&'static str),
    /// Captured content: gated, scrubbed and cut before export, exported under the given key.
    Content(&'static str),
    /// Structured metadata, flattened into `botanu.*` attributes.
    Metadata,
    /// `otel.name`: overrides the exported name.
    OtelName,
    /// `otel.kind`: overrides the exported kind.
    OtelKind,
    /// `error.type` recorded by a setter: marks the span failed.
    ErrorType,
    /// A field whose name looks like a secret (`api_key`, `password`, …): exported redacted.
    Secret(&'static str),
    /// Not exported (`message` of a span).
    Ignore,
}

/// The per-callsite decision.
#[derive(Debug)]
pub(crate) struct CallsiteInfo {
    pub(crate) class: Class,
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
    let has = |name: &str| fields.field(name).is_some();
    // A step is recognized last: any span may carry `botanu.step` of its own (the contract lets a span
    // keep a step it set itself), and an LLM or DB span that does is still an LLM or DB span.
    let class = if has(k::WORKFLOW) {
        Class::Run
    } else if has(k::GEN_AI_TOOL_NAME) {
        Class::Tool
    } else if has(k::GEN_AI_PROVIDER_NAME) || has(k::GEN_AI_SYSTEM) {
        Class::Llm
    } else if has(k::DB_SYSTEM) || has(k::DB_SYSTEM_NAME) {
        Class::Db
    } else if has(k::STORAGE_SYSTEM) {
        Class::Storage
    } else if has(k::MESSAGING_SYSTEM) {
        Class::Messaging
    } else if has(k::STEP) {
        Class::Step
    } else {
        Class::Other
    };
    let roles = fields
        .iter()
        .map(|f| match role_of(class, f.name()) {
            Role::Attr(name) if is_secret(name) => Role::Secret(name),
            role => role,
        })
        .collect();
    CallsiteInfo { class, roles }
}

fn role_of(class: Class, name: &'static str) -> Role {
    match name {
        k::MESSAGE => Role::Ignore,
        k::OTEL_NAME => Role::OtelName,
        k::OTEL_KIND => Role::OtelKind,
        k::METADATA => Role::Metadata,
        k::ERROR_TYPE => Role::ErrorType,
        k::GEN_AI_PROVIDER_NAME => Role::System(SystemKind::Llm, k::GEN_AI_PROVIDER_NAME),
        k::GEN_AI_SYSTEM => Role::System(SystemKind::Llm, k::GEN_AI_PROVIDER_NAME),
        k::DB_SYSTEM | k::DB_SYSTEM_NAME => Role::System(SystemKind::Db, k::DB_SYSTEM),
        k::STORAGE_SYSTEM => Role::System(SystemKind::Storage, k::STORAGE_SYSTEM),
        k::MESSAGING_SYSTEM => Role::System(SystemKind::Messaging, k::MESSAGING_SYSTEM),
        k::GEN_AI_OPERATION_NAME if class == Class::Llm => Role::Operation(k::GEN_AI_OPERATION_NAME),
        k::DB_OPERATION => Role::Operation(k::DB_OPERATION),
        k::STORAGE_OPERATION => Role::Operation(k::STORAGE_OPERATION),
        k::MESSAGING_OPERATION => Role::Operation(k::MESSAGING_OPERATION),
        k::EVAL_INPUT_CONTENT | k::GEN_AI_INPUT_MESSAGES | k::GEN_AI_PROMPT => Role::Content(k::EVAL_INPUT_CONTENT),
        k::EVAL_OUTPUT_CONTENT | k::GEN_AI_OUTPUT_MESSAGES | k::GEN_AI_COMPLETION => {
            Role::Content(k::EVAL_OUTPUT_CONTENT)
        }
        k::GEN_AI_SYSTEM_INSTRUCTIONS => Role::Content(k::GEN_AI_SYSTEM_INSTRUCTIONS),
        k::EVAL_RETRIEVAL_CONTENT => Role::Content(k::EVAL_RETRIEVAL_CONTENT),
        _ => Role::Attr(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_party_names_are_recognized() {
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry());
        for (span, class) in [
            (tracing::info_span!("x", gen_ai.system = "openai", gen_ai.request.model = "m"), Class::Llm),
            (tracing::info_span!("x", db.system.name = "postgresql"), Class::Db),
            (tracing::info_span!("x", messaging.system = "kafka"), Class::Messaging),
            (tracing::info_span!("x", gen_ai.tool.name = "t", gen_ai.provider.name = "o"), Class::Tool),
            (tracing::info_span!("x", a = 1), Class::Other),
        ] {
            let meta = span.metadata().expect("an enabled span has metadata");
            assert_eq!(classify(meta, &|_| false).class, class, "{}", meta.fields());
        }
    }
}
