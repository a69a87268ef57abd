//! The config loader on arbitrary file contents: never a panic, every error says something.
//!
//! The loader reads a path, so each input is written to one file per fuzzing process in the
//! system temp directory (left there; it is overwritten on every input).
#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use botanu::config::{Config, ConfigSource};
use libfuzzer_sys::fuzz_target;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("botanu-fuzz-config-{}.yaml", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    if std::fs::write(path(), data).is_err() {
        return;
    }
    // Variables the YAML may reference as `${SET}`, `${EMPTY:-default}`, `${UNSET}`.
    let env = HashMap::from([
        ("SET".to_owned(), "512".to_owned()),
        ("EMPTY".to_owned(), String::new()),
        ("BOTANU_API_KEY".to_owned(), "fuzz-api-key-0123456789".to_owned()),
    ]);
    let source = ConfigSource::from_env_map(env).with_search_dir(std::env::temp_dir()).with_file(path());
    match Config::load_from(&source) {
        Ok((config, warnings)) => {
            assert!(config.batch_size >= 1 && config.batch_size <= config.queue_size);
            assert!((0.0..=1.0).contains(&config.content_capture_rate));
            assert!(!format!("{config:?}").contains("fuzz-api-key"));
            assert!(warnings.iter().all(|w| !w.is_empty()));
            let _ = (config.traces_url(), config.metrics_url(), config.auth_header());
        }
        Err(err) => assert!(!err.to_string().trim().is_empty(), "{err:?}"),
    }
});
