use super::*;
use crate::report::tests::cases;

#[test]
fn handover_round_trips_and_refuses_foreign_ids() {
    use crate::pipeline::{
        Look, OnUnhealthy, RolloutProgress, RolloutSpec, RolloutStep, StepRecord,
    };
    let rollout = RolloutSpec {
        steps: vec![
            RolloutStep {
                percent: 1,
                watch_secs: 7200,
            },
            RolloutStep {
                percent: 20,
                watch_secs: 43_200,
            },
            RolloutStep {
                percent: 100,
                watch_secs: 7200,
            },
        ],
        on_unhealthy: OnUnhealthy::Hold,
        thresholds: crate::health::Thresholds::default(),
        max_holds: DEFAULT_MAX_HOLDS,
        log_marker: None,
    };
    let progress = RolloutProgress {
        step: 1,
        previous: Some("1.2.0:odd;name".into()),
        preread: false,
        sent: true,
        plan_created: Some(1_700_000_000),
        step_started: Some(1_700_000_100),
        next_look: Some(1_700_007_300),
        holds: 1,
        revert_sent: false,
        changes: vec![(1_700_000_100, 1), (1_700_007_400, 20)],
        // What a later job's timeline begins with: the steps reached, not the looks.
        history: vec![
            StepRecord::bare(1, 1_700_000_100, Look::Raised),
            StepRecord::bare(20, 1_700_007_400, Look::Raised),
        ],
        ..RolloutProgress::default()
    };
    // The looks of the job that wrote the hand-over stay with that job's summary.
    let mut looked = progress.clone();
    looked
        .history
        .insert(1, StepRecord::bare(1, 1_700_007_300, Look::Raise));
    let with_looks = Handover {
        appid: "wxa1".into(),
        audit_id: 1,
        version: "1.0.0".into(),
        publish: PublishSpec {
            rollout: Some(rollout.clone()),
            ..PublishSpec::default()
        },
        rollout: Some(looked),
    };
    assert_eq!(
        Handover::decode(&with_looks.encode()).and_then(|h| h.rollout),
        Some(progress.clone())
    );
    let rules = [
        (PublishSpec::default(), None),
        (
            PublishSpec {
                never: true,
                ..PublishSpec::default()
            },
            None,
        ),
        (
            PublishSpec {
                gray_percentage: Some(20),
                debuger_first: true,
                ..PublishSpec::default()
            },
            None,
        ),
        (
            PublishSpec {
                rollout: Some(rollout.clone()),
                experiencer_first: true,
                ..PublishSpec::default()
            },
            None,
        ),
        (
            PublishSpec {
                rollout: Some(rollout),
                ..PublishSpec::default()
            },
            Some(progress),
        ),
    ];
    for (publish, rollout) in rules {
        let h = Handover {
            appid: "wxa11ce5a4db0c0001".into(),
            audit_id: 4_200_017,
            version: "1.3.0-rc.1+build.7".into(),
            publish,
            rollout,
        };
        let id = h.encode();
        assert!(id.starts_with("mp-release/2:wxa11ce5a4db0c0001:4200017:1.3.0-rc.1+build.7:"));
        assert_eq!(Handover::decode(&id), Some(h), "{id}");
        // Any altered byte breaks the digest.
        let altered = id.replace("4200017", "4200018");
        assert_eq!(Handover::decode(&altered), None);
    }
    // The first format (written by earlier releases of mp-release) still decodes.
    let v1 = |body: &str| format!("{body}:{:016x}", fnv1a(body));
    let old = Handover::decode(&v1("mp-release/1:wxa1:77:1.4.0:gray20")).expect("v1");
    assert_eq!(
        (
            old.audit_id,
            old.version.as_str(),
            old.publish.gray_percentage,
            old.rollout
        ),
        (77, "1.4.0", Some(20), None)
    );
    assert!(
        Handover::decode(&v1("mp-release/1:wxa1:77:1.4.0:never")).is_some_and(|h| h.publish.never)
    );
    // …but not with what only the second format carries.
    assert_eq!(
        Handover::decode(&v1("mp-release/1:wxa1:77:1.4.0:rollout.r.1@60")),
        None
    );
    for foreign in [
        "",
        "abc",
        "wx1:2:3",
        "mp-release/1:wx:1:1.0.0:full",
        "mp-release/2:wx:1:1.0.0:full:-",
        "ci:123",
    ] {
        assert_eq!(Handover::decode(foreign), None, "{foreign}");
    }
    for broken in [
        "mp-release/2:wx:1:1.0.0:full:1;2",
        "mp-release/2:wx:1:1.0.0:rollout.x.1@60:-",
        "mp-release/2:wx:1:1.0.0:full+z:-",
        "mp-release/2:wx:1:1.0.0:rollout.r.1@60:0;2;;;;0;0;;",
    ] {
        assert_eq!(Handover::decode(&v1(broken)), None, "{broken}");
    }
}

#[test]
fn check_states_follow_the_outcome() {
    let got: Vec<(&str, &str, Option<&str>, &str)> = cases()
        .iter()
        .map(|(name, s)| {
            let c = CheckState::of(s);
            (*name, c.status(), c.conclusion(), c.commit_status())
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "approved_and_published",
                "completed",
                Some("success"),
                "success"
            ),
            ("rejected", "completed", Some("failure"), "failure"),
            ("detached", "in_progress", None, "pending"),
            ("withdrawn", "completed", Some("neutral"), "success"),
            ("phased_release", "completed", Some("success"), "success"),
        ]
    );
}

#[test]
fn check_run_output_snapshots() {
    let links = Links {
        check_run: None,
        release: Some("https://github.com/acme/shop/releases/tag/v1.3.0".into()),
        run: Some("https://github.com/acme/shop/actions/runs/42".into()),
    };
    for (name, s) in cases() {
        let out = check_output(&s, &links);
        insta::assert_snapshot!(
            format!("check_run_{name}"),
            format!("title: {}\n---\n{}", out.title, out.summary)
        );
    }
}

#[test]
fn job_summary_with_links_snapshot() {
    let links = Links {
        check_run: Some("https://github.com/acme/shop/runs/4".into()),
        release: Some("https://github.com/acme/shop/releases/tag/v1.3.0".into()),
        run: Some("https://github.com/acme/shop/actions/runs/42".into()),
    };
    let (_, s) = cases().into_iter().next().unwrap();
    let md = job_summary(&s, "mp-release", &links);
    assert!(md.lines().count() <= 20, "{md}");
    insta::assert_snapshot!("job_summary_published_with_links", md);
    // Without links, the report as it is.
    assert_eq!(
        job_summary(&s, "mp-release", &Links::default()).trim_end(),
        report::summary(&s, "mp-release").trim_end()
    );
}

#[test]
fn pr_comment_snapshots() {
    let preview = Preview {
        trial: false,
        image_url: None,
        blocks: Some("█▀▀▀█ ▄ █▀▀▀█\n█ █ █ ▀ █ █ █\n▀▀▀▀▀ ▀ ▀▀▀▀▀".into()),
        packages: Vec::new(),
    };
    for (name, s) in cases() {
        let md = pr_comment("wxa1", Some(&s), Some(&preview));
        assert!(md.starts_with("<!-- mp-release:wxa1 -->\n"), "{md}");
        insta::assert_snapshot!(format!("pr_comment_{name}"), md);
    }
    // A preview on its own, with an artifact link and package sizes.
    let preview = Preview {
        trial: false,
        image_url: Some("https://github.com/acme/shop/actions/runs/42/artifacts/7".into()),
        blocks: Some("ignored when there is a link".into()),
        packages: vec![("__FULL__".into(), 812_400, 12 * 1024 * 1024)],
    };
    insta::assert_snapshot!(
        "pr_comment_preview_only",
        pr_comment("wxa1", None, Some(&preview))
    );
}

#[test]
fn texts_fit_github_limits_in_bytes() {
    let (_, mut s) = cases().into_iter().next().unwrap();
    // A long reason of 3-byte characters: 40k chars = 120k bytes, over the byte limit only.
    s.review.as_mut().unwrap().reason = "审".repeat(40_000);
    let out = check_output(&s, &Links::default());
    assert!(
        out.summary.len() <= CHECK_TEXT_LIMIT,
        "{}",
        out.summary.len()
    );
    assert!(out.summary.ends_with("the job summary has it all)\n"));
    assert!(status_description(&s).chars().count() <= STATUS_DESCRIPTION_LIMIT);
    let md = pr_comment("wxa1", Some(&s), None);
    assert!(md.len() <= COMMENT_LIMIT);
    // Short texts are untouched.
    assert_eq!(fit("abc", 10), "abc");
}

#[test]
fn release_notes_group_conventional_commits() {
    let notes = release_notes(
        "1.3.0",
        &[
            "feat(cart): coupons".into(),
            "fix: rounding\n\nbody".into(),
            "chore: bump deps".into(),
            "feat!: new login\n\nBREAKING CHANGE: old tokens expire".into(),
            "Merge branch 'x'".into(),
        ],
    );
    assert_eq!(
        notes,
        "## 1.3.0\n\n### Breaking changes\n\n- feat!: new login\n\n### Features\n\n- feat(cart): coupons\n\n### Fixes\n\n- fix: rounding\n\n### Other changes\n\n- chore: bump deps\n- Merge branch 'x'\n"
    );
    assert!(release_notes("1.0.0", &[]).contains("No commits"));
}

#[test]
fn release_notes_fit_githubs_body_limit() {
    let messages: Vec<String> = (0..1200)
        .map(|i| {
            format!(
                "feat: change number {i} with a long enough subject line to add up quickly, {}",
                "长".repeat(60)
            )
        })
        .collect();
    let notes = release_notes("1.5.0", &messages);
    assert!(notes.chars().count() > RELEASE_BODY_LIMIT);
    let fitted = fit_release_notes(
        &notes,
        Some("https://github.com/acme/shop/compare/v1.4.0...v1.5.0"),
    );
    assert!(
        fitted.chars().count() <= RELEASE_BODY_LIMIT,
        "{}",
        fitted.chars().count()
    );
    assert!(fitted
        .ends_with("[the compare view](https://github.com/acme/shop/compare/v1.4.0...v1.5.0).\n"));
    assert!(
        fitted.contains("- feat: change number 0 "),
        "starts with the first"
    );
    let short = release_notes("1.5.0", &messages[..3]);
    assert_eq!(
        fit_release_notes(&short, None),
        short,
        "short notes are kept whole"
    );
}
