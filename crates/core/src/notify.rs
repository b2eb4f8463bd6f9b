//! Chat notifications, rendered purely: what happened in a run, as each chat's webhook wants it
//! (`../shared/reference/chat-notifications.md`). WeCom gets `markdown` (and the preview QR code as
//! an `image`), DingTalk `markdown` (signed by the adapter), Feishu an `interactive` card, Slack
//! blocks. Every message fits its provider's limit: text is cut at a character boundary with `…`.

use crate::github::Links;
use crate::pipeline::{Outcome, State};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// 企业微信 group robot.
    WeCom,
    /// 钉钉 custom robot.
    DingTalk,
    /// 飞书 / Lark custom bot.
    Feishu,
    /// Slack incoming webhook.
    Slack,
}

impl Provider {
    /// The provider's name in logs and inputs (`notify-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::WeCom => "wecom",
            Self::DingTalk => "dingtalk",
            Self::Feishu => "feishu",
            Self::Slack => "slack",
        }
    }

    /// Messages per minute one webhook takes (Feishu: 5 per second, 100 per minute).
    pub fn per_minute(self) -> usize {
        match self {
            Self::WeCom | Self::DingTalk => 20,
            Self::Feishu => 100,
            Self::Slack => 60,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Submitted for review.
    Submitted {
        /// The review id.
        audit_id: u64,
    },
    /// The review passed.
    Approved,
    /// The review refused it.
    Rejected {
        /// WeChat's reason.
        reason: String,
        /// Screenshot media ids.
        screenshots: Vec<String>,
    },
    /// Released to everyone.
    Published,
    /// Released in phases.
    Phased {
        /// The percentage.
        percent: u32,
    },
    /// Still in review at the deadline: `resume` follows it.
    Detached,
    /// The run failed.
    Failed {
        /// What happened and what to do.
        message: String,
    },
    /// A preview QR code.
    Preview {
        /// Package sizes: (name, bytes, limit).
        packages: Vec<(String, u64, u64)>,
        /// Where the QR code can be seen (a URL), if anywhere.
        qr_link: Option<String>,
    },
    /// The live version went back to the previous one.
    RolledBack,
    /// A rollout's health gate reverted the phased release.
    Reverted {
        /// The gate's evidence.
        why: String,
    },
    /// A fleet run (or the merged report of its shards) ended: one message for all its apps.
    Fleet {
        /// Apps in the fleet.
        total: usize,
        /// Apps per outcome (`published`, `rejected`, …), in report order.
        counts: Vec<(String, usize)>,
        /// The apps that did not make it: (appid, outcome, reason).
        failed: Vec<(String, String, String)>,
    },
}

impl Event {
    /// The event's name in `notify-on`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Submitted { .. } => "submitted",
            Self::Approved => "approved",
            Self::Rejected { .. } => "rejected",
            Self::Published => "published",
            Self::Phased { .. } => "phased",
            Self::Detached => "detached",
            Self::Failed { .. } => "failed",
            Self::Preview { .. } => "preview",
            Self::RolledBack => "rolled-back",
            Self::Reverted { .. } => "reverted",
            Self::Fleet { .. } => "fleet",
        }
    }
}

/// Every event name, for `notify-on`.
pub const EVENTS: &[&str] = &[
    "submitted",
    "approved",
    "rejected",
    "published",
    "phased",
    "detached",
    "failed",
    "preview",
    "rolled-back",
    "reverted",
    "fleet",
];

/// The default of `notify-on`.
pub const DEFAULT_EVENTS: &[&str] = &[
    "rejected",
    "published",
    "rolled-back",
    "failed",
    "preview",
    "reverted",
    "fleet",
];

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The appid.
    pub appid: String,
    /// The version.
    pub version: Option<String>,
    /// The version before.
    pub previous: Option<String>,
    /// What happened.
    pub event: Event,
    /// Where to look.
    pub links: Links,
    /// The uploaded packages (name, bytes, limit), when this run uploaded code.
    pub packages: Vec<(String, u64, u64)>,
}

/// The events a run's step made happen: what differs between the state before and after.
pub fn events_between(before: &State, after: &State) -> Vec<Event> {
    let mut out = Vec::new();
    // Submitted by this run (not a review it attached to or found).
    if before.audit_id.is_none() && after.submit_sent && after.attached_version.is_none() {
        if let Some(id) = after.audit_id {
            out.push(Event::Submitted { audit_id: id });
        }
    }
    let approved = |s: &State| s.review.as_ref().is_some_and(|r| r.status == 0);
    if !approved(before) && approved(after) {
        out.push(Event::Approved);
    }
    // A rollout step reached is news (the last step, 100 %, is the release below).
    let steps = |s: &State| s.rollout.as_ref().map_or(0, |r| r.changes.len());
    if steps(after) > steps(before) {
        if let Some(&(_, p)) = after.rollout.as_ref().and_then(|r| r.changes.last()) {
            if p < 100 {
                out.push(Event::Phased { percent: p });
            }
        }
    }
    if before.outcome != after.outcome {
        match &after.outcome {
            Some(Outcome::Rejected) => {
                let (reason, shots) = after.review.as_ref().map_or((String::new(), ""), |r| {
                    (r.reason.clone(), r.screenshot.as_str())
                });
                out.push(Event::Rejected {
                    reason,
                    screenshots: shots
                        .split('|')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                });
            }
            // Only a release this run (or the run it resumes) sent: finding the version live
            // already is no news.
            Some(Outcome::Published { phased: None })
                if after.release_sent && !after.found_live =>
            {
                out.push(Event::Published);
            }
            // A rollout told each step as it was reached.
            Some(Outcome::Published { phased: Some(p) })
                if after.release_sent && !after.found_live && after.rollout.is_none() =>
            {
                out.push(Event::Phased { percent: *p });
            }
            Some(Outcome::Unhealthy {
                reverted: true,
                why,
                ..
            }) => out.push(Event::Reverted { why: why.clone() }),
            Some(Outcome::Unhealthy {
                reverted: false,
                percent,
                why,
            }) => out.push(Event::Failed {
                message: format!(
                    "unhealthy at {percent} %, left there (on-unhealthy: hold): {why}"
                ),
            }),
            Some(Outcome::Detached) => out.push(Event::Detached),
            Some(Outcome::Failed { message, .. }) => out.push(Event::Failed {
                message: message.clone(),
            }),
            _ => {}
        }
    }
    out
}

/// `s` cut to at most `max` UTF-8 bytes, at a character boundary, ending in `…` when cut.
pub fn fit(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The headline: `✅ wx… 1.2.3 is live (was 1.2.2)`.
pub fn headline(n: &Notice) -> String {
    let v = n.version.as_deref().unwrap_or("?");
    let was = n
        .previous
        .as_deref()
        .map(|p| format!(" (was {p})"))
        .unwrap_or_default();
    let what = match &n.event {
        Event::Submitted { audit_id } => format!("📝 {v} submitted for review (audit {audit_id})"),
        Event::Approved => format!("👍 {v} passed review"),
        Event::Rejected { .. } => format!("❌ {v} was rejected in review"),
        Event::Published => format!("✅ {v} is live{was}"),
        Event::Phased { percent } => format!("🟡 {v} is live for {percent} % of users{was}"),
        Event::Detached => format!("⏳ {v} is still in review; `resume` follows it"),
        Event::Failed { .. } => format!("🛑 releasing {v} failed"),
        Event::Preview { .. } => "🔍 a preview is ready".to_owned(),
        Event::RolledBack => format!("↩️ rolled back: {v} is live again{was}"),
        Event::Reverted { .. } => format!("🚨 {v} was unhealthy: the phased release was reverted"),
        Event::Fleet {
            total,
            counts,
            failed,
        } => {
            let icon = if failed.is_empty() { "🚚" } else { "⚠️" };
            let line = counts
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{icon} fleet release of {v} to {total} apps: {line}")
        }
    };
    format!("{} · {what}", n.appid)
}

/// The lines under the headline.
fn details(n: &Notice) -> Vec<String> {
    let mut lines = Vec::new();
    match &n.event {
        Event::Rejected {
            reason,
            screenshots,
        } => {
            lines.push(format!("Reason: {reason}"));
            if !screenshots.is_empty() {
                lines.push(format!(
                    "Screenshots (media ids): {}",
                    screenshots.join(", ")
                ));
            }
            lines.push("Fix what the reason names and run the release again.".to_owned());
        }
        Event::Failed { message } => lines.push(message.clone()),
        Event::Reverted { why } => {
            lines.push(fit(why, 1500));
            lines.push(
                "Its users are back on the previous version; fix the errors and release again."
                    .to_owned(),
            );
        }
        Event::Fleet { failed, .. } => {
            for (appid, status, reason) in failed.iter().take(10) {
                lines.push(if reason.is_empty() {
                    format!("{appid}: {status}")
                } else {
                    format!("{appid}: {status}: {}", fit(reason, 300))
                });
            }
            if failed.len() > 10 {
                lines.push(format!(
                    "… and {} more (the job summary lists them all)",
                    failed.len() - 10
                ));
            }
        }
        Event::Submitted { .. } | Event::Published | Event::Phased { .. } => {
            for (name, size, limit) in &n.packages {
                lines.push(format!("{name}: {} KB of {} KB", size / 1024, limit / 1024));
            }
        }
        Event::Preview { packages, qr_link } => {
            for (name, size, limit) in packages {
                lines.push(format!("{name}: {} KB of {} KB", size / 1024, limit / 1024));
            }
            if let Some(l) = qr_link {
                lines.push(format!("QR code: {l}"));
            }
        }
        _ => {}
    }
    lines
}

fn links(n: &Notice) -> Vec<(&'static str, String)> {
    [
        ("workflow run", n.links.run.clone()),
        ("check run", n.links.check_run.clone()),
        ("release", n.links.release.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

/// The payloads for one notice (WeCom previews: the text, then the image).
pub fn render(
    provider: Provider,
    n: &Notice,
    mentions: &[String],
    qr_png: Option<&[u8]>,
) -> Vec<Value> {
    let head = headline(n);
    let body = details(n);
    let link_list = links(n);
    match provider {
        Provider::WeCom => {
            let mut md = format!("**{head}**");
            for l in &body {
                md.push_str(&format!("\n> {l}"));
            }
            for (k, v) in &link_list {
                md.push_str(&format!("\n[{k}]({v})"));
            }
            for m in mentions {
                md.push_str(&if m == "@all" {
                    "\n<@all>".to_owned()
                } else {
                    format!("\n<@{m}>")
                });
            }
            let mut out =
                vec![json!({ "msgtype": "markdown", "markdown": { "content": fit(&md, 4096) } })];
            if let Some(png) = qr_png.filter(|p| p.len() <= 2 << 20) {
                use base64::Engine;
                out.push(json!({
                    "msgtype": "image",
                    "image": {
                        "base64": base64::engine::general_purpose::STANDARD.encode(png),
                        "md5": md5_hex(png),
                    }
                }));
            }
            out
        }
        Provider::DingTalk => {
            let mut md = format!("### {head}");
            for l in &body {
                md.push_str(&format!("\n\n> {l}"));
            }
            for (k, v) in &link_list {
                md.push_str(&format!("\n\n[{k}]({v})"));
            }
            let all = mentions.iter().any(|m| m == "@all");
            let people: Vec<&String> = mentions.iter().filter(|m| *m != "@all").collect();
            for m in &people {
                md.push_str(&format!(" @{m}"));
            }
            let (mobiles, ids): (Vec<&String>, Vec<&String>) = people
                .into_iter()
                .partition(|m| m.bytes().all(|b| b.is_ascii_digit() || b == b'+'));
            vec![json!({
                "msgtype": "markdown",
                "markdown": { "title": fit(&head, 200), "text": fit(&md, 18_000) },
                "at": { "atMobiles": mobiles, "atUserIds": ids, "isAtAll": all },
            })]
        }
        Provider::Feishu => {
            let mut md: Vec<String> = body;
            for m in mentions {
                md.push(if m == "@all" {
                    "<at id=all></at>".to_owned()
                } else {
                    format!("<at id={m}></at>")
                });
            }
            let mut elements =
                vec![json!({ "tag": "markdown", "content": fit(&md.join("\n"), 8_000) })];
            if !link_list.is_empty() {
                elements.push(json!({
                    "tag": "action",
                    "actions": link_list.iter().map(|(k, v)| json!({
                        "tag": "button", "text": { "tag": "plain_text", "content": k }, "url": v, "type": "default"
                    })).collect::<Vec<_>>(),
                }));
            }
            vec![json!({
                "msg_type": "interactive",
                "card": {
                    "header": { "title": { "tag": "plain_text", "content": fit(&head, 500) } },
                    "elements": elements,
                },
            })]
        }
        Provider::Slack => {
            let mut blocks = vec![
                json!({ "type": "section", "text": { "type": "mrkdwn", "text": fit(&format!("*{head}*"), 3000) } }),
            ];
            if !body.is_empty() {
                blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": fit(&body.join("\n"), 3000) } }));
            }
            if !link_list.is_empty() {
                let text = link_list
                    .iter()
                    .map(|(k, v)| format!("<{v}|{k}>"))
                    .collect::<Vec<_>>()
                    .join(" · ");
                blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": fit(&text, 3000) }] }));
            }
            vec![json!({ "text": fit(&head, 3000), "blocks": blocks })]
        }
    }
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
    for i in 0..64 {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// DingTalk's 加签: `urlencode(base64(HMAC-SHA256(secret, "<ms>\n<secret>")))`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: u64) -> String {
    use base64::Engine;
    let mac = hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(mac);
    percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Feishu's signature: `base64(HMAC-SHA256(key = "<s>\n<secret>", msg = ""))`.
pub fn feishu_sign(secret: &str, timestamp_s: u64) -> String {
    use base64::Engine;
    let mac = hmac_sha256(format!("{timestamp_s}\n{secret}").as_bytes(), b"");
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// MD5 (RFC 1321), for WeCom's image message.
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_le_bytes());
    let (mut a0, mut b0, mut c0, mut d0) = (
        0x6745_2301u32,
        0xefcd_ab89u32,
        0x98ba_dcfeu32,
        0x1032_5476u32,
    );
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    [a0, b0, c0, d0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
