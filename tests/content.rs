//! Content capture on exported spans: the gate (off by default, per-run deterministic sampling), PII
//! scrubbing, truncation, third-party content fields, and secret-looking metadata keys.
mod common;

use std::collections::HashMap;

use botanu::content::{CaptureMode, ScrubOptions, Scrubber};
use botanu::prelude::*;
use botanu::semconv as k;
use common::*;

fn fake_openai_key() -> String {
    // Built at run time so secret scanners never see a key-shaped literal.
    format!("sk-{}{}", "proj-", "a".repeat(24))
}

#[test]
fn nothing_is_captured_at_the_default_rate() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "w").in_scope(|| {
            let llm = llm_span!(provider = "openai", model = "gpt-4");
            llm.set_input_content("my email is alice@example.com").set_output_content("ok");
            let db = db_span!(system = "postgres", operation = "SELECT");
            db.set_retrieval_content("row 1");
            let third = tracing::info_span!("x", gen_ai.system = "openai", gen_ai.input.messages = "hello");
            drop(third);
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 4);
    for span in &spans {
        for key in [k::EVAL_INPUT_CONTENT, k::EVAL_OUTPUT_CONTENT, k::EVAL_RETRIEVAL_CONTENT, k::GEN_AI_INPUT_MESSAGES]
        {
            assert_absent(span, key);
        }
    }
}

#[test]
fn at_rate_one_content_is_exported_scrubbed() {
    let h = Harness::with(|b| b.with_content_capture_rate(1.0));
    let key = fake_openai_key();
    h.run(|| {
        run_span!(workflow = "w").in_scope(|| {
            let llm = llm_span!(provider = "openai", model = "gpt-4");
            llm.set_input_content(&format!("contact me at alice@example.com, key {key}"));
            llm.set_output_content("call (415) 555-1234 or 415-555-1234");
            drop(llm);
            db_span!(system = "pg", operation = "SELECT")
                .set_retrieval_content("card 4111 1111 1111 1111 expires soon");
        });
    });
    let spans = h.spans();
    let llm = find(&spans, "chat gpt-4");
    assert_eq!(str_attr(llm, k::EVAL_INPUT_CONTENT), "contact me at [REDACTED], key [REDACTED]");
    assert_eq!(str_attr(llm, k::EVAL_OUTPUT_CONTENT), "call [REDACTED] or [REDACTED]");
    let db = find(&spans, "db.postgresql.select");
    assert_eq!(str_attr(db, k::EVAL_RETRIEVAL_CONTENT), "card [REDACTED] expires soon");
}

#[test]
fn third_party_content_fields_are_gated_and_scrubbed() {
    let h = Harness::with(|b| b.with_content_capture_rate(1.0));
    h.run(|| {
        let span = tracing::info_span!(
            "openai.chat",
            gen_ai.system = "OpenAI",
            gen_ai.request.model = "gpt-4",
            gen_ai.input.messages = "from 192.168.1.100: hi, I'm bob@example.org",
            gen_ai.output.messages = tracing::field::Empty,
            gen_ai.system_instructions = "never reveal 123-45-6789",
        );
        span.record("gen_ai.output.messages", "sure, bob@example.org");
    });
    let spans = h.spans();
    let span = find(&spans, "openai.chat");
    assert_eq!(str_attr(span, k::EVAL_INPUT_CONTENT), "from [REDACTED]: hi, I'm [REDACTED]");
    assert_eq!(str_attr(span, k::EVAL_OUTPUT_CONTENT), "sure, [REDACTED]");
    assert_eq!(str_attr(span, k::GEN_AI_SYSTEM_INSTRUCTIONS), "never reveal [REDACTED]");
    // The raw third-party keys never reach the wire.
    assert_absent(span, k::GEN_AI_INPUT_MESSAGES);
    assert_absent(span, k::GEN_AI_OUTPUT_MESSAGES);
}

#[test]
fn captured_content_is_cut_after_scrubbing() {
    let h = Harness::with(|b| b.with_content_capture_rate(1.0).with_content_max_chars(20));
    h.run(|| {
        // The email straddles the cut: scrubbing first means no fragment of it survives.
        llm_span!(provider = "openai", model = "m").set_input_content("0123456789abcdef alice@example.com tail");
        llm_span!(provider = "openai", model = "m2").set_input_content(&"é".repeat(10_000_000 / 2));
    });
    let spans = h.spans();
    let cut = str_attr(find(&spans, "chat m"), k::EVAL_INPUT_CONTENT);
    assert_eq!(cut, "0123456789abcdef [RE");
    let huge = str_attr(find(&spans, "chat m2"), k::EVAL_INPUT_CONTENT);
    assert_eq!(huge.chars().count(), 20);
    assert!(huge.chars().all(|c| c == 'é'));
}

#[test]
fn per_run_sampling_is_near_the_rate_and_consistent_within_a_run() {
    let h = Harness::with(|b| b.with_content_capture_rate(0.3));
    let runs = 10_000;
    h.run(|| {
        for _ in 0..runs {
            run_span!(workflow = "w").in_scope(|| {
                llm_span!(provider = "openai", model = "a").set_input_content("prompt a");
                llm_span!(provider = "openai", model = "b").set_input_content("prompt b");
            });
        }
    });
    let spans = h.spans();
    let mut per_run: HashMap<String, Vec<bool>> = HashMap::new();
    for span in spans.iter().filter(|s| s.name.starts_with("chat ")) {
        let run_id = str_attr(span, k::RUN_ID).to_owned();
        per_run.entry(run_id).or_default().push(attr(span, k::EVAL_INPUT_CONTENT).is_some());
    }
    assert_eq!(per_run.len(), runs);
    assert!(per_run.values().all(|d| d.len() == 2 && d[0] == d[1]), "every span of a run decides the same way");
    let captured = per_run.values().filter(|d| d[0]).count() as f64 / runs as f64;
    assert!((captured - 0.3).abs() <= 0.03, "captured share {captured}");
}

#[test]
fn per_call_mode_decides_each_value_independently() {
    let h = Harness::with(|b| b.with_content_capture_rate(0.5).with_capture_mode(CaptureMode::PerCall));
    h.run(|| {
        run_span!(workflow = "w").in_scope(|| {
            for _ in 0..400 {
                llm_span!(provider = "openai", model = "a").set_input_content("p");
            }
        });
    });
    let captured = h.spans().iter().filter(|s| attr(s, k::EVAL_INPUT_CONTENT).is_some()).count();
    // One run: per-run mode would give 0 or 400.
    assert!((120..=280).contains(&captured), "captured {captured} of 400");
}

#[test]
fn scrubber_options_apply_to_captured_content() {
    let scrubber = Scrubber::new(&ScrubOptions {
        disable: vec!["email".into()],
        custom: vec![("ticket".into(), r"TICKET-\d+".into())],
        typed_replacement: true,
        ..ScrubOptions::default()
    })
    .expect("valid options");
    let h = Harness::with(|b| b.with_content_capture_rate(1.0).with_scrubber(scrubber));
    h.run(|| {
        llm_span!(provider = "openai", model = "m").set_input_content("TICKET-42 from bob@example.com at 10.0.0.1");
    });
    let spans = h.spans();
    assert_eq!(
        str_attr(find(&spans, "chat m"), k::EVAL_INPUT_CONTENT),
        "[REDACTED:ticket] from bob@example.com at [REDACTED:ipv4]"
    );
}

#[test]
fn secret_looking_metadata_keys_are_redacted_everywhere() {
    let h = Harness::new();
    let key = fake_openai_key();
    h.run(|| {
        llm_span!(provider = "openai", model = "m")
            .add_metadata("api_key", key.as_str())
            .add_metadata("max_tokens_budget", 100u32);
        tool_span!(name = "t").add_metadata("Authorization", format!("Bearer {key}"));
        db_span!(system = "pg", operation = "SELECT").add_metadata("db_password", "hunter2");
        // Pass-through fields and event fields with secret-looking names are redacted too.
        let span = llm_span!(provider = "openai", model = "fields", x_api_key = %key, input_tokens_hint = 7);
        span.in_scope(|| tracing::info!(session_cookie = %key, "called"));
    });
    let spans = h.spans();
    assert_eq!(str_attr(find(&spans, "chat m"), "botanu.api_key"), "[REDACTED]");
    assert_eq!(int_attr(find(&spans, "chat m"), "botanu.max_tokens_budget"), 100);
    assert_eq!(str_attr(find(&spans, "execute_tool t"), "botanu.tool.Authorization"), "[REDACTED]");
    assert_eq!(str_attr(find(&spans, "db.postgresql.select"), "botanu.data.db_password"), "[REDACTED]");
    let fields = find(&spans, "chat fields");
    assert_eq!(str_attr(fields, "x_api_key"), "[REDACTED]");
    assert_eq!(int_attr(fields, "input_tokens_hint"), 7);
    let event = fields.events.iter().find(|e| e.name == "called").expect("event");
    assert!(event.attributes.iter().any(|kv| kv.key.as_str() == "session_cookie" && kv.value.as_str() == "[REDACTED]"));
    for span in &spans {
        let event_attrs = span.events.iter().flat_map(|e| e.attributes.iter());
        for kv in span.attributes.iter().chain(event_attrs) {
            assert!(!kv.value.to_string().contains(&key), "{} leaks the key in {}", span.name, kv.key);
        }
    }
}

#[test]
fn an_invalid_custom_pattern_is_a_config_error_naming_it() {
    let config = botanu::Config::default().with_pii_custom_pattern("employee_id", "(EMP-");
    let err = botanu::Builder::from_config(config).expect_err("invalid pattern");
    let text = err.to_string();
    assert!(text.contains("employee_id"), "{text}");
}

#[test]
fn secret_fields_events_and_metadata_share_the_configured_replacement() {
    let scrubber =
        Scrubber::new(&ScrubOptions { replacement: "***".into(), ..ScrubOptions::default() }).expect("valid");
    let h = Harness::with(|b| b.with_scrubber(scrubber));
    let key = fake_openai_key();
    h.run(|| {
        let span = llm_span!(provider = "openai", model = "m", api_key = %key);
        span.add_metadata("password", "hunter2");
        span.in_scope(|| tracing::info!(session_token = %key, "called"));
    });
    let spans = h.spans();
    let span = find(&spans, "chat m");
    assert_eq!(str_attr(span, "api_key"), "***");
    assert_eq!(str_attr(span, "botanu.password"), "***");
    let event = span.events.iter().find(|e| e.name == "called").expect("event");
    assert!(event.attributes.iter().any(|kv| kv.key.as_str() == "session_token" && kv.value.as_str() == "***"));
}
