//! Bad input through the real binary: exit 2, the input named as given, what is expected, no
//! network, no file written.

use crate::helpers::*;

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    /// Every fragment must appear in stderr.
    says: &'static [&'static str],
}

const PROJECT_CONFIG: (&str, &str) = ("project.config.json", "{\"compileType\": \"miniprogram\"}");

const CASES: &[Case] = &[
    Case {
        name: "bump flag",
        args: &["version", "--bump", "huge"],
        env: &[],
        files: &[],
        says: &["--bump", "major, minor, patch"],
    },
    Case {
        name: "bump env",
        args: &["version"],
        env: &[("INPUT_BUMP", "bigger")],
        files: &[],
        says: &["INPUT_BUMP", "expected one of"],
    },
    Case {
        name: "bump people env",
        args: &["version"],
        env: &[("MP_RELEASE_BUMP", "x")],
        files: &[],
        says: &["MP_RELEASE_BUMP"],
    },
    Case {
        name: "version-from hyphen env",
        args: &["version"],
        env: &[("INPUT_VERSION-FROM", "svn")],
        files: &[],
        says: &["INPUT_VERSION-FROM", "git-tag"],
    },
    Case {
        name: "explicit not semver",
        args: &["version", "--version-from", "explicit:1.4"],
        env: &[],
        files: &[],
        says: &["--version-from", "semver version such as 1.4.0"],
    },
    Case {
        name: "explicit too long",
        args: &[
            "version",
            "--version-from",
            "explicit:1.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ],
        env: &[],
        files: &[],
        says: &["at most 64"],
    },
    Case {
        name: "preid",
        args: &["version", "--bump", "prepatch", "--preid", "be.ta"],
        env: &[],
        files: &[],
        says: &["--preid", "letters, digits and hyphens"],
    },
    Case {
        name: "preid with release level",
        args: &["version", "--bump", "minor", "--preid", "beta"],
        env: &[],
        files: &[],
        says: &["--preid only applies", "--bump minor"],
    },
    Case {
        name: "initial version",
        args: &["version", "--initial-version", "one"],
        env: &[],
        files: &[],
        says: &["--initial-version", "0.1.0"],
    },
    Case {
        name: "tag prefix",
        args: &["version", "--tag-prefix", "v 1"],
        env: &[],
        files: &[],
        says: &["--tag-prefix", "cannot contain"],
    },
    Case {
        name: "zero major rules",
        args: &["version", "--zero-major-rules", "loose"],
        env: &[],
        files: &[],
        says: &["--zero-major-rules", "shifted"],
    },
    Case {
        name: "output",
        args: &["version", "--output", "yaml"],
        env: &[],
        files: &[],
        says: &["--output", "text or json"],
    },
    Case {
        name: "dry-run env",
        args: &["version"],
        env: &[("MP_RELEASE_DRY_RUN", "maybe")],
        files: &[],
        says: &["MP_RELEASE_DRY_RUN", "true or false"],
    },
    Case {
        name: "verbose and quiet",
        args: &["-v", "-q", "version"],
        env: &[],
        files: &[],
        says: &["--verbose", "--quiet"],
    },
    Case {
        name: "verbose from the environment",
        args: &["version"],
        env: &[("INPUT_VERBOSE", "loud")],
        files: &[],
        says: &["INPUT_VERBOSE", "from 0 to 2"],
    },
    Case {
        name: "config missing",
        args: &["--config", "nope.yml", "version"],
        env: &[],
        files: &[],
        says: &["--config", "nope.yml"],
    },
    Case {
        name: "config unknown key",
        args: &["version"],
        env: &[],
        files: &[(".mp-release.yml", "bumb: minor\n")],
        says: &[".mp-release.yml", "unknown field `bumb`"],
    },
    Case {
        name: "config bad value",
        args: &["version"],
        env: &[],
        files: &[(".mp-release.yml", "bump: sideways\n")],
        says: &["`bump` in", ".mp-release.yml", "expected one of"],
    },
    Case {
        name: "config bad yaml",
        args: &["version"],
        env: &[],
        files: &[(".mp-release.yml", "bump: [\n")],
        says: &[".mp-release.yml"],
    },
    Case {
        name: "write not json",
        args: &["version", "--write", "VERSION.txt"],
        env: &[],
        files: &[],
        says: &["--write", ".json"],
    },
    Case {
        name: "write target without version",
        args: &[
            "version",
            "--version-from",
            "explicit:1.0.0",
            "--write",
            "app.json",
        ],
        env: &[],
        files: &[("app.json", "{\"name\": \"x\"}")],
        says: &["--write", "no top-level \"version\""],
    },
    Case {
        name: "package.json missing",
        args: &["version", "--version-from", "package.json"],
        env: &[],
        files: &[],
        says: &["--package-json", "cannot read"],
    },
    Case {
        name: "package.json bad version",
        args: &[
            "version",
            "--version-from",
            "package.json",
            "--bump",
            "patch",
        ],
        env: &[],
        files: &[("package.json", "{\"version\": \"latest\"}")],
        says: &["--package-json", "not semver"],
    },
    Case {
        name: "package.json not json",
        args: &["version", "--version-from", "package.json"],
        env: &[],
        files: &[("package.json", "{version: 1}")],
        says: &["--package-json", "not valid JSON"],
    },
    Case {
        name: "wechat source in version",
        args: &["version", "--version-from", "wechat"],
        env: &[],
        files: &[],
        says: &["--version-from", "mp-release run --version-from wechat"],
    },
    Case {
        name: "summary dir missing",
        args: &["version", "--summary-file", "no/such/dir/s.md"],
        env: &[],
        files: &[],
        says: &["--summary-file", "does not exist"],
    },
    Case {
        name: "unknown flag",
        args: &["version", "--bumpp", "x"],
        env: &[],
        files: &[],
        says: &["--bumpp"],
    },
    Case {
        name: "setting not JSON",
        args: &[
            "upload",
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            ".",
            "--setting",
            "{",
        ],
        env: &[],
        files: &[PROJECT_CONFIG],
        says: &["--setting", "not valid JSON"],
    },
    Case {
        name: "setting unknown option",
        args: &[
            "upload",
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            ".",
        ],
        env: &[("INPUT_SETTING", "{\"es5\": true}")],
        files: &[PROJECT_CONFIG],
        says: &[
            "INPUT_SETTING",
            "unknown compile option \"es5\"",
            "minifyWXSS",
        ],
    },
    Case {
        name: "setting not a boolean",
        args: &[
            "upload",
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            ".",
        ],
        env: &[],
        files: &[
            PROJECT_CONFIG,
            (".mp-release.yml", "setting: '{\"es6\": \"yes\"}'\n"),
        ],
        says: &["setting", "es6 must be true or false"],
    },
    Case {
        name: "miniprogram-ci-version a tag",
        args: &[
            "upload",
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            ".",
            "--miniprogram-ci-version",
            "latest",
        ],
        env: &[],
        files: &[PROJECT_CONFIG],
        says: &["--miniprogram-ci-version", "exact version"],
    },
    Case {
        name: "compileType unknown",
        args: &[
            "upload",
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            ".",
        ],
        env: &[],
        files: &[("project.config.json", "{\"compileType\": \"widget\"}")],
        says: &["--project-path", "compileType \"widget\""],
    },
    Case {
        name: "pack-npm with the native engine",
        args: &[
            "upload",
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            ".",
            "--engine",
            "native",
            "--pack-npm",
        ],
        env: &[],
        files: &[PROJECT_CONFIG],
        says: &["--pack-npm", "needs the miniprogram-ci engine"],
    },
    Case {
        name: "notify-on unknown event",
        args: &["version", "--notify-on", "published,everything"],
        env: &[],
        files: &[],
        says: &["--notify-on", "unknown event \"everything\"", "rolled-back"],
    },
    Case {
        name: "notify webhook not a URL",
        args: &["version"],
        env: &[("INPUT_NOTIFY_WECOM", "key=abcdefabcdef0123")],
        files: &[],
        says: &["INPUT_NOTIFY_WECOM", "https:// webhook URL", "not shown"],
    },
    Case {
        name: "notify signing secret alone",
        args: &["version"],
        env: &[("MP_RELEASE_NOTIFY_FEISHU_SECRET", "s3")],
        files: &[],
        says: &["MP_RELEASE_NOTIFY_FEISHU_SECRET", "without notify-feishu"],
    },
    Case {
        name: "notify list item",
        args: &["version"],
        env: &[],
        files: &[(
            ".mp-release.yml",
            "notify:\n  - teams: https://x.example/hook\n",
        )],
        says: &[".mp-release.yml", "item 1", "unknown key \"teams\""],
    },
    Case {
        name: "not a git repo",
        args: &["version"],
        env: &[],
        files: &[],
        says: &["not inside a git repository"],
    },
];

#[test]
fn every_bad_input_exits_2_names_it_and_touches_nothing() {
    assert!(CASES.len() >= 15);
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in case.files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        // A tracked file that a write would change, to prove nothing was written.
        std::fs::write(
            dir.path().join("package.json.keep"),
            "{\"version\": \"1.0.0\"}",
        )
        .unwrap();
        let before = snapshot(dir.path());
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.args(case.args);
        for (k, v) in case.env {
            c.env(k, v);
        }
        let r = run(c);
        assert_eq!(
            r.code, 2,
            "{}: exit {} stderr {}",
            case.name, r.code, r.stderr
        );
        for s in case.says {
            assert!(
                r.stderr.contains(s),
                "{}: {s:?} not in stderr:\n{}",
                case.name,
                r.stderr
            );
        }
        assert_eq!(trap.connections(), 0, "{}: network", case.name);
        assert_eq!(snapshot(dir.path()), before, "{}: files changed", case.name);
        assert!(r.stdout.is_empty(), "{}: stdout {:?}", case.name, r.stdout);
    }
}

fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn bad_input_in_actions_is_an_error_annotation() {
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["version"])
        .env("GITHUB_ACTIONS", "true")
        .env("INPUT_BUMP", "huge");
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout
            .starts_with("::error title=mp-release::invalid INPUT_BUMP"),
        "{}",
        r.stdout
    );
}
