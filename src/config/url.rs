//! Endpoint URL policy: splitting `http(s)://` URLs, removing credentials, joining signal paths, and
//! deciding where the API key may be sent.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The parts of an `http(s)://` URL that matter here.
pub(super) struct UrlParts<'a> {
    scheme: &'a str,
    /// Without brackets for an IPv6 literal.
    host: &'a str,
    ipv6_literal: bool,
}

/// Splits `scheme://[userinfo@]host[:port][/path][?query][#fragment]`; `None` unless the scheme is http or
/// https and there is a host. A `\` ends the authority as `/` does, as WHATWG URL parsers treat it, so
/// `http://evil.com\@botanu.ai` has the host `evil.com`.
pub(super) fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let authority = &rest[..authority_end(rest)];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port, ipv6_literal) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            let port = if after.is_empty() { "" } else { after.strip_prefix(':')? };
            (host, port, true)
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, port, false),
            None => (host_port, "", false),
        },
    };
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(UrlParts { scheme, host, ipv6_literal })
}

pub(super) fn authority_end(after_scheme: &str) -> usize {
    after_scheme.find(['/', '\\', '?', '#']).unwrap_or(after_scheme.len())
}

/// Removes `user:pass@` from a URL's authority; works on malformed URLs too, so an error message
/// never echoes a password. Returns whether anything was removed.
pub(super) fn strip_credentials(url: &str) -> (String, bool) {
    let rest_start = url.find("://").map_or(0, |i| i + 3);
    let (prefix, rest) = url.split_at(rest_start);
    let end = authority_end(rest);
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host_port)) => (format!("{prefix}{host_port}{tail}"), true),
        None => (url.to_owned(), false),
    }
}

/// Appends `signal_path` to a base URL's path, keeping one `/` between them and any query after them.
pub(super) fn join_signal_path(base: &str, signal_path: &str) -> String {
    let path_end = base.find(['?', '#']).unwrap_or(base.len());
    let (head, suffix) = base.split_at(path_end);
    format!("{}/{signal_path}{suffix}", head.trim_end_matches('/'))
}

/// May `BOTANU_API_KEY` be sent to `url`? Loopback (any scheme), or `https` to `botanu.ai` and its
/// subdomains. Anything that does not parse cleanly is refused.
pub(super) fn api_key_allowed(url: &str) -> bool {
    let Some(parts) = split_url(url) else {
        return false;
    };
    let lowered = parts.host.to_ascii_lowercase();
    // `botanu.ai.` (fully qualified) is the same host.
    let host = lowered.strip_suffix('.').unwrap_or(&lowered);
    if parts.ipv6_literal {
        return host
            .parse::<Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
    }
    if host == "localhost" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()) {
        return true;
    }
    let is_dns_name =
        host.split('.').all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    is_dns_name && parts.scheme.eq_ignore_ascii_case("https") && (host == "botanu.ai" || host.ends_with(".botanu.ai"))
}

/// `url` with the value of every query parameter replaced by `replacement`; the rest as is.
pub(super) fn redact_query(url: &str, replacement: &str) -> String {
    let Some(query_start) = url.find('?') else {
        return url.to_owned();
    };
    let (head, rest) = url.split_at(query_start + 1);
    let (query, fragment) = match rest.find('#') {
        Some(hash) => rest.split_at(hash),
        None => (rest, ""),
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}={replacement}"),
            // A bare `?secret` is a value too.
            None if pair.is_empty() => String::new(),
            None => replacement.to_owned(),
        })
        .collect();
    format!("{head}{}{fragment}", redacted.join("&"))
}

/// `url` as an error may show it: the scheme and authority (credentials already removed), the OTLP
/// signal path (`/v1/traces`, `/v1/metrics`) if it ends the path, and `[redacted]` (`replacement`) for
/// the rest of the path and for the query, either of which may hold a token (`http://host:4318/<secret>`).
/// Works on malformed URLs and on `host:port` too.
pub(super) fn redact_after_authority(url: &str, replacement: &str) -> String {
    const SIGNAL_PATHS: [&str; 2] = ["/v1/traces", "/v1/metrics"];
    let rest_start = url.find("://").map_or(0, |i| i + 3);
    let end = rest_start + authority_end(&url[rest_start..]);
    let (head, tail) = url.split_at(end);
    if tail.is_empty() || tail == "/" {
        return url.to_owned();
    }
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let path = &tail[..path_end];
    let signal = SIGNAL_PATHS.iter().copied().find(|signal| path.ends_with(signal)).unwrap_or("");
    let mut out = head.to_owned();
    let before_signal = &path[..path.len() - signal.len()];
    if !before_signal.is_empty() && before_signal != "/" {
        out.push('/');
        out.push_str(replacement);
    }
    out.push_str(signal);
    if path_end < tail.len() {
        out.push('?');
        out.push_str(replacement);
    }
    out
}

/// A `k=v,k2=v2` list as an error may show it: the keys, each value replaced by `replacement`, and an
/// entry without `=` (which could be a value pasted on its own) replaced whole.
pub(super) fn redact_key_value_list(list: &str, replacement: &str) -> String {
    let entries: Vec<String> = list
        .split(',')
        .map(|entry| match entry.split_once('=') {
            Some((key, _)) => format!("{key}={replacement}"),
            None if entry.trim().is_empty() => entry.to_owned(),
            None => replacement.to_owned(),
        })
        .collect();
    entries.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_error_shows_of_an_endpoint() {
        let cases = [
            ("http://collector:4318", "http://collector:4318"),
            ("http://collector:4318/", "http://collector:4318/"),
            ("http://collector:4318/tok-123 x", "http://collector:4318/[r]"),
            ("https://collector/v1/traces?key=abc#f", "https://collector/v1/traces?[r]"),
            ("https://collector/tok-123/v1/metrics", "https://collector/[r]/v1/metrics"),
            ("https://collector/v1/traces", "https://collector/v1/traces"),
            ("collector:4317/tok-123", "collector:4317/[r]"),
            ("http://collector:43x8\\tok-123", "http://collector:43x8/[r]"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_after_authority(url, "[r]"), shown, "{url}");
        }
    }

    #[test]
    fn what_an_error_shows_of_a_key_value_list() {
        let cases = [
            ("service.name=shop,api.key=tok-123", "service.name=[r],api.key=[r]"),
            ("service.name=shop,tok-123", "service.name=[r],[r]"),
            ("a=1,,b=2", "a=[r],,b=[r]"),
        ];
        for (list, shown) in cases {
            assert_eq!(redact_key_value_list(list, "[r]"), shown, "{list}");
        }
    }
}
