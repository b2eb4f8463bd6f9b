use super::*;
use serde_json::json;

fn app(n: u32) -> String {
    format!("wx{n:016x}")
}

fn file(v: Value) -> Result<FleetFile, String> {
    FleetFile::from_value(v)
}

fn authorizers(n: u32) -> Vec<Authorizer> {
    (0..n)
        .map(|i| Authorizer {
            appid: app(i),
            refresh_listed: true,
            set18: Some(true),
        })
        .collect()
}

fn facts<'a>(
    a: Option<&'a [Authorizer]>,
    files: &'a BTreeMap<String, Map<String, Value>>,
    submitted: &'a BTreeSet<String>,
) -> Facts<'a> {
    Facts {
        authorizers: a,
        template_id: Some(7),
        version: "2.0.0",
        quota_rest: None,
        max_submits: None,
        select: &[],
        submitted,
        files,
    }
}

#[test]
fn the_file_is_strict_and_says_where() {
    let ok = json!({ "template": 7, "apps": [{ "appid": app(1) }] });
    assert!(file(ok).is_ok());
    for (bad, says) in [
        (
            json!({ "template": 7, "apps": "every" }),
            "apps: expected all",
        ),
        (
            json!({ "template": "latest", "apps": "all" }),
            "expected a template id or new",
        ),
        (
            json!({ "template": 7, "apps": [{ "appid": "wx1" }] }),
            "apps[0] (wx1): appid",
        ),
        (
            json!({ "template": 7, "apps": [{ "appid": app(1) }, { "appid": app(1) }] }),
            "listed twice",
        ),
        (
            json!({ "template": 7, "apps": [{ "appid": app(1), "gray-percentage": 0 }] }),
            "from 1 to 100",
        ),
        (
            json!({ "template": 7, "apps": [{ "appid": app(1), "colour": "red" }] }),
            "colour",
        ),
        (
            json!({ "template": 7, "apps": [{ "appid": app(1), "refresh-token-env": "A-B" }] }),
            "environment variable",
        ),
        (json!({ "template": 7, "apps": [], }), "empty"),
        (
            json!({ "template": 7, "apps": [{ "appid": app(1) }], "overrides": [{ "appid": app(2) }] }),
            "overrides only apply",
        ),
        (
            json!({ "template": 7, "apps": "all", "review": { "items": [] } }),
            "1 to 5 review items",
        ),
        (
            json!({ "template": 7, "apps": "all", "version": "" }),
            "1 to 64",
        ),
        (json!({ "template": 7, "apps": "all", "bogus": 1 }), "bogus"),
    ] {
        let e = file(bad.clone()).unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn ext_json_is_rendered_per_app_and_cannot_be_reshaped_by_a_variable() {
    let doc = json!({ "extAppid": "{{appid}}", "ext": { "shop": "{{ shop }}", "v": "{{version}}", "{{appid}}-key": [1, "{{shop}}"] } });
    let vars: BTreeMap<String, String> = [
        ("appid", "wx1"),
        ("shop", "\"}, {\"evil\": 1"),
        ("version", "2.0.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let out = render_ext(doc.as_object().unwrap(), &vars).unwrap();
    assert_eq!(out["extAppid"], "wx1");
    assert_eq!(
        out["ext"]["shop"], "\"}, {\"evil\": 1",
        "a value stays a string"
    );
    assert_eq!(out["ext"]["wx1-key"][1], "\"}, {\"evil\": 1");
    let e = render_ext(json!({ "a": "{{nope}}" }).as_object().unwrap(), &vars).unwrap_err();
    assert!(
        e.contains("unknown variable {{nope}}") && e.contains("shop"),
        "{e}"
    );
    assert!(render_ext(json!({ "a": "{{appid" }).as_object().unwrap(), &vars).is_err());
}

#[test]
fn plan_lists_every_app_with_what_it_does_or_why_not() {
    let mut a = authorizers(8);
    a[2].refresh_listed = false;
    a[3].set18 = Some(false);
    let f = file(json!({
        "template": 7,
        "vars": { "brand": "Acme" },
        "ext-json": { "extAppid": "{{appid}}", "ext": { "brand": "{{brand}}", "city": "{{city}}" } },
        "publish": "on-approval",
        "gray-percentage": 10,
        "apps": "all",
        "overrides": [
            { "appid": app(0), "labels": ["north"], "vars": { "city": "Harbin" } },
            { "appid": app(1), "labels": ["south"], "vars": { "city": "Guangzhou" }, "publish": "never" },
            { "appid": app(2), "vars": { "city": "x" } },
            { "appid": app(3), "vars": { "city": "x" } },
            { "appid": app(4), "skip": "contract ended" },
            { "appid": app(5) },
            { "appid": app(6), "vars": { "city": "Wuhan" }, "refresh-token-env": "SHOP6_REFRESH", "gray-percentage": 50 },
            { "appid": app(7), "vars": { "city": "Xi'an" } },
            { "appid": app(9), "vars": { "city": "gone" } },
        ],
    }))
    .unwrap();
    let files = BTreeMap::new();
    let submitted = BTreeSet::new();
    let p = plan(&f, &facts(Some(&a), &files, &submitted)).unwrap();
    let ids: Vec<&str> = p.apps.iter().map(|x| x.appid.as_str()).collect();
    assert_eq!(ids, [app(0), app(1), app(6), app(7)]);
    let kinds: Vec<(String, SkipKind)> = p
        .skipped
        .iter()
        .map(|s| (s.appid.clone(), s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (app(2), SkipKind::NoRefreshToken),
            (app(3), SkipKind::NoPermission),
            (app(4), SkipKind::Skipped),
            (app(5), SkipKind::InvalidExtJson),
            (app(9), SkipKind::NotAuthorized),
        ]
    );
    assert!(
        p.skipped[3].reason.contains("{{city}}"),
        "{}",
        p.skipped[3].reason
    );
    let first: Value = serde_json::from_str(&p.apps[0].ext_json).unwrap();
    assert_eq!(
        first,
        json!({ "extAppid": app(0), "ext": { "brand": "Acme", "city": "Harbin" } })
    );
    assert!(p.apps[1].publish_never);
    assert_eq!(p.apps[0].gray_percentage, Some(10));
    assert_eq!(p.apps[2].gray_percentage, Some(50));
    assert_eq!(
        p.apps[2].refresh,
        RefreshSource::Env("SHOP6_REFRESH".into())
    );
    assert_eq!(p.apps[0].refresh, RefreshSource::Listed);
    assert_eq!(p.submits, 4);
    // selection
    let sel = [Selector::parse("label=north,south").unwrap()];
    let p = plan(
        &f,
        &Facts {
            select: &sel,
            ..facts(Some(&a), &files, &submitted)
        },
    )
    .unwrap();
    assert_eq!(p.apps.len(), 2);
    assert_eq!(p.not_selected, 7);
    assert!(p.skipped.is_empty());
    // all without the list
    assert_eq!(
        plan(&f, &facts(None, &files, &submitted)),
        Err(PlanError::NoAuthorizers)
    );
}

#[test]
fn quota_is_planned_before_anything_is_submitted() {
    let a = authorizers(10);
    let f = file(json!({ "template": 7, "apps": "all" })).unwrap();
    let files = BTreeMap::new();
    let none = BTreeSet::new();
    let base = facts(Some(&a), &files, &none);
    let short = Facts {
        quota_rest: Some(6),
        ..base
    };
    assert_eq!(
        plan(&f, &short),
        Err(PlanError::Quota {
            needed: 10,
            rest: 6
        })
    );
    assert_eq!(
        plan(
            &f,
            &Facts {
                max_submits: Some(7),
                ..short
            }
        ),
        Err(PlanError::BudgetOverQuota { max: 7, rest: 6 })
    );
    let p = plan(
        &f,
        &Facts {
            max_submits: Some(6),
            ..short
        },
    )
    .unwrap();
    assert_eq!((p.apps.len(), p.submits), (6, 6));
    assert_eq!(p.skipped.len(), 4);
    assert!(p.skipped.iter().all(|s| s.kind == SkipKind::OverBudget));
    assert_eq!(p.skipped[0].appid, app(6), "the budget goes in appid order");
    // apps submitted already (a resumed fleet) need no quota
    let submitted: BTreeSet<String> = (0..5).map(app).collect();
    let resumed = Facts {
        quota_rest: Some(6),
        submitted: &submitted,
        ..base
    };
    let p = plan(&f, &resumed).unwrap();
    assert_eq!((p.apps.len(), p.submits), (10, 5));
}

#[test]
fn shards_partition_the_plan_and_merged_reports_equal_the_whole() {
    let a = authorizers(23);
    let f = file(json!({ "template": 7, "apps": "all", "overrides": [{ "appid": app(3), "skip": "paused" }] })).unwrap();
    let files = BTreeMap::new();
    let submitted = BTreeSet::new();
    let p = plan(&f, &facts(Some(&a), &files, &submitted)).unwrap();
    let result = |x: &PlannedApp| AppResult {
        appid: x.appid.clone(),
        version: "2.0.0".into(),
        status: if x.appid.ends_with('5') {
            Status::Rejected
        } else {
            Status::Published
        },
        audit_id: Some(1),
        reason: String::new(),
        published: true,
        labels: vec![],
    };
    let report_of = |shard: Shard| Report {
        version: "2.0.0".into(),
        template_id: Some(7),
        shards: vec![shard.label()],
        results: p
            .slice(shard)
            .into_iter()
            .map(result)
            .chain(
                p.skipped_in(shard)
                    .into_iter()
                    .map(|s| left_out(&s.appid, &s.labels, Status::Skipped, &s.reason, "2.0.0")),
            )
            .collect(),
    };
    let whole = merge(&[report_of(Shard::ALL)]).unwrap();
    let parts: Vec<Report> = (1..=4)
        .map(|i| report_of(Shard { index: i, count: 4 }))
        .collect();
    let sizes: Vec<usize> = parts.iter().map(|r| r.results.len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 23);
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 2,
        "{sizes:?}"
    );
    let merged = merge(&parts).unwrap();
    assert_eq!(merged.results, whole.results);
    assert_eq!(merged.shards, ["1/4", "2/4", "3/4", "4/4"]);
    assert_eq!(
        summary(&merged, "fleet", SUMMARY_CAP),
        summary(&whole, "fleet", SUMMARY_CAP)
    );
    // the same app twice, or two releases, do not merge
    assert!(merge(&[parts[0].clone(), parts[0].clone()])
        .unwrap_err()
        .contains("two reports"));
    let other = Report {
        version: "2.0.1".into(),
        ..parts[1].clone()
    };
    assert!(merge(&[parts[0].clone(), other]).is_err());
    assert_eq!(matrix(3)["include"][2]["shard"], "3/3");
    for bad in ["0/3", "4/3", "1/0", "x", "1/300"] {
        assert!(Shard::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_summary_of_5000_apps_stays_under_the_cap_with_every_failure() {
    let results: Vec<AppResult> = (0..5000u32)
        .map(|i| AppResult {
            appid: app(i),
            version: "2.0.0".into(),
            status: match i % 10 {
                0 => Status::Rejected,
                1 => Status::Failed,
                2 => Status::InReview,
                _ => Status::Published,
            },
            audit_id: Some(400_000_000 + u64::from(i)),
            reason: if i % 10 < 2 {
                format!("reason {i}: {}", "页面内容不符合规范 ".repeat(12))
            } else {
                String::new()
            },
            published: i % 10 > 2,
            labels: vec![],
        })
        .collect();
    let r = Report {
        version: "2.0.0".into(),
        template_id: Some(7),
        shards: vec!["1/1".into()],
        results,
    };
    let s = summary(&r, "mp-release fleet", SUMMARY_CAP);
    assert!(s.len() < SUMMARY_CAP, "{}", s.len());
    for i in (0..5000u32).filter(|i| i % 10 < 2) {
        assert!(
            s.contains(&format!("reason {i}:")),
            "failure {i} listed in full"
        );
    }
    assert!(
        s.contains("| ❌ failed | 500 |") && s.contains("| 🚀 published | 3500 |"),
        "{}",
        &s[..400]
    );
    // a tight cap keeps the failures first and says what was left out
    let small = summary(&r, "mp-release fleet", 64 << 10);
    assert!(small.len() < 64 << 10);
    assert!(small.contains("more apps are not listed"));
    assert!(r.any_failed());
}

#[test]
fn results_come_from_the_pipeline_state() {
    use crate::pipeline::{Config, Review};
    let planned = PlannedApp {
        appid: app(1),
        labels: vec!["north".into()],
        group: None,
        ext_json: "{}".into(),
        refresh: RefreshSource::Listed,
        publish_never: false,
        gray_percentage: None,
        version_desc: None,
        items: None,
        privacy_api_not_use: false,
        submits: true,
    };
    let config = Config {
        marker: None,
        upload: false,
        appid: app(1),
        template: None,
        bump: crate::pipeline::BumpSpec::default(),
        rules: crate::pipeline::Rules {
            privacy_api_not_use: false,
            privacy_poll_secs: 30,
            on_existing: crate::pipeline::OnExisting::Fail,
            speedup: false,
            wait: crate::pipeline::WaitSpec {
                first_secs: 60,
                max_secs: 600,
                timeout_secs: 3600,
            },
            publish: crate::pipeline::PublishSpec::default(),
            allow_downgrade: false,
        },
    };
    let mut s = State::new(config, Some(("2.0.0".into(), None, "none".into())));
    s.stage = Stage::Done;
    s.outcome = Some(Outcome::Failed {
        code: Some(QUOTA_EXHAUSTED),
        message: "submit_audit: 85085\nno quota".into(),
    });
    let r = result_of(&planned, &s);
    assert_eq!(
        (r.status, r.reason.as_str()),
        (Status::NotSubmitted, "submit_audit: 85085 no quota")
    );
    s.outcome = Some(Outcome::Rejected);
    s.audit_id = Some(9);
    s.review = Some(Review {
        status: 1,
        reason: "bad <br> page".into(),
        screenshot: String::new(),
    });
    let r = result_of(&planned, &s);
    assert_eq!(
        (r.status, r.audit_id, r.reason.as_str()),
        (Status::Rejected, Some(9), "bad <br> page")
    );
    s.outcome = Some(Outcome::Published { phased: Some(10) });
    s.published = true;
    assert_eq!(result_of(&planned, &s).status, Status::Phased);
}
