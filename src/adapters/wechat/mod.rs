//! The WeChat server API client: one `reqwest::Client` built by [`crate::adapters::http`] (rustls,
//! timeouts, user agent, optional HTTPS proxy for a fixed egress IP, no redirects, capped bodies),
//! an injectable base URL, and the `{errcode, errmsg}` envelope turned into a typed error that
//! carries the code, WeChat's message (cut to 1 KiB), the `rid` and the endpoint.
//!
//! The envelope is strict: a body that is not a JSON object, or an `errcode` that is present but
//! not an integer (`"40001"`, `40001.0`, `null`), is a protocol error (retried as a read), never a
//! success. An absent `errcode` is success: the token and datacube answers carry none (C11).
//!
//! It performs single calls only; retries and token refresh are the runner's decisions.
// Errors carry WeChat's whole answer (61040 brings the privacy lists in it); they are rare, so
// their size does not matter.
#![allow(clippy::result_large_err)]

pub mod tokens;

use super::http::{self, BodyError};
use mp_release_core::pipeline::clip;
use mp_release_core::retry::Failure;
use mp_release_core::wechat::errcode;
use serde_json::Value;
use std::fmt;
use std::time::Duration;
use url::Url;

/// The real API host.
pub const DEFAULT_BASE: &str = "https://api.weixin.qq.com";

/// Why one call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// WeChat answered `{errcode != 0}`.
    #[error("{endpoint}: errcode {code}: {errmsg}{}", rid.as_deref().map(|r| format!(" (rid {r})")).unwrap_or_default())]
    Api {
        /// The endpoint path.
        endpoint: String,
        /// `errcode`.
        code: i64,
        /// `errmsg` without the rid.
        errmsg: String,
        /// The request id WeChat support asks for.
        rid: Option<String>,
        /// The whole body (some errors carry data, e.g. 61040 with the privacy lists).
        body: Value,
    },
    /// No usable answer.
    #[error("{endpoint}: {detail}")]
    Transport {
        /// The endpoint path.
        endpoint: String,
        /// What kind of failure.
        failure: Failure,
        /// A description.
        detail: String,
    },
}

impl CallError {
    /// An answer mp-release cannot act on as it stands (a wrong type, another day's figures):
    /// never retried, the run stops in doubt saying what it saw.
    pub fn unexpected(endpoint: &str, detail: String) -> Self {
        Self::Transport {
            endpoint: endpoint.into(),
            failure: Failure::Unexpected,
            detail,
        }
    }

    /// The failure for the retry rules.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Api { code, .. } => Failure::Api(*code),
            Self::Transport { failure, .. } => failure.clone(),
        }
    }

    /// The errcode, if WeChat gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::Transport { .. } => None,
        }
    }

    /// A message for the user: what failed, WeChat's words and rid, and what to do.
    pub fn explain(&self) -> String {
        match self {
            Self::Api { code, .. } => match errcode::lookup(*code) {
                Some(info) => format!("{self}: {}; {}", info.meaning, info.action),
                None => format!(
                    "{self}: an errcode mp-release does not know; see WeChat's documentation"
                ),
            },
            Self::Transport { .. } => self.to_string(),
        }
    }
}

/// A decoded trial QR code (`get_qrcode`).
#[derive(Debug, Clone)]
pub struct Image {
    /// `Content-Type`.
    pub content_type: String,
    /// The image bytes.
    pub bytes: Vec<u8>,
}

/// The client.
#[derive(Clone)]
pub struct WeChat {
    http: reqwest::Client,
    base: Url,
    /// Which way requests go (`through the proxy … (HTTPS_PROXY)`), for IP-whitelist refusals.
    route: String,
}

impl fmt::Debug for WeChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeChat")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Splits `errmsg` into the message and the ` rid: …` suffix.
fn split_rid(errmsg: &str) -> (String, Option<String>) {
    match errmsg.rsplit_once(" rid: ") {
        Some((msg, rid)) => (msg.trim().to_owned(), Some(rid.trim().to_owned())),
        None => (errmsg.to_owned(), None),
    }
}

impl WeChat {
    /// A client for `base` (e.g. the emulator), with a per-request timeout, through `net`.
    pub fn new(base: &Url, timeout: Duration, net: &http::Net) -> anyhow::Result<Self> {
        net.log_route("WeChat API", base);
        Ok(Self {
            http: net.client(timeout)?,
            route: net.route(base).to_string(),
            base: base.clone(),
        })
    }

    fn url(&self, path: &str, token: Option<&str>, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        {
            let mut q = url.query_pairs_mut();
            if let Some(t) = token {
                q.append_pair("access_token", t);
            }
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    fn transport(endpoint: &str, e: &reqwest::Error) -> CallError {
        let failure = if e.is_timeout() {
            Failure::Timeout
        } else if e.is_connect() {
            Failure::Connect
        } else {
            Failure::Cut
        };
        // reqwest's Display includes the URL, and so the token: only the kind and the cause.
        CallError::Transport {
            endpoint: endpoint.to_owned(),
            failure,
            detail: http::transport_cause(e),
        }
    }

    async fn send(
        &self,
        endpoint: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CallError> {
        let resp = req
            .send()
            .await
            .map_err(|e| Self::transport(endpoint, &e))?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            return Err(CallError::Transport {
                endpoint: endpoint.to_owned(),
                failure: Failure::Redirect(status),
                detail: format!(
                    "HTTP {status} redirect to {}: not followed (WeChat's API never redirects; a proxy or \
                     network in between is rewriting answers, so nothing was sent there)",
                    http::redirect_target(&resp)
                ),
            });
        }
        if status != 200 {
            return Err(CallError::Transport {
                endpoint: endpoint.to_owned(),
                failure: Failure::Http(status),
                detail: format!("HTTP {status}"),
            });
        }
        Ok(resp)
    }

    /// The body, up to `cap` bytes.
    async fn body(
        endpoint: &str,
        resp: reqwest::Response,
        cap: usize,
    ) -> Result<Vec<u8>, CallError> {
        http::read_capped(resp, cap).await.map_err(|e| match e {
            BodyError::TooLarge(cap) => CallError::Transport {
                endpoint: endpoint.to_owned(),
                failure: Failure::Malformed,
                detail: format!("the answer is larger than {} MiB: not read", cap >> 20),
            },
            BodyError::Transport(e) => Self::transport(endpoint, &e),
        })
    }

    /// Reads a JSON envelope; `errcode != 0` becomes [`CallError::Api`].
    async fn envelope(endpoint: &str, resp: reqwest::Response) -> Result<Value, CallError> {
        // WeChat often labels JSON as text/plain, so that and application/json (or none) are
        // read; a page or an image where JSON belongs is a protocol error even if it parses.
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if ["text/html", "image/", "application/xml", "text/xml"]
            .iter()
            .any(|t| content_type.starts_with(t))
        {
            return Err(CallError::Transport {
                endpoint: endpoint.to_owned(),
                failure: Failure::Malformed,
                detail: format!("the answer is {}, not JSON", clip(&content_type)),
            });
        }
        let bytes = Self::body(endpoint, resp, http::JSON_CAP).await?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| CallError::Transport {
            endpoint: endpoint.to_owned(),
            failure: Failure::Malformed,
            detail: format!("the answer is not JSON ({} bytes)", bytes.len()),
        })?;
        if !v.is_object() {
            return Err(CallError::Transport {
                endpoint: endpoint.to_owned(),
                failure: Failure::Malformed,
                detail: "the answer is not a JSON object".into(),
            });
        }
        let code = match v.get("errcode") {
            None => 0,
            Some(c) => c.as_i64().ok_or_else(|| CallError::Transport {
                endpoint: endpoint.to_owned(),
                failure: Failure::Malformed,
                detail: format!(
                    "the answer's errcode is {}, not an integer: not taken as success",
                    clip(&c.to_string())
                ),
            })?,
        };
        if code == 0 {
            return Ok(v);
        }
        let (errmsg, rid) = split_rid(v.get("errmsg").and_then(Value::as_str).unwrap_or_default());
        let (errmsg, rid) = (clip(&errmsg), rid.map(|r| clip(&r)));
        Err(CallError::Api {
            endpoint: endpoint.to_owned(),
            code,
            errmsg,
            rid,
            body: v,
        })
    }

    /// An IP-whitelist refusal (40164, 61004) names the IP WeChat saw; the log adds which way this
    /// run's requests went, so the IP can be matched to a proxy or to the runner.
    fn whitelist_note(&self, r: Result<Value, CallError>) -> Result<Value, CallError> {
        if let Err(CallError::Api {
            code: 40164 | 61004,
            errmsg,
            ..
        }) = &r
        {
            tracing::warn!(
                "WeChat saw this run's requests come from {} (requests to {} go {})",
                http::ip_in(errmsg).unwrap_or_else(|| "an IP it did not name".into()),
                self.base.host_str().unwrap_or("?"),
                self.route
            );
        }
        r
    }

    /// `GET path?access_token=…&query`.
    pub async fn get(
        &self,
        path: &str,
        token: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<Value, CallError> {
        tracing::debug!("GET {path}");
        let resp = self
            .send(path, self.http.get(self.url(path, token, query)))
            .await?;
        self.whitelist_note(Self::envelope(path, resp).await)
    }

    /// `GET` of another service's URL (a platform's token service) through the same policy: no
    /// redirects, a bounded JSON answer, `errcode` honoured when it has one.
    pub async fn get_external(
        &self,
        endpoint: &str,
        url: &Url,
        bearer: Option<&str>,
    ) -> Result<Value, CallError> {
        tracing::debug!("GET {endpoint}");
        let mut req = self.http.get(url.clone());
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let resp = self.send(endpoint, req).await?;
        Self::envelope(endpoint, resp).await
    }

    /// `POST path?access_token=…` with a JSON body (`{}` where WeChat demands a body).
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, CallError> {
        tracing::debug!("POST {path}");
        let req = self
            .http
            .post(self.url(path, token, &[]))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let resp = self.send(path, req).await?;
        self.whitelist_note(Self::envelope(path, resp).await)
    }

    /// `GET /wxa/get_qrcode`: an image on success, the JSON envelope on error (branch on type).
    pub async fn qrcode(&self, token: &str, page: Option<&str>) -> Result<Image, CallError> {
        let path = "/wxa/get_qrcode";
        let query: Vec<(&str, &str)> = page.map(|p| ("path", p)).into_iter().collect();
        let resp = self
            .send(path, self.http.get(self.url(path, Some(token), &query)))
            .await?;
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !content_type.starts_with("image/") {
            return Self::envelope(path, resp).await.and_then(|_| {
                Err(CallError::Transport {
                    endpoint: path.into(),
                    failure: Failure::Malformed,
                    detail: "no image in the answer".into(),
                })
            });
        }
        let bytes = Self::body(path, resp, http::IMAGE_CAP).await?;
        Ok(Image {
            content_type,
            bytes,
        })
    }

    /// The emulator's admin clock (`/__emulator/clock`): read it, or move it forward.
    pub async fn emulator_clock(&self, advance: Option<u64>) -> Result<u64, CallError> {
        let path = "/__emulator/clock";
        let v = match advance {
            Some(secs) => {
                self.post(path, None, &serde_json::json!({ "advance": secs }))
                    .await?
            }
            None => self.get(path, None, &[]).await?,
        };
        v.get("now")
            .and_then(Value::as_u64)
            .ok_or_else(|| CallError::Transport {
                endpoint: path.into(),
                failure: Failure::Malformed,
                detail: "no `now` in the answer".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answering(t: wiremock::ResponseTemplate) -> Result<Value, CallError> {
        let s = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(t)
            .mount(&s)
            .await;
        let wx = WeChat::new(
            &Url::parse(&s.uri()).unwrap(),
            Duration::from_secs(5),
            &http::Net::default(),
        )
        .unwrap();
        wx.post("/wxa/getversioninfo", Some("t"), &serde_json::json!({}))
            .await
    }

    fn malformed(r: Result<Value, CallError>) -> String {
        match r {
            Err(CallError::Transport {
                failure: Failure::Malformed,
                detail,
                ..
            }) => detail,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_envelope_is_strict() {
        use wiremock::ResponseTemplate as T;
        // JSON labelled text/plain is WeChat's habit: read
        let ok = answering(T::new(200).set_body_raw(r#"{"errcode":0,"x":1}"#, "text/plain")).await;
        assert_eq!(ok.unwrap()["x"], 1);
        // no errcode at all (token and datacube answers, C11): success
        let bare =
            answering(T::new(200).set_body_raw(r#"{"access_token":"a"}"#, "application/json"))
                .await;
        assert_eq!(bare.unwrap()["access_token"], "a");
        // a page where JSON belongs, even one that parses: refused
        let html = answering(T::new(200).set_body_raw(r#"{"errcode":0}"#, "text/html")).await;
        assert!(malformed(html).contains("text/html"));
        for code in [r#""0""#, "0.0", "null", "true", r#""40001""#] {
            let body = format!(r#"{{"errcode":{code}}}"#);
            let r = answering(T::new(200).set_body_raw(body, "application/json")).await;
            assert!(malformed(r).contains("not an integer"), "{code}");
        }
        let r = answering(T::new(200).set_body_raw("[0]", "application/json")).await;
        assert!(malformed(r).contains("not a JSON object"));
        // a long errmsg is cut to 1 KiB, the rid kept
        let long = format!(
            r#"{{"errcode":-1,"errmsg":"{} rid: 1-2-3"}}"#,
            "x".repeat(5000)
        );
        match answering(T::new(200).set_body_raw(long, "application/json")).await {
            Err(CallError::Api { errmsg, rid, .. }) => {
                assert!(
                    errmsg.len() < 1100 && errmsg.ends_with("bytes cut)"),
                    "{}",
                    errmsg.len()
                );
                assert_eq!(rid.as_deref(), Some("1-2-3"));
            }
            other => panic!("{other:?}"),
        }
        // a body over the cap is not read
        let big = T::new(200).set_body_raw(vec![b' '; http::JSON_CAP + 1], "application/json");
        assert!(malformed(answering(big).await).contains("larger than 8 MiB"));
        // a redirect names where it pointed, without the path or query
        let r = answering(
            T::new(307).insert_header("location", "http://evil.example:8443/x?access_token=t"),
        )
        .await;
        match r {
            Err(CallError::Transport {
                failure: Failure::Redirect(307),
                detail,
                ..
            }) => {
                assert!(
                    detail.contains("redirect to http://evil.example:8443:"),
                    "{detail}"
                );
                assert!(!detail.contains("access_token"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rid_is_split_off() {
        assert_eq!(
            split_rid("invalid credential rid: 6a1b-2c3d-4e5f"),
            ("invalid credential".into(), Some("6a1b-2c3d-4e5f".into()))
        );
        assert_eq!(split_rid("ok"), ("ok".into(), None));
    }

    #[test]
    fn urls_keep_the_base_path_and_escape_the_query() {
        let wx = WeChat::new(
            &Url::parse("http://127.0.0.1:9/prefix/").unwrap(),
            Duration::from_secs(1),
            &crate::adapters::http::Net::default(),
        )
        .unwrap();
        let u = wx.url(
            "/wxa/get_qrcode",
            Some("t&k"),
            &[("path", "page/index?x=1")],
        );
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/prefix/wxa/get_qrcode?access_token=t%26k&path=page%2Findex%3Fx%3D1"
        );
        assert_eq!(
            wx.url("/wxa/release", None, &[]).as_str(),
            "http://127.0.0.1:9/prefix/wxa/release"
        );
    }
}
