//! Sends chat notifications: each provider's payloads (rendered in core), signed where the robot
//! asks for it, with its success answer checked, its rate limit kept (a sliding window per
//! webhook: a message over the limit waits for room), a timeout, and no redirects. A failure is a
//! warning for the job's annotations and never changes the run's result. Webhook URLs and
//! secrets never appear in a message: a target is named by its provider.

use mp_release_core::notify::{dingtalk_sign, feishu_sign, render, Notice, Provider};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One chat webhook.
#[derive(Debug, Clone)]
pub struct NotifyTarget {
    /// Which chat.
    pub provider: mp_release_core::notify::Provider,
    /// The webhook URL (holds the robot's key: a secret).
    pub url: url::Url,
    /// The signing secret (DingTalk 加签, Feishu).
    pub secret: Option<secrecy::SecretString>,
    /// This target's events, when not the common `notify-on`.
    pub on: Option<Vec<String>>,
    /// This target's mentions, when not the common `notify-mention`.
    pub mentions: Option<Vec<String>>,
}

/// Chat notifications.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// The webhooks.
    pub targets: Vec<NotifyTarget>,
    /// The events sent.
    pub on: Vec<String>,
    /// Who is mentioned.
    pub mentions: Vec<String>,
}

/// The window of the providers' per-minute limits.
const WINDOW: Duration = Duration::from_secs(60);

/// The chats of one run.
#[derive(Debug)]
pub struct Notifier {
    http: reqwest::Client,
    settings: NotifySettings,
    /// When each target's recent messages went out.
    sent: Vec<VecDeque<Instant>>,
    /// What went wrong (annotations).
    pub warnings: Vec<String>,
    /// Messages delivered.
    pub delivered: usize,
    /// The window of the per-minute limits.
    window: Duration,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

impl Notifier {
    /// `None` when no chat is configured.
    pub fn new(settings: &NotifySettings, net: &crate::adapters::http::Net) -> Option<Self> {
        if settings.targets.is_empty() {
            return None;
        }
        let http = net.client(Duration::from_secs(10)).ok()?;
        Some(Self {
            http,
            sent: vec![VecDeque::new(); settings.targets.len()],
            settings: settings.clone(),
            warnings: Vec::new(),
            delivered: 0,
            window: WINDOW,
        })
    }

    /// One notice outside a pipeline run (a preview, a rollback): the warnings of what was not
    /// delivered (nothing when no chat is configured).
    pub async fn tell(
        settings: &NotifySettings,
        net: &crate::adapters::http::Net,
        notice: &Notice,
        qr_png: Option<&[u8]>,
    ) -> Vec<String> {
        match Self::new(settings, net) {
            Some(mut n) => {
                n.send(notice, qr_png).await;
                n.warnings
            }
            None => Vec::new(),
        }
    }

    /// Whether the chats hear about `event` (a `notify-on` name).
    pub fn wants(&self, event: &str) -> bool {
        self.settings.on.iter().any(|e| e == event)
    }

    /// Sends `notice` to every chat that wants its event (the target's `on`, else `notify-on`);
    /// `qr_png`: a preview's QR code.
    pub async fn send(&mut self, notice: &Notice, qr_png: Option<&[u8]>) {
        let event = notice.event.name();
        for i in 0..self.settings.targets.len() {
            let target = self.settings.targets[i].clone();
            let wanted = match &target.on {
                Some(on) => on.iter().any(|e| e == event),
                None => self.wants(event),
            };
            if !wanted {
                continue;
            }
            let name = format!("{} webhook", target.provider.name());
            let mentions = target
                .mentions
                .clone()
                .unwrap_or_else(|| self.settings.mentions.clone());
            for payload in render(target.provider, notice, &mentions, qr_png) {
                self.room(i, target.provider).await;
                match self.post(&target, payload).await {
                    Ok(()) => self.delivered += 1,
                    Err(e) => {
                        let w = format!(
                            "the {} notification to the {name} was not delivered: {e} (the release is not affected)",
                            notice.event.name()
                        );
                        tracing::warn!("{w}");
                        self.warnings.push(w);
                        break;
                    }
                }
            }
        }
    }

    /// Waits until target `i` may send again (its per-minute limit).
    async fn room(&mut self, i: usize, provider: Provider) {
        let window = self.window;
        let limit = provider.per_minute();
        let q = &mut self.sent[i];
        while q.front().is_some_and(|t| t.elapsed() >= window) {
            q.pop_front();
        }
        if q.len() >= limit {
            if let Some(oldest) = q.front() {
                let wait = window.saturating_sub(oldest.elapsed());
                tracing::info!(
                    "{} allows {limit} messages a minute: waiting {} ms",
                    provider.name(),
                    wait.as_millis()
                );
                tokio::time::sleep(wait).await;
            }
            q.pop_front();
        }
        q.push_back(Instant::now());
    }

    async fn post(&self, target: &NotifyTarget, mut payload: Value) -> Result<(), String> {
        let mut url = target.url.clone();
        match (target.provider, &target.secret) {
            (Provider::DingTalk, Some(secret)) => {
                let ts = now_ms();
                let sign = dingtalk_sign(secret.expose_secret(), ts);
                let query = match url.query() {
                    Some(q) => format!("{q}&timestamp={ts}&sign={sign}"),
                    None => format!("timestamp={ts}&sign={sign}"),
                };
                url.set_query(Some(&query));
            }
            (Provider::Feishu, Some(secret)) => {
                let ts = now_ms() / 1000;
                payload["timestamp"] = Value::String(ts.to_string());
                payload["sign"] = Value::String(feishu_sign(secret.expose_secret(), ts));
            }
            _ => {}
        }
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(payload.to_string())
            .send()
            .await
            .map_err(|e| crate::adapters::http::transport_cause(&e))?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            return Err(format!("HTTP {status} redirect, not followed"));
        }
        let body = crate::adapters::http::read_capped(resp, 64 << 10)
            .await
            .map_err(|_| "no complete answer".to_owned())?;
        let text = String::from_utf8_lossy(&body);
        let v: Option<Value> = serde_json::from_slice(&body).ok();
        let code = |k: &str| v.as_ref().and_then(|v| v.get(k)).and_then(Value::as_i64);
        let msg = |k: &str| {
            v.as_ref()
                .and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(mp_release_core::pipeline::clip)
                .unwrap_or_default()
        };
        match target.provider {
            Provider::WeCom | Provider::DingTalk => match code("errcode") {
                Some(0) if status == 200 => Ok(()),
                Some(c) => Err(format!(
                    "errcode {c}: {}{}",
                    msg("errmsg"),
                    hint(target.provider, c)
                )),
                None => Err(format!("HTTP {status}, an answer without errcode")),
            },
            Provider::Feishu => match code("code").or_else(|| code("StatusCode")) {
                Some(0) if status == 200 => Ok(()),
                Some(c) => Err(format!(
                    "code {c}: {}{}",
                    msg("msg"),
                    hint(target.provider, c)
                )),
                None => Err(format!("HTTP {status}, an answer without code")),
            },
            Provider::Slack => {
                if status == 200 && text.trim() == "ok" {
                    Ok(())
                } else {
                    Err(format!(
                        "HTTP {status}: {}",
                        mp_release_core::pipeline::clip(text.trim())
                    ))
                }
            }
        }
    }
}

/// What to do about a provider's error code.
fn hint(p: Provider, code: i64) -> &'static str {
    match (p, code) {
        (Provider::WeCom, 45009) | (Provider::DingTalk, 130_101) | (Provider::Feishu, 11232) => {
            " (rate limit: too many messages this minute)"
        }
        (Provider::DingTalk, 310_000) => {
            " (the robot's security check refused it: give notify-dingtalk-secret for 加签, or match its keyword or IP range)"
        }
        (Provider::Feishu, 19021) => " (bad signature: check notify-feishu-secret)",
        (Provider::Feishu, 19024) => " (the message lacks the bot's keyword)",
        (Provider::WeCom, 93000) => " (the webhook key is invalid: copy the robot's URL again)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mp_release_core::notify::{Event, Notice};
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// 21 events for one WeCom robot (20 a minute): the 21st waits for the window to move, and
    /// every one is delivered (none dropped).
    #[tokio::test]
    async fn the_twenty_first_message_waits_for_room() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(r#"{"errcode":0,"errmsg":"ok"}"#),
            )
            .mount(&server)
            .await;
        let settings = NotifySettings {
            targets: vec![NotifyTarget {
                provider: Provider::WeCom,
                url: format!("{}/cgi-bin/webhook/send?key=k", server.uri())
                    .parse()
                    .unwrap(),
                secret: None,
                on: None,
                mentions: None,
            }],
            on: vec!["failed".into()],
            mentions: Vec::new(),
        };
        let mut n = Notifier::new(&settings, &crate::adapters::http::Net::default()).unwrap();
        n.window = Duration::from_millis(600);
        let started = Instant::now();
        for i in 0..21 {
            let notice = Notice {
                appid: "wx1".into(),
                version: Some("1.0.0".into()),
                previous: None,
                event: Event::Failed {
                    message: format!("failure {i}"),
                },
                links: mp_release_core::github::Links::default(),
                packages: Vec::new(),
            };
            n.send(&notice, None).await;
        }
        assert_eq!(n.delivered, 21, "{:?}", n.warnings);
        assert!(n.warnings.is_empty());
        assert!(
            started.elapsed() >= Duration::from_millis(550),
            "{:?}",
            started.elapsed()
        );
        let got = server.received_requests().await.unwrap();
        assert_eq!(got.len(), 21);
        let last: serde_json::Value = serde_json::from_slice(&got[20].body).unwrap();
        assert!(last.to_string().contains("failure 20"));
    }
}
