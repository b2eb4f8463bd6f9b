//! The code-upload side (`servicewechat.com /wxa/ci/*`), as the official `miniprogram-ci` uses it:
//! single-use random strings, `getattr`, the extension whitelist, `upload` and `testSourceURL`
//! (gunzip, strict unpack, `ci.signature` checked against the app's registered public key, size
//! limits, `subpackage_info`), `getlatestversion`, and `getmulticosuploadinfo` answering an error
//! so large packages take the direct path.
//!
//! Answers use this host's envelope, `{errCode, errMsg, data|body}`, not the API's `errcode`.
//! REFERENCE-UNSURE: the reference documents no error codes of this host except -10008 (the IP
//! whitelist); the others below are our choices and say so.

use super::model::{Trial, UploadRecord};
use super::{Request, Response, World};
use base64::Engine;
use mp_release_core::upload::{pack, signature};
use serde_json::{json, Value};
use std::io::Read;

/// Decompressed uploads larger than this are refused (a gzip bomb guard; the full limit is far below).
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;
/// Chosen codes (see the module note).
const ERR_BAD_SIGNATURE: i64 = -10004;
const ERR_BAD_PACKAGE: i64 = -10005;
const ERR_IP: i64 = -10008;
/// REFERENCE-UNSURE: 80051 is what the devtools report for an oversize package.
const ERR_TOO_LARGE: i64 = 80051;

fn ok(data: &Value) -> Response {
    Response::json(&json!({ "errCode": 0, "errMsg": "ok", "data": data }))
}

fn err(code: i64, msg: &str) -> Response {
    Response::json(&json!({ "errCode": code, "errMsg": msg }))
}

impl World {
    /// Dispatches a `/wxa/ci/*` or `/wxa-dev-logic/*` request.
    pub(super) fn ci(&mut self, req: &Request) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        match req.path.as_str() {
            "/wxa/ci/getrandstr" => self.getrandstr(&body),
            "/wxa/ci/getattr" => self.getattr(&body),
            "/wxa/ci/getwhiteextlist" => match &self.scenario.white_ext_list {
                Some(list) => ok(&json!({ "miniProgram": list })),
                None => ok(&json!({})),
            },
            "/wxa/ci/upload" => self.ci_upload(req, false),
            "/wxa/ci/testSourceURL" => self.ci_upload(req, true),
            "/wxa/ci/getlatestversion" => {
                let appid = req.param("appid").unwrap_or_default().to_owned();
                let sig = req.param("signature").unwrap_or_default().to_owned();
                match self.check_signature(&appid, &sig) {
                    Ok(()) => ok(
                        &json!({ "latestVersion": self.apps.get(&appid).and_then(|a| a.trial.as_ref()).map(|t| t.user_version.clone()) }),
                    ),
                    Err(r) => r,
                }
            }
            "/wxa/ci/get_dev_sourcemap_info" => self.dev_sourcemap(&body, true),
            "/wxa/ci/get_dev_sourcemap" => self.dev_sourcemap(&body, false),
            // Refused on purpose: the client then falls back to the direct upload.
            "/wxa/ci/getmulticosuploadinfo" => err(-1, "cos upload is not available"),
            "/wxa-dev-logic/clientreportv2" => Response::json(&json!({ "errCode": 0 })),
            _ => Response {
                status: 404,
                content_type: "text/html".into(),
                body: b"<html>404</html>".to_vec(),
                ..Response::json(&Value::Null)
            },
        }
    }

    /// The source maps of a robot's last upload (`getDevSourceMap`): the `info` call gives the
    /// size of the whole answer and the chunk limit; each chunk call returns `limit` characters of
    /// it from `offset`, wrapped in `innerRequestResp`; `streaming: false` gives it in one answer.
    /// Each call needs a fresh signature. REFERENCE-UNSURE: the reference does not document these
    /// answers; their shape is what miniprogram-ci 2.1.42 reads, the `fullpath` of an entry is
    /// its pack name here, and the chunk limit is chosen.
    fn dev_sourcemap(&mut self, body: &Value, info: bool) -> Response {
        const LIMIT: usize = 64 * 1024;
        let appid = match self.signed(body) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let robot = body
            .get("robot")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .to_string();
        let Some(up) = self
            .uploads
            .iter()
            .rev()
            .find(|u| u.appid == appid && u.robot == robot && !u.preview)
        else {
            return err(-1, "no upload of this robot");
        };
        let list: Vec<Value> = up
            .files
            .iter()
            .filter(|(n, _)| n.ends_with(".map"))
            .map(|(n, b)| json!({ "fullpath": n, "sourcemap": String::from_utf8_lossy(b) }))
            .collect();
        let data = json!({ "sourcemap_list": list });
        if body.get("streaming") == Some(&json!(false)) {
            return ok(&data);
        }
        // ASCII only, so that offsets in bytes and in JavaScript characters agree.
        let text: String = data
            .to_string()
            .chars()
            .flat_map(|c| -> Vec<char> {
                if c.is_ascii() {
                    vec![c]
                } else {
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units)
                        .iter()
                        .flat_map(|u| format!("\\u{u:04x}").chars().collect::<Vec<_>>())
                        .collect()
                }
            })
            .collect();
        if info {
            return ok(&json!({ "total_size": text.len(), "limit": LIMIT }));
        }
        let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .unwrap_or(LIMIT as u64) as usize;
        let chunk = text
            .get(offset.min(text.len())..(offset.saturating_add(limit)).min(text.len()))
            .unwrap_or_default();
        Response::json(&json!({ "innerRequestResp": { "errCode": 0, "body": chunk } }))
    }

    fn getrandstr(&mut self, body: &Value) -> Response {
        let appid = body
            .get("appid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !self.apps.contains_key(&appid) {
            return err(40013, "invalid appid");
        }
        let n = self.next_id();
        let rand = format!("{:016x}{:016x}", super::mix(n ^ 0x5eed), super::mix(n));
        self.rand_strs.insert(rand.clone(), (appid, false));
        ok(&json!({ "randomString": rand }))
    }

    /// Finds the issued, unused random string that `signature` signs for `appid`, and uses it up.
    fn check_signature(&mut self, appid: &str, signature_b64: &str) -> Result<(), Response> {
        let keys = self
            .apps
            .get(appid)
            .map(|a| a.upload_public_keys.clone())
            .ok_or_else(|| err(40013, "invalid appid"))?;
        if keys.is_empty() {
            return Err(err(ERR_BAD_SIGNATURE, "no code upload key is registered for this appid: generate one in the mp console (开发管理 → 开发设置 → 小程序代码上传)"));
        }
        let candidates: Vec<String> = self
            .rand_strs
            .iter()
            .filter(|(_, (a, used))| a == appid && !used)
            .map(|(r, _)| r.clone())
            .collect();
        let found = candidates
            .iter()
            .find(|rand| {
                keys.iter()
                    .any(|k| signature::verify(k, signature_b64, appid, rand).is_ok())
            })
            .cloned();
        match found {
            Some(rand) => {
                if let Some(entry) = self.rand_strs.get_mut(&rand) {
                    entry.1 = true;
                }
                Ok(())
            }
            None => Err(err(ERR_BAD_SIGNATURE, "invalid signature: the key does not match the registered code upload key, or the random string was not issued or was used already")),
        }
    }

    /// The `appid` of a JSON body whose `signature` signs an issued random string for it.
    fn signed(&mut self, body: &Value) -> Result<String, Response> {
        let field = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let appid = field("appid");
        self.check_signature(&appid, &field("signature"))?;
        Ok(appid)
    }

    fn getattr(&mut self, body: &Value) -> Response {
        let appid = match self.signed(body) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let app = &self.apps[&appid];
        let l = self.scenario.upload_limits;
        ok(&json!({
            "platform": app.platform_app,
            "appType": 0,
            "isSandbox": false,
            "released": app.live.is_some(),
            "setting": {
                "MaxCodeSize": l.main_mb, "MaxSubpackageSubCodeSize": l.sub_mb, "MaxSubpackageFullCodeSize": l.full_mb,
                "NavigateMiniprogramLimit": 10, "MaxSubPackageLimit": 100, "MinTabbarCount": 2, "MaxTabbarCount": 5,
                "MaxCustomTabbarCount": 10, "MaxTabbarIconSize": 40,
            },
        }))
    }

    fn ci_upload(&mut self, req: &Request, preview: bool) -> Response {
        let appid = req.param("appid").unwrap_or_default().to_owned();
        let Some(app) = self.apps.get(&appid) else {
            return err(40013, "invalid appid");
        };
        let ip = req.peer_ip();
        if app
            .upload_ip_whitelist
            .as_ref()
            .is_some_and(|l| !l.iter().any(|a| a == ip))
        {
            return err(ERR_IP, &format!("invalid ip: {ip}, reference: https://developers.weixin.qq.com/miniprogram/dev/devtools/ci.html"));
        }
        let mut raw = Vec::new();
        let gz = flate2::read::GzDecoder::new(req.body.as_slice());
        if gz.take(MAX_UNPACKED + 1).read_to_end(&mut raw).is_err()
            || raw.len() as u64 > MAX_UNPACKED
        {
            return err(
                ERR_BAD_PACKAGE,
                "the body is not a gzip stream of a package (or is over 64 MB unpacked)",
            );
        }
        let files = match pack::unpack(&raw) {
            Ok(f) => f,
            Err(e) => return err(ERR_BAD_PACKAGE, &format!("bad package: {e}")),
        };
        let Some((last, sig_json)) = files.last() else {
            return err(ERR_BAD_PACKAGE, "empty package");
        };
        if last != "/ci.signature" {
            return err(
                ERR_BAD_SIGNATURE,
                "the package does not end with /ci.signature",
            );
        }
        let sig = serde_json::from_slice::<Value>(sig_json)
            .ok()
            .and_then(|v| {
                v.get("signature")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        if let Err(r) = self.check_signature(&appid, &sig) {
            return r;
        }
        let code: Vec<&(String, Vec<u8>)> =
            files.iter().filter(|(n, _)| n != "/ci.signature").collect();
        let app_json: Value = code
            .iter()
            .find(|(n, _)| n == "/app.json")
            .and_then(|(_, b)| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        // Sizes: file bytes, source maps left out. REFERENCE-UNSURE: WeChat's exact accounting is
        // not documented; the capture's fake server counted file bytes the same way.
        let size = |e: &&&(String, Vec<u8>)| {
            if e.0.ends_with(".js.map") {
                0
            } else {
                e.1.len()
            }
        };
        let roots: Vec<String> = app_json
            .get("subPackages")
            .or_else(|| app_json.get("subpackages"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("root").and_then(Value::as_str))
            .map(|r| format!("/{}", r.trim_matches('/')))
            .collect();
        let mut info = vec![(
            "__FULL__".to_owned(),
            code.iter().map(|e| size(&e)).sum::<usize>(),
        )];
        let main: usize = code
            .iter()
            .filter(|(n, _)| !roots.iter().any(|r| n.starts_with(&format!("{r}/"))))
            .map(|e| size(&e))
            .sum();
        info.push(("__APP__".into(), main));
        for r in &roots {
            let sub: usize = code
                .iter()
                .filter(|(n, _)| n.starts_with(&format!("{r}/")))
                .map(|e| size(&e))
                .sum();
            info.push((format!("{}/", r.trim_start_matches('/')), sub));
        }
        let l = self.scenario.upload_limits;
        let mb = |n: u64| n * 1024 * 1024;
        let over = info.iter().find(|(name, n)| {
            let limit = match name.as_str() {
                "__FULL__" => l.full_mb,
                "__APP__" => l.main_mb,
                _ => l.sub_mb,
            };
            *n as u64 > mb(limit)
        });
        if let Some((name, n)) = over {
            return err(
                ERR_TOO_LARGE,
                &format!("package {name} is {n} bytes, over its limit"),
            );
        }
        let version = req.param("version").unwrap_or_default().to_owned();
        let desc = req.param("desc").unwrap_or_default().to_owned();
        self.uploads.push(UploadRecord {
            appid: appid.clone(),
            version: version.clone(),
            desc: desc.clone(),
            robot: req.param("robot").unwrap_or("1").to_owned(),
            preview,
            query: req.query.clone(),
            files: files.clone(),
        });
        let keep = self.scenario.retention.uploads;
        if self.uploads.len() > keep {
            let cut = self.uploads.len() - keep;
            self.uploads.drain(..cut);
        }
        let subpackage_info: Vec<Value> = info
            .iter()
            .map(|(name, size)| json!({ "name": name, "size": size }))
            .collect();
        let mut body = json!({ "subpackage_info": subpackage_info, "ext_plugin_info": [], "str_uint64version": format!("{}", 1_000_000 + self.next_id()) });
        if preview {
            let content = format!("https://open.weixin.qq.com/sns/getexpappinfo?appid={appid}&path={}#wechat-redirect", req.param("path").unwrap_or_default());
            let jpeg = crate::qr::jpeg(&content).unwrap_or_default();
            body["qrcode_img"] = json!(base64::engine::general_purpose::STANDARD.encode(jpeg));
        } else {
            self.land_upload(&appid, &app_json, &code, version, desc);
        }
        Response::json(&json!({ "errCode": 0, "errMsg": "ok", "body": body }))
    }

    /// An upload makes a trial version and starts the privacy scan: on the uploading app, or, with
    /// ext.json `directCommit` from a platform's app, on the authorizer app named by `extAppid`. A
    /// platform's development mini program also fills the platform's draft box.
    fn land_upload(
        &mut self,
        appid: &str,
        app_json: &Value,
        code: &[&(String, Vec<u8>)],
        version: String,
        desc: String,
    ) {
        let pages: Vec<String> = app_json
            .get("pages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let ext: Value = code
            .iter()
            .find(|(n, _)| n == "/ext.json")
            .and_then(|(_, b)| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        let direct = ext.get("directCommit").and_then(Value::as_bool) == Some(true)
            && ext.get("extEnable").and_then(Value::as_bool) == Some(true);
        let target = match ext.get("extAppid").and_then(Value::as_str) {
            Some(t) if direct && self.apps.contains_key(t) => t.to_owned(),
            _ => appid.to_owned(),
        };
        let now = self.now();
        if let Some(component) = self.apps.get(appid).and_then(|a| a.dev_of.clone()) {
            let page_refs: Vec<&str> = pages.iter().map(String::as_str).collect();
            let size = code.iter().map(|(_, b)| b.len() as u64).sum();
            // The draft's user_desc is the upload's description (项目备注).
            if let Some(id) = self.add_draft(&component, appid, &version, &page_refs, size) {
                self.describe_draft(&component, id, &desc);
            }
            if target == appid {
                return;
            }
        }
        self.set_trial(
            &target,
            Trial {
                seq: 0,
                template_id: None,
                user_version: version,
                user_desc: desc,
                pages,
                ext_json: ext,
                committed_at: now,
            },
        );
    }

    /// Every upload and preview accepted so far, with its unpacked files.
    pub fn uploads(&self) -> &[UploadRecord] {
        &self.uploads
    }
}
