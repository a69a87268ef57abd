//! `baggage` headers, as they arrive from clients: parsed, formatted back, and read by `extract`.
#![no_main]

use std::collections::HashMap;

use botanu::__private::w3c;
use botanu::propagation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);

    let parsed = w3c::parse_baggage(&header);
    assert!(parsed.len() <= w3c::MAX_BAGGAGE_MEMBERS);
    for (key, value) in &parsed {
        assert!(w3c::is_valid_key(key), "{key:?}");
        assert!(key.len() + 1 + value.len() <= w3c::MAX_MEMBER_BYTES);
    }

    // What was read can be written back as a valid header, which reads back to (a subset of) it:
    // encoding can grow a value threefold, so members may be left out to respect the limits.
    let formatted = w3c::format_baggage(parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert!(formatted.len() <= w3c::MAX_BAGGAGE_BYTES);
    assert!(formatted.bytes().all(|b| (0x21..0x7f).contains(&b)), "{formatted:?}");
    let again = w3c::parse_baggage(&formatted);
    assert!(again.iter().all(|entry| parsed.contains(entry)));

    if let Some(decoded) = w3c::percent_decode(&header) {
        assert!(decoded.len() <= header.len());
        assert_eq!(w3c::percent_decode(&w3c::percent_encode(&decoded)).as_deref(), Some(decoded.as_str()));
    }

    let headers = HashMap::from([("baggage".to_owned(), header.into_owned())]);
    let remote = propagation::extract(&headers);
    if let Some(run) = remote.run() {
        assert!(w3c::valid_run_id(&run.run_id).as_deref() == Some(run.run_id.as_str()));
        assert!(!run.workflow.is_empty() && run.workflow.len() <= 128);
        assert!(!run.workflow.chars().any(char::is_control));
    }
});
