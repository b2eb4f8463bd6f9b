use super::*;

fn notice(event: Event) -> Notice {
    Notice {
        appid: "wx1234567890abcdef".into(),
        version: Some("1.3.0".into()),
        previous: Some("1.2.9".into()),
        event,
        links: Links {
            check_run: Some("https://github.com/acme/shop/runs/7".into()),
            release: None,
            run: Some("https://github.com/acme/shop/actions/runs/42".into()),
        },
        packages: vec![
            ("__FULL__".into(), 812_000, 12 << 20),
            ("__APP__".into(), 700_000, 2 << 20),
        ],
    }
}

fn events() -> Vec<Event> {
    vec![
        Event::Submitted { audit_id: 448_001 },
        Event::Approved,
        Event::Rejected {
            reason: "小程序类目与内容不符".into(),
            screenshots: vec!["m1".into(), "m2".into()],
        },
        Event::Published,
        Event::Phased { percent: 10 },
        Event::Detached,
        Event::Failed {
            message: "submit_audit: errcode 85009: a review is in flight; wait or withdraw it"
                .into(),
        },
        Event::Preview {
            packages: vec![("__FULL__".into(), 812_000, 12 << 20)],
            qr_link: Some("https://example.com/qr.png".into()),
        },
        Event::RolledBack,
        Event::Reverted {
            why: "the new version's error users are 4.10× the previous version's".into(),
        },
        Event::Fleet {
            total: 50,
            counts: vec![("rejected".into(), 2), ("published".into(), 48)],
            failed: vec![
                (
                    "wx5a4db0c0ffee0103".into(),
                    "rejected".into(),
                    "1:小程序页面内容不完整".into(),
                ),
                (
                    "wx5a4db0c0ffee0107".into(),
                    "rejected".into(),
                    String::new(),
                ),
            ],
        },
    ]
}

#[test]
fn every_provider_and_event_renders_as_snapshotted() {
    let mentions = vec![
        "zhangsan".to_owned(),
        "13800000000".to_owned(),
        "@all".to_owned(),
    ];
    for provider in [
        Provider::WeCom,
        Provider::DingTalk,
        Provider::Feishu,
        Provider::Slack,
    ] {
        let all: Vec<Value> = events()
            .into_iter()
            .map(|e| {
                let name = e.name();
                json!({ "event": name, "payloads": render(provider, &notice(e), &mentions, None) })
            })
            .collect();
        let text = serde_json::to_string_pretty(&Value::Array(all)).unwrap();
        insta::assert_snapshot!(format!("notify_{}", provider.name()), text);
    }
    assert_eq!(EVENTS.len(), events().len());
}

#[test]
fn messages_fit_their_limits_and_cut_at_characters() {
    let long = "审核不通过".repeat(2000);
    let n = notice(Event::Rejected {
        reason: long,
        screenshots: vec![],
    });
    let wecom = render(Provider::WeCom, &n, &[], None);
    assert!(wecom[0]["markdown"]["content"].as_str().unwrap().len() <= 4096);
    let ding = render(Provider::DingTalk, &n, &[], None);
    assert!(ding[0]["markdown"]["text"].as_str().unwrap().len() <= 18_000);
    let feishu = render(Provider::Feishu, &n, &[], None);
    assert!(
        feishu[0].to_string().len() <= 20 * 1024,
        "Feishu's body limit"
    );
    let slack = render(Provider::Slack, &n, &[], None);
    for b in slack[0]["blocks"].as_array().unwrap() {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= 3000);
        }
    }
    assert_eq!(fit("abcdef", 4), "a…");
    assert_eq!(fit("审核", 5), "…");
    assert_eq!(fit("ok", 4096), "ok");
}

#[test]
fn wecom_previews_carry_the_qr_image_with_its_md5() {
    let png = b"\x89PNG fake image bytes";
    let out = render(
        Provider::WeCom,
        &notice(Event::Preview {
            packages: vec![],
            qr_link: None,
        }),
        &[],
        Some(png),
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[1]["msgtype"], "image");
    assert_eq!(out[1]["image"]["md5"], md5_hex(png));
    // over 2 MB: no image (WeCom would refuse it)
    let big = vec![0u8; (2 << 20) + 1];
    let out = render(
        Provider::WeCom,
        &notice(Event::Preview {
            packages: vec![],
            qr_link: None,
        }),
        &[],
        Some(&big),
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn digests_and_signatures_match_known_values() {
    // RFC 1321 and RFC 4231 test vectors.
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        md5_hex(b"The quick brown fox jumps over the lazy dog"),
        "9e107d9d372bb6826bd81d3542a419d6"
    );
    let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(
        hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    // The providers' formulas: DingTalk URL-encodes its base64, Feishu does not.
    // The values computed independently (Python's hmac, hashlib, base64 and urllib.parse).
    assert_eq!(
        dingtalk_sign("SECxyz", 1_700_000_000_000),
        "0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D"
    );
    assert_eq!(
        feishu_sign("secret", 1_700_000_000),
        "fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA="
    );
}

#[test]
fn events_come_from_what_a_step_changed() {
    use crate::pipeline::Review;
    let base = State::new(
        crate::pipeline::tests::config(),
        Some(("1.3.0".into(), Some("1.2.9".into()), "minor".into())),
    );
    let mut found = base.clone();
    found.audit_id = Some(5);
    assert!(
        events_between(&base, &found).is_empty(),
        "a review found, not submitted here"
    );
    let mut submitted = found;
    submitted.submit_sent = true;
    assert_eq!(
        events_between(&base, &submitted),
        vec![Event::Submitted { audit_id: 5 }]
    );
    assert!(
        events_between(&submitted, &submitted).is_empty(),
        "nothing new, nothing sent"
    );
    let mut rejected = submitted.clone();
    rejected.review = Some(Review {
        status: 1,
        reason: "bad".into(),
        screenshot: "a|b".into(),
    });
    rejected.outcome = Some(Outcome::Rejected);
    assert_eq!(
        events_between(&submitted, &rejected),
        vec![Event::Rejected {
            reason: "bad".into(),
            screenshots: vec!["a".into(), "b".into()]
        }]
    );
    let mut approved = submitted.clone();
    approved.review = Some(Review {
        status: 0,
        reason: String::new(),
        screenshot: String::new(),
    });
    let mut live = approved.clone();
    live.outcome = Some(Outcome::Published { phased: None });
    assert!(
        events_between(&approved, &live).is_empty(),
        "found live already: no news"
    );
    live.release_sent = true;
    assert_eq!(events_between(&submitted, &approved), vec![Event::Approved]);
    assert_eq!(events_between(&approved, &live), vec![Event::Published]);
    assert_eq!(
        events_between(&submitted, &live),
        vec![Event::Approved, Event::Published]
    );
    let mut already = live;
    already.found_live = true;
    assert!(
        events_between(&approved, &already).is_empty(),
        "85052: live already"
    );
}
