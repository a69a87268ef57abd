//! Why a configuration could not be loaded, and where: [`ConfigError`], [`FileLocation`], and the
//! API-key refusal [`ApiKeyWithheld`].

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::MAX_FILE_BYTES;

/// A position in the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileLocation {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for FileLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.path.display(), self.line)
    }
}

/// Why the configuration could not be loaded. `Display` says what to fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file named explicitly (or by `BOTANU_CONFIG_FILE`) does not exist.
    FileNotFound {
        /// The missing path.
        path: PathBuf,
        /// Who named it: `"ConfigSource::with_file"` or `"BOTANU_CONFIG_FILE"`.
        named_by: &'static str,
    },
    /// The config file exists but cannot be read (permissions, not UTF-8, …) or is not a regular file
    /// (a directory, a FIFO, a device: never opened, so never a hang).
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The config file is larger than 1 MiB.
    FileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The config file is not valid YAML (or not one document, or too deeply nested).
    Yaml {
        /// Where the parser stopped.
        location: FileLocation,
        /// What the parser found.
        message: String,
    },
    /// `${VAR}` names a variable that is not set and has no `:-default`.
    UnsetVariable {
        /// The variable's name.
        variable: String,
        /// Where the reference is.
        location: FileLocation,
    },
    /// `${VARIABLE}` expansion would make the value of `key`, or the file's values together, longer than
    /// `limit` bytes (64 KiB per value, 1 MiB per file).
    ExpansionTooLarge {
        /// The YAML path of the value being expanded.
        key: String,
        /// The variable whose expansion went over the limit.
        variable: String,
        /// Where the reference is.
        location: FileLocation,
        /// The limit that was hit, in bytes.
        limit: usize,
    },
    /// A setting has a value that does not parse or is not allowed.
    InvalidValue {
        /// The environment variable name or the YAML path (`export.batch_size`).
        key: String,
        /// The offending value (`[redacted]` for credentials).
        value: String,
        /// What would have been accepted.
        expected: String,
        /// Where in the file, for a YAML value; `None` for an environment variable.
        location: Option<FileLocation>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::FileNotFound { path, named_by } => {
                write!(f, "botanu config file {} (named by {named_by}) does not exist", path.display())
            }
            ConfigError::Read { path, source } => {
                write!(f, "cannot read botanu config file {}: {source}", path.display())
            }
            ConfigError::FileTooLarge { path } => write!(
                f,
                "botanu config file {} is larger than {MAX_FILE_BYTES} bytes; is it the right file?",
                path.display()
            ),
            ConfigError::Yaml { location, message } => {
                write!(f, "YAML syntax error in {location}: {message}")
            }
            ConfigError::UnsetVariable { variable, location } => write!(
                f,
                "${{{variable}}} in {location}: environment variable {variable} is not set; \
                 set it or give a default with ${{{variable}:-default}}"
            ),
            ConfigError::ExpansionTooLarge { key, variable, location, limit } => write!(
                f,
                "${{{variable}}} in {location}: expanding it makes {key} (or the file's values together) \
                 longer than {limit} bytes; is {variable} the right variable?"
            ),
            ConfigError::InvalidValue { key, value, expected, location } => {
                write!(f, "invalid value {value:?} for {key}")?;
                if let Some(location) = location {
                    write!(f, " in {location}")?;
                }
                write!(f, ": expected {expected}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `BOTANU_API_KEY` is set but the export endpoint is not a host it may be sent to.
///
/// The pipeline logs this once and exports without the key (the collector will likely refuse).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyWithheld {
    /// The export URL the key was not sent to: scheme and authority (credentials removed) and the signal
    /// path; any other path and the query are shown as `[redacted]` (they may hold a token).
    pub url: String,
}

impl fmt::Display for ApiKeyWithheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BOTANU_API_KEY was not sent to {}: the key is only sent to localhost, loopback addresses \
             and botanu.ai over https; to authenticate elsewhere set \
             OTEL_EXPORTER_OTLP_HEADERS=Authorization=... explicitly",
            self.url
        )
    }
}

impl std::error::Error for ApiKeyWithheld {}
