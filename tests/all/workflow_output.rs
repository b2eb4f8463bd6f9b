//! The binary inside GitHub Actions: outputs file, summary file, masking order, no secret leaks.

use crate::helpers::*;

const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ\n-----END RSA PRIVATE KEY-----\n";
const TOKEN: &str = "83_TOKEN_tWJ7tVa9vT2Qd0C";

#[test]
fn outputs_summary_masks_first_and_nothing_leaks() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("v1.0.0").commit("feat: y");
    let out_file = repo.path().join("gh_output");
    let sum_file = repo.path().join("gh_summary");
    std::fs::write(&out_file, "earlier=kept\n").unwrap();
    let trap = NetTrap::new();
    let mut c = bin(repo.path(), &trap);
    c.arg("version")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out_file)
        .env("GITHUB_STEP_SUMMARY", &sum_file)
        .env("INPUT_PRIVATE_KEY", KEY)
        .env("INPUT_ACCESS-TOKEN", TOKEN)
        .env("MP_RELEASE_LOG", "trace");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // masks are the first bytes on stdout, one per non-empty line of the key, then the token
    // (in the input table's order: access-token comes before private-key)
    let first: Vec<&str> = r.stdout.lines().take(5).collect();
    assert_eq!(
        first,
        [
            &format!("::add-mask::{TOKEN}"),
            "::add-mask::-----BEGIN RSA PRIVATE KEY-----",
            "::add-mask::MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
            "::add-mask::KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ",
            "::add-mask::-----END RSA PRIVATE KEY-----",
        ]
    );
    assert!(r.stdout.contains("::group::mp-release version\n"));
    let outputs = std::fs::read_to_string(&out_file).unwrap();
    // the job summary comes last as a multi-line output (a random delimiter)
    assert!(
        outputs.starts_with(
            "earlier=kept\nversion=1.1.0\nprevious-version=1.0.0\nbump=minor\ntag=v1.1.0\nsummary-markdown<<ghadelimiter_"
        ) && outputs.contains("| version | **1.1.0** |"),
        "{outputs}"
    );
    let summary = std::fs::read_to_string(&sum_file).unwrap();
    assert!(summary.contains("**1.1.0**"), "{summary}");
    // the scan: no secret line anywhere the binary wrote, apart from the mask commands themselves
    let after_masks: String = r.stdout.lines().skip(5).collect::<Vec<_>>().join("\n");
    for text in [&after_masks, &r.stderr, &outputs, &summary] {
        for secret in KEY.lines().chain([TOKEN]) {
            assert!(!text.contains(secret), "leak of {secret:?} in {text}");
        }
    }
}

#[test]
fn help_never_shows_secret_values() {
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    for args in [&["--help"][..], &["version", "--help"]] {
        let mut c = bin(dir.path(), &trap);
        c.args(args)
            .env("INPUT_ACCESS_TOKEN", TOKEN)
            .env("MP_RELEASE_BUMP", "minor");
        let r = run(c);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("Usage: mp-release"), "{}", r.stdout);
        assert!(r.stdout.contains("INPUT_<NAME>"));
        assert!(!r.stdout.contains(TOKEN) && !r.stderr.contains(TOKEN));
    }
}

#[test]
fn outside_actions_no_workflow_commands() {
    let repo = Repo::new();
    repo.commit("fix: z");
    let trap = NetTrap::new();
    let mut c = bin(repo.path(), &trap);
    c.arg("version").env("INPUT_ACCESS_TOKEN", TOKEN);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("::"), "{}", r.stdout);
    assert_eq!(kv(&r.stdout)["version"], "0.1.0");
}

/// "Re-run with debug logging" sets RUNNER_DEBUG=1: the binary logs at debug level then.
#[test]
fn runner_debug_turns_on_debug_logs() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("v1.0.0").commit("fix: y");
    for (debug, want) in [(Some("1"), true), (None, false)] {
        let trap = NetTrap::new();
        let mut c = bin(repo.path(), &trap);
        c.arg("version").env("GITHUB_ACTIONS", "true");
        if let Some(v) = debug {
            c.env("RUNNER_DEBUG", v);
        }
        let r = run(c);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            r.stderr.contains("DEBUG"),
            want,
            "RUNNER_DEBUG={debug:?}: {}",
            r.stderr
        );
    }
}
