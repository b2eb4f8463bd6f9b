//! The HTTP policy every WeChat client shares (the API host and the upload host): no redirect is
//! ever followed, answers are read up to a size cap, and a redirect is reported with the host it
//! pointed to. One place, so that a new client cannot forget a rule.
//!
//! Why no redirects: WeChat's APIs never redirect, and following one re-sends the request, with
//! its `access_token` in the query and secrets in the body, to a host the answer chose. A 3xx
//! is an infrastructure failure that names that host.

use std::time::Duration;
use url::Url;

/// The largest JSON answer read from a WeChat API (the biggest real ones are a few KiB).
pub const JSON_CAP: usize = 8 << 20;

/// The largest image read (the trial QR code is a JPEG of a few KiB; the emulator's too).
pub const IMAGE_CAP: usize = 4 << 20;

/// How every client of the process reaches the network: which proxy (if any) each host goes
/// through, and which certificate authorities are trusted. Built once from the inputs and the
/// environment (`settings::globals`) and handed to the WeChat, upload and GitHub clients, so the
/// three cannot disagree.
#[derive(Debug, Clone, Default)]
pub struct Net {
    /// `https-proxy`: every host goes through it, whatever the environment says.
    pub explicit: Option<Url>,
    /// The proxies of the environment, as curl, npm and miniprogram-ci read them.
    pub env: EnvProxies,
    /// `ca-file`: extra certificate authorities (PEM), trusted besides the system's and the
    /// bundled ones.
    pub extra_ca: Vec<reqwest::Certificate>,
    /// Where `extra_ca` came from (the official engine gets it as `NODE_EXTRA_CA_CERTS`).
    pub ca_file: Option<std::path::PathBuf>,
}

/// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case; the lower-case one wins,
/// as in curl).
#[derive(Debug, Clone, Default)]
pub struct EnvProxies {
    /// For `https://` hosts: `https_proxy`/`HTTPS_PROXY`, else `all_proxy`/`ALL_PROXY`.
    pub https: Option<(Url, &'static str)>,
    /// For `http://` hosts: `http_proxy` (upper case only outside CGI, as curl does), else `all_proxy`.
    pub http: Option<(Url, &'static str)>,
    /// The hosts that never go through a proxy.
    pub no_proxy: Vec<String>,
    /// The variable `no_proxy` came from.
    pub no_proxy_name: &'static str,
}

/// Which way a request to a host goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Straight to the host.
    Direct,
    /// Straight to the host because `NO_PROXY` names it.
    Bypassed(&'static str),
    /// Through this proxy (named by the input or variable that set it).
    Proxy(Url, &'static str),
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Direct => f.write_str("direct"),
            Self::Bypassed(var) => write!(f, "direct ({var} names it)"),
            Self::Proxy(p, from) => write!(f, "through the proxy {} ({from})", shown(p)),
        }
    }
}

/// A proxy URL without its credentials, for logs.
pub fn shown(proxy: &Url) -> String {
    let mut p = proxy.clone();
    let _ = p.set_username("");
    let _ = p.set_password(None);
    p.as_str().trim_end_matches('/').to_owned()
}

/// Parses a proxy the way curl does: a URL (http, https, socks4, socks4a, socks5, socks5h), or
/// `host:port` meaning `http://host:port`.
pub fn parse_proxy(text: &str) -> Result<Url, String> {
    let t = text.trim();
    let with_scheme = if t.contains("://") {
        t.to_owned()
    } else {
        format!("http://{t}")
    };
    let u = Url::parse(&with_scheme).map_err(|e| format!("not a proxy URL ({e})"))?;
    match u.scheme() {
        "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h" => {}
        s => {
            return Err(format!(
                "the proxy scheme {s}:// is not supported: use http://, https:// or socks5://"
            ))
        }
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("a proxy URL needs a host".to_owned());
    }
    Ok(u)
}

impl EnvProxies {
    /// Reads the proxy variables through `get`; a malformed one is an error naming it.
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, (String, String)> {
        let pick =
            |names: &[&'static str]| -> Result<Option<(Url, &'static str)>, (String, String)> {
                for name in names {
                    if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
                        return parse_proxy(&v)
                            .map(|u| Some((u, *name)))
                            .map_err(|e| ((*name).to_owned(), e));
                    }
                }
                Ok(None)
            };
        let all = pick(&["all_proxy", "ALL_PROXY"])?;
        let https = pick(&["https_proxy", "HTTPS_PROXY"])?.or_else(|| all.clone());
        // HTTP_PROXY in upper case is ignored under CGI (httpoxy), as curl and Go do.
        let http_names: &[&'static str] = if get("REQUEST_METHOD").is_some() {
            &["http_proxy"]
        } else {
            &["http_proxy", "HTTP_PROXY"]
        };
        let http = pick(http_names)?.or(all);
        let (no_proxy, no_proxy_name) = ["no_proxy", "NO_PROXY"]
            .into_iter()
            .find_map(|n| get(n).map(|v| (v, n)))
            .map_or((Vec::new(), "NO_PROXY"), |(v, n)| {
                let entries = v
                    .split([',', ' '])
                    .map(|e| e.trim().trim_start_matches("*.").trim_start_matches('.'))
                    .filter(|e| !e.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect();
                (entries, n)
            });
        Ok(Self {
            https,
            http,
            no_proxy,
            no_proxy_name,
        })
    }

    /// Whether `NO_PROXY` names the host of `url`: `*`, the host itself, a parent domain, an IP
    /// address or an IP range in CIDR notation; an entry with a port only matches that port.
    fn bypasses(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = url.port_or_known_default();
        self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (host.parse::<std::net::IpAddr>(), net.parse(), bits.parse()) {
                    (Ok(ip), Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                    _ => false,
                };
            }
            let (name, entry_port) = split_port(entry);
            if entry_port.is_some_and(|p| Some(p) != port) {
                return false;
            }
            let name = name.trim_start_matches('[').trim_end_matches(']');
            host == name || host.ends_with(&format!(".{name}"))
        })
    }
}

fn split_port(entry: &str) -> (&str, Option<u16>) {
    // `[::1]:8080`, `host:8080`; a bare IPv6 address has several colons and no port.
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, port)) = rest.split_once("]:") {
            return (addr, port.parse().ok());
        }
        return (rest.trim_end_matches(']'), None);
    }
    match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_cidr(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(a), V4(b)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (V6(a), V6(b)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

impl Net {
    /// Which way a request to `url` goes.
    pub fn route(&self, url: &Url) -> Route {
        if let Some(p) = &self.explicit {
            return Route::Proxy(p.clone(), "https-proxy");
        }
        if self.env.bypasses(url) {
            return Route::Bypassed(self.env.no_proxy_name);
        }
        let chosen = match url.scheme() {
            "https" => self.env.https.as_ref(),
            _ => self.env.http.as_ref(),
        };
        chosen.map_or(Route::Direct, |(u, name)| Route::Proxy(u.clone(), name))
    }

    /// Logs the way to `base` once for the client called `what` (`WeChat API`, `upload`, `GitHub`).
    pub fn log_route(&self, what: &str, base: &Url) {
        tracing::info!(
            "{what} {}: {}",
            base.host_str().unwrap_or("?"),
            self.route(base)
        );
    }

    /// A `reqwest` client with the shared policy: user agent, timeouts, rustls with the system's
    /// trust store plus the bundled roots plus `ca-file`, no redirects, and the proxy of
    /// [`Net::route`] for every request.
    pub fn client(&self, timeout: Duration) -> anyhow::Result<reqwest::Client> {
        install_crypto();
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok())
            .chain(self.extra_ca.iter().cloned());
        let net = self.clone();
        let proxy = reqwest::Proxy::custom(move |url| match net.route(url) {
            Route::Proxy(p, _) => Some(p),
            Route::Direct | Route::Bypassed(_) => None,
        });
        Ok(reqwest::Client::builder()
            .user_agent(concat!("mp-release/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_rustls()
            .tls_certs_merge(roots)
            .no_proxy()
            .proxy(proxy)
            .build()?)
    }
}

/// Why a request failed below HTTP, in words that carry no URL (reqwest's own Display names the
/// URL, and with it a WeChat `access_token`): a certificate that is not trusted, a proxy that
/// refused the tunnel, or just the kind of failure.
pub fn transport_cause(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection failed before a complete answer"
    };
    let mut source = std::error::Error::source(e);
    while let Some(mut s) = source {
        // io::Error's `source` skips the error it wraps: look inside it.
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            s = inner;
        }
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return format!(
                "{kind}: TLS refused the server's certificate ({tls}); behind a TLS-inspecting proxy, give its CA certificate with ca-file"
            );
        }
        let text = s.to_string();
        if text.contains("tunnel") {
            return format!("{kind}: the proxy refused the tunnel ({})", clip(&text));
        }
        source = s.source();
    }
    kind.to_owned()
}

fn clip(s: &str) -> String {
    let s: String = s.chars().take(200).collect();
    if s.contains("://") {
        "details withheld: they name a URL".into()
    } else {
        s
    }
}

/// The first IPv4 address in `text` (WeChat names the caller's IP in its whitelist refusals).
pub fn ip_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|t| t.split('.').count() == 4 && t.split('.').all(|o| o.parse::<u8>().is_ok()))
        .map(str::to_owned)
}

/// Reads `ca-file`: one or more PEM certificates.
pub fn read_ca_file(bytes: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(bytes)
        .map_err(|e| format!("not a PEM certificate file ({e})"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned());
    }
    Ok(certs)
}

/// rustls's process-wide crypto provider (ring): installed once, before the first client.
fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Where a redirect answer points: the host of its `Location` (never the whole URL, which may
/// carry a token), or a word saying there was none.
pub fn redirect_target(resp: &reqwest::Response) -> String {
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match resp.url().join(location) {
        Ok(u) if !location.is_empty() => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or("?"),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        _ => "no Location".to_owned(),
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The answer is larger than the cap (`Content-Length` or counted while reading).
    TooLarge(usize),
    /// The connection failed mid-answer.
    Transport(reqwest::Error),
}

/// Reads the body, refusing more than `cap` bytes without reading them all.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if let Some(len) = resp.content_length() {
        if len > cap as u64 {
            return Err(BodyError::TooLarge(cap));
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if out.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvProxies {
        let map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        EnvProxies::read(|n| map.get(n).cloned()).unwrap()
    }

    fn route(net: &Net, url: &str) -> Route {
        net.route(&Url::parse(url).unwrap())
    }

    #[test]
    fn the_proxy_variables_are_read_as_curl_reads_them() {
        let net = Net {
            env: env(&[
                ("HTTPS_PROXY", "proxy.corp:3128"),
                ("http_proxy", "http://plain.corp:80"),
                (
                    "NO_PROXY",
                    "internal.corp, .svc,10.0.0.0/8,[::1],localhost:8080",
                ),
            ]),
            ..Net::default()
        };
        let through = |u: &str| match route(&net, u) {
            Route::Proxy(p, from) => format!("{} {from}", shown(&p)),
            other => other.to_string(),
        };
        assert_eq!(
            through("https://api.weixin.qq.com/x"),
            "http://proxy.corp:3128 HTTPS_PROXY"
        );
        assert_eq!(
            through("http://example.com/"),
            "http://plain.corp http_proxy"
        );
        for direct in [
            "https://internal.corp/",
            "https://git.internal.corp/",
            "https://a.b.svc/",
            "https://10.1.2.3/",
            "https://[::1]/",
            "http://localhost:8080/",
        ] {
            assert_eq!(route(&net, direct), Route::Bypassed("NO_PROXY"), "{direct}");
        }
        for proxied in [
            "https://notinternal.corp/",
            "https://11.0.0.1/",
            "http://localhost:9090/",
        ] {
            assert!(
                matches!(route(&net, proxied), Route::Proxy(..)),
                "{proxied}"
            );
        }
        // `*` bypasses everything; https-proxy wins over the environment, NO_PROXY too.
        let all = Net {
            env: env(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]),
            ..Net::default()
        };
        assert_eq!(route(&all, "https://x.y/"), Route::Bypassed("no_proxy"));
        let explicit = Net {
            explicit: Some(Url::parse("http://egress:3128").unwrap()),
            ..all
        };
        assert!(matches!(
            route(&explicit, "https://x.y/"),
            Route::Proxy(_, "https-proxy")
        ));
        // Under CGI the upper-case HTTP_PROXY is ignored (httpoxy); ALL_PROXY is the fallback.
        let cgi = Net {
            env: env(&[
                ("REQUEST_METHOD", "GET"),
                ("HTTP_PROXY", "http://evil:1"),
                ("ALL_PROXY", "http://all:2"),
            ]),
            ..Net::default()
        };
        assert!(
            matches!(route(&cgi, "http://x/"), Route::Proxy(p, "ALL_PROXY") if p.host_str() == Some("all"))
        );
        assert_eq!(route(&Net::default(), "https://x/"), Route::Direct);
    }

    #[test]
    fn proxies_are_parsed_and_shown_without_credentials() {
        assert!(parse_proxy("ftp://h:1").unwrap_err().contains("ftp://"));
        assert_eq!(parse_proxy("socks5h://h:1080").unwrap().scheme(), "socks5h");
        assert!(parse_proxy("http://").is_err());
        let p = parse_proxy("http://user:pa%20ss@proxy:3128").unwrap();
        assert_eq!(shown(&p), "http://proxy:3128");
        let bad = EnvProxies::read(|n| (n == "HTTPS_PROXY").then(|| "ftp://x".to_owned()));
        assert_eq!(bad.unwrap_err().0, "HTTPS_PROXY");
    }
}
