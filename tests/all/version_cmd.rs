//! `mp-release version` against real temporary git repositories and files.

use crate::helpers::*;

fn version(repo: &Repo, args: &[&str]) -> Run {
    let trap = NetTrap::new();
    let mut c = bin(repo.path(), &trap);
    c.arg("version").args(args);
    let r = run(c);
    assert_eq!(trap.connections(), 0);
    r
}

fn ok(repo: &Repo, args: &[&str]) -> std::collections::BTreeMap<String, String> {
    let r = version(repo, args);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    kv(&r.stdout)
}

#[test]
fn git_tag_picks_highest_semver_tag_with_prefix_and_ignores_others() {
    let repo = Repo::new();
    repo.commit("feat: one")
        .tag("v1.2.0")
        .tag("v1.10.0")
        .tag("release-candidate")
        .tag("vnext");
    repo.tag("3.0.0").tag("app-v7.0.0");
    repo.commit("fix: two");
    let out = ok(&repo, &[]);
    assert_eq!(out["previous-version"], "1.10.0");
    assert_eq!(out["version"], "1.10.1");
    assert_eq!(out["bump"], "patch");
    assert_eq!(out["tag"], "v1.10.1");

    let bare = ok(&repo, &["--version-from", "git-tag:", "--bump", "minor"]);
    assert_eq!(
        (
            bare["previous-version"].as_str(),
            bare["version"].as_str(),
            bare["tag"].as_str()
        ),
        ("3.0.0", "3.1.0", "3.1.0")
    );

    let app = ok(
        &repo,
        &["--version-from", "git-tag:app-v", "--bump", "major"],
    );
    assert_eq!(
        (app["version"].as_str(), app["tag"].as_str()),
        ("8.0.0", "app-v8.0.0")
    );
}

#[test]
fn tags_of_unmerged_branches_do_not_count() {
    let repo = Repo::new();
    repo.commit("feat: base").tag("v1.0.0");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.commit("feat: elsewhere").tag("v5.0.0");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("fix: here");
    let out = ok(&repo, &[]);
    assert_eq!(
        (out["previous-version"].as_str(), out["version"].as_str()),
        ("1.0.0", "1.0.1")
    );
}

#[test]
fn auto_reads_conventional_commits_since_the_last_tag() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["chore: deps"], "1.4.3", "patch"),
        (&["fix: crash", "docs: x"], "1.4.3", "patch"),
        (&["perf: faster"], "1.4.3", "patch"),
        (&["fix: a", "feat(login): b"], "1.5.0", "minor"),
        (&["feat!: new api"], "2.0.0", "major"),
        (
            &["chore: x\n\nBREAKING CHANGE: config renamed"],
            "2.0.0",
            "major",
        ),
        (&[], "1.4.2", "none"),
    ];
    for (msgs, want, bump) in cases {
        let repo = Repo::new();
        repo.commit("feat!: before the tag (must not count)")
            .tag("v1.4.2");
        for m in *msgs {
            repo.commit(m);
        }
        let r = version(&repo, &["--bump", "auto"]);
        assert_eq!(r.code, 0, "{msgs:?}: {}", r.stderr);
        let out = kv(&r.stdout);
        assert_eq!(
            (out["version"].as_str(), out["bump"].as_str()),
            (*want, *bump),
            "{msgs:?}"
        );
        if msgs.is_empty() {
            assert!(
                r.stderr.contains("no commits since `v1.4.2`"),
                "{}",
                r.stderr
            );
        }
    }
}

#[test]
fn merge_commits_count_through_their_merged_commits() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("v2.0.0");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit("feat: on a branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("docs: meanwhile");
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'feature'",
        "feature",
    ]);
    let out = ok(&repo, &[]);
    assert_eq!(
        (out["version"].as_str(), out["bump"].as_str()),
        ("2.1.0", "minor")
    );
}

#[test]
fn zero_major_rules() {
    let repo = Repo::new();
    repo.commit("chore: init")
        .tag("v0.3.1")
        .commit("feat!: breaking");
    assert_eq!(ok(&repo, &[])["version"], "0.4.0");
    assert_eq!(
        ok(&repo, &["--zero-major-rules", "standard"])["version"],
        "1.0.0"
    );
    let feat = Repo::new();
    feat.commit("chore: init")
        .tag("v0.3.1")
        .commit("feat: small");
    assert_eq!(ok(&feat, &[])["version"], "0.3.2");
    assert_eq!(
        ok(&feat, &["--zero-major-rules", "standard"])["version"],
        "0.4.0"
    );
}

#[test]
fn no_tags_gives_the_initial_version() {
    let repo = Repo::new();
    repo.commit("feat: first");
    let out = ok(&repo, &[]);
    assert_eq!(
        (
            out["version"].as_str(),
            out["previous-version"].as_str(),
            out["bump"].as_str()
        ),
        ("0.1.0", "", "initial")
    );
    assert_eq!(
        ok(&repo, &["--initial-version", "1.0.0"])["version"],
        "1.0.0"
    );
    let empty = Repo::new();
    assert_eq!(ok(&empty, &["--bump", "minor"])["version"], "0.1.0");
}

#[test]
fn prerelease_chain_through_tags() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("v1.2.3").commit("fix: a");
    let a = ok(&repo, &["--bump", "prepatch", "--preid", "beta"]);
    assert_eq!(a["version"], "1.2.4-beta.0");
    repo.tag("v1.2.4-beta.0").commit("fix: b");
    assert_eq!(
        ok(&repo, &["--bump", "prerelease", "--preid", "beta"])["version"],
        "1.2.4-beta.1"
    );
    repo.tag("v1.2.4-beta.1").commit("fix: c");
    assert_eq!(ok(&repo, &["--bump", "patch"])["version"], "1.2.4");
    // auto with a preid continues the prerelease line
    assert_eq!(ok(&repo, &["--preid", "beta"])["version"], "1.2.4-beta.2");
}

#[test]
fn shallow_clone_is_explained_not_miscounted() {
    let origin = Repo::new();
    origin
        .commit("chore: init")
        .tag("v1.0.0")
        .commit("feat: a")
        .commit("fix: b");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(clone.path().join("c"))
        .status()
        .unwrap();
    assert!(st.success());
    let shallow = Repo { dir: clone };
    let trap = NetTrap::new();
    let mut c = bin(&shallow.path().join("c"), &trap);
    c.arg("version");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("shallow clone") && r.stderr.contains("fetch-depth: 0"),
        "{}",
        r.stderr
    );
    // Explicit source with a fixed bump needs no history, so it still works there.
    let mut c = bin(&shallow.path().join("c"), &trap);
    c.args([
        "version",
        "--version-from",
        "explicit:1.0.0",
        "--bump",
        "patch",
    ]);
    let r = run(c);
    assert_eq!(
        (r.code, kv(&r.stdout)["version"].as_str()),
        (0, "1.0.1"),
        "{}",
        r.stderr
    );
}

const PACKAGE: &str = "{\r\n    \"name\" : \"demo\",\r\n    \"scripts\": { \"version\": \"echo 9.9.9\" },\r\n    \"version\"  :  \"2.3.4\",\r\n    \"emoji\": \"体验版 \\u00e9\"\r\n}";

#[test]
fn package_json_source_and_byte_exact_write_back() {
    let repo = Repo::new();
    repo.commit("feat: x");
    let pkg = repo.write("package.json", PACKAGE);
    let nested = repo.write("app.json", "{\"version\": \"0.0.1\", \"a\": [1,2]}\n");
    let out = ok(
        &repo,
        &[
            "--version-from",
            "package.json",
            "--bump",
            "minor",
            "--write",
            "package.json",
            "--write",
            "app.json",
        ],
    );
    assert_eq!(
        (out["previous-version"].as_str(), out["version"].as_str()),
        ("2.3.4", "2.4.0")
    );
    assert_eq!(
        std::fs::read_to_string(&pkg).unwrap(),
        PACKAGE.replace("\"2.3.4\"", "\"2.4.0\"")
    );
    assert_eq!(
        std::fs::read_to_string(&nested).unwrap(),
        "{\"version\": \"2.4.0\", \"a\": [1,2]}\n"
    );
}

#[test]
fn dry_run_writes_nothing() {
    let repo = Repo::new();
    repo.commit("feat: x");
    let pkg = repo.write("package.json", PACKAGE);
    let before = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    let r = version(
        &repo,
        &[
            "--dry-run",
            "--version-from",
            "package.json",
            "--bump",
            "major",
            "--write",
            "package.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(kv(&r.stdout)["version"], "3.0.0");
    assert_eq!(std::fs::read_to_string(&pkg).unwrap(), PACKAGE);
    // no file written anywhere in the checkout (no temporary file left behind either)
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        before
    );
    assert!(
        r.stderr.contains("dry run: would write version 3.0.0"),
        "{}",
        r.stderr
    );
}

#[test]
fn json_output_and_summary_file() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("v1.0.0").commit("feat: y");
    let r = version(&repo, &["--output", "json", "--summary-file", "s.md"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], "1.1.0");
    assert_eq!(v["previous-version"], "1.0.0");
    assert_eq!(v["bump"], "minor");
    assert_eq!(v["tag"], "v1.1.0");
    assert_eq!(v["commits"], 1);
    let summary = std::fs::read_to_string(repo.path().join("s.md")).unwrap();
    assert!(
        summary.contains("**1.1.0**") && summary.contains("auto: 1 commit(s) since `v1.0.0`"),
        "{summary}"
    );
}

#[test]
fn config_file_and_env_layers() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("rel-1.0.0").commit("fix: y");
    repo.write(
        ".mp-release.yml",
        "version-from: git-tag:rel-\nbump: major\n",
    );
    assert_eq!(ok(&repo, &[])["version"], "2.0.0");
    // env beats the file, flags beat env
    let trap = NetTrap::new();
    let mut c = bin(repo.path(), &trap);
    c.arg("version").env("INPUT_BUMP", "minor");
    assert_eq!(kv(&run(c).stdout)["version"], "1.1.0");
    let mut c = bin(repo.path(), &trap);
    c.args(["version", "--bump", "patch"])
        .env("INPUT_BUMP", "minor");
    assert_eq!(kv(&run(c).stdout)["version"], "1.0.1");
    // an empty Action input is unset
    let mut c = bin(repo.path(), &trap);
    c.arg("version")
        .env("INPUT_BUMP", "")
        .env("INPUT_VERSION-FROM", "");
    assert_eq!(kv(&run(c).stdout)["version"], "2.0.0");
    assert_eq!(trap.connections(), 0);
}
