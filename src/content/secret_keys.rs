//! Attribute keys whose values are secrets (`db.password`, `x-api-key`, `Authorization`).
//!
//! This judges *keys*, not text: the layer asks it before exporting a metadata or event field, and
//! masks the value when the key names a secret. Text is the [`Scrubber`](super::Scrubber)'s job.

/// Words (or word sequences) that make an attribute *key* secret. Keys are compared segment by
/// segment, so `token` matches `access_token` but not `max_tokens` or `tokenizer`.
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "auth",
    "cookie",
    "credential",
    "credentials",
    "private_key",
    "privatekey",
    "access_key",
    "signing_key",
    "encryption_key",
    "bearer",
    "jwt",
];

/// Segments next to `token` that make it a count, limit or kind rather than a credential
/// (`llm.token_count.prompt`, `token_type`, `max_token`).
const TOKEN_QUALIFIERS_AFTER: &[&str] =
    &["count", "counts", "usage", "limit", "limits", "budget", "type", "id", "ids", "index", "length", "size"];
const TOKEN_QUALIFIERS_BEFORE: &[&str] = &["max", "min", "num", "total"];

/// Recognises attribute keys whose *values* are secrets (`db.password`, `x-api-key`,
/// `Authorization`), so the caller can drop or mask the value.
///
/// A key is split into segments on `.`, `_`, `-`, spaces and camelCase, and matches when its
/// segments contain a secret word's segments in order (ASCII case-insensitive).
///
/// `SecretKeys::new(&["ssn".to_owned()])` treats `apiKey` and `user.ssn` as secret, not
/// `gen_ai.usage.output_tokens` (see the tests).
#[derive(Clone, Debug)]
pub struct SecretKeys {
    /// Each entry is a lower-case segment sequence, e.g. `["api", "key"]`.
    phrases: Vec<Vec<String>>,
}

impl Default for SecretKeys {
    fn default() -> Self {
        SecretKeys::new(&[])
    }
}

impl SecretKeys {
    /// The built-in secret words plus `extra` (each split like a key, so `apiKey` and `api_key`
    /// mean the same; a multi-segment word also matches its joined form).
    pub fn new(extra: &[String]) -> Self {
        let mut phrases: Vec<Vec<String>> = Vec::new();
        let words = SECRET_KEY_WORDS.iter().copied().chain(extra.iter().map(String::as_str));
        for word in words {
            let segments: Vec<String> = key_segments(word).map(|s| s.to_ascii_lowercase()).collect();
            if segments.is_empty() {
                continue;
            }
            if segments.len() > 1 {
                phrases.push(vec![segments.concat()]);
            }
            phrases.push(segments);
        }
        phrases.sort();
        phrases.dedup();
        SecretKeys { phrases }
    }

    /// Whether values under `key` should be treated as secrets.
    pub fn is_secret(&self, key: &str) -> bool {
        let segments: Vec<&str> = key_segments(key).collect();
        self.phrases.iter().any(|phrase| {
            segments.windows(phrase.len()).enumerate().any(|(at, window)| {
                let matches = window.iter().zip(phrase).all(|(segment, word)| segment.eq_ignore_ascii_case(word));
                matches && !(phrase.len() == 1 && phrase[0] == "token" && is_token_count(&segments, at))
            })
        })
    }
}

/// `token` at `segments[at]` qualified as a count or kind (`token_count`, `max_token`).
fn is_token_count(segments: &[&str], at: usize) -> bool {
    let after =
        segments.get(at + 1).is_some_and(|next| TOKEN_QUALIFIERS_AFTER.iter().any(|q| q.eq_ignore_ascii_case(next)));
    let before = at > 0 && TOKEN_QUALIFIERS_BEFORE.iter().any(|q| q.eq_ignore_ascii_case(segments[at - 1]));
    after || before
}

/// Splits a key on `.`, `_`, `-`, whitespace and camelCase (`APIKey` → `API`, `Key`).
fn key_segments(key: &str) -> impl Iterator<Item = &str> {
    let bytes = key.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i <= bytes.len() {
            let at = i;
            i += 1;
            let boundary = if at == bytes.len() {
                Some((at, at))
            } else if matches!(bytes[at], b'.' | b'_' | b'-' | b'/' | b':') || bytes[at].is_ascii_whitespace() {
                Some((at, at + 1))
            } else if at > start && bytes[at].is_ascii_uppercase() {
                let prev = bytes[at - 1];
                let next_lower = bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase);
                let camel = prev.is_ascii_lowercase() || prev.is_ascii_digit();
                let acronym_end = prev.is_ascii_uppercase() && next_lower;
                (camel || acronym_end).then_some((at, at))
            } else {
                None
            };
            if let Some((end, next_start)) = boundary {
                let segment = &key[start..end];
                start = next_start;
                if !segment.is_empty() {
                    return Some(segment);
                }
            }
        }
        None
    })
}

#[cfg(test)]
#[path = "secret_keys_tests.rs"]
mod tests;
