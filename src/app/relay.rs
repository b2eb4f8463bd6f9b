//! `mp-release relay`: a small server for a platform's 消息与事件 and 授权事件 URLs. Each push is
//! checked (`msg_signature`, the timestamp window, the receiver appid), decrypted, answered
//! `success` at once, and then acted on: a review result (`weapp_audit_success|fail|delay`) starts
//! the repository's workflows with `repository_dispatch` (so `resume` runs when a result arrives,
//! not every 15 minutes); a `component_verify_ticket` is kept in the ticket file. Everything else
//! is logged and dropped. The crypto is the core's (`mp_release_core::push`).

use crate::output::Workflow;
use crate::settings::RelaySettings;
use anyhow::Context;
use mp_release_core::push::{self, Crypt, Push};
use secrecy::ExposeSecret;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A push is a few KiB; WeChat never sends more than this.
const MAX_BODY: usize = 256 * 1024;
const MAX_HEAD: usize = 16 * 1024;
/// De-duplication keys kept (a push may be retried; the retry policy is UNCONFIRMED, A2.6).
const MAX_SEEN: usize = 20_000;

/// One review result to dispatch.
#[derive(Debug, Clone)]
struct Dispatch {
    appid: Option<String>,
    original_id: String,
    result: String,
    create_time: u64,
    reason: String,
}

struct Relay {
    crypt: Crypt,
    s: RelaySettings,
    seen: Mutex<HashMap<String, u64>>,
    queue: tokio::sync::mpsc::UnboundedSender<Dispatch>,
    /// The latest ticket pushed, for looking up review ids.
    ticket: Arc<Mutex<Option<String>>>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the relay answers one request, and what it logs.
struct Answer {
    status: u16,
    body: &'static str,
}

const OK: Answer = Answer {
    status: 200,
    body: "success",
};

impl Relay {
    /// Checks, decrypts and acts on one POST; the answer goes back at once.
    fn handle(&self, path: &str, query: &str, body: &[u8]) -> Answer {
        let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let text = String::from_utf8_lossy(body);
        let Some(encrypt) = push::element(&text, "Encrypt") else {
            tracing::warn!("refused a push to {path}: the body has no <Encrypt> (only 安全模式 exists for platforms)");
            return Answer {
                status: 400,
                body: "bad request",
            };
        };
        let (Some(ts), Some(nonce), Some(sig)) =
            (q.get("timestamp"), q.get("nonce"), q.get("msg_signature"))
        else {
            tracing::warn!("refused a push to {path}: timestamp, nonce or msg_signature missing");
            return Answer {
                status: 400,
                body: "bad request",
            };
        };
        if !self.crypt.verify(ts, nonce, &encrypt, sig) {
            tracing::warn!("refused a push to {path}: {}", push::PushError::Signature);
            return Answer {
                status: 401,
                body: "invalid signature",
            };
        }
        let at: u64 = ts.trim().parse().unwrap_or(0);
        let age = now().abs_diff(at);
        if age > self.s.max_age.as_secs() {
            tracing::warn!(
                "refused a push to {path}: its timestamp is {age} s from now, outside push-max-age ({} s): a replay, or a clock far off",
                self.s.max_age.as_secs()
            );
            return Answer {
                status: 403,
                body: "stale",
            };
        }
        let msg = match self.crypt.decrypt(&encrypt) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("refused a push to {path}: {e}");
                return Answer {
                    status: 400,
                    body: "bad request",
                };
            }
        };
        // $APPID$ in the message URL names the mini program (A1.1).
        let appid = path
            .split('/')
            .find(|seg| mp_release_core::wechat::is_appid(seg))
            .map(str::to_owned);
        match push::parse(&msg) {
            Push::Audit {
                result,
                to_user,
                create_time,
                reason,
                ..
            } => {
                let who = appid.clone().unwrap_or_else(|| to_user.clone());
                if !self.first_time(&format!("audit/{who}/{result}/{create_time}")) {
                    tracing::info!("push weapp_audit_{result} for {who} ({create_time}) again: already dispatched");
                    return OK;
                }
                if appid.is_none() {
                    tracing::warn!(
                        "the push for {to_user} came to {path}, which names no appid: configure the message URL with $APPID$ (e.g. https://relay.example.com/wechat/$APPID$) so the dispatch can say which mini program"
                    );
                }
                tracing::info!("push weapp_audit_{result} for {who} ({create_time})");
                let _ = self.queue.send(Dispatch {
                    appid,
                    original_id: to_user,
                    result,
                    create_time,
                    reason,
                });
            }
            Push::Ticket {
                ticket,
                create_time,
            } => {
                if !self.first_time(&format!("ticket/{create_time}/{ticket}")) {
                    return OK;
                }
                // The ticket is a credential: never logged.
                *self.ticket.lock().unwrap_or_else(PoisonError::into_inner) = Some(ticket.clone());
                match &self.s.ticket_file {
                    Some(f) => match crate::adapters::fs::write_atomic(
                        f,
                        ticket.as_bytes(),
                        crate::adapters::fs::Mode::OwnerOnly,
                    ) {
                        Ok(()) => tracing::info!(
                            "push component_verify_ticket ({create_time}): kept in {}",
                            f.display()
                        ),
                        Err(e) => tracing::warn!(
                            "push component_verify_ticket: writing {}: {e:#}",
                            f.display()
                        ),
                    },
                    None => tracing::info!(
                        "push component_verify_ticket ({create_time}): no ticket-file, not kept"
                    ),
                }
            }
            Push::Other { kind, create_time } => {
                tracing::info!("push {kind} ({create_time}) to {path}: not a review result or ticket; answered and dropped");
            }
        }
        OK
    }

    /// Whether `key` is new (and remembers it).
    fn first_time(&self, key: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_SEEN {
            let cutoff = now().saturating_sub(self.s.max_age.as_secs() * 4);
            seen.retain(|_, at| *at >= cutoff);
        }
        seen.insert(key.to_owned(), now()).is_none()
    }
}

/// The review a result is about: the push names no audit id (A1.4), so with the platform's
/// AppSecret and the latest ticket the relay asks `get_latest_auditstatus` for the app (the
/// review that just ended is its latest), with the refresh token from the authorizer list.
/// `None` (and a log line) when it cannot; the dispatch goes out without it.
async fn audit_id(
    s: &RelaySettings,
    ticket: &Mutex<Option<String>>,
    masker: &crate::secrets::Masker,
    appid: &str,
) -> Option<(u64, String)> {
    let secret = s.component_secret.clone()?;
    let ticket = ticket
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .map(secrecy::SecretString::from)
        .or_else(|| s.ticket.clone())?;
    let platform = crate::settings::PlatformSettings {
        net: s.net.clone(),
        base: s.wechat_base.clone(),
        timeout: Duration::from_secs(20),
        component_appid: s.component_appid.clone(),
        auth: crate::adapters::wechat::tokens::ComponentAuth::Ticket { secret, ticket },
        virtual_clock: false,
        crash_after: None,
    };
    let limiter = Arc::new(Mutex::new(mp_release_core::limit::Limiter::unlimited()));
    let looked_up = async {
        let mut p =
            super::platform::PlatformCalls::connect(&platform, masker.clone(), limiter).await?;
        let (_, tokens) = p.authorizers().await?;
        let refresh = tokens.get(appid).cloned().ok_or_else(|| {
            anyhow::anyhow!("{appid} has no refresh token in the authorizer list")
        })?;
        let (mut calls, _) = p.app_calls(appid, refresh).await?;
        super::pipeline::latest(&mut calls)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{appid} has no review on record"))
    };
    match looked_up.await {
        Ok(a) => Some((a.auditid, a.user_version)),
        Err(e) => {
            tracing::warn!("looking up the review of {appid}: {e:#}");
            None
        }
    }
}

/// Sends the dispatches one at a time, at most one a second (GitHub's content-creation limits,
/// B3), each tried up to three times.
async fn dispatcher(
    s: RelaySettings,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Dispatch>,
    ticket: Arc<Mutex<Option<String>>>,
    masker: crate::secrets::Masker,
) {
    let client = match s.net.client(Duration::from_secs(20)) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("no HTTP client for GitHub: {e:#}");
            return;
        }
    };
    let mut last: Option<tokio::time::Instant> = None;
    while let Some(d) = rx.recv().await {
        let (Some(repo), Some(token)) = (&s.repository, &s.github_token) else {
            tracing::info!(
                "no repository: the review result of {} is not dispatched",
                d.appid.as_deref().unwrap_or(&d.original_id)
            );
            continue;
        };
        if let Some(t) = last {
            tokio::time::sleep_until(t + Duration::from_secs(1)).await;
        }
        last = Some(tokio::time::Instant::now());
        let reason: String = d.reason.chars().take(2000).collect();
        let found = match &d.appid {
            Some(a) => audit_id(&s, &ticket, &masker, a).await,
            None => None,
        };
        if found.is_none() && s.component_secret.is_some() {
            tracing::warn!(
                "the review id of {}'s result could not be looked up (no ticket yet, or the app is not in the authorizer list): dispatched without it",
                d.appid.as_deref().unwrap_or(&d.original_id)
            );
        }
        let body = json!({
            "event_type": s.event_type,
            "client_payload": {
                "appid": d.appid,
                "original_id": d.original_id,
                "result": d.result,
                "event": format!("weapp_audit_{}", d.result),
                "create_time": d.create_time,
                "reason": reason,
                "auditid": found.as_ref().map(|f| f.0),
                "version": found.map(|f| f.1),
            },
        });
        let url = format!("{}/repos/{repo}/dispatches", s.api_url);
        for attempt in 1..=3u64 {
            let sent = client
                .post(&url)
                .bearer_auth(token.expose_secret())
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .json(&body)
                .send()
                .await;
            let who = d.appid.as_deref().unwrap_or(&d.original_id);
            match sent {
                Ok(r) if r.status().is_success() => {
                    tracing::info!(
                        "dispatched {} for {who} to {repo} ({})",
                        s.event_type,
                        r.status().as_u16()
                    );
                    break;
                }
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    tracing::warn!(
                        "dispatch for {who}: GitHub answered {} (try {attempt})",
                        r.status().as_u16()
                    );
                }
                Ok(r) => {
                    tracing::warn!("dispatch for {who}: GitHub answered {}; not retried (the token may lack Contents: write, or the repository is wrong)", r.status().as_u16());
                    break;
                }
                Err(e) => tracing::warn!("dispatch for {who}: {e} (try {attempt})"),
            }
            tokio::time::sleep(Duration::from_secs(2 * attempt)).await;
        }
    }
}

/// Reads one request: (method, target, body); `None` for what is not a request it can take.
async fn read_request<R: tokio::io::AsyncRead + Unpin>(
    r: &mut BufReader<R>,
) -> Result<(String, String, Vec<u8>), u16> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).await.map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
        head.push_str(&line);
        if head.len() > MAX_HEAD {
            return Err(431);
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut length = 0usize;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = v.trim().parse().map_err(|_| 400u16)?,
            "transfer-encoding" => return Err(411),
            _ => {}
        }
    }
    if length > MAX_BODY {
        return Err(413);
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await.map_err(|_| 400u16)?;
    Ok((method, target, body))
}

async fn connection(relay: Arc<Relay>, stream: tokio::net::TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let answer =
        match tokio::time::timeout(Duration::from_secs(10), read_request(&mut reader)).await {
            Err(_) => Answer {
                status: 408,
                body: "timeout",
            },
            Ok(Err(code)) => Answer {
                status: code,
                body: "bad request",
            },
            Ok(Ok((method, target, body))) => {
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                if method == "POST" {
                    relay.handle(path, query, &body)
                } else {
                    // REFERENCE-UNSURE: whether WeChat verifies a platform's URLs with a GET echostr is
                    // not documented for third-party platforms; the relay takes POSTs only.
                    tracing::warn!(
                        "refused a {method} to {path}: the relay takes WeChat's POSTed pushes only"
                    );
                    Answer {
                        status: 405,
                        body: "method not allowed",
                    }
                }
            }
        };
    let reason = match answer.status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        _ => "Bad Request",
    };
    let out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        answer.status,
        answer.body.len(),
        answer.body
    );
    let _ = write.write_all(out.as_bytes()).await;
    let _ = write.shutdown().await;
}

/// Serves until SIGINT or SIGTERM.
pub(super) fn serve(s: RelaySettings, wf: &mut Workflow) -> anyhow::Result<()> {
    let crypt = Crypt::new(
        s.token.expose_secret(),
        s.aes_key.expose_secret(),
        &s.component_appid,
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _entered = rt.enter();
    let stop = super::StopSignals::listen()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(s.listen))
        .with_context(|| format!("listening on {}", s.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    tracing::info!(
        "relay for platform {} listening on {url}: give WeChat {url}/wechat/$APPID$ as the 消息与事件接收 URL and {url}/ticket as the 授权事件接收 URL (behind your HTTPS front); dispatching to {}",
        s.component_appid,
        s.repository.as_deref().unwrap_or("(no repository: verify and log only)")
    );
    wf.outputs(&[("url".into(), url.clone())], &json!({ "url": url }))?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let ticket = Arc::new(Mutex::new(None));
    let relay = Arc::new(Relay {
        crypt,
        s: s.clone(),
        seen: Mutex::new(HashMap::new()),
        queue: tx,
        ticket: Arc::clone(&ticket),
    });
    let masker = wf.masker();
    rt.block_on(async move {
        // The dispatcher runs beside the accept loop on this thread (its WeChat look-ups are not
        // `Send`); it ends only with the process.
        let dispatch = dispatcher(s, rx, ticket, masker);
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(connection(Arc::clone(&relay), stream));
            }
        };
        tokio::select! {
            () = accept => {}
            () = dispatch => {}
            r = stop.wait() => r?,
        }
        anyhow::Ok(())
    })?;
    tracing::info!("relay stopped");
    Ok(())
}
