//! Every spelling of a token count that the Rust GenAI ecosystem writes, and what it means.
//!
//! The OpenTelemetry GenAI conventions are still "Development", and the crates that instrument model
//! calls write usage in several dialects: the semconv keys (genai, rig, tirea), their older and newer
//! spellings (`gen_ai.usage.cache_creation.input_tokens` became `gen_ai.usage.cache_write.input_tokens`),
//! adk-rust's own names (`gen_ai.usage.cache_read_tokens`, `thinking_tokens`, `audio_input_tokens`),
//! rig's (`gen_ai.usage.reasoning_tokens`), swiftide's Langfuse usage JSON, and botanu's own
//! `botanu.usage.*`. A key nobody reads is a token nobody bills, so every spelling is one row of
//! [`TOKEN_SPELLINGS`]: the key, the canonical [`TokenKind`] it counts, and — for a cache count — which
//! way the span's input total treats the cache ([`Counting`]).
//!
//! Reading a span ([`read`]): for each kind, the first spelling in table order that carries a positive
//! count is taken and every other spelling of that kind is ignored, so a span that writes a count under
//! two names (botanu's `set_tokens` does, the semconv key beside its own) is never counted twice. The
//! input counting comes from the first cache spelling present. `gen_ai.usage.total_tokens` is never
//! added to anything: it is compared with what the parts add up to, and a mismatch is reported
//! ([`Reading::total_mismatch`]), not "fixed".
//!
//! Which way a provider counts differs *inside* one crate: adk-rust's adapters pass each provider's
//! numbers through unchanged, so its Anthropic and Bedrock input excludes the cache counts beside it
//! and its Gemini output excludes the thinking tokens (Gemini's `candidatesTokenCount`), while its
//! OpenAI-family input includes the cache. Those rows say [`Counting::ByProvider`], and the span's
//! [`Dialect`] (decided once per callsite from the fields it declares) says whether the Gemini output
//! rule applies: tirea writes the same `gen_ai.usage.thinking_tokens` key from genai's usage, whose
//! output already includes them.

use crate::cost::{InputCounting, Tokens};
use crate::semconv as k;

/// What a token count counts, whatever it is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// Input (prompt) tokens; cached ones included or not as the span's [`Counting`] says.
    Input,
    /// Output (completion) tokens, reasoning ones included (unless the provider rule says otherwise).
    Output,
    /// Input tokens read from the prompt cache.
    CacheRead,
    /// Input tokens written to the prompt cache.
    CacheWrite,
    /// Reasoning (thinking) tokens, a part of the output.
    Reasoning,
    /// Audio input tokens, a part of the input.
    AudioInput,
    /// Image input tokens, a part of the input.
    ImageInput,
    /// Audio output tokens, a part of the output.
    AudioOutput,
    /// Image output tokens, a part of the output.
    ImageOutput,
    /// Gemini's tool-use prompt tokens (rig): recorded by the crate, not priced separately here — the
    /// provider bills them as input, and whether the crate's input count holds them is not documented.
    ToolUseInput,
    /// The crate's own total: a cross-check only, never added.
    Total,
}

/// How the span's input total treats the cache, said by the spelling its cache count came under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counting {
    /// The input count includes cache reads and writes (OpenAI, the semconv keys).
    IncludesCache,
    /// The input count excludes them; they come besides it (Anthropic; botanu's `cache_read_tokens`).
    ExcludesCache,
    /// As the provider reports it (adk-rust): excluded for Anthropic and Bedrock, included otherwise.
    ByProvider,
}

/// One spelling of a token count.
#[derive(Debug)]
pub(crate) struct Spelling {
    pub(crate) key: &'static str,
    pub(crate) kind: TokenKind,
    /// For a cache count: how the span's input counts the cache when this spelling supplies it.
    pub(crate) counting: Counting,
}

const fn row(key: &'static str, kind: TokenKind, counting: Counting) -> Spelling {
    Spelling { key, kind, counting }
}

use Counting::{ByProvider, ExcludesCache, IncludesCache};
use TokenKind::*;

/// Every known spelling, in precedence order within a kind (the first present wins).
pub(crate) static TOKEN_SPELLINGS: &[Spelling] = &[
    // Input.
    row(k::GEN_AI_USAGE_INPUT_TOKENS, Input, IncludesCache),
    row(k::GEN_AI_USAGE_PROMPT_TOKENS, Input, IncludesCache),
    row(k::LANGFUSE_USAGE_PROMPT_TOKENS, Input, IncludesCache),
    row(k::LANGFUSE_USAGE_INPUT, Input, IncludesCache),
    // Output.
    row(k::GEN_AI_USAGE_OUTPUT_TOKENS, Output, IncludesCache),
    row(k::GEN_AI_USAGE_COMPLETION_TOKENS, Output, IncludesCache),
    row(k::LANGFUSE_USAGE_COMPLETION_TOKENS, Output, IncludesCache),
    row(k::LANGFUSE_USAGE_OUTPUT, Output, IncludesCache),
    // Cache reads: botanu's Anthropic-style key first (its presence is what says "input excludes").
    row(k::USAGE_CACHE_READ_TOKENS, CacheRead, ExcludesCache),
    row(k::USAGE_CACHED_TOKENS, CacheRead, IncludesCache),
    row(k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, CacheRead, IncludesCache),
    row(k::ADK_USAGE_CACHE_READ_TOKENS, CacheRead, ByProvider),
    row(k::LANGFUSE_USAGE_PROMPT_CACHED_TOKENS, CacheRead, IncludesCache),
    row(k::LANGFUSE_USAGE_INPUT_CACHED_TOKENS, CacheRead, IncludesCache),
    // Cache writes: the semconv rename (cache_creation → cache_write) reads both.
    row(k::USAGE_CACHE_WRITE_TOKENS, CacheWrite, ExcludesCache),
    row(k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, CacheWrite, IncludesCache),
    row(k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, CacheWrite, IncludesCache),
    row(k::ADK_USAGE_CACHE_CREATION_TOKENS, CacheWrite, ByProvider),
    // Reasoning.
    row(k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, Reasoning, IncludesCache),
    row(k::RIG_USAGE_REASONING_TOKENS, Reasoning, IncludesCache),
    row(k::ADK_USAGE_THINKING_TOKENS, Reasoning, IncludesCache),
    row(k::LANGFUSE_USAGE_COMPLETION_REASONING_TOKENS, Reasoning, IncludesCache),
    row(k::LANGFUSE_USAGE_OUTPUT_REASONING_TOKENS, Reasoning, IncludesCache),
    // Modalities.
    row(k::GEN_AI_USAGE_AUDIO_INPUT_TOKENS, AudioInput, IncludesCache),
    row(k::ADK_USAGE_AUDIO_INPUT_TOKENS, AudioInput, IncludesCache),
    row(k::GEN_AI_USAGE_IMAGE_INPUT_TOKENS, ImageInput, IncludesCache),
    row(k::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS, AudioOutput, IncludesCache),
    row(k::ADK_USAGE_AUDIO_OUTPUT_TOKENS, AudioOutput, IncludesCache),
    row(k::GEN_AI_USAGE_IMAGE_OUTPUT_TOKENS, ImageOutput, IncludesCache),
    // Recorded, not priced; the cross-check.
    row(k::RIG_USAGE_TOOL_USE_PROMPT_TOKENS, ToolUseInput, IncludesCache),
    row(k::GEN_AI_USAGE_TOTAL_TOKENS, Total, IncludesCache),
    row(k::LANGFUSE_USAGE_TOTAL_TOKENS, Total, IncludesCache),
];

/// The prefixes every spelling starts with: a key without one is not looked up at all.
const PREFIXES: [&str; 3] = ["gen_ai.usage.", "botanu.usage.", "langfuse.usage."];

/// Whether `key` is under a prefix a token spelling has: a span's other attributes (most of them) are
/// passed over before their values are read as counts.
#[inline]
pub(crate) fn may_be_token_key(key: &str) -> bool {
    PREFIXES.iter().any(|p| key.starts_with(p))
}

/// The row of `key`, if it is a token spelling.
pub(crate) fn spelling(key: &str) -> Option<(usize, &'static Spelling)> {
    if !may_be_token_key(key) {
        return None;
    }
    TOKEN_SPELLINGS.iter().enumerate().find(|(_, s)| s.key == key)
}

/// The dialect of a callsite, from the fields it declares (decided once per callsite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Dialect {
    /// Counts as their spellings say.
    #[default]
    Generic,
    /// adk-rust (`adk-telemetry`): each provider's own numbers, so Gemini's output excludes thinking.
    Adk,
}

/// The dialect of a callsite declaring the fields `has` finds: adk-rust's model spans all declare its
/// `gen_ai.usage.cache_creation_tokens`, which no other crate spells so.
pub(crate) fn callsite_dialect(has: impl Fn(&str) -> bool) -> Dialect {
    if has(k::ADK_USAGE_CACHE_CREATION_TOKENS) {
        Dialect::Adk
    } else {
        Dialect::Generic
    }
}

/// The provider a crate's module path names, for model-call spans that name none (swiftide's: its
/// `swiftide_integrations::openai`, `::anthropic`, `::aws_bedrock_v2`, … modules), normalized; `None`
/// unless the segment is a known provider spelling.
pub(crate) fn provider_of_module(module_path: &str) -> Option<&'static str> {
    let mut segments = module_path.split("::").skip_while(|s| *s != "swiftide_integrations");
    segments.next()?;
    let segment = segments.next()?;
    // `aws_bedrock_v2` → `aws_bedrock`.
    let base = match segment.rsplit_once("_v") {
        Some((base, version)) if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => segment,
    };
    match crate::normalize::normalize_llm_vendor(base) {
        std::borrow::Cow::Borrowed(provider) => Some(provider),
        std::borrow::Cow::Owned(_) => None,
    }
}

/// Providers (normalized) whose input count excludes the cache counts when the crate passes the
/// provider's numbers through ([`Counting::ByProvider`]).
const INPUT_EXCLUDES_CACHE: [&str; 2] = ["anthropic", "aws.bedrock"];
/// Providers (normalized) whose output count excludes reasoning tokens in adk-rust's dialect (Gemini's
/// `candidatesTokenCount` beside `thoughtsTokenCount`).
const OUTPUT_EXCLUDES_REASONING: [&str; 1] = ["gcp.vertex_ai"];

/// The token counts of one span, read through the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Reading {
    pub(crate) tokens: Tokens,
    /// Whether any token spelling was present.
    pub(crate) any: bool,
    /// The crate's reported total when it differs from input + output as read (`None`: absent or equal).
    pub(crate) total_mismatch: Option<u64>,
}

/// Reads `(key, count)` pairs (a span's attributes, non-token keys included) into token counts.
/// `provider` is the span's normalized provider.
pub(crate) fn read<'a>(
    pairs: impl IntoIterator<Item = (&'a str, u64)>,
    provider: Option<&str>,
    dialect: Dialect,
) -> Reading {
    // The winning row index per kind (table order is precedence), and its count.
    let mut best: [Option<(usize, u64)>; 11] = [None; 11];
    let mut any = false;
    for (key, count) in pairs {
        let Some((index, spelling)) = spelling(key) else { continue };
        any = true;
        if count == 0 {
            continue;
        }
        let slot = &mut best[slot_of(spelling.kind)];
        if slot.is_none_or(|(i, _)| index < i) {
            *slot = Some((index, count));
        }
    }
    let get = |kind: TokenKind| best[slot_of(kind)].map_or(0, |(_, n)| n);
    let is_provider = |list: &[&str]| provider.is_some_and(|p| list.iter().any(|x| x.eq_ignore_ascii_case(p)));
    // The first cache spelling (reads before writes, table order) says how the input was counted.
    let cache_row = [CacheRead, CacheWrite]
        .iter()
        .filter_map(|kind| best[slot_of(*kind)].map(|(i, _)| i))
        .min()
        .map(|i| TOKEN_SPELLINGS[i].counting);
    let input_counting = match cache_row {
        Some(ExcludesCache) => InputCounting::ExcludesCache,
        Some(ByProvider) if is_provider(&INPUT_EXCLUDES_CACHE) => InputCounting::ExcludesCache,
        _ => InputCounting::IncludesCache,
    };
    let reasoning = get(Reasoning);
    let mut output = get(Output);
    if dialect == Dialect::Adk && is_provider(&OUTPUT_EXCLUDES_REASONING) {
        output = output.saturating_add(reasoning);
    }
    let tokens = Tokens {
        input: get(Input),
        output,
        cache_read: get(CacheRead),
        cache_write: get(CacheWrite),
        reasoning,
        cache_write_1h: 0,
        audio_input: get(AudioInput),
        image_input: get(ImageInput),
        audio_output: get(AudioOutput),
        image_output: get(ImageOutput),
        input_counting,
    };
    let total_mismatch = best[slot_of(Total)].map(|(_, n)| n).filter(|reported| {
        let parts = tokens.total_input().saturating_add(tokens.total_output());
        // Gemini's total holds its tool-use prompt tokens too.
        *reported != parts && *reported != parts.saturating_add(get(ToolUseInput))
    });
    Reading { tokens, any, total_mismatch }
}

/// The whole, non-negative numbers of a JSON object (swiftide's `langfuse.usage`), each under its dotted
/// path after `prefix`: `{"prompt_tokens": 19, "details": {"prompt_tokens_details": {"cached_tokens": 4}}}`
/// → `langfuse.usage.prompt_tokens = 19`, `langfuse.usage.details.prompt_tokens_details.cached_tokens = 4`.
/// Just enough JSON for a usage object (botanu has no JSON dependency): strings are skipped, arrays are
/// not descended into, and anything malformed ends the scan with what was read so far. Bounded: at most
/// 64 numbers, nesting depth 8.
pub(crate) fn json_counts(prefix: &str, raw: &str) -> Vec<(String, u64)> {
    const MAX_NUMBERS: usize = 64;
    const MAX_DEPTH: usize = 8;
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    // The key whose value comes next, at the current depth.
    let mut key: Option<String> = None;
    let mut chars = raw.chars().peekable();
    let mut array_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        c => text.push(c),
                    }
                }
                // A string is a key when a colon follows it, else a (skipped) value.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if array_depth == 0 && chars.peek() == Some(&':') {
                    chars.next();
                    key = Some(text);
                } else {
                    key = None;
                }
            }
            '{' if array_depth == 0 => {
                // The top-level object has no key; a member's object opens a path segment.
                if let Some(k) = key.take() {
                    if path.len() >= MAX_DEPTH {
                        break;
                    }
                    path.push(k);
                }
            }
            // Inside an array nothing is read: objects and arrays there only nest.
            '{' | '[' => {
                key = None;
                array_depth += 1;
            }
            '}' if array_depth == 0 => {
                path.pop();
            }
            ']' | '}' if array_depth > 0 => array_depth -= 1,
            '0'..='9' if array_depth == 0 => {
                let mut number = String::from(c);
                while let Some(d) =
                    chars.peek().copied().filter(|d| d.is_ascii_alphanumeric() || *d == '.' || *d == '-' || *d == '+')
                {
                    number.push(d);
                    chars.next();
                }
                if let (Some(k), Ok(n)) = (key.take(), number.parse::<u64>()) {
                    let mut full = String::from(prefix);
                    for segment in &path {
                        full.push('.');
                        full.push_str(segment);
                    }
                    full.push('.');
                    full.push_str(&k);
                    out.push((full, n));
                    if out.len() >= MAX_NUMBERS {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn slot_of(kind: TokenKind) -> usize {
    match kind {
        Input => 0,
        Output => 1,
        CacheRead => 2,
        CacheWrite => 3,
        Reasoning => 4,
        AudioInput => 5,
        ImageInput => 6,
        AudioOutput => 7,
        ImageOutput => 8,
        ToolUseInput => 9,
        Total => 10,
    }
}

/// The canonical (semconv) key a kind is written under when a span carries it only under another
/// spelling; `cache_write` is the opt-in's choice (`gen_ai.usage.cache_creation.input_tokens` by default).
pub(crate) fn canonical_key(kind: TokenKind, cache_write: &'static str) -> Option<&'static str> {
    Some(match kind {
        CacheRead => k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        CacheWrite => cache_write,
        Reasoning => k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        AudioInput => k::GEN_AI_USAGE_AUDIO_INPUT_TOKENS,
        AudioOutput => k::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS,
        Input | Output | ImageInput | ImageOutput | ToolUseInput | Total => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(pairs: &[(&str, u64)], provider: &str, dialect: Dialect) -> Reading {
        read(pairs.iter().copied(), Some(provider), dialect)
    }

    #[test]
    fn every_spelling_is_unique_and_found() {
        for (i, row) in TOKEN_SPELLINGS.iter().enumerate() {
            assert_eq!(spelling(row.key).map(|(j, _)| j), Some(i), "{}", row.key);
        }
        assert!(spelling("gen_ai.request.model").is_none());
    }

    /// (what the crate wrote, provider, dialect) → (input, cache_read, cache_write, output, reasoning,
    /// total input, total output).
    #[test]
    fn dialects_read_to_the_same_tokens() {
        type Row<'a> = (&'a [(&'a str, u64)], &'a str, Dialect, [u64; 7]);
        let table: Vec<Row<'_>> = vec![
            // semconv (genai, rig, tirea): input includes the cache.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 120),
                    (k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 100),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                ],
                "openai",
                Dialect::Generic,
                [120, 100, 0, 30, 0, 120, 30],
            ),
            // botanu's set_tokens, Anthropic-style: both spellings present, counted once, input excludes.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 20),
                    (k::USAGE_CACHE_READ_TOKENS, 100),
                    (k::USAGE_CACHED_TOKENS, 100),
                    (k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 100),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                ],
                "anthropic",
                Dialect::Generic,
                [20, 100, 0, 30, 0, 120, 30],
            ),
            // adk + OpenAI: includes; thinking is part of output.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 120),
                    (k::ADK_USAGE_CACHE_READ_TOKENS, 100),
                    (k::ADK_USAGE_THINKING_TOKENS, 10),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                    (k::GEN_AI_USAGE_TOTAL_TOKENS, 150),
                ],
                "openai",
                Dialect::Adk,
                [120, 100, 0, 30, 10, 120, 30],
            ),
            // adk + Bedrock: input excludes the cache counts beside it.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 20),
                    (k::ADK_USAGE_CACHE_READ_TOKENS, 100),
                    (k::ADK_USAGE_CACHE_CREATION_TOKENS, 5),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                ],
                "aws.bedrock",
                Dialect::Adk,
                [20, 100, 5, 30, 0, 125, 30],
            ),
            // adk + Gemini: output excludes thinking.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 50),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                    (k::ADK_USAGE_THINKING_TOKENS, 10),
                ],
                "gcp.vertex_ai",
                Dialect::Adk,
                [50, 0, 0, 40, 10, 50, 40],
            ),
            // tirea + Gemini (genai's usage): the same key, output already includes it.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 50),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                    (k::ADK_USAGE_THINKING_TOKENS, 10),
                ],
                "gcp.vertex_ai",
                Dialect::Generic,
                [50, 0, 0, 30, 10, 50, 30],
            ),
            // rig: reasoning_tokens; the new cache_write spelling wins over cache_creation.
            (
                &[
                    (k::GEN_AI_USAGE_INPUT_TOKENS, 120),
                    (k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, 7),
                    (k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, 7),
                    (k::RIG_USAGE_REASONING_TOKENS, 10),
                    (k::GEN_AI_USAGE_OUTPUT_TOKENS, 30),
                ],
                "openai",
                Dialect::Generic,
                [120, 0, 7, 30, 10, 120, 30],
            ),
            // swiftide's Langfuse usage JSON, flattened.
            (
                &[
                    (k::LANGFUSE_USAGE_PROMPT_TOKENS, 120),
                    (k::LANGFUSE_USAGE_COMPLETION_TOKENS, 30),
                    (k::LANGFUSE_USAGE_TOTAL_TOKENS, 150),
                ],
                "openai",
                Dialect::Generic,
                [120, 0, 0, 30, 0, 120, 30],
            ),
        ];
        for (pairs, provider, dialect, want) in table {
            let r = reading(pairs, provider, dialect);
            let t = r.tokens;
            assert!(r.any);
            assert_eq!(
                [t.input, t.cache_read, t.cache_write, t.output, t.reasoning, t.total_input(), t.total_output()],
                want,
                "{pairs:?} {provider}"
            );
            assert_eq!(r.total_mismatch, None, "{pairs:?}");
        }
    }

    #[test]
    fn swiftide_usage_json_is_flattened() {
        // swiftide-core's `Usage`, serialized pretty as swiftide does (`langfuse_json`).
        let raw = r#"{
  "prompt_tokens": 120,
  "completion_tokens": 30,
  "total_tokens": 150,
  "details": {
    "prompt_tokens_details": { "audio_tokens": null, "cached_tokens": 100 },
    "completion_tokens_details": { "reasoning_tokens": 10, "note": "x:1" },
    "list": [ { "n": 5 }, 6 ]
  }
}"#;
        let counts = json_counts(k::LANGFUSE_USAGE, raw);
        let keys: Vec<(&str, u64)> = counts.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(
            keys,
            [
                (k::LANGFUSE_USAGE_PROMPT_TOKENS, 120),
                (k::LANGFUSE_USAGE_COMPLETION_TOKENS, 30),
                (k::LANGFUSE_USAGE_TOTAL_TOKENS, 150),
                (k::LANGFUSE_USAGE_PROMPT_CACHED_TOKENS, 100),
                (k::LANGFUSE_USAGE_COMPLETION_REASONING_TOKENS, 10),
            ]
        );
        let r = read(keys, Some("openai"), Dialect::Generic);
        assert_eq!(
            (r.tokens.total_input(), r.tokens.cache_read, r.tokens.total_output(), r.tokens.reasoning),
            (120, 100, 30, 10)
        );
        assert_eq!(r.total_mismatch, None);
        for bad in ["", "{", "[1,2]", "{\"a\": -1}", "{\"a\": 1e9}", "not json"] {
            let _ = json_counts("p", bad);
        }
    }

    #[test]
    fn swiftide_modules_name_their_provider() {
        for (path, want) in [
            ("swiftide_integrations::openai::chat_completion", Some("openai")),
            ("app::swiftide_integrations::aws_bedrock_v2::simple_prompt", Some("aws.bedrock")),
            ("swiftide_integrations::anthropic", Some("anthropic")),
            ("swiftide_integrations::fastembed", None),
            ("swiftide_integrations", None),
            ("my_app::openai", None),
        ] {
            assert_eq!(provider_of_module(path), want, "{path}");
        }
    }

    #[test]
    fn a_total_that_disagrees_is_reported_not_used() {
        let r = reading(
            &[
                (k::GEN_AI_USAGE_INPUT_TOKENS, 10),
                (k::GEN_AI_USAGE_OUTPUT_TOKENS, 5),
                (k::GEN_AI_USAGE_TOTAL_TOKENS, 99),
            ],
            "openai",
            Dialect::Generic,
        );
        assert_eq!((r.tokens.total_input(), r.tokens.total_output(), r.total_mismatch), (10, 5, Some(99)));
        assert!(!read([("gen_ai.request.model", 1)], None, Dialect::Generic).any);
    }
}
