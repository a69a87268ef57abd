//! One spelling per vendor and system.
//!
//! SDKs, instrumentations and users name the same provider many ways — `Claude`, `anthropic`,
//! `Postgres`, `pg`, `aws_s3` — but the backends that attribute cost group spans and metrics by exact
//! string, so every spelling must collapse to one canonical value before it reaches the wire
//! (`gen_ai.provider.name`, `botanu.vendor`, `db.system`, `botanu.storage.system`, `messaging.system`).
//! This module holds the alias tables of the wire contract (§2) and the cloud-provider table (§1).
//!
//! Matching is ASCII case-insensitive and ignores surrounding whitespace. A known alias yields a
//! `&'static str` without allocating, because normalization runs on every instrumented call. An unknown
//! value is not rejected — a new vendor must still be attributable — it passes through trimmed and
//! lower-cased, which is the only case that allocates.

use std::borrow::Cow;

use crate::operation::{DbOperation, MessagingOperation, ModelOperation, StorageOperation};

/// `(alias, canonical)` rows. Kept as data rather than `match` arms so tests and callers can iterate them.
type AliasTable = [(&'static str, &'static str)];

/// Cloud provider values written to `botanu.cloud_provider`.
const AWS: &str = "aws";
const GCP: &str = "gcp";
const AZURE: &str = "azure";

/// LLM providers. The dotted canonicals (`azure.openai`, `aws.bedrock`, `gcp.vertex_ai`) are not aliases
/// in the contract, but third-party spans may already carry them; listing them keeps the result the same
/// as the lower-case pass-through while avoiding its allocation.
static LLM_VENDORS: &AliasTable = &[
    ("openai", "openai"),
    ("azure.openai", "azure.openai"),
    ("azure_openai", "azure.openai"),
    ("azure-openai", "azure.openai"),
    ("azureopenai", "azure.openai"),
    // Other instrumentations' spellings of Azure OpenAI: OTel (`azure.ai.openai`, `azure.ai.inference`),
    // OpenInference (`azure`), OpenLLMetry (`az.ai.openai`).
    ("azure.ai.openai", "azure.openai"),
    ("azure.ai.inference", "azure.openai"),
    ("azure", "azure.openai"),
    ("az.ai.openai", "azure.openai"),
    // adk-rust's `gen_ai.system` values: `azure-ai` (Azure AI Inference) and the Responses API adapter.
    ("azure-ai", "azure.openai"),
    ("azure_ai", "azure.openai"),
    ("openai-responses", "openai"),
    ("openai_responses", "openai"),
    ("anthropic", "anthropic"),
    ("claude", "anthropic"),
    ("aws.bedrock", "aws.bedrock"),
    ("bedrock", "aws.bedrock"),
    ("aws_bedrock", "aws.bedrock"),
    ("amazon_bedrock", "aws.bedrock"),
    ("gcp.vertex_ai", "gcp.vertex_ai"),
    ("vertex", "gcp.vertex_ai"),
    ("vertexai", "gcp.vertex_ai"),
    ("vertex_ai", "gcp.vertex_ai"),
    ("gcp_vertex", "gcp.vertex_ai"),
    ("gemini", "gcp.vertex_ai"),
    ("google", "gcp.vertex_ai"),
    // OTel well-known values (`gcp.gemini` is what genai writes) and OpenLLMetry's `gcp.gen_ai`.
    ("gcp.gemini", "gcp.vertex_ai"),
    ("gcp.gen_ai", "gcp.vertex_ai"),
    ("cohere", "cohere"),
    ("mistral", "mistral"),
    ("mistralai", "mistral"),
    ("mistral_ai", "mistral"),
    ("together", "together"),
    ("togetherai", "together"),
    ("groq", "groq"),
    ("replicate", "replicate"),
    ("ollama", "ollama"),
    ("huggingface", "huggingface"),
    ("hf", "huggingface"),
    ("hugging_face", "huggingface"),
    ("fireworks", "fireworks"),
    ("perplexity", "perplexity"),
    ("xai", "xai"),
    ("x_ai", "xai"),
    ("ibm.watsonx.ai", "ibm.watsonx.ai"),
    ("deepseek", "deepseek"),
    ("moonshot_ai", "moonshot_ai"),
    ("openrouter", "openrouter"),
    ("open_router", "openrouter"),
    ("aws-bedrock", "aws.bedrock"),
    ("amazon-bedrock", "aws.bedrock"),
];

/// Database systems. Identity rows are listed so that known systems come back borrowed, not allocated.
static DB_SYSTEMS: &AliasTable = &[
    ("postgresql", "postgresql"),
    ("postgres", "postgresql"),
    ("pg", "postgresql"),
    ("mongodb", "mongodb"),
    ("mongo", "mongodb"),
    ("mssql", "mssql"),
    ("sqlserver", "mssql"),
    ("mysql", "mysql"),
    ("mariadb", "mariadb"),
    ("oracle", "oracle"),
    ("sqlite", "sqlite"),
    ("dynamodb", "dynamodb"),
    ("cassandra", "cassandra"),
    ("couchdb", "couchdb"),
    ("firestore", "firestore"),
    ("cosmosdb", "cosmosdb"),
    ("redis", "redis"),
    ("memcached", "memcached"),
    ("elasticache", "elasticache"),
    ("elasticsearch", "elasticsearch"),
    ("opensearch", "opensearch"),
    ("snowflake", "snowflake"),
    ("bigquery", "bigquery"),
    ("redshift", "redshift"),
    ("databricks", "databricks"),
    ("athena", "athena"),
    ("synapse", "synapse"),
    ("influxdb", "influxdb"),
    ("timescaledb", "timescaledb"),
    ("neo4j", "neo4j"),
    ("neptune", "neptune"),
];

/// Object storage systems.
static STORAGE_SYSTEMS: &AliasTable = &[
    ("s3", "s3"),
    ("aws_s3", "s3"),
    ("gcs", "gcs"),
    ("google_cloud_storage", "gcs"),
    ("azure_blob", "azure_blob"),
    ("blob", "azure_blob"),
    ("minio", "minio"),
    ("ceph", "ceph"),
    ("nfs", "nfs"),
    ("efs", "efs"),
];

/// Messaging systems.
static MESSAGING_SYSTEMS: &AliasTable = &[
    ("sqs", "sqs"),
    ("aws_sqs", "sqs"),
    ("pubsub", "pubsub"),
    ("google_pubsub", "pubsub"),
    ("servicebus", "servicebus"),
    ("azure_servicebus", "servicebus"),
    ("sns", "sns"),
    ("kinesis", "kinesis"),
    ("eventbridge", "eventbridge"),
    ("eventhub", "eventhub"),
    ("kafka", "kafka"),
    ("rabbitmq", "rabbitmq"),
    ("nats", "nats"),
    ("redis_pubsub", "redis_pubsub"),
    ("celery", "celery"),
];

/// `(normalized system, provider)`. `lambda` is in the contract's list although no normalizer produces it;
/// it is kept so a caller passing it directly still gets `aws`.
static CLOUD_PROVIDERS: &AliasTable = &[
    ("dynamodb", AWS),
    ("s3", AWS),
    ("sqs", AWS),
    ("sns", AWS),
    ("kinesis", AWS),
    ("eventbridge", AWS),
    ("lambda", AWS),
    ("elasticache", AWS),
    ("redshift", AWS),
    ("athena", AWS),
    ("neptune", AWS),
    ("efs", AWS),
    ("firestore", GCP),
    ("bigquery", GCP),
    ("gcs", GCP),
    ("pubsub", GCP),
    ("cosmosdb", AZURE),
    ("azure_blob", AZURE),
    ("servicebus", AZURE),
    ("eventhub", AZURE),
    ("synapse", AZURE),
];

/// Finds the row whose key matches `raw` (trimmed, ASCII case-insensitive). Every key is ASCII, so an
/// ASCII-only comparison is exact and never lets a look-alike Unicode character (e.g. the Kelvin sign)
/// match a key.
fn find(table: &'static AliasTable, raw: &str) -> Option<&'static str> {
    let key = raw.trim();
    table.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(key)).map(|&(_, value)| value)
}

fn canonicalize(table: &'static AliasTable, raw: &str) -> Cow<'static, str> {
    if let Some(canonical) = find(table, raw) {
        return Cow::Borrowed(canonical);
    }
    let unknown = raw.trim();
    if unknown.is_empty() {
        // Nothing to own: an empty or blank input stays empty without an allocation.
        return Cow::Borrowed("");
    }
    // Full Unicode lower-casing, as the reference SDK's `str.lower()` does, so unknown non-ASCII names
    // produce the same attribute value from both SDKs.
    Cow::Owned(unknown.to_lowercase())
}

/// Normalizes an LLM provider name for `gen_ai.provider.name` and `botanu.vendor`.
///
/// Known aliases return a borrowed canonical name; anything else is trimmed and lower-cased.
///
/// ```
/// use botanu::normalize::normalize_llm_vendor;
///
/// assert_eq!(normalize_llm_vendor(" Claude "), "anthropic");
/// assert_eq!(normalize_llm_vendor("Azure-OpenAI"), "azure.openai");
/// assert_eq!(normalize_llm_vendor("NewVendor"), "newvendor");
/// ```
pub fn normalize_llm_vendor(raw: &str) -> Cow<'static, str> {
    canonicalize(LLM_VENDORS, raw)
}

/// Normalizes a database system name for `db.system` and `botanu.vendor`.
///
/// ```
/// use botanu::normalize::normalize_db_system;
///
/// assert_eq!(normalize_db_system("Postgres"), "postgresql");
/// assert_eq!(normalize_db_system("MySQL"), "mysql");
/// ```
pub fn normalize_db_system(raw: &str) -> Cow<'static, str> {
    canonicalize(DB_SYSTEMS, raw)
}

/// Normalizes an object storage system name for `botanu.storage.system` and `botanu.vendor`.
///
/// ```
/// use botanu::normalize::normalize_storage_system;
///
/// assert_eq!(normalize_storage_system("AWS_S3"), "s3");
/// assert_eq!(normalize_storage_system("blob"), "azure_blob");
/// ```
pub fn normalize_storage_system(raw: &str) -> Cow<'static, str> {
    canonicalize(STORAGE_SYSTEMS, raw)
}

/// Normalizes a messaging system name for `messaging.system` and `botanu.vendor`.
///
/// ```
/// use botanu::normalize::normalize_messaging_system;
///
/// assert_eq!(normalize_messaging_system("google_pubsub"), "pubsub");
/// assert_eq!(normalize_messaging_system("Kafka"), "kafka");
/// ```
pub fn normalize_messaging_system(raw: &str) -> Cow<'static, str> {
    canonicalize(MESSAGING_SYSTEMS, raw)
}

/// The cloud provider (`aws`, `gcp`, `azure`) for an already-normalized db, storage or messaging system,
/// used for `botanu.cloud_provider` when the caller gave none. `None` for systems that are not tied to one
/// cloud. Case-insensitive and whitespace-tolerant, like the normalizers.
///
/// ```
/// use botanu::normalize::cloud_provider;
///
/// assert_eq!(cloud_provider("bigquery"), Some("gcp"));
/// assert_eq!(cloud_provider("postgresql"), None);
/// ```
pub fn cloud_provider(system: &str) -> Option<&'static str> {
    find(CLOUD_PROVIDERS, system)
}

/// Which contract table an operation name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// GenAI operations, lower case (`chat`, `embeddings`, …).
    GenAi,
    /// Database operations, upper case (`SELECT`, …).
    Db,
    /// Object storage operations, upper case (`GET`, `PUT`, …).
    Storage,
    /// Messaging operations, lower case (`publish`, …).
    Messaging,
}

static GEN_AI_OPERATIONS: &[&str] = ModelOperation::ALL;
static DB_OPERATIONS: &[&str] = DbOperation::ALL;
static STORAGE_OPERATIONS: &[&str] = StorageOperation::ALL;
static MESSAGING_OPERATIONS: &[&str] = MessagingOperation::ALL;

/// Whether a GenAI operation is a call to a model: the operations counted in `botanu.gen_ai.attempts`,
/// the token and duration metrics, and priced. Agent, workflow and tool operations (`invoke_agent`,
/// `create_agent`, `invoke_workflow`, `execute_tool`) are not: the model calls inside them are, and counting
/// both would count one call twice. Unknown operations count as model calls, since a span that carries a
/// provider and a model with an operation botanu does not know is most likely a new kind of model call.
/// Case-insensitive.
///
/// ```
/// use botanu::normalize::is_model_operation;
/// assert!(is_model_operation("chat"));
/// assert!(is_model_operation("Embeddings"));
/// assert!(!is_model_operation("invoke_agent"));
/// assert!(!is_model_operation("execute_tool"));
/// ```
pub fn is_model_operation(operation: &str) -> bool {
    let op = operation.trim();
    ![
        ModelOperation::EXECUTE_TOOL,
        ModelOperation::CREATE_AGENT,
        ModelOperation::INVOKE_AGENT,
        crate::operation::INVOKE_WORKFLOW,
    ]
    .iter()
    .any(|other| other.eq_ignore_ascii_case(op))
}

/// Case-normalizes an operation name: the contract's operations come back as `&'static str` (no
/// allocation on the hot path); others are trimmed and upper-cased (DB, storage) or lower-cased (GenAI,
/// messaging).
///
/// ```
/// use botanu::normalize::{normalize_operation, OperationKind};
/// assert_eq!(normalize_operation(OperationKind::Db, " select "), "SELECT");
/// assert_eq!(normalize_operation(OperationKind::Messaging, "PUBLISH"), "publish");
/// assert_eq!(normalize_operation(OperationKind::Storage, "restore"), "RESTORE");
/// ```
pub fn normalize_operation(kind: OperationKind, raw: &str) -> Cow<'static, str> {
    let raw = raw.trim();
    let (table, upper) = match kind {
        OperationKind::GenAi => (GEN_AI_OPERATIONS, false),
        OperationKind::Db => (DB_OPERATIONS, true),
        OperationKind::Storage => (STORAGE_OPERATIONS, true),
        OperationKind::Messaging => (MESSAGING_OPERATIONS, false),
    };
    match table.iter().find(|op| op.eq_ignore_ascii_case(raw)) {
        Some(op) => Cow::Borrowed(op),
        None if upper => Cow::Owned(raw.to_ascii_uppercase()),
        None => Cow::Owned(raw.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn operations_are_case_normalized_and_known_ones_borrowed() {
        for (kind, raw, want, borrowed) in [
            (OperationKind::Db, "select", "SELECT", true),
            (OperationKind::Db, "Multi_Get", "MULTI_GET", false),
            (OperationKind::Storage, " multipart_upload ", "MULTIPART_UPLOAD", true),
            (OperationKind::GenAi, "Embeddings", "embeddings", true),
            (OperationKind::GenAi, "Summarize", "summarize", false),
            (OperationKind::Messaging, "SEND", "send", true),
            (OperationKind::Messaging, "", "", false),
        ] {
            let got = normalize_operation(kind, raw);
            assert_eq!(got, want, "{kind:?} {raw:?}");
            assert_eq!(matches!(got, Cow::Borrowed(_)), borrowed, "{kind:?} {raw:?}");
        }
    }

    use super::*;

    /// The contract's §2 text, transcribed group by group and independently of the implementation tables,
    /// so a typo on either side makes a test fail. `(canonical, aliases)`.
    const LLM_EXPECTED: &[(&str, &[&str])] = &[
        // `openai-responses`, `azure-ai`, `aws-bedrock` …: issue 24, the `gen_ai.system` values adk-rust writes.
        ("openai", &["openai", "openai-responses", "openai_responses"]),
        (
            "azure.openai",
            &[
                "azure_openai",
                "azure-openai",
                "azureopenai",
                "azure.ai.openai",
                "azure.ai.inference",
                "azure",
                "az.ai.openai",
                "azure-ai",
                "azure_ai",
            ],
        ),
        ("anthropic", &["anthropic", "claude"]),
        ("aws.bedrock", &["bedrock", "aws_bedrock", "amazon_bedrock", "aws.bedrock", "aws-bedrock", "amazon-bedrock"]),
        (
            "gcp.vertex_ai",
            &[
                "vertex",
                "vertexai",
                "vertex_ai",
                "gcp_vertex",
                "gemini",
                "google",
                "gcp.gemini",
                "gcp.gen_ai",
                "gcp.vertex_ai",
            ],
        ),
        ("cohere", &["cohere"]),
        ("mistral", &["mistral", "mistralai", "mistral_ai"]),
        ("together", &["together", "togetherai"]),
        ("groq", &["groq"]),
        ("replicate", &["replicate"]),
        ("ollama", &["ollama"]),
        ("huggingface", &["huggingface", "hf", "hugging_face"]),
        ("fireworks", &["fireworks"]),
        ("perplexity", &["perplexity"]),
        ("xai", &["x_ai", "xai"]),
        ("ibm.watsonx.ai", &["ibm.watsonx.ai"]),
        ("deepseek", &["deepseek"]),
        ("moonshot_ai", &["moonshot_ai"]),
        // Issue 24: the `gen_ai.system` values adk-rust writes (beyond CONTRACT §2's list).
        ("openrouter", &["openrouter", "open_router"]),
    ];

    /// Each instrumentation's own spellings (CONTRACT §2 "Spellings used by other instrumentations"), so a
    /// span from genai (OTel values), an OpenInference or an OpenLLMetry exporter lands on the same vendor
    /// as `llm_span!` does: one vendor, one value in spans and metrics.
    #[test]
    fn other_instrumentations_spellings_collapse_to_one_vendor() {
        let rows: &[(&str, &str, &str)] = &[
            ("otel", "azure.ai.openai", "azure.openai"),
            ("otel", "azure.ai.inference", "azure.openai"),
            ("otel", "gcp.gemini", "gcp.vertex_ai"),
            ("otel", "gcp.gen_ai", "gcp.vertex_ai"),
            ("otel", "gcp.vertex_ai", "gcp.vertex_ai"),
            ("otel", "aws.bedrock", "aws.bedrock"),
            ("otel", "x_ai", "xai"),
            ("otel", "mistral_ai", "mistral"),
            ("otel", "ibm.watsonx.ai", "ibm.watsonx.ai"),
            ("otel", "deepseek", "deepseek"),
            ("otel", "perplexity", "perplexity"),
            ("otel", "moonshot_ai", "moonshot_ai"),
            ("openinference", "azure", "azure.openai"),
            ("openinference", "google", "gcp.vertex_ai"),
            ("openinference", "xai", "xai"),
            ("openinference", "mistralai", "mistral"),
            ("openllmetry", "az.ai.openai", "azure.openai"),
            ("openllmetry", "gcp.gen_ai", "gcp.vertex_ai"),
            ("openllmetry", "hugging_face", "huggingface"),
            // And what botanu's own macros are given for the same vendors.
            ("botanu", "gemini", "gcp.vertex_ai"),
            ("botanu", "Azure-OpenAI", "azure.openai"),
        ];
        for &(source, raw, want) in rows {
            assert_borrowed(source, raw, normalize_llm_vendor(raw), want);
        }
    }

    const DB_EXPECTED: &[(&str, &[&str])] = &[
        ("postgresql", &["postgresql", "postgres", "pg"]),
        ("mongodb", &["mongodb", "mongo"]),
        ("mssql", &["mssql", "sqlserver"]),
    ];
    const DB_IDENTITY: &str = "mysql mariadb oracle sqlite dynamodb cassandra couchdb firestore cosmosdb \
        redis memcached elasticache elasticsearch opensearch snowflake bigquery redshift databricks athena \
        synapse influxdb timescaledb neo4j neptune";

    const STORAGE_EXPECTED: &[(&str, &[&str])] = &[
        ("s3", &["s3", "aws_s3"]),
        ("gcs", &["gcs", "google_cloud_storage"]),
        ("azure_blob", &["azure_blob", "blob"]),
    ];
    const STORAGE_IDENTITY: &str = "minio ceph nfs efs";

    const MESSAGING_EXPECTED: &[(&str, &[&str])] = &[
        ("sqs", &["sqs", "aws_sqs"]),
        ("pubsub", &["pubsub", "google_pubsub"]),
        ("servicebus", &["servicebus", "azure_servicebus"]),
    ];
    const MESSAGING_IDENTITY: &str = "sns kinesis eventbridge eventhub kafka rabbitmq nats redis_pubsub celery";

    /// §1 "Cloud provider" paragraph, transcribed.
    const CLOUD_EXPECTED: &[(&str, &str)] = &[
        ("aws", "dynamodb s3 sqs sns kinesis eventbridge lambda elasticache redshift athena neptune efs"),
        ("gcp", "firestore bigquery gcs pubsub"),
        ("azure", "cosmosdb azure_blob servicebus eventhub synapse"),
    ];

    type Normalizer = fn(&str) -> Cow<'static, str>;

    /// Flattens a transcribed group list plus identity names into `(alias, canonical)` pairs.
    fn expected_pairs(
        groups: &[(&'static str, &[&'static str])],
        identity: &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        let mut pairs: Vec<_> = groups
            .iter()
            .flat_map(|&(canonical, aliases)| aliases.iter().map(move |&alias| (alias, canonical)))
            .collect();
        pairs.extend(identity.split_whitespace().map(|name| (name, name)));
        pairs
    }

    /// One normalizer with its transcribed expectations and its implementation table.
    struct Case {
        kind: &'static str,
        normalize: Normalizer,
        expected: Vec<(&'static str, &'static str)>,
        table: &'static AliasTable,
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                kind: "llm",
                normalize: normalize_llm_vendor,
                expected: expected_pairs(LLM_EXPECTED, ""),
                table: LLM_VENDORS,
            },
            Case {
                kind: "db",
                normalize: normalize_db_system,
                expected: expected_pairs(DB_EXPECTED, DB_IDENTITY),
                table: DB_SYSTEMS,
            },
            Case {
                kind: "storage",
                normalize: normalize_storage_system,
                expected: expected_pairs(STORAGE_EXPECTED, STORAGE_IDENTITY),
                table: STORAGE_SYSTEMS,
            },
            Case {
                kind: "messaging",
                normalize: normalize_messaging_system,
                expected: expected_pairs(MESSAGING_EXPECTED, MESSAGING_IDENTITY),
                table: MESSAGING_SYSTEMS,
            },
        ]
    }

    fn assert_borrowed(kind: &str, input: &str, got: Cow<'static, str>, want: &str) {
        assert_eq!(got, want, "{kind}: {input:?}");
        assert!(matches!(got, Cow::Borrowed(_)), "{kind}: {input:?} allocated");
    }

    #[test]
    fn every_contract_alias_maps_to_its_canonical_without_allocating() {
        for Case { kind, normalize, expected, .. } in cases() {
            for (alias, canonical) in expected {
                assert_borrowed(kind, alias, normalize(alias), canonical);
            }
        }
    }

    #[test]
    fn implementation_tables_hold_nothing_beyond_the_contract() {
        // The only extra rows allowed are canonical self-mappings, which cannot change any result.
        for Case { kind, expected, table, .. } in cases() {
            for &(alias, canonical) in table {
                let in_contract = expected.iter().any(|&(a, c)| a == alias && c == canonical);
                assert!(in_contract || alias == canonical, "{kind}: row ({alias}, {canonical}) not in the contract");
            }
        }
    }

    #[test]
    fn tables_are_lower_case_without_duplicate_aliases() {
        let mut all: Vec<&AliasTable> = cases().into_iter().map(|c| c.table).collect();
        all.push(CLOUD_PROVIDERS);
        for table in all {
            for (i, &(alias, value)) in table.iter().enumerate() {
                assert_eq!(alias, alias.trim().to_ascii_lowercase(), "key {alias:?}");
                assert_eq!(value, value.to_ascii_lowercase(), "value {value:?}");
                let dup = table[i + 1..].iter().any(|(other, _)| other.eq_ignore_ascii_case(alias));
                assert!(!dup, "duplicate key {alias:?}");
            }
        }
    }

    #[test]
    fn canonical_values_are_fixed_points() {
        for Case { kind, normalize, table, .. } in cases() {
            for &(_, canonical) in table {
                assert_borrowed(kind, canonical, normalize(canonical), canonical);
            }
        }
    }

    #[test]
    fn mixed_case_and_padded_aliases_still_match() {
        for Case { kind, normalize, expected, .. } in cases() {
            for (alias, canonical) in expected {
                let variants = [
                    alias.to_ascii_uppercase(),
                    format!("  {alias}\t"),
                    format!("\n{}  ", alias.to_ascii_uppercase()),
                    // Alternating case catches a comparison that only handles all-upper or all-lower.
                    alias
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
                        .collect(),
                ];
                for input in &variants {
                    assert_borrowed(kind, input, normalize(input), canonical);
                }
            }
        }
    }

    #[test]
    fn spot_checks_from_the_contract() {
        let rows: &[(Normalizer, &str, &str)] = &[
            (normalize_llm_vendor, "OpenAI", "openai"),
            (normalize_llm_vendor, " Claude ", "anthropic"),
            (normalize_llm_vendor, "AzureOpenAI", "azure.openai"),
            (normalize_llm_vendor, "GOOGLE", "gcp.vertex_ai"),
            (normalize_llm_vendor, "HF", "huggingface"),
            (normalize_db_system, "Postgres", "postgresql"),
            (normalize_db_system, "SQLServer", "mssql"),
            (normalize_storage_system, "Google_Cloud_Storage", "gcs"),
            (normalize_messaging_system, "Azure_ServiceBus", "servicebus"),
        ];
        for &(normalize, input, want) in rows {
            assert_borrowed("spot", input, normalize(input), want);
        }
    }

    #[test]
    fn unknown_values_pass_through_trimmed_and_lower_cased() {
        for Case { kind, normalize, .. } in cases() {
            for (input, want) in [
                ("  MyVendor  ", "myvendor"),
                ("already-lower", "already-lower"),
                ("Some.Dotted_Name", "some.dotted_name"),
                // Inner whitespace is part of the value; only the ends are trimmed.
                ("Cockroach DB", "cockroach db"),
            ] {
                let got = normalize(input);
                assert_eq!(got, want, "{kind}: {input:?}");
                assert!(matches!(got, Cow::Owned(_)), "{kind}: {input:?}");
            }
        }
    }

    #[test]
    fn aliases_do_not_leak_across_kinds() {
        // Each kind has its own table: `blob` means Azure only where a storage system is expected.
        assert_eq!(normalize_db_system("blob"), "blob");
        assert_eq!(normalize_storage_system("postgres"), "postgres");
        assert_eq!(normalize_messaging_system("google"), "google");
        assert_eq!(normalize_llm_vendor("aws_s3"), "aws_s3");
    }

    #[test]
    fn empty_and_blank_inputs_return_empty_without_allocating() {
        for Case { kind, normalize, .. } in cases() {
            for input in ["", "   ", "\t\n"] {
                assert_borrowed(kind, input, normalize(input), "");
            }
        }
        assert_eq!(cloud_provider(""), None);
        assert_eq!(cloud_provider("  "), None);
    }

    #[test]
    fn non_ascii_input_is_lower_cased_and_never_matches_an_alias() {
        let rows = [
            ("ÖLLAMA", "öllama"),
            ("Ｏｐｅｎａｉ", "ｏｐｅｎａｉ"),
            // Kelvin sign: Unicode lower-cases it to `k`, but it must not be taken for `kafka`'s `k`.
            ("\u{212A}afka", "kafka"),
            ("İ", "i\u{307}"),
            ("日本語", "日本語"),
            ("\u{0}", "\u{0}"),
            ("a\u{200B}b", "a\u{200B}b"),
        ];
        for Case { kind, normalize, .. } in cases() {
            for (input, want) in rows {
                let got = normalize(input);
                assert_eq!(got, want, "{kind}: {input:?}");
                assert!(matches!(got, Cow::Owned(_)), "{kind}: {input:?} matched an alias");
            }
        }
        assert_eq!(cloud_provider("\u{212A}inesis"), None);
        assert_eq!(cloud_provider("ſ3"), None);
    }

    #[test]
    fn every_contract_cloud_row_resolves() {
        for &(provider, systems) in CLOUD_EXPECTED {
            for system in systems.split_whitespace() {
                assert_eq!(cloud_provider(system), Some(provider), "{system}");
                assert_eq!(cloud_provider(&system.to_ascii_uppercase()), Some(provider), "{system}");
                assert_eq!(cloud_provider(&format!(" {system} ")), Some(provider), "{system}");
            }
        }
        // And the table has no row the contract lacks.
        for &(system, provider) in CLOUD_PROVIDERS {
            let listed =
                CLOUD_EXPECTED.iter().any(|&(p, s)| p == provider && s.split_whitespace().any(|x| x == system));
            assert!(listed, "({system}, {provider}) not in the contract");
        }
    }

    #[test]
    fn cloud_systems_are_names_the_normalizers_produce() {
        // `lambda` is the contract's one cloud system that no §2 table produces.
        for &(system, _) in CLOUD_PROVIDERS {
            let produced =
                [normalize_db_system(system), normalize_storage_system(system), normalize_messaging_system(system)]
                    .iter()
                    .any(|c| matches!(c, Cow::Borrowed(s) if *s == system));
            assert!(produced || system == "lambda", "{system}");
        }
    }

    #[test]
    fn cloud_provider_is_none_for_cloud_neutral_or_unnormalized_names() {
        for system in [
            "postgresql",
            "mysql",
            "redis",
            "mongodb",
            "snowflake",
            "databricks",
            "kafka",
            "rabbitmq",
            "minio",
            "nfs",
            "openai",
            "aws",
            "aws_s3",
            "google_pubsub",
            "blob",
            "unknown",
        ] {
            assert_eq!(cloud_provider(system), None, "{system}");
        }
    }

    #[test]
    fn normalized_then_cloud_provider_composes() {
        assert_eq!(cloud_provider(&normalize_storage_system("AWS_S3")), Some("aws"));
        assert_eq!(cloud_provider(&normalize_messaging_system("google_pubsub")), Some("gcp"));
        assert_eq!(cloud_provider(&normalize_storage_system("blob")), Some("azure"));
        assert_eq!(cloud_provider(&normalize_db_system("pg")), None);
    }
}
