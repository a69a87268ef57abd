//! Tests of the config loader: precedence, grammar, file, YAML, errors.

use super::url::strip_credentials;
use super::MAX_FILE_BYTES;
use super::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

mod file;
mod precedence;
mod values;

/// Environment variables for one case.
type Env = &'static [(&'static str, &'static str)];

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "botanu-config-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn source(dir: &TempDir, env: &[(&str, &str)]) -> ConfigSource {
    let map = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    ConfigSource::from_env_map(map).with_search_dir(dir.path())
}

fn load(dir: &TempDir, env: &[(&str, &str)]) -> Result<(Config, Vec<String>), ConfigError> {
    Config::load_from(&source(dir, env))
}

fn load_ok(dir: &TempDir, env: &[(&str, &str)]) -> Config {
    match load(dir, env) {
        Ok((config, _)) => config,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// Loads with `yaml` as `botanu.yaml`; returns the file's path for error assertions.
fn load_yaml(yaml: &str, env: &[(&str, &str)]) -> (PathBuf, Result<(Config, Vec<String>), ConfigError>) {
    let dir = TempDir::new();
    let path = dir.write("botanu.yaml", yaml);
    let result = load(&dir, env);
    (path, result)
}

fn load_yaml_ok(yaml: &str, env: &[(&str, &str)]) -> (Config, Vec<String>) {
    match load_yaml(yaml, env).1 {
        Ok(loaded) => loaded,
        Err(e) => panic!("unexpected error for {yaml:?}: {e}"),
    }
}
