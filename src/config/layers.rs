//! The layers of one load (environment, `OTEL_RESOURCE_ATTRIBUTES`, the YAML file), looked up field by
//! field; `resolve.rs` and `tls.rs` read every field through them.

use super::error::ConfigError;
use super::grammar::parse_key_value_list;
use super::keys;
use super::raw::Raw;
use super::yaml::YamlSettings;
use super::ConfigSource;

/// The environment and file layers of one load, looked up field by field.
pub(super) struct Layers<'a> {
    pub(super) source: &'a ConfigSource,
    pub(super) file: Option<YamlSettings>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, parsed once: some of its keys feed dedicated fields.
    pub(super) resource: Vec<(String, String)>,
}

impl<'a> Layers<'a> {
    pub(super) fn new(source: &'a ConfigSource, file: Option<YamlSettings>) -> Result<Self, ConfigError> {
        let mut layers = Layers { source, file, resource: Vec::new() };
        if let Some(raw) = layers.env(keys::OTEL_RESOURCE_ATTRIBUTES) {
            layers.resource = parse_key_value_list(&raw)?;
        }
        Ok(layers)
    }

    /// An environment variable; empty or whitespace-only counts as unset (OpenTelemetry spec).
    pub(super) fn env(&self, name: &str) -> Option<Raw> {
        let value = self.source.var(name)?;
        if value.trim().is_empty() {
            None
        } else {
            Some(Raw::env(name, value))
        }
    }

    pub(super) fn resource_attribute(&self, key: &str) -> Option<Raw> {
        // The last occurrence wins, as when the list is applied in order.
        self.resource
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(k, v)| Raw::env(&format!("{} ({k})", keys::OTEL_RESOURCE_ATTRIBUTES), v.clone()))
    }

    pub(super) fn yaml(&self, path: &str) -> Option<Raw> {
        self.file.as_ref()?.scalar(path)
    }

    /// The first environment variable set, else the first resource attribute set, else the YAML value.
    pub(super) fn pick(&self, env: &[&str], resource: &[&str], yaml: &str) -> Option<Raw> {
        env.iter()
            .find_map(|name| self.env(name))
            .or_else(|| resource.iter().find_map(|key| self.resource_attribute(key)))
            .or_else(|| self.yaml(yaml))
    }

    /// The first layer's value of one field, parsed; `None` when no layer sets it.
    pub(super) fn value<T>(
        &self,
        env: &[&str],
        resource: &[&str],
        yaml: &str,
        parse: impl FnOnce(&Raw) -> Result<T, ConfigError>,
    ) -> Result<Option<T>, ConfigError> {
        self.pick(env, resource, yaml).map(|raw| parse(&raw)).transpose()
    }
}
