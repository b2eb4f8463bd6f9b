//! The official engine: the pinned `miniprogram-ci` from npm, installed on first use into a cache
//! directory and driven by a script embedded in this binary. Progress and the result come back as
//! JSON lines; the script always exits (the library would otherwise keep a worker alive for about
//! ten minutes after a compile error), and a watchdog ends it if it does not.
//!
//! The private key is written to a 0600 temporary file outside the workspace for the tool to read,
//! and removed afterwards.

use super::native::{Request, UploadError, Uploaded};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The default version: the newest release the interop tests (tests/all/interop.rs) have verified.
pub const VERSION: &str = "2.1.42";
const DRIVER: &str = include_str!("driver.js");

/// The official engine.
#[derive(Debug, Clone)]
pub struct Official {
    /// The miniprogram-ci version.
    pub version: String,
    /// Where the package is (or will be) installed: `<cache>/miniprogram-ci/<version>`.
    pub dir: PathBuf,
    /// An HTTPS proxy for the tool (a fixed egress IP, or the emulator in tests).
    pub proxy: Option<String>,
    /// Extra CA certificates for the tool (`NODE_EXTRA_CA_CERTS`; the emulator's test CA).
    pub ca_file: Option<PathBuf>,
    /// How long the tool may run.
    pub timeout: Duration,
}

fn io(what: &str, e: &dyn std::fmt::Display) -> UploadError {
    UploadError::Io(format!("{what}: {e}"))
}

impl Official {
    /// The engine with its package under `cache`.
    pub fn new(
        cache: &Path,
        version: &str,
        proxy: Option<String>,
        ca_file: Option<PathBuf>,
        timeout: Duration,
    ) -> Self {
        Self {
            version: version.to_owned(),
            dir: cache.join("miniprogram-ci").join(version),
            proxy,
            ca_file,
            timeout,
        }
    }

    fn module(&self) -> PathBuf {
        self.dir.join("node_modules/miniprogram-ci")
    }

    /// Installs the pinned package unless it is there already; returns how long it took.
    pub async fn ensure_installed(&self) -> Result<Option<Duration>, UploadError> {
        if self.module().join("package.json").is_file() {
            return Ok(None);
        }
        for tool in ["node", "npm"] {
            let found = tokio::process::Command::new(tool)
                .arg("--version")
                .output()
                .await
                .is_ok_and(|o| o.status.success());
            if !found {
                return Err(UploadError::Io(format!(
                    "the miniprogram-ci engine needs Node.js and npm, and `{tool}` is not on PATH: install Node.js 18 or later (e.g. actions/setup-node), or use engine native"
                )));
            }
        }
        tracing::info!(
            "installing miniprogram-ci@{} into {} (once)",
            self.version,
            self.dir.display()
        );
        let started = std::time::Instant::now();
        std::fs::create_dir_all(&self.dir).map_err(|e| io("creating the cache directory", &e))?;
        std::fs::write(
            self.dir.join("package.json"),
            r#"{"name":"mp-release-official-engine","private":true}"#,
        )
        .map_err(|e| io("writing package.json", &e))?;
        let out = tokio::process::Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--ignore-scripts",
                &format!("miniprogram-ci@{}", self.version),
            ])
            .current_dir(&self.dir)
            .kill_on_drop(true)
            .output();
        // A registry that does not answer must not hang the release: ten minutes is many times the
        // measured install time (see docs/benchmarks.md).
        let out = tokio::time::timeout(Duration::from_secs(600), out)
            .await
            .map_err(|_| {
                UploadError::Io(format!(
                    "npm install miniprogram-ci@{} did not finish within 10 minutes; check the npm registry and proxy settings",
                    self.version
                ))
            })?
            .map_err(|e| io("running npm", &e))?;
        if !out.status.success() {
            return Err(UploadError::Io(format!(
                "npm install miniprogram-ci@{} failed: {}",
                self.version,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(Some(started.elapsed()))
    }

    /// Uploads (or previews) with the official tool.
    pub async fn upload(&self, pem: &SecretString, req: &Request) -> Result<Uploaded, UploadError> {
        self.ensure_installed().await?;
        let work = tempfile::Builder::new()
            .prefix("mp-release-ci-")
            .tempdir()
            .map_err(|e| io("creating a temporary directory", &e))?;
        let key = work.path().join("private.key");
        write_private(&key, pem.expose_secret())
            .map_err(|e| io("writing the key for miniprogram-ci", &e))?;
        let driver = work.path().join("driver.js");
        std::fs::write(&driver, DRIVER).map_err(|e| io("writing the driver", &e))?;
        let qr = work.path().join("qrcode.jpg");
        let (page, query) = match &req.page {
            Some((p, q)) => (Some(p.clone()), q.clone()),
            None => (None, None),
        };
        let request = json!({
            "module": self.module(),
            "appid": req.appid,
            "projectPath": req.project,
            "privateKeyPath": key,
            "version": req.version,
            "desc": req.desc,
            "robot": req.robot,
            "preview": req.preview,
            "qrcodeOutputDest": qr,
            "pagePath": page,
            "searchQuery": query,
            "scene": req.scene,
            "type": req.project_type,
            "packNpm": req.pack_npm,
            "sourceMapSavePath": req.source_map,
            "setting": req.setting,
        });
        let mut cmd = tokio::process::Command::new("node");
        cmd.arg(&driver)
            .current_dir(work.path())
            .env("MP_RELEASE_CI_REQUEST", request.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // The route was decided by the one network policy (`Net::route`): Node gets that proxy or
        // none, never a different reading of the environment.
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            cmd.env_remove(var);
        }
        if let Some(p) = &self.proxy {
            cmd.env("HTTPS_PROXY", p).env("https_proxy", p);
        }
        if let Some(ca) = &self.ca_file {
            cmd.env("NODE_EXTRA_CA_CERTS", ca);
        }
        let mut child = cmd.spawn().map_err(|e| io("starting node", &e))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| UploadError::Io("no stdout from node".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let mut outcome: Option<Value> = None;
        let reading = async {
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if let Some(p) = v.get("progress").and_then(Value::as_str) {
                    tracing::info!("miniprogram-ci: {p}");
                } else if let Some(n) = v.get("packNpm") {
                    tracing::info!(
                        "pack-npm: built miniprogram_npm from {} miniprogram package(s) and {} other package(s){}",
                        n["miniprogram_pack_num"].as_u64().unwrap_or(0),
                        n["other_pack_num"].as_u64().unwrap_or(0),
                        match n["warnings"].as_array().map(Vec::len) {
                            Some(w) if w > 0 => format!("; {w} warning(s): {}", n["warnings"]),
                            _ => String::new(),
                        }
                    );
                } else if let Some(p) = v.get("sourceMap").and_then(Value::as_str) {
                    tracing::info!("source maps of the upload saved to {p}");
                } else if v.get("result").is_some() || v.get("error").is_some() {
                    outcome = Some(v);
                }
            }
        };
        if tokio::time::timeout(self.timeout, reading).await.is_err() {
            let _ = child.kill().await;
            return Err(UploadError::Transport {
                endpoint: "miniprogram-ci".into(),
                detail: format!("no result within {} s; stopped it", self.timeout.as_secs()),
            });
        }
        let _ = child.wait().await;
        let v = outcome
            .ok_or_else(|| UploadError::Io("miniprogram-ci ended without a result".into()))?;
        if let Some(e) = v.get("error") {
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if message.contains("-10008") {
                return Err(UploadError::ip_whitelist(message));
            }
            return Err(UploadError::Refused {
                endpoint: "miniprogram-ci".into(),
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                errmsg: message,
            });
        }
        let r = &v["result"];
        let subpackages = super::native::subpackage_sizes(r.get("subPackageInfo"));
        let qrcode = if req.preview {
            std::fs::read(&qr).ok()
        } else {
            None
        };
        // The official result has no limits; WeChat's defaults (getattr) apply.
        let mb = 1024 * 1024;
        Ok(Uploaded {
            subpackages,
            limits: (2 * mb, 2 * mb, 12 * mb),
            qrcode,
            files: 0,
            gzip_bytes: 0,
        })
    }
}

fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(pem.as_bytes())
}
