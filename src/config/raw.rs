//! One setting as found in the environment or the file, before it is parsed: what an error points at.

use super::error::{ConfigError, FileLocation};
use super::{keys, REDACTED};

/// One setting as found, before parsing, carrying what an error needs to point at it.
#[derive(Clone, Debug)]
pub(super) struct Raw {
    /// Environment variable name or YAML path.
    pub(super) key: String,
    pub(super) value: String,
    /// `Some` for a YAML value.
    pub(super) location: Option<FileLocation>,
}

impl Raw {
    pub(super) fn env(key: &str, value: String) -> Raw {
        Raw { key: key.to_owned(), value, location: None }
    }

    pub(super) fn invalid(&self, expected: impl Into<String>) -> ConfigError {
        // Header values and keys are credentials; the error (and its Debug) must not carry them. Resource
        // attributes may hold one too (a token pasted into the list): their keys are shown, not values.
        let value = if is_secret_key(&self.key) {
            REDACTED.to_owned()
        } else if self.key == keys::OTEL_RESOURCE_ATTRIBUTES {
            super::url::redact_key_value_list(&self.value, REDACTED)
        } else {
            self.value.clone()
        };
        ConfigError::InvalidValue {
            key: self.key.clone(),
            value,
            expected: expected.into(),
            location: self.location.clone(),
        }
    }

    /// `KEY` or `yaml.path (file line N)`, for warnings.
    pub(super) fn origin(&self) -> String {
        match &self.location {
            Some(location) => format!("{} ({location})", self.key),
            None => self.key.clone(),
        }
    }
}

pub(super) fn is_secret_key(key: &str) -> bool {
    key == keys::OTEL_EXPORTER_OTLP_HEADERS
        || key == keys::OTEL_EXPORTER_OTLP_TRACES_HEADERS
        || key == keys::OTEL_EXPORTER_OTLP_METRICS_HEADERS
        || key == keys::BOTANU_API_KEY
        || key.strip_prefix(keys::Y_OTLP_HEADERS).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

pub(super) fn push_unique(warnings: &mut Vec<String>, warning: String) {
    if !warnings.contains(&warning) {
        warnings.push(warning);
    }
}
