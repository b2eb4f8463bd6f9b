//! Proxies and trust, as a self-hosted runner behind a corporate proxy meets them: with
//! `HTTPS_PROXY` set, the WeChat API, the upload host and the GitHub API are all reached through
//! it (each a `CONNECT` the proxy counts), the TLS inside is verified against `ca-file`, `NO_PROXY`
//! sends a host straight to it, and `https-proxy` overrides the environment.
//!
//! The proxy here is a loopback `CONNECT` proxy: the WeChat hosts are tunnelled to the emulator
//! (which ends TLS itself with its test CA), `api.github.com` is ended by the proxy with a second
//! test CA and forwarded to wiremock.

use crate::helpers::*;
use mp_release_emulator::{ReviewStep, Scenario, TestCa};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA: &str = "ce587453ced02b1526dfb4cb910479d431683101";
const TOKEN: &str = "ghs_proxyTestToken1111111111111111111";

struct Proxy {
    url: String,
    /// `CONNECT host:port` targets, and `GET http://…` requests as `GET host`.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn targets(&self, host: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|t| t.contains(host))
            .count()
    }
}

/// Reads a request head (up to the blank line).
async fn head(s: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.ok()? == 0 || buf.len() > 16 << 10 {
            return None;
        }
        buf.push(byte[0]);
    }
    String::from_utf8(buf).ok()
}

/// Starts the counting proxy on a thread of its own (it lives as long as the test process).
fn proxy(
    emulator: std::net::SocketAddr,
    github: std::net::SocketAddr,
    github_tls: Arc<rustls::ServerConfig>,
) -> Proxy {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", std_listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(serve_proxy(std_listener, log, emulator, github, github_tls));
    });
    Proxy { url, seen }
}

async fn serve_proxy(
    std_listener: std::net::TcpListener,
    log: Arc<Mutex<Vec<String>>>,
    emulator: std::net::SocketAddr,
    github: std::net::SocketAddr,
    github_tls: Arc<rustls::ServerConfig>,
) {
    let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
    {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let tls = tokio_rustls::TlsAcceptor::from(Arc::clone(&github_tls));
            tokio::spawn(async move {
                let Some(h) = head(&mut client).await else {
                    return;
                };
                let mut first = h.split_whitespace();
                let (verb, target) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
                if verb != "CONNECT" {
                    log.lock().unwrap().push(format!("{verb} {target}"));
                    let _ = client
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                log.lock().unwrap().push(format!("CONNECT {target}"));
                let host = target.split(':').next().unwrap_or_default();
                match host {
                    "api.weixin.qq.com" | "servicewechat.com" => {
                        let mut up = tokio::net::TcpStream::connect(emulator).await.unwrap();
                        up.write_all(
                            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")
                                .as_bytes(),
                        )
                        .await
                        .unwrap();
                        let Some(answer) = head(&mut up).await else {
                            return;
                        };
                        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                        client
                            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                            .await
                            .unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                    }
                    "api.github.com" => {
                        client
                            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                            .await
                            .unwrap();
                        let Ok(mut inner) = tls.accept(client).await else {
                            return;
                        };
                        let mut up = tokio::net::TcpStream::connect(github).await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut inner, &mut up).await;
                    }
                    _ => {
                        let _ = client
                            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                            .await;
                    }
                }
            });
        }
    }
}

fn fixture(name: &str) -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn github(rt: &tokio::runtime::Runtime) -> MockServer {
    let server = rt.block_on(MockServer::start());
    for (verb, p, status) in [
        ("POST", "/repos/acme/shop/check-runs", 201),
        ("PATCH", "/repos/acme/shop/check-runs/4", 200),
    ] {
        rt.block_on(
            Mock::given(method(verb))
                .and(path(p))
                .respond_with(
                    ResponseTemplate::new(status).set_body_json(fixture("check_run.json")),
                )
                .mount(&server),
        );
    }
    server
}

fn key() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/miniprogram-ci/keys/private.wx0123456789abcdef.key"),
    )
    .unwrap()
}

fn public_key() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/miniprogram-ci/keys/public.wx0123456789abcdef.pem"),
    )
    .unwrap()
}

struct Setup {
    wx: Wx,
    rt: tokio::runtime::Runtime,
    gh: MockServer,
    proxy: Proxy,
    ca_file: String,
    project: String,
}

fn setup() -> Setup {
    let wx = Wx::tls(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    wx.emu.world().add_upload_key(APP, &public_key());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let gh = github(&rt);
    let github_ca = TestCa::for_hosts(&["api.github.com"]).unwrap();
    let proxy = proxy(wx.emu.addr(), *gh.address(), Arc::clone(&github_ca.config));
    // Both test CAs in one file: what a runner behind a TLS-inspecting proxy hands to ca-file.
    let ca_file = wx.dir.path().join("extra-ca.pem");
    std::fs::write(
        &ca_file,
        format!("{}{}", wx.emu.ca_pem().unwrap(), github_ca.ca_pem),
    )
    .unwrap();
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/miniprogram-ci/sample-projects/sample")
        .display()
        .to_string();
    Setup {
        wx,
        rt,
        gh,
        proxy,
        ca_file: ca_file.display().to_string(),
        project,
    }
}

fn run_through(s: &Setup, extra: &[(&str, &str)]) -> PipelineRun {
    let key = key();
    let mut env: Vec<(&str, &str)> = vec![
        // The real hosts: only the proxy can reach them here.
        ("MP_RELEASE_WECHAT_BASE_URL", "https://api.weixin.qq.com"),
        ("MP_RELEASE_UPLOAD_BASE_URL", "https://servicewechat.com"),
        ("GITHUB_API_URL", "https://api.github.com"),
        ("HTTPS_PROXY", &s.proxy.url),
        ("HTTP_PROXY", &s.proxy.url),
        ("ALL_PROXY", &s.proxy.url),
        ("NO_PROXY", ""),
        ("INPUT_CA_FILE", &s.ca_file),
        ("INPUT_TEMPLATE_ID", ""),
        ("INPUT_VERSION_FROM", "explicit:1.5.0"),
        ("INPUT_BUMP", "none"),
        ("INPUT_PROJECT_PATH", &s.project),
        ("INPUT_PRIVATE_KEY", &key),
        ("INPUT_GITHUB_TOKEN", TOKEN),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_SHA", SHA),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_REF", "refs/heads/main"),
    ];
    env.extend_from_slice(extra);
    s.wx.run(&["run"], &env)
}

#[test]
fn wechat_upload_and_github_all_go_through_https_proxy() {
    let s = setup();
    let r = run_through(&s, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    for host in [
        "api.weixin.qq.com:443",
        "servicewechat.com:443",
        "api.github.com:443",
    ] {
        assert!(
            s.proxy.targets(&format!("CONNECT {host}")) > 0,
            "no CONNECT {host}: {:?}",
            s.proxy.seen.lock().unwrap()
        );
    }
    assert_eq!(s.proxy.targets("GET "), 0, "nothing in plain HTTP");
    // The emulator saw the whole pipeline, and GitHub the check run, inside the tunnels.
    assert_eq!(s.wx.successes("/wxa/release"), 1);
    assert_eq!(s.wx.emu.world().uploads().len(), 1);
    let gh_seen = s.rt.block_on(s.gh.received_requests()).unwrap();
    assert!(gh_seen.iter().any(|q| q.method.as_str() == "POST"));
    // The log says which way each host went.
    for line in [
        "WeChat API api.weixin.qq.com: through the proxy",
        "upload host servicewechat.com: through the proxy",
        "GitHub API api.github.com: through the proxy",
    ] {
        assert!(r.stderr.contains(line), "{line:?} missing:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("(HTTPS_PROXY)"), "{}", r.stderr);
}

#[test]
fn no_proxy_sends_a_host_straight_and_https_proxy_overrides_the_environment() {
    let s = setup();
    // GitHub on loopback, named by NO_PROXY: straight to wiremock, never through the proxy.
    let gh_url = s.gh.uri();
    let r = run_through(
        &s,
        &[
            ("GITHUB_API_URL", &gh_url),
            ("NO_PROXY", "localhost,127.0.0.0/8"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        s.proxy.targets("github"),
        0,
        "{:?}",
        s.proxy.seen.lock().unwrap()
    );
    assert_eq!(
        s.proxy.targets("127.0.0.1"),
        0,
        "{:?}",
        s.proxy.seen.lock().unwrap()
    );
    assert!(s.proxy.targets("CONNECT api.weixin.qq.com:443") > 0);
    let gh_seen = s.rt.block_on(s.gh.received_requests()).unwrap();
    assert!(gh_seen.iter().any(|q| q.method.as_str() == "POST"));
    assert!(
        r.stderr
            .contains("GitHub API 127.0.0.1: direct (NO_PROXY names it)"),
        "{}",
        r.stderr
    );

    // The environment names a proxy that refuses everything; https-proxy wins over it.
    let dead = NetTrap::new();
    let s2 = setup();
    let r = run_through(
        &s2,
        &[
            ("HTTPS_PROXY", &dead.url),
            ("HTTP_PROXY", &dead.url),
            ("ALL_PROXY", &dead.url),
            ("INPUT_HTTPS_PROXY", &s2.proxy.url),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(dead.connections(), 0);
    assert!(s2.proxy.targets("CONNECT api.weixin.qq.com:443") > 0);
    assert!(r.stderr.contains("(https-proxy)"), "{}", r.stderr);
}

#[test]
fn without_the_ca_file_the_proxys_certificates_are_refused() {
    let s = setup();
    let r = run_through(&s, &[("INPUT_CA_FILE", "")]);
    assert_eq!(
        r.code, 3,
        "an unverified host is an infrastructure failure: {}",
        r.stderr
    );
    assert_eq!(s.wx.successes("/wxa/release"), 0);
    assert!(
        r.stderr.to_ascii_lowercase().contains("certificate"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_malformed_proxy_variable_or_ca_file_is_bad_input() {
    let s = setup();
    let r = run_through(&s, &[("HTTPS_PROXY", "ftp://127.0.0.1:1")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("HTTPS_PROXY"), "{}", r.stderr);
    let not_pem = s.wx.dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let r = run_through(&s, &[("INPUT_CA_FILE", not_pem.to_str().unwrap())]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("INPUT_CA_FILE"), "{}", r.stderr);
    assert!(s.proxy.seen.lock().unwrap().is_empty(), "nothing was sent");
    // A password in the proxy URL is a secret like any other.
    let r = run_through(
        &s,
        &[("HTTPS_PROXY", "http://user:s3cretProxyPass@127.0.0.1:1")],
    );
    assert!(
        r.stdout.contains("::add-mask::s3cretProxyPass"),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("s3cretProxyPass"), "{}", r.stderr);
}

/// An IP-whitelist refusal names the IP WeChat saw, and the log says which way this run went, so
/// the IP can be matched to the proxy (or to the runner).
#[test]
fn a_whitelist_refusal_says_which_way_the_requests_went() {
    let s = setup();
    s.wx.emu
        .world()
        .set_platform_whitelist(COMPONENT, Some(vec!["203.0.113.9".into()]));
    let r = run_through(&s, &[]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("61004"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "WeChat saw this run's requests come from 127.0.0.1 (requests to api.weixin.qq.com go through the proxy"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(s.wx.successes("/wxa/release"), 0);
}
