//! The scrubber's hostile input families, shared by `tests/scrub_adversarial.rs` (linear time) and
//! `benches/scrub.rs` (ns per byte): each used to take time quadratic in its length.

/// Each hostile family: a name and the unit repeated to build it.
pub const FAMILIES: [(&str, &str); 10] = [
    // Card candidates (13–19 digits with dashes) failing Luhn at every position.
    ("dash_digits", "1-"),
    // Card candidates with single spaces.
    ("space_digits", "1 "),
    // Dotted quads inside a longer dotted run (a version number, not an address).
    ("dot_digits", "1."),
    // Dotted quads with octets over 255.
    ("big_octets", "999.999.999.999."),
    // JWT headers and e-mail local parts that never complete.
    ("jwt_headers", "eyJa.eyJa."),
    // SSNs glued together (no word boundary), card candidates inside.
    ("glued_ssn", "123-45-6789"),
    // IPv6 candidates with too many groups.
    ("colon_digits", "1:"),
    // An e-mail domain that never ends in a TLD, over rejected IPv4 candidates.
    ("email_domain", "a@1.1.1.1.1.1.1.1."),
    // A JWT header run over rejected card candidates.
    ("jwt_over_cards", "eyJa-1-1-1-1-1-1-1-1-1-1-1-1-1-1-"),
    // E.164 candidates rejected because a digit precedes the `+`.
    ("plus_digits", "1+2345678-"),
];
