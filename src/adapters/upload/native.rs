//! The native upload engine: lists the project, builds the same file map as the official
//! `miniprogram-ci` with compilation off (the rules live in `mp_release_core::upload::project`),
//! signs a fresh random string per signature, packs, gzips and posts it to `servicewechat.com`.

use mp_release_core::upload::project::{compile, Body, CompileError, Input, ProjectFile};
use mp_release_core::upload::signature::SigningKey;
use mp_release_core::upload::{pack, signature};
use serde_json::{json, Value};
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
    /// Preview: the scene the QR code opens with (`debugLaunchInfo.scene`).
    pub scene: u32,
    /// The `setting` input: miniprogram-ci's compile options over project.config.json's.
    pub setting: serde_json::Map<String, Value>,
    /// The project as listed (and checked) when the settings were read.
    pub listing: std::sync::Arc<Listing>,
    /// miniprogram-ci's project `type` (`miniProgram`, `miniGame`, …).
    pub project_type: &'static str,
    /// Build miniprogram_npm first (official engine).
    pub pack_npm: bool,
    /// Save the source maps here afterwards (official engine).
    pub source_map: Option<std::path::PathBuf>,
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

/// Node's `querystring.parse`: `&`-separated `key=value` pairs, `+` and %-escapes decoded, a
/// repeated key collecting its values in a list.
fn qs_parse(q: &str) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        let (k, v) = (k.into_owned(), Value::String(v.into_owned()));
        match out.get_mut(&k) {
            None => {
                out.insert(k, v);
            }
            Some(Value::Array(list)) => list.push(v),
            Some(first) => *first = Value::Array(vec![first.take(), v]),
        }
    }
    Value::Object(out)
}

/// What the walk of a project found besides its files.
#[derive(Default)]
struct Walk {
    /// (relative name, path on disk, size).
    files: Vec<(String, std::path::PathBuf, u64)>,
    /// Names the package cannot carry: (relative path as the OS gave it, why).
    bad: Vec<(String, &'static str)>,
    /// Symbolic links, which are not followed.
    links: Vec<String>,
}

/// A listed project: its files (text files read, binary ones only sized) and the identity marker
/// of all their bytes.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The project directory.
    pub dir: std::path::PathBuf,
    /// The files, sorted by name.
    pub files: Vec<ProjectFile>,
    /// [`mp_release_core::identity::files`] of every file's bytes.
    pub marker: String,
}

/// Extensions whose files the rules never look inside: packed as they are, read again when packed
/// rather than held in memory (most of a real project's bytes are such images and media).
const BINARY: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", "cur", "mp3", "mp4", "m4a", "aac", "wav",
    "ogg", "silk", "wasm", "br", "skel", "ttf", "otf", "woff", "woff2", "zip", "gz", "pdf", "mov",
    "avi", "flv", "glb", "gltf", "bin", "ktx", "pvr", "astc", "cer", "crt", "cert",
];

fn binary(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| BINARY.iter().any(|b| ext.eq_ignore_ascii_case(b)))
}

/// Lists every file under `dir` (relative, `/`-separated), reads the text files, and hashes every
/// file for the identity marker (binary files are hashed and let go).
///
/// Names the package cannot carry stop the upload, naming them: a backslash (a path separator
/// on Windows, so `..\\x` would escape the package), a name that is not UTF-8, and two names
/// that differ only in Unicode composition (one file would silently replace the other). Symbolic
/// links are skipped, and listed in a warning.
pub fn list_project(dir: &Path) -> Result<Listing, UploadError> {
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
                let size = entry.metadata()?.len();
                out.files.push((rel, path, size));
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
    for (name, _, _) in &w.files {
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
    read_all(dir, &w.files)
}

/// Reads the listed files (in parallel, one thread per core up to four), keeping text files and
/// hashing all of them in name order for the marker.
fn read_all(
    dir: &Path,
    listed: &[(String, std::path::PathBuf, u64)],
) -> Result<Listing, UploadError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let chunk = listed.len().div_ceil(threads).max(1);
    // Each thread hashes its run of files into its own digest of per-file digests; the marker
    // is the digest of those in order, so the result does not depend on the thread count.
    type Run = Result<Vec<(ProjectFile, [u8; 32])>, UploadError>;
    let parts: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = listed
            .chunks(chunk)
            .map(|run| {
                s.spawn(move || {
                    run.iter()
                        .map(|(name, path, size)| {
                            let bytes = std::fs::read(path)
                                .map_err(|e| UploadError::Io(format!("{}: {e}", path.display())))?;
                            let digest = mp_release_core::identity::file_digest(name, &bytes);
                            let data = (!binary(name)).then_some(bytes);
                            let size = data.as_ref().map_or(*size, |d| d.len() as u64);
                            Ok((
                                ProjectFile {
                                    name: name.clone(),
                                    data,
                                    size,
                                },
                                digest,
                            ))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(UploadError::Io("a reading thread failed".into())))
            })
            .collect()
    });
    let mut files = Vec::with_capacity(listed.len());
    let mut digests = Vec::with_capacity(listed.len());
    for part in parts {
        for (file, digest) in part? {
            files.push(file);
            digests.push(digest);
        }
    }
    Ok(Listing {
        dir: dir.to_owned(),
        files,
        // `listed` is sorted by name, as identity::files sorts.
        marker: mp_release_core::identity::of_digests(digests),
    })
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
        let listing = req.listing.clone();
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
        let t0 = std::time::Instant::now();
        let out = compile(&Input {
            files: std::borrow::Cow::Borrowed(&listing.files),
            appid: req.appid.clone(),
            platform,
            whitelist,
            setting: req.setting.clone(),
        })?;
        let sig = self.sign(key, &req.appid).await?;
        let mut entries = out.entries;
        entries.push((
            "/ci.signature".into(),
            Body::Made(signature::entry(&sig).into_bytes()),
        ));
        let files_in_package = entries.len();
        tracing::debug!("compiled {files_in_package} entries in {:?}", t0.elapsed());
        let t0 = std::time::Instant::now();
        let plan = {
            let listing = listing.clone();
            tokio::task::spawn_blocking(move || gzip_pack(&listing, &entries))
                .await
                .map_err(|e| UploadError::Io(format!("packing: {e}")))??
        };

        let version = if req.preview {
            "0.0.1"
        } else {
            req.version.as_str()
        };
        let mut launch = json!({ "scene": req.scene });
        let mut query = vec![
            ("codeprotect", "0".to_owned()),
            ("type", req.project_type.to_owned()),
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
            if let Some(q) = q {
                launch["query"] = qs_parse(q);
            }
        }
        query.push((
            "debugLaunchInfo",
            mp_release_core::upload::js_json::stringify(&launch),
        ));
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
        let gzip_bytes = usize::try_from(plan.size()).unwrap_or(usize::MAX);
        tracing::debug!("packed and gzipped {gzip_bytes} bytes (large binaries to be read while sending) in {:?}", t0.elapsed());
        let t0 = std::time::Instant::now();
        let length = plan.size();
        let (body, failure) = streamed(plan);
        let sent = self
            .call(
                endpoint,
                self.http
                    .post(self.url(endpoint, &qs.join("&")))
                    .header(reqwest::header::CONTENT_LENGTH, length)
                    .body(body),
            )
            .await;
        let failed = failure.lock().ok().and_then(|f| f.clone());
        let v = match (sent, failed) {
            (Err(_), Some(why)) => return Err(UploadError::Io(why)),
            (sent, _) => sent?,
        };
        tracing::debug!("{endpoint} answered in {:?}", t0.elapsed());
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
            files: files_in_package,
            gzip_bytes,
        })
    }
}

/// The pack of `entries`, gzipped: the header from the sizes, then each body into the
/// compressor; large binary files the listing did not keep are stored, read only when the body is
/// sent (they must not change size in between; small ones are read and compressed now).
pub fn gzip_pack(
    listing: &Listing,
    entries: &[(String, Body)],
) -> Result<super::gzip::Plan, UploadError> {
    let io = |e: &dyn std::fmt::Display| UploadError::Io(format!("packing: {e}"));
    let sizes: Vec<(&str, u64)> = entries
        .iter()
        .map(|(n, b)| {
            let size = match b {
                Body::File(i) => listing.files.get(*i).map_or(0, |f| f.size),
                Body::Made(m) => m.len() as u64,
            };
            (n.as_str(), size)
        })
        .collect();
    let header = pack::header(&sizes).map_err(|e| io(&e))?;
    let mut gz = super::gzip::Gzip::new();
    gz.write_all(&header).map_err(|e| io(&e))?;
    for ((_, body), (_, size)) in entries.iter().zip(&sizes) {
        match body {
            Body::Made(b) => gz.write_all(b).map_err(|e| io(&e))?,
            Body::File(i) => {
                let file = &listing.files[*i];
                let path = listing.dir.join(&file.name);
                match &file.data {
                    Some(d) => gz.write_all(d).map_err(|e| io(&e))?,
                    None if *size >= 16 << 10 => {
                        gz.stored_file(path, *size).map_err(|e| io(&e))?;
                    }
                    None => {
                        let bytes = std::fs::read(&path)
                            .map_err(|e| UploadError::Io(format!("{}: {e}", path.display())))?;
                        if bytes.len() as u64 != *size {
                            return Err(UploadError::Io(format!(
                                "{} changed while it was being uploaded ({size} bytes when listed, {} now); nothing was sent",
                                path.display(),
                                bytes.len()
                            )));
                        }
                        gz.write_all(&bytes).map_err(|e| io(&e))?;
                    }
                }
            }
        }
    }
    gz.finish().map_err(|e| io(&e))
}

/// The plan as a request body streamed from a thread that reads the stored files, and where a
/// failure of that thread is kept (the request then fails with a transport error).
fn streamed(
    plan: super::gzip::Plan,
) -> (
    reqwest::Body,
    std::sync::Arc<std::sync::Mutex<Option<String>>>,
) {
    let failure = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(8);
    let seen = failure.clone();
    std::thread::spawn(move || {
        let r = plan.write_to(&mut |b| {
            tx.blocking_send(Ok(b))
                .map_err(|_| std::io::Error::other("the request ended"))
        });
        if let Err(e) = r {
            if let Ok(mut f) = seen.lock() {
                *f = Some(e.to_string());
            }
            let _ = tx.blocking_send(Err(e));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (reqwest::Body::wrap_stream(stream), failure)
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

    /// The listing keeps only text, hashes in parallel, and still gives the marker of every byte.
    #[test]
    fn the_listing_marker_is_the_marker_of_all_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut all = Vec::new();
        for i in 0..40 {
            let (name, bytes) = if i % 3 == 0 {
                (format!("img/p{i:02}.png"), vec![i as u8; 20_000])
            } else {
                (
                    format!("pages/p{i:02}.js"),
                    format!("Page({i})").into_bytes(),
                )
            };
            let path = dir.path().join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            all.push((name, bytes));
        }
        let listing = list_project(dir.path()).unwrap();
        let expected =
            mp_release_core::identity::files(all.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        assert_eq!(listing.marker, expected);
        let png = listing
            .files
            .iter()
            .find(|f| f.name == "img/p00.png")
            .unwrap();
        assert!(
            png.data.is_none() && png.size == 20_000,
            "binaries are sized, not kept"
        );
        assert!(listing
            .files
            .iter()
            .filter(|f| f.name.ends_with(".js"))
            .all(|f| f.data.is_some()));
    }

    #[test]
    fn query_parsing_is_nodes() {
        assert_eq!(
            qs_parse("id=7&tag=a&tag=b+c&x=%E4%BD%93&flag"),
            json!({"id": "7", "tag": ["a", "b c"], "x": "体", "flag": ""})
        );
    }
}
