//! `Tokens` from LLM clients' usage types (features `async-openai`, `genai`, `aws-bedrock`), read from exported spans:
//! `span.set_tokens(usage.into())` writes the contract's token keys, cache and reasoning counts when the
//! client reports them, and prices each token once.
#![cfg(feature = "testing")]

use botanu::prelude::*;
use botanu::semconv as k;
use botanu::testing::{capture, CapturedSpan};

/// The one LLM call `record` made, inside a run.
fn llm_call(provider: &'static str, model: &'static str, tokens: Tokens) -> CapturedSpan {
    let cap = capture(|| {
        run_span!(workflow = "usage").in_scope(|| {
            llm_span!(provider = provider, model = model).set_tokens(tokens);
        })
    });
    let calls = cap.llm_calls();
    assert_eq!(calls.len(), 1, "{cap}");
    calls[0].clone()
}

#[cfg(feature = "async-openai")]
#[test]
fn async_openai_completion_usage() {
    use async_openai::types::chat::{CompletionTokensDetails, CompletionUsage, PromptTokensDetails};

    let usage = CompletionUsage {
        prompt_tokens: 10_000,
        completion_tokens: 2_000,
        total_tokens: 12_000,
        prompt_tokens_details: Some(PromptTokensDetails { cached_tokens: Some(4_000), ..Default::default() }),
        completion_tokens_details: Some(CompletionTokensDetails { reasoning_tokens: Some(500), ..Default::default() }),
    };
    let call = llm_call("openai", "gpt-4o", usage.into());
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(10_000));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_OUTPUT_TOKENS), Some(2_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHED_TOKENS), Some(4_000));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), Some(4_000));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), Some(500));
    assert!(!call.has_attr(k::USAGE_CACHE_WRITE_TOKENS), "not reported, not written");
    // The cached part is priced at the cache price: cheaper than the same call without cache.
    let uncached = llm_call("openai", "gpt-4o", Tokens { input: 10_000, output: 2_000, ..Default::default() });
    assert!(call.cost_usd().expect("priced") < uncached.cost_usd().expect("priced"));

    // No details: only input and output.
    let bare = CompletionUsage {
        prompt_tokens: 7,
        completion_tokens: 3,
        total_tokens: 10,
        prompt_tokens_details: None,
        completion_tokens_details: None,
    };
    let call = llm_call("openai", "gpt-4o", (&bare).into());
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(7));
    for key in [k::USAGE_CACHED_TOKENS, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, k::USAGE_CACHE_WRITE_TOKENS] {
        assert!(!call.has_attr(key), "{key}");
    }

    // A gateway that reports cache writes (OpenRouter for Anthropic models): the cache is split out of
    // prompt_tokens, so no token is priced twice.
    let gateway = CompletionUsage {
        prompt_tokens: 3_000,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(1_500),
            cache_write_tokens: Some(500),
            ..Default::default()
        }),
        ..bare
    };
    let call = llm_call("anthropic", "claude-sonnet-4-5", gateway.into());
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(1_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHE_READ_TOKENS), Some(1_500));
    assert_eq!(call.attr_i64(k::USAGE_CACHE_WRITE_TOKENS), Some(500));
}

#[cfg(feature = "genai")]
#[test]
fn genai_usage() {
    use genai::chat::{CompletionTokensDetails, PromptTokensDetails, Usage};

    // Anthropic through genai: prompt_tokens is every input token, cache reads and writes included.
    let usage = Usage {
        prompt_tokens: Some(13_000),
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(10_000),
            cache_creation_tokens: Some(1_000),
            ..Default::default()
        }),
        completion_tokens: Some(500),
        completion_tokens_details: Some(CompletionTokensDetails { reasoning_tokens: Some(100), ..Default::default() }),
        total_tokens: Some(13_500),
    };
    let call = llm_call("anthropic", "claude-sonnet-4-5", usage.into());
    // botanu's input excludes the cache here (Anthropic's convention); the semconv keys add it back.
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(2_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHE_READ_TOKENS), Some(10_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHE_WRITE_TOKENS), Some(1_000));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), Some(1_000));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), Some(100));
    let parts = [k::COST_INPUT_USD, k::COST_CACHE_READ_USD, k::COST_CACHE_WRITE_USD, k::COST_OUTPUT_USD];
    for key in parts {
        assert!(call.attr_f64(key).is_some_and(|usd| usd > 0.0), "{key} priced");
    }

    // OpenAI through genai: cached tokens are a part of prompt_tokens.
    let usage = Usage {
        prompt_tokens: Some(1_000),
        prompt_tokens_details: Some(PromptTokensDetails { cached_tokens: Some(400), ..Default::default() }),
        completion_tokens: Some(50),
        ..Default::default()
    };
    let call = llm_call("openai", "gpt-4o", (&usage).into());
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(1_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHED_TOKENS), Some(400));
    assert!(!call.has_attr(k::USAGE_CACHE_WRITE_TOKENS));

    // A response without usage: not a $0 call, an unpriced one.
    let call = llm_call("openai", "gpt-4o", Usage::default().into());
    assert_eq!(call.cost_usd(), None);
    assert_eq!(call.attr_str(k::COST_UNPRICED_REASON), Some("no_usage"));
    for key in [k::USAGE_CACHED_TOKENS, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] {
        assert!(!call.has_attr(key), "{key}");
    }
}

#[cfg(feature = "aws-bedrock")]
#[test]
fn bedrock_token_usage() {
    use aws_sdk_bedrockruntime::types::TokenUsage;

    // Bedrock reports cache reads and writes beside `inputTokens` (the real crate's builder).
    let usage = TokenUsage::builder()
        .input_tokens(2_000)
        .output_tokens(500)
        .total_tokens(13_500)
        .cache_read_input_tokens(10_000)
        .cache_write_input_tokens(1_000)
        .build()
        .expect("all required fields");
    let call = llm_call("bedrock", "anthropic.claude-3-haiku-20240307-v1:0", usage.into());
    assert_eq!(call.attr_str(k::GEN_AI_PROVIDER_NAME), Some("aws.bedrock"));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(2_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHE_READ_TOKENS), Some(10_000));
    assert_eq!(call.attr_i64(k::USAGE_CACHE_WRITE_TOKENS), Some(1_000));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_OUTPUT_TOKENS), Some(500));

    // Without a cache: Claude 3 Haiku, $0.25 / $1.25 per million input / output tokens.
    let usage = TokenUsage::builder()
        .input_tokens(1_000_000)
        .output_tokens(1_000_000)
        .total_tokens(2_000_000)
        .build()
        .expect("built");
    let call = llm_call("bedrock", "anthropic.claude-3-haiku-20240307-v1:0", (&usage).into());
    assert!(call.cost_usd().is_some_and(|usd| (usd - 1.5).abs() < 1e-9), "{:?}", call.cost_usd());
    assert!(!call.has_attr(k::USAGE_CACHE_READ_TOKENS));
}
