//! Table-driven tests of the version rules.

use super::*;
use BumpLevel::*;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn bump_table() {
    // (current, level, preid, expected)
    let cases: &[(&str, BumpLevel, Option<&str>, &str)] = &[
        ("1.2.3", Major, None, "2.0.0"),
        ("1.2.3", Minor, None, "1.3.0"),
        ("1.2.3", Patch, None, "1.2.4"),
        ("0.0.0", Patch, None, "0.0.1"),
        ("0.9.9", Minor, None, "0.10.0"),
        ("1.2.3", Premajor, None, "2.0.0-0"),
        ("1.2.3", Premajor, Some("alpha"), "2.0.0-alpha.0"),
        ("1.2.3", Preminor, Some("beta"), "1.3.0-beta.0"),
        ("1.2.3", Prepatch, Some("beta"), "1.2.4-beta.0"),
        ("1.2.3", Prepatch, None, "1.2.4-0"),
        // the chain from the issue: 1.2.3 → prepatch → prerelease → patch
        ("1.2.4-beta.0", Prerelease, Some("beta"), "1.2.4-beta.1"),
        ("1.2.4-beta.1", Patch, None, "1.2.4"),
        ("1.2.3", Prerelease, Some("beta"), "1.2.4-beta.0"),
        ("1.2.3", Prerelease, None, "1.2.4-0"),
        ("1.2.4-0", Prerelease, None, "1.2.4-1"),
        ("1.2.4-beta.9", Prerelease, None, "1.2.4-beta.10"),
        ("1.2.4-beta", Prerelease, None, "1.2.4-beta.0"),
        ("1.2.4-beta", Prerelease, Some("beta"), "1.2.4-beta.0"),
        ("1.2.4-beta.1", Prerelease, Some("rc"), "1.2.4-rc.0"),
        ("1.2.4-beta.1.x", Prerelease, None, "1.2.4-beta.2.x"),
        ("1.2.4-alpha.1", Prerelease, Some("alpha"), "1.2.4-alpha.2"),
        // finishing prereleases
        ("2.0.0-rc.1", Major, None, "2.0.0"),
        ("2.1.0-rc.1", Major, None, "3.0.0"),
        ("1.3.0-rc.0", Minor, None, "1.3.0"),
        ("1.3.1-rc.0", Minor, None, "1.4.0"),
        ("1.2.4-beta.1", Prepatch, Some("beta"), "1.2.5-beta.0"),
        ("1.2.4-beta.1", Preminor, Some("beta"), "1.3.0-beta.0"),
        // build metadata is dropped by increments
        ("1.2.3+build.7", Patch, None, "1.2.4"),
        ("1.2.3+sha.abc", Major, None, "2.0.0"),
        ("1.2.4-beta.1+b5", Prerelease, None, "1.2.4-beta.2"),
        ("1.2.4-beta.1+b5", Patch, None, "1.2.4"),
        ("0.1.0", Premajor, Some("rc"), "1.0.0-rc.0"),
        ("1.0.0-rc.2", Major, None, "1.0.0"),
    ];
    for (cur, level, preid, want) in cases {
        let got = bump(&v(cur), *level, *preid).unwrap_or_else(|e| panic!("{cur} {level:?}: {e}"));
        assert_eq!(got.to_string(), *want, "{cur} {level:?} {preid:?}");
    }
    assert!(cases.len() >= 30);
}

#[test]
fn prerelease_chain_from_the_issue() {
    let a = bump(&v("1.2.3"), Prepatch, Some("beta")).unwrap();
    let b = bump(&a, Prerelease, Some("beta")).unwrap();
    let c = bump(&b, Patch, None).unwrap();
    assert_eq!(
        [a, b, c].map(|x| x.to_string()),
        ["1.2.4-beta.0", "1.2.4-beta.1", "1.2.4"]
    );
}

#[test]
fn bad_preid_and_overflow() {
    for id in ["", "1", "007", "be.ta", "bêta", "a b"] {
        assert!(
            matches!(
                bump(&v("1.0.0"), Prepatch, Some(id)),
                Err(BumpError::BadPreid(_))
            ),
            "{id:?}"
        );
    }
    let max = Version::new(1, 2, u64::MAX);
    assert!(matches!(
        bump(&max, Patch, None),
        Err(BumpError::Overflow(_))
    ));
    let pre = v("1.0.0-beta.18446744073709551615");
    assert!(matches!(
        bump(&pre, Prerelease, None),
        Err(BumpError::Overflow(_))
    ));
}

#[test]
fn auto_levels_table() {
    use ZeroMajorRules::*;
    let cases: &[(&str, &[&str], ZeroMajorRules, Option<BumpLevel>)] = &[
        ("1.0.0", &[], Shifted, None),
        ("1.0.0", &["chore: x"], Shifted, Some(Patch)),
        ("1.0.0", &["fix: x"], Shifted, Some(Patch)),
        ("1.0.0", &["perf(core): x"], Shifted, Some(Patch)),
        ("1.0.0", &["fix: x", "feat: y"], Shifted, Some(Minor)),
        ("1.0.0", &["feat!: y"], Shifted, Some(Major)),
        ("1.0.0", &["refactor(api)!: y"], Shifted, Some(Major)),
        (
            "1.0.0",
            &["chore: y\n\nBREAKING CHANGE: z"],
            Shifted,
            Some(Major),
        ),
        (
            "1.0.0",
            &["chore: y\n\nBREAKING-CHANGE: z"],
            Shifted,
            Some(Major),
        ),
        ("0.3.0", &["feat!: y"], Shifted, Some(Minor)),
        ("0.3.0", &["feat: y"], Shifted, Some(Patch)),
        ("0.3.0", &["fix: y"], Shifted, Some(Patch)),
        ("0.3.0", &["feat!: y"], Standard, Some(Major)),
        ("0.3.0", &["feat: y"], Standard, Some(Minor)),
        (
            "1.0.0",
            &["Merge pull request #3 from a/b", "docs: d"],
            Shifted,
            Some(Patch),
        ),
    ];
    for (cur, msgs, zero, want) in cases {
        assert_eq!(
            auto_level(&v(cur), msgs.iter().copied(), *zero),
            *want,
            "{cur} {msgs:?} {zero:?}"
        );
    }
}

#[test]
fn classify_edge_cases() {
    let cases = [
        ("feat: x", Change::Feature),
        ("FEAT: x", Change::Feature),
        ("feat(scope-1): x", Change::Feature),
        ("feat:x", Change::Other),
        ("feat(: x", Change::Other),
        ("feat(a(b)): x", Change::Other),
        ("feat: ", Change::Other),
        ("fix!: x", Change::Breaking),
        ("Revert \"feat: x\"", Change::Other),
        ("", Change::Other),
        (
            "not conventional\n\nBREAKING CHANGE: still counts",
            Change::Breaking,
        ),
        (
            "feat: x\n\nbreaking change: lower case is not a footer",
            Change::Feature,
        ),
        ("fix: x\n\nSigned-off-by: a <a@b>", Change::Fix),
    ];
    for (msg, want) in cases {
        assert_eq!(classify(msg), want, "{msg:?}");
    }
}

fn input<'a>(
    bump: BumpRequest,
    preid: Option<&'a str>,
    commits: Option<&'a [String]>,
    initial: &'a Version,
) -> PlanInput<'a> {
    PlanInput {
        bump,
        preid,
        commits,
        initial,
        zero: ZeroMajorRules::Shifted,
    }
}

#[test]
fn plan_rules() {
    let init = v("0.1.0");
    let none = plan(None, &input(BumpRequest::Level(Major), None, None, &init)).unwrap();
    assert_eq!(
        (none.next.to_string(), none.bump.as_str(), none.previous),
        ("0.1.0".into(), "initial", None)
    );

    let keep = plan(
        Some(&v("1.2.3+b")),
        &input(BumpRequest::None, None, None, &init),
    )
    .unwrap();
    assert_eq!(
        (keep.next.to_string(), keep.bump.as_str()),
        ("1.2.3+b".into(), "none")
    );

    let empty: Vec<String> = vec![];
    let nothing = plan(
        Some(&v("1.2.3")),
        &input(BumpRequest::Auto, None, Some(&empty), &init),
    )
    .unwrap();
    assert_eq!(
        (nothing.next.to_string(), nothing.bump.as_str()),
        ("1.2.3".into(), "none")
    );

    let feats = vec!["feat: a".to_owned()];
    let minor = plan(
        Some(&v("1.2.3")),
        &input(BumpRequest::Auto, None, Some(&feats), &init),
    )
    .unwrap();
    assert_eq!(
        (minor.next.to_string(), minor.bump.as_str()),
        ("1.3.0".into(), "minor")
    );

    let pre = plan(
        Some(&v("1.2.3")),
        &input(BumpRequest::Auto, Some("beta"), Some(&feats), &init),
    )
    .unwrap();
    assert_eq!(
        (pre.next.to_string(), pre.bump.as_str()),
        ("1.3.0-beta.0".into(), "preminor")
    );
    let pre2 = plan(
        Some(&pre.next),
        &input(BumpRequest::Auto, Some("beta"), Some(&feats), &init),
    )
    .unwrap();
    assert_eq!(
        (pre2.next.to_string(), pre2.bump.as_str()),
        ("1.3.0-beta.1".into(), "prerelease")
    );

    assert_eq!(
        plan(
            Some(&v("1.0.0")),
            &input(BumpRequest::Auto, None, None, &init)
        ),
        Err(PlanError::MissingCommits)
    );
}

#[test]
fn user_version_limit_is_64_chars() {
    let init = v("0.1.0");
    let ok = format!("1.0.0-{}", "a".repeat(58));
    assert_eq!(ok.len(), 64);
    assert!(plan(Some(&v(&ok)), &input(BumpRequest::None, None, None, &init)).is_ok());
    let long = format!("1.0.0-{}", "a".repeat(59));
    let err = plan(
        Some(&v(&long)),
        &input(BumpRequest::None, None, None, &init),
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::TooLong(_, 65)), "{err}");
    // A bump can push it over the limit too.
    let edge = format!("1.0.0-{}.9", "a".repeat(56));
    assert_eq!(edge.len(), 64);
    assert!(plan(
        Some(&v(&edge)),
        &input(BumpRequest::Level(Prerelease), None, None, &init)
    )
    .is_err());
}

#[test]
fn source_parsing() {
    assert_eq!(
        VersionSource::parse("git-tag"),
        Ok(VersionSource::GitTag { prefix: None })
    );
    assert_eq!(
        VersionSource::parse("git-tag:app-v"),
        Ok(VersionSource::GitTag {
            prefix: Some("app-v".into())
        })
    );
    assert_eq!(
        VersionSource::parse("git-tag:"),
        Ok(VersionSource::GitTag {
            prefix: Some(String::new())
        })
    );
    assert_eq!(
        VersionSource::parse("explicit:v1.4.0"),
        Ok(VersionSource::Explicit(v("1.4.0")))
    );
    assert_eq!(
        VersionSource::parse("package.json"),
        Ok(VersionSource::PackageJson)
    );
    assert_eq!(VersionSource::parse("wechat"), Ok(VersionSource::Wechat));
    for bad in ["explicit:1.4", "git-tag:a b", "git-tag:x~", "tags", ""] {
        assert!(VersionSource::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn highest_tag_ignores_other_prefixes_and_non_semver() {
    let tags = [
        "v1.0.0",
        "v1.0.10",
        "v1.0.9",
        "vnext",
        "app-v9.0.0",
        "v1.0.10-rc.1",
        "1.5.0",
    ];
    assert_eq!(highest_tag(tags, "v").map(|x| x.0), Some("v1.0.10"));
    assert_eq!(highest_tag(tags, "app-v").map(|x| x.0), Some("app-v9.0.0"));
    assert_eq!(highest_tag(tags, "").map(|x| x.0), Some("1.5.0"));
    assert_eq!(highest_tag(["vnext"], "v"), None);
}
