//! The config file: which one is read, reading it safely, and `${VAR}` interpolation in its values.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::{ConfigError, FileLocation};
use super::keys;
use super::raw::Raw;
use super::{ConfigSource, MAX_FILE_BYTES};

/// Longest value `${VAR}` expansion may produce: far above any endpoint, header or pattern, far below
/// what would hurt (a 100 KB variable referenced 5,000 times would otherwise build 500 MB).
pub(super) const MAX_EXPANDED_VALUE_BYTES: usize = 64 * 1024;
/// Longest all expanded values of one file may be together, the same bound as the file itself.
pub(super) const MAX_EXPANDED_TOTAL_BYTES: usize = MAX_FILE_BYTES as usize;

/// Which file to read, if any: explicit > `BOTANU_CONFIG_FILE` > the first of the search list.
pub(super) fn find_config_file(source: &ConfigSource) -> Result<Option<PathBuf>, ConfigError> {
    let named = source.explicit_file.clone().map(|path| (path, "ConfigSource::with_file")).or_else(|| {
        source
            .var(keys::BOTANU_CONFIG_FILE)
            .filter(|value| !value.trim().is_empty())
            .map(|value| (PathBuf::from(value.trim()), keys::BOTANU_CONFIG_FILE))
    });
    if let Some((path, named_by)) = named {
        // `join` keeps an absolute path as is.
        let path = source.search_dir.join(path);
        return match path.try_exists() {
            Ok(true) => Ok(Some(path)),
            Ok(false) => Err(ConfigError::FileNotFound { path, named_by }),
            Err(source) => Err(ConfigError::Read { path, source }),
        };
    }
    Ok(keys::SEARCH_FILES.iter().map(|name| source.search_dir.join(name)).find(|path| path.is_file()))
}

/// Reads the config file: a regular file (a FIFO would block `open` until a writer comes, a device
/// could be endless), at most [`MAX_FILE_BYTES`], UTF-8, without a byte-order mark.
pub(super) fn read_text(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read { path: path.to_owned(), source };
    let not_a_file = || {
        read_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO, socket or device); name a YAML file",
        ))
    };
    // Checked before opening, since opening a FIFO blocks; and again on the open file, in case the
    // path was swapped in between (a FIFO swapped in that window could still block: no portable
    // non-blocking open in std).
    if !std::fs::metadata(path).map_err(read_error)?.is_file() {
        return Err(not_a_file());
    }
    let file = std::fs::File::open(path).map_err(read_error)?;
    if !file.metadata().map_err(read_error)?.is_file() {
        return Err(not_a_file());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::FileTooLarge { path: path.to_owned() });
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error(io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text")))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(without_bom) => without_bom.to_owned(),
        None => text,
    })
}

/// Replaces `${VAR}` / `${VAR:-default}` in a YAML value; `$${` is a literal `${`. Substituted text is
/// not scanned again. The result is at most [`MAX_EXPANDED_VALUE_BYTES`], and `budget` (what is left of
/// [`MAX_EXPANDED_TOTAL_BYTES`] for the file) is charged for it; both are checked before each
/// substitution is copied, so an oversized expansion fails without being built.
pub(super) fn interpolate(
    raw: &Raw,
    location: &FileLocation,
    source: &ConfigSource,
    budget: &mut usize,
) -> Result<String, ConfigError> {
    const REFERENCE: &str = "${NAME} or ${NAME:-default} with NAME made of letters, digits and _";
    let text = raw.value.as_str();
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(reference) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(close) = reference.find('}') else {
            return Err(raw.invalid(format!("{REFERENCE} (a `${{` is not closed)")));
        };
        let body = &reference[..close];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_variable_name(name) {
            return Err(raw.invalid(REFERENCE));
        }
        let value = source.var(name);
        let replacement = match (value.as_deref(), default) {
            (Some(""), Some(default)) => default,
            (Some(value), _) => value,
            (None, Some(default)) => default,
            (None, None) => {
                return Err(ConfigError::UnsetVariable { variable: name.to_owned(), location: location.clone() })
            }
        };
        let too_large = |limit| ConfigError::ExpansionTooLarge {
            key: raw.key.clone(),
            variable: name.to_owned(),
            location: location.clone(),
            limit,
        };
        let length = out.len().saturating_add(replacement.len());
        if length > MAX_EXPANDED_VALUE_BYTES {
            return Err(too_large(MAX_EXPANDED_VALUE_BYTES));
        }
        if length > *budget {
            return Err(too_large(MAX_EXPANDED_TOTAL_BYTES));
        }
        out.push_str(replacement);
        rest = &reference[close + 1..];
    }
    out.push_str(rest);
    // Literal text counts too: the budget is for what the file's values become.
    *budget = budget.saturating_sub(out.len());
    Ok(out)
}

pub(super) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}
