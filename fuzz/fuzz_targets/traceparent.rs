//! `traceparent`, `tracestate` and the `x-botanu-*` fallback headers, as they arrive from clients.
#![no_main]

use std::collections::HashMap;

use botanu::__private::w3c;
use botanu::propagation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Some(tp) = w3c::parse_traceparent(&text) {
        assert!(tp.trace_id != 0 && tp.span_id != 0);
        let formatted = w3c::format_traceparent(&tp);
        assert_eq!(w3c::parse_traceparent(&formatted), Some(tp));
        if text.trim().starts_with("00-") {
            assert_eq!(formatted, text.trim());
        }
    }
    if let Some(state) = w3c::sanitize_tracestate(&text) {
        assert!(state.len() <= w3c::MAX_TRACESTATE_BYTES);
    }
    if let Some(id) = w3c::valid_run_id(&text) {
        assert_eq!(id.len(), 36);
        assert!(!id.bytes().any(|b| b.is_ascii_uppercase()));
    }

    // The same bytes in every header `extract` reads, split at the first newline so the fallback
    // run id and workflow can differ.
    let (first, second) = text.split_once('\n').unwrap_or((&text, &text));
    let headers: HashMap<String, String> = [
        ("traceparent", first),
        ("tracestate", second),
        ("x-botanu-run-id", first),
        ("x-botanu-workflow", second),
        ("x-botanu-customer-id", second),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    let remote = propagation::extract(&headers);
    if let Some(run) = remote.run() {
        assert_eq!(w3c::valid_run_id(&run.run_id).as_deref(), Some(run.run_id.as_str()));
        assert!(!run.workflow.chars().any(char::is_control) && run.workflow.len() <= 128);
    }
});
