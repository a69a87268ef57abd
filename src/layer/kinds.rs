//! The span kinds botanu recognizes, one table row each.
//!
//! A kind is a unit: the fields that recognize it, its vendor ("system") and operation fields with
//! their normalizers, where its metadata goes, what it writes at close and how it is named and kinded
//! on the wire are all one [`KindSpec`] row. Classification (`classify`), recording (`state`), metrics
//! and export read the row; the few behaviours that are not data (a run starts a run context, say) are
//! exhaustive `match`es over [`Kind`], so the compiler lists what a new kind must handle.

use std::borrow::Cow;

use opentelemetry::trace::SpanKind;

use crate::normalize::{self, OperationKind};
use crate::semconv as k;

/// What kind of cost-bearing operation a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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

/// A kind's vendor field: the names it arrives under, the key it is exported under, its normalizer.
#[derive(Debug)]
pub(crate) struct System {
    /// Field names carrying the system (the current semconv name first, then older spellings).
    pub(crate) fields: &'static [&'static str],
    /// The exported key.
    pub(crate) key: &'static str,
    pub(crate) normalize: fn(&str) -> Cow<'static, str>,
    /// Whether the normalized system also names a cloud provider (`cloud.provider`).
    pub(crate) cloud: bool,
}

/// A kind's operation field.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) key: &'static str,
    pub(crate) normalize: OperationKind,
    /// Whether the field is normalized on spans of any kind, or only on spans of this kind (a tool
    /// span's `gen_ai.operation.name` is `execute_tool`, not a model operation).
    pub(crate) anywhere: bool,
}

/// How the exported span is named.
#[derive(Debug)]
pub(crate) enum Name {
    /// `prefix`, `separator`, then the value of `key` (`botanu.run/support`, `execute_tool search`).
    Prefixed(&'static str, &'static str, &'static str),
    /// `<operation> <model>`, or the operation alone without a model.
    OperationModel,
    /// `prefix` `<system>.<operation, lower case>` (`db.postgresql.select`).
    SystemOperation(&'static str),
    /// The callsite's own name.
    Callsite,
}

/// One row: everything the layer knows about a kind.
#[derive(Debug)]
pub(crate) struct KindSpec {
    pub(crate) kind: Kind,
    /// A callsite with any of these fields is of this kind (rows are tried in [`KINDS`] order).
    pub(crate) recognized_by: &'static [&'static str],
    pub(crate) system: Option<System>,
    pub(crate) operation: Option<Operation>,
    /// Where `add_metadata` keys go (`<prefix><key>`).
    pub(crate) metadata_prefix: &'static str,
    /// The duration attribute written at close, in milliseconds.
    pub(crate) duration_key: Option<&'static str>,
    /// The error-message attribute written at close of a failed span.
    pub(crate) error_key: Option<&'static str>,
    pub(crate) name: Name,
    /// The OTel span kind unless `otel.kind` overrides it; `None`: decided by the operation.
    pub(crate) otel_kind: Option<SpanKind>,
}

/// Every kind, in recognition order. A step is recognized last: any span may carry `botanu.step` of
/// its own (the contract lets a span keep a step it set itself), and an LLM or DB span that does is
/// still an LLM or DB span. `Other` matches every callsite.
pub(crate) static KINDS: [KindSpec; 8] = [
    KindSpec {
        kind: Kind::Run,
        recognized_by: &[k::WORKFLOW],
        system: None,
        operation: None,
        metadata_prefix: k::METADATA_PREFIX,
        duration_key: Some(k::RUN_DURATION_MS),
        error_key: None,
        name: Name::Prefixed(k::RUN_SPAN_PREFIX, "", k::WORKFLOW),
        otel_kind: Some(SpanKind::Server),
    },
    KindSpec {
        kind: Kind::Tool,
        recognized_by: &[k::GEN_AI_TOOL_NAME],
        system: None,
        operation: None,
        metadata_prefix: k::TOOL_METADATA_PREFIX,
        duration_key: Some(k::TOOL_DURATION_MS),
        error_key: None,
        name: Name::Prefixed(k::OPERATION_EXECUTE_TOOL, " ", k::GEN_AI_TOOL_NAME),
        otel_kind: Some(SpanKind::Internal),
    },
    KindSpec {
        kind: Kind::Llm,
        recognized_by: &[k::GEN_AI_PROVIDER_NAME, k::GEN_AI_SYSTEM, k::LANGFUSE_TYPE],
        system: Some(System {
            fields: &[k::GEN_AI_PROVIDER_NAME, k::GEN_AI_SYSTEM],
            key: k::GEN_AI_PROVIDER_NAME,
            normalize: normalize::normalize_llm_vendor,
            cloud: false,
        }),
        operation: Some(Operation { key: k::GEN_AI_OPERATION_NAME, normalize: OperationKind::GenAi, anywhere: false }),
        metadata_prefix: k::METADATA_PREFIX,
        duration_key: None,
        error_key: None,
        name: Name::OperationModel,
        otel_kind: Some(SpanKind::Client),
    },
    KindSpec {
        kind: Kind::Db,
        recognized_by: &[k::DB_SYSTEM, k::DB_SYSTEM_NAME],
        system: Some(System {
            fields: &[k::DB_SYSTEM, k::DB_SYSTEM_NAME],
            key: k::DB_SYSTEM,
            normalize: normalize::normalize_db_system,
            cloud: true,
        }),
        operation: Some(Operation { key: k::DB_OPERATION, normalize: OperationKind::Db, anywhere: true }),
        metadata_prefix: k::DATA_METADATA_PREFIX,
        duration_key: Some(k::DATA_DURATION_MS),
        error_key: Some(k::DATA_ERROR),
        name: Name::SystemOperation(k::DB_SPAN_PREFIX),
        otel_kind: Some(SpanKind::Client),
    },
    KindSpec {
        kind: Kind::Storage,
        recognized_by: &[k::STORAGE_SYSTEM],
        system: Some(System {
            fields: &[k::STORAGE_SYSTEM],
            key: k::STORAGE_SYSTEM,
            normalize: normalize::normalize_storage_system,
            cloud: true,
        }),
        operation: Some(Operation { key: k::STORAGE_OPERATION, normalize: OperationKind::Storage, anywhere: true }),
        metadata_prefix: k::STORAGE_METADATA_PREFIX,
        duration_key: Some(k::STORAGE_DURATION_MS),
        error_key: Some(k::STORAGE_ERROR),
        name: Name::SystemOperation(k::STORAGE_SPAN_PREFIX),
        otel_kind: Some(SpanKind::Client),
    },
    KindSpec {
        kind: Kind::Messaging,
        recognized_by: &[k::MESSAGING_SYSTEM],
        system: Some(System {
            fields: &[k::MESSAGING_SYSTEM],
            key: k::MESSAGING_SYSTEM,
            normalize: normalize::normalize_messaging_system,
            cloud: true,
        }),
        operation: Some(Operation { key: k::MESSAGING_OPERATION, normalize: OperationKind::Messaging, anywhere: true }),
        metadata_prefix: k::MESSAGING_METADATA_PREFIX,
        duration_key: Some(k::MESSAGING_DURATION_MS),
        error_key: Some(k::MESSAGING_ERROR),
        name: Name::SystemOperation(k::MESSAGING_SPAN_PREFIX),
        // Producer for `publish`/`send`, else consumer: see `messaging_kind`.
        otel_kind: None,
    },
    KindSpec {
        kind: Kind::Step,
        recognized_by: &[k::STEP],
        system: None,
        operation: None,
        metadata_prefix: k::METADATA_PREFIX,
        duration_key: None,
        error_key: None,
        name: Name::Prefixed(k::STEP_SPAN_PREFIX, "", k::STEP),
        otel_kind: Some(SpanKind::Internal),
    },
    KindSpec {
        kind: Kind::Other,
        recognized_by: &[],
        system: None,
        operation: None,
        metadata_prefix: k::METADATA_PREFIX,
        duration_key: None,
        error_key: None,
        name: Name::Callsite,
        otel_kind: Some(SpanKind::Internal),
    },
];

impl Kind {
    /// This kind's row.
    #[inline]
    pub(crate) fn spec(self) -> &'static KindSpec {
        // Exhaustive on purpose: a new kind does not compile until it has a row.
        let i = match self {
            Kind::Run => 0,
            Kind::Tool => 1,
            Kind::Llm => 2,
            Kind::Db => 3,
            Kind::Storage => 4,
            Kind::Messaging => 5,
            Kind::Step => 6,
            Kind::Other => 7,
        };
        &KINDS[i]
    }
}

/// The OTel kind of a messaging span: producer for `publish`/`send`, else consumer.
pub(crate) fn messaging_kind(operation: Option<&str>) -> SpanKind {
    match operation {
        Some(op) if op.eq_ignore_ascii_case("publish") || op.eq_ignore_ascii_case("send") => SpanKind::Producer,
        _ => SpanKind::Consumer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_finds_its_own_row() {
        for (i, spec) in KINDS.iter().enumerate() {
            assert_eq!(spec.kind.spec().kind, spec.kind, "row {i}");
        }
        assert_eq!(KINDS.last().map(|s| s.kind), Some(Kind::Other), "Other is the catch-all, last");
    }
}
