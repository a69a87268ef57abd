//! Unit tests of [`SecretKeys`] and the key splitter.

use super::*;

#[test]
fn secret_keys() {
    let keys = SecretKeys::new(&["ssn".to_owned(), "customerId".to_owned()]);
    let cases = [
        ("api_key", true),
        ("apiKey", true),
        ("APIKey", true),
        ("x-api-key", true),
        ("X-Api-Key", true),
        ("OPENAI_API_KEY", true),
        ("apikey", true),
        ("db.password", true),
        ("Authorization", true),
        ("http.request.header.authorization", true),
        ("session_cookie", true),
        ("set-cookie", true),
        ("access_token", true),
        ("accessToken", true),
        ("refresh_token", true),
        ("id_token", true),
        ("client_secret", true),
        ("aws.secret_access_key", true),
        ("private_key", true),
        ("privateKey", true),
        ("passwd", true),
        ("auth", true),
        ("user.credentials", true),
        ("user.ssn", true),
        ("customer_id", true),
        ("CustomerID", true),
        ("customerid", true),
        ("max_tokens", false),
        ("input_tokens", false),
        ("gen_ai.usage.output_tokens", false),
        ("llm.token_count.prompt", false),
        ("token_type", false),
        ("max_token", false),
        ("author", false),
        ("authority", false),
        ("tokenizer", false),
        ("monkey", false),
        ("cache_key", false),
        ("session.id", false),
        ("gen_ai.request.model", false),
        ("", false),
        ("日本.名前", false),
    ];
    for (key, secret) in cases {
        assert_eq!(keys.is_secret(key), secret, "{key:?}");
    }
    assert!(!SecretKeys::default().is_secret("user.ssn"));
}
#[test]
fn key_segments_split_like_identifiers() {
    let cases: [(&str, &[&str]); 7] = [
        ("apiKey", &["api", "Key"]),
        ("APIKey", &["API", "Key"]),
        ("XApiKey", &["X", "Api", "Key"]),
        ("gen_ai.usage.output_tokens", &["gen", "ai", "usage", "output", "tokens"]),
        ("x--api..key", &["x", "api", "key"]),
        ("oauth2Token", &["oauth2", "Token"]),
        ("", &[]),
    ];
    for (key, expected) in cases {
        assert_eq!(key_segments(key).collect::<Vec<_>>(), expected, "{key:?}");
    }
}
