//! The native upload engine: lists the project, builds the same file map as the official
//! `miniprogram-ci` with compilation off (the rules live in `mp_release_core::upload::project`),
//! signs a fresh random string per signature, packs, gzips and posts it to `servicewechat.com`.

use mp_release_core::upload::project::{compile, CompileError, Input};
use mp_release_core::upload::signature::SigningKey;
use mp_release_core::upload::{pack, signature};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use url::Url;

/// The real upload host.
pub const DEFAULT_BASE: &str = "https://servicewechat.com";

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The project is not one the native engine packs, or is broken.
    #[error(transparent)]
    Project(#[from] CompileError),
    /// Reading the project.
    #[error("reading the project: {0}")]
    Io(String),
    /// The code-upload IP whitelist refused this machine.
    #[error("WeChat's code-upload IP whitelist refused this machine ({errmsg}): add {ip} to 开发管理 → 开发设置 → 小程序代码上传 → IP白名单 in the mp console, or upload through https-proxy with a fixed IP (GitHub-hosted runners change IP; a self-hosted runner has a stable one)")]
    IpWhitelist {
        /// The egress IP WeChat saw (or a description when it did not say).
        ip: String,
        /// WeChat's words.
        errmsg: String,
    },
    /// Another refusal.
    #[error("{endpoint}: errCode {code}: {errmsg}")]
    Refused {
        /// The call.
        endpoint: String,
        /// `errCode`.
        code: i64,
        /// `errMsg`.
        errmsg: String,
    },
    /// A redirect: never followed (it would send the signed package to another host).
    #[error("{endpoint}: HTTP {status} redirect to {to}: not followed (WeChat's upload host never redirects; a proxy or network in between is rewriting answers, so nothing was sent there)")]
    Redirect {
        /// The call.
        endpoint: String,
        /// The 3xx status.
        status: u16,
        /// Scheme, host and port of `Location`.
        to: String,
    },
    /// Files the upload cannot carry as they are (names WeChat's package format cannot hold).
    #[error("{0}")]
    Names(String),
    /// No usable answer.
    #[error("{endpoint}: {detail}")]
    Transport {
        /// The call.
        endpoint: String,
        /// What happened.
        detail: String,
    },
}

impl UploadError {
    /// The `-10008` refusal, with the IP WeChat names in its message (both engines see it there).
    pub fn ip_whitelist(errmsg: String) -> Self {
        let ip = crate::adapters::http::ip_in(&errmsg)
            .unwrap_or_else(|| "this runner's public IP".to_owned());
        Self::IpWhitelist { ip, errmsg }
    }
}

/// What to upload.
#[derive(Debug, Clone)]
pub struct Request {
    /// The project directory (holding project.config.json).
    pub project: std::path::PathBuf,
    /// The uploading appid.
    pub appid: String,
    /// `version` (previews send 0.0.1).
    pub version: String,
    /// `desc`.
    pub desc: String,
    /// Robot 1–30.
    pub robot: u8,
    /// A preview (testSourceURL) rather than an upload.
    pub preview: bool,
    /// Preview: the page to open, and its query.
    pub page: Option<(String, Option<String>)>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// `subpackage_info`: (name, bytes).
    pub subpackages: Vec<(String, u64)>,
    /// getattr limits in bytes: (main, each subpackage, all).
    pub limits: (u64, u64, u64),
    /// The preview QR code image, if any.
    pub qrcode: Option<Vec<u8>>,
    /// Files in the package.
    pub files: usize,
    /// Gzipped size.
    pub gzip_bytes: usize,
}

impl Uploaded {
    /// Sizes with their limits, for reports.
    pub fn packages(&self) -> Vec<(String, u64, u64)> {
        let (main, sub, full) = self.limits;
        self.subpackages
            .iter()
            .map(|(n, s)| {
                let limit = match n.as_str() {
                    "__FULL__" => full,
                    "__APP__" => main,
                    _ => sub,
                };
                (n.clone(), *s, limit)
            })
            .collect()
    }
}

/// `[{name, size}]` as both the upload answer (`subpackage_info`) and the official library's result
/// (`subPackageInfo`) carry it.
pub fn subpackage_sizes(list: Option<&Value>) -> Vec<(String, u64)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_owned(),
                i["size"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// Node's `querystring.escape`: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` is %-encoded.
fn qs_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What the walk of a project found besides its files.
#[derive(Default)]
struct Walk {
    files: Vec<(String, Vec<u8>)>,
    /// Names the package cannot carry: (relative path as the OS gave it, why).
    bad: Vec<(String, &'static str)>,
    /// Symbolic links, which are not followed.
    links: Vec<String>,
}

/// Lists every file under `dir` (relative, `/`-separated), sorted as miniprogram-ci lists them.
///
/// Names the package cannot carry stop the upload, naming them: a backslash (a path separator
/// on Windows, so `..\\x` would escape the package), a name that is not UTF-8, and two names
/// that differ only in Unicode composition (one file would silently replace the other). Symbolic
/// links are skipped, and listed in a warning.
pub fn list_project(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, UploadError> {
    fn walk(dir: &Path, base: &Path, out: &mut Walk) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name();
            // Never descend into what is never packed (large trees).
            if matches!(name.to_str(), Some("node_modules" | ".git" | ".svn")) {
                continue;
            }
            let rel_lossy = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                out.links.push(rel_lossy);
                continue;
            }
            let Some(text) = name.to_str() else {
                out.bad.push((rel_lossy, "the name is not UTF-8"));
                continue;
            };
            if text.contains('\\') {
                out.bad.push((rel_lossy, "the name holds a backslash"));
                continue;
            }
            if kind.is_dir() {
                walk(&path, base, out)?;
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.files.push((rel, std::fs::read(&path)?));
            }
        }
        Ok(())
    }
    let mut w = Walk::default();
    walk(dir, dir, &mut w).map_err(|e| UploadError::Io(format!("{}: {e}", dir.display())))?;
    if !w.links.is_empty() {
        w.links.sort();
        tracing::warn!(
            "{} symbolic link(s) in {} are not uploaded (links are never followed): {}",
            w.links.len(),
            dir.display(),
            w.links.join(", ")
        );
    }
    let mut seen: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for (name, _) in &w.files {
        if let Some(other) = seen.insert(fold(name), name) {
            w.bad.push((
                format!("{other} and {name}"),
                "the names are the same in Unicode composed form (NFC)",
            ));
        }
    }
    if !w.bad.is_empty() {
        w.bad.sort();
        let list: Vec<String> = w
            .bad
            .iter()
            .map(|(n, why)| format!("{n:?} ({why})"))
            .collect();
        return Err(UploadError::Names(format!(
            "{} cannot be uploaded as it is: {}; rename or remove these files",
            dir.display(),
            list.join(", ")
        )));
    }
    w.files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(w.files)
}

/// A name in Unicode composed form (NFC): a precomposed `é` (U+00E9) and `e` + U+0301 are the
/// same name to the people and the devices that open the package, so two files whose names
/// compose alike would replace each other.
fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfc().collect()
}

/// The uploader.
#[derive(Debug, Clone)]
pub struct Native {
    http: reqwest::Client,
    base: Url,
    /// Which way requests go, for the IP-whitelist refusal.
    route: String,
}

impl Native {
    /// A client for the upload host (the emulator in tests), with a timeout, through `net`.
    pub fn new(
        base: &Url,
        timeout: Duration,
        net: &crate::adapters::http::Net,
    ) -> anyhow::Result<Self> {
        net.log_route("upload host", base);
        Ok(Self {
            http: net.client(timeout)?,
            route: net.route(base).to_string(),
            base: base.clone(),
        })
    }

    fn url(&self, path: &str, query: &str) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        // `_r` first, as the official transport does.
        let r = format!(
            "_r=0.{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        if query.is_empty() {
            format!("{base}{path}?{r}")
        } else {
            format!("{base}{path}?{r}&{query}")
        }
    }

    async fn call(
        &self,
        endpoint: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<Value, UploadError> {
        let transport = |detail: String| UploadError::Transport {
            endpoint: endpoint.to_owned(),
            detail,
        };
        let resp = req
            .send()
            .await
            .map_err(|e| transport(crate::adapters::http::transport_cause(&e)))?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            return Err(UploadError::Redirect {
                endpoint: endpoint.to_owned(),
                status,
                to: crate::adapters::http::redirect_target(&resp),
            });
        }
        if status != 200 {
            return Err(transport(format!("HTTP {status}")));
        }
        let bytes = crate::adapters::http::read_capped(resp, crate::adapters::http::JSON_CAP)
            .await
            .map_err(|e| match e {
                crate::adapters::http::BodyError::TooLarge(cap) => transport(format!(
                    "the answer is larger than {} MiB: not read",
                    cap >> 20
                )),
                crate::adapters::http::BodyError::Transport(_) => {
                    transport("the connection failed before a complete answer".into())
                }
            })?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| transport(format!("the answer is not JSON ({} bytes)", bytes.len())))?;
        if !v.is_object() {
            return Err(transport("the answer is not a JSON object".into()));
        }
        // The upload host's envelope is `{errCode, errMsg}`; a code that is absent or not an
        // integer is no success.
        let code = v.get("errCode").and_then(Value::as_i64).unwrap_or(-1);
        if code == 0 {
            return Ok(v);
        }
        let errmsg = mp_release_core::pipeline::clip(
            v.get("errMsg").and_then(Value::as_str).unwrap_or_default(),
        );
        if code == -10008 {
            let e = UploadError::ip_whitelist(errmsg);
            if let UploadError::IpWhitelist { ip, .. } = &e {
                tracing::warn!(
                    "WeChat saw this upload come from {ip} (requests to {} go {})",
                    self.base.host_str().unwrap_or("?"),
                    self.route
                );
            }
            return Err(e);
        }
        Err(UploadError::Refused {
            endpoint: endpoint.to_owned(),
            code,
            errmsg,
        })
    }

    async fn post_json(&self, path: &str, body: &Value) -> Result<Value, UploadError> {
        let req = self
            .http
            .post(self.url(path, ""))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.call(path, req).await
    }

    /// A signature over a fresh random string (one per signature, as the official client does).
    async fn sign(&self, key: &SigningKey, appid: &str) -> Result<String, UploadError> {
        let client_rand = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() % 100_000_000);
        let v = self
            .post_json(
                "/wxa/ci/getrandstr",
                &json!({ "appid": appid, "clientRand": client_rand }),
            )
            .await?;
        let rand = v
            .pointer("/data/randomString")
            .and_then(Value::as_str)
            .unwrap_or_default();
        key.sign(appid, rand).map_err(|e| UploadError::Refused {
            endpoint: "signing".into(),
            code: 0,
            errmsg: e.to_string(),
        })
    }

    /// Uploads (or previews) the project.
    pub async fn upload(&self, key: &SigningKey, req: &Request) -> Result<Uploaded, UploadError> {
        let files = list_project(&req.project)?;
        let sig = self.sign(key, &req.appid).await?;
        // getattr: an error means defaults, as in the official client.
        let attr = self
            .post_json(
                "/wxa/ci/getattr",
                &json!({ "appid": req.appid, "signature": sig }),
            )
            .await
            .ok();
        let data = attr
            .as_ref()
            .and_then(|a| a.get("data"))
            .cloned()
            .unwrap_or_default();
        let platform = data
            .get("platform")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mb = |k: &str, d: u64| {
            data.pointer(&format!("/setting/{k}"))
                .and_then(Value::as_u64)
                .unwrap_or(d)
                * 1024
                * 1024
        };
        let limits = (
            mb("MaxCodeSize", 2),
            mb("MaxSubpackageSubCodeSize", 2),
            mb("MaxSubpackageFullCodeSize", 12),
        );
        // The extension whitelist: any failure falls back to the built-in list.
        let white = self
            .http
            .get(self.url("/wxa/ci/getwhiteextlist", ""))
            .send()
            .await
            .ok();
        let whitelist = match white {
            Some(r) => r.json::<Value>().await.ok().and_then(|v| {
                v.pointer("/data/miniProgram")
                    .and_then(Value::as_array)
                    .cloned()
            }),
            None => None,
        }
        .map(|list| {
            list.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        });
        let out = compile(&Input {
            files,
            appid: req.appid.clone(),
            platform,
            whitelist,
        })?;
        let sig = self.sign(key, &req.appid).await?;
        let mut entries = out.entries;
        entries.push(("/ci.signature".into(), signature::entry(&sig).into_bytes()));
        let packed = pack::pack(&entries).map_err(|e| UploadError::Io(e.to_string()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        gz.write_all(&packed)
            .map_err(|e| UploadError::Io(e.to_string()))?;
        let body = gz.finish().map_err(|e| UploadError::Io(e.to_string()))?;

        let version = if req.preview {
            "0.0.1"
        } else {
            req.version.as_str()
        };
        let mut launch = json!({ "scene": 1011 });
        let mut query = vec![
            ("codeprotect", "0".to_owned()),
            ("type", "miniProgram".to_owned()),
            ("appid", req.appid.clone()),
            ("version", version.to_owned()),
            ("desc", req.desc.clone()),
            ("robot", req.robot.to_string()),
        ];
        if let Some((page, q)) = &req.page {
            let path = match q {
                Some(q) => format!("{page}?{q}"),
                None => page.clone(),
            };
            query.push(("path", path));
            launch["path"] = json!(page);
        }
        query.push(("debugLaunchInfo", launch.to_string()));
        if let Some(ext) = &out.ext_appid {
            query.push(("extAppId", ext.clone()));
        }
        let qs: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", qs_escape(v)))
            .collect();
        let endpoint = if req.preview {
            "/wxa/ci/testSourceURL"
        } else {
            "/wxa/ci/upload"
        };
        let gzip_bytes = body.len();
        let v = self
            .call(
                endpoint,
                self.http.post(self.url(endpoint, &qs.join("&"))).body(body),
            )
            .await?;
        let b = v.get("body").ok_or_else(|| UploadError::Transport {
            endpoint: endpoint.into(),
            detail: "the answer has no body".into(),
        })?;
        let subpackages = subpackage_sizes(b.get("subpackage_info"));
        let qrcode = b.get("qrcode_img").and_then(Value::as_str).and_then(|s| {
            base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                s.trim_start_matches("data:image/jpeg;base64,"),
            )
            .ok()
        });
        Ok(Uploaded {
            subpackages,
            limits,
            qrcode,
            files: entries.len(),
            gzip_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escaping_is_nodes() {
        assert_eq!(qs_escape("capture test"), "capture%20test");
        assert_eq!(qs_escape("{\"scene\":1011}"), "%7B%22scene%22%3A1011%7D");
        assert_eq!(qs_escape("a-b_c.d!e~f*g'h(i)"), "a-b_c.d!e~f*g'h(i)");
        assert_eq!(qs_escape("体"), "%E4%BD%93");
    }
}
