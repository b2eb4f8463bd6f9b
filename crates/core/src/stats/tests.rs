use super::*;
use crate::health::Signature;

fn visits(uv: u64) -> Visits {
    Visits {
        session_cnt: uv * 3 / 2,
        visit_pv: uv * 3,
        visit_uv: uv,
        visit_uv_new: uv / 10,
        stay_time_uv: 140.0,
        stay_time_session: 85.0,
        visit_depth: 2.5,
    }
}

fn errors(sigs: &[(&str, u64)]) -> VersionErrors {
    VersionErrors {
        signatures: sigs
            .iter()
            .map(|(m, users)| {
                (
                    format!("{m}:s"),
                    Signature {
                        message: (*m).to_owned(),
                        stack_head: format!("at {} (pages/index/index.js:1:1)", m.len()),
                        users: *users,
                        events: users * 2,
                    },
                )
            })
            .collect(),
    }
}

/// A week ending yesterday (not ready yet), crossing the release of 1.5.0 on 11-27.
pub(crate) fn week() -> Stats {
    let day = |d: u32, uv: Option<u64>| Day {
        date: format!("202611{d:02}"),
        visits: uv.map(visits),
    };
    Stats {
        appid: "wxa11ce5a4db0c0001".into(),
        days: vec![
            day(24, Some(9800)),
            day(25, Some(10_250)),
            day(26, Some(9900)),
            day(27, Some(12_400)),
            day(28, Some(13_100)),
            day(29, Some(12_800)),
            day(30, None),
        ],
        before: (17..24)
            .map(|d| day(d, Some(9000 + u64::from(d) * 10)))
            .collect(),
        pages: vec![
            Page {
                path: "pages/index/index".into(),
                pv: 120_000,
                uv: 60_000,
                entry_pv: 100_000,
                exit_pv: 40_000,
                share_pv: 900,
            },
            Page {
                path: "pages/cart/cart".into(),
                pv: 50_000,
                uv: 20_000,
                entry_pv: 2000,
                exit_pv: 15_000,
                share_pv: 30,
            },
        ],
        sources: vec![
            Source {
                key: 1,
                name: source_name(1),
                sessions: 50_000,
            },
            Source {
                key: 3,
                name: source_name(3),
                sessions: 30_000,
            },
            Source {
                key: 41,
                name: source_name(41),
                sessions: 2000,
            },
        ],
        startup: vec![Measure {
            id: "startup_total_cost".into(),
            name: "启动总耗时".into(),
            points: vec![
                ("20261124".into(), 1800.0),
                ("20261125".into(), 1750.0),
                ("20261126".into(), 1950.0),
            ],
        }],
        errors: vec![
            VersionErrorsOf {
                version: "1.5.0".into(),
                errors: errors(&[
                    ("TypeError: a is undefined", 40),
                    ("RangeError: \"x\" | y", 12),
                ]),
            },
            VersionErrorsOf {
                version: "1.4.2".into(),
                errors: errors(&[("TypeError: a is undefined", 95)]),
            },
        ],
        feedback: vec![FeedbackCount {
            kind: 2,
            name: feedback_name(2),
            count: 3,
        }],
        releases: vec![Release {
            date: "20261127".into(),
            version: "1.5.0".into(),
        }],
        notes: vec![
            "yesterday (11-30) is not ready yet: WeChat publishes a day's figures the next morning"
                .into(),
        ],
    }
}

#[test]
fn the_summary_and_the_terminal() {
    let s = week();
    insta::assert_snapshot!("stats_markdown", markdown(&s, "mp-release stats"));
    insta::assert_snapshot!("stats_terminal", terminal(&s));
}

#[test]
fn missing_days_are_not_zero() {
    let s = week();
    let (n, t) = totals(&s.days);
    assert_eq!(n, 6, "the day without figures is not counted");
    assert_eq!(t.visit_uv, 9800 + 10_250 + 9900 + 12_400 + 13_100 + 12_800);
    let md = markdown(&s, "t");
    assert!(md.contains("| 11-30 | not ready yet (T+1) |"), "{md}");
    // the chart leaves the day out instead of drawing a zero
    let chart = visits_chart(&s).unwrap();
    assert!(
        !chart.contains("\"11-30\"") && !chart.contains(", 0,"),
        "{chart}"
    );
    assert!(md.contains("11-27 · 1.5.0 released"), "{md}");
    // nothing at all: no chart, the table says so
    let mut empty = s;
    for d in &mut empty.days {
        d.visits = None;
    }
    assert!(visits_chart(&empty).is_none());
}

#[test]
fn the_charts_are_mermaid_xycharts() {
    let s = week();
    for chart in [visits_chart(&s).unwrap(), errors_chart(&s).unwrap()] {
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines[0], "```mermaid");
        assert_eq!(lines[1], "xychart-beta");
        assert_eq!(*lines.last().unwrap(), "```");
        // every statement is one the xychart grammar has, strings quoted, numbers plain
        for l in &lines[2..lines.len() - 1] {
            let l = l.trim();
            let ok = l.starts_with("title \"")
                || l.starts_with("x-axis [\"")
                || (l.starts_with("y-axis \"") && l.contains("\" 0 --> "))
                || l.starts_with("bar [")
                || l.starts_with("line [");
            assert!(ok, "{l}");
            if l.starts_with("bar [") || l.starts_with("line [") {
                let inner = l.split_once('[').unwrap().1.trim_end_matches(']');
                assert!(inner.split(", ").all(|n| n.parse::<u64>().is_ok()), "{l}");
            }
        }
    }
}

#[test]
fn helpers() {
    assert_eq!(source_name(1), "小程序历史列表");
    assert_eq!(source_name(10), "其他");
    assert_eq!(source_name(24), "卡券适用门店");
    assert_eq!(source_name(41), "来源 41");
    assert_eq!(source_name(0), "来源 0");
    assert_eq!(feedback_name(4), "黑屏白屏");
    assert_eq!(
        (nice_top(0), nice_top(1), nice_top(13_100), nice_top(50_001)),
        (1, 1, 20_000, 100_000)
    );
    assert_eq!(sparkline(&[Some(1), Some(8), None, Some(4)]), "▁█ ▄");
    assert_eq!(sparkline(&[Some(5), Some(5)]), "▄▄");
    let fresh = new_signatures(&week().errors);
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].users, 12);
    // a double quote inside a Mermaid string cannot be escaped: it becomes a single one
    let mut s = week();
    s.errors[0].version = "1.5.0 \"beta\"".into();
    assert!(errors_chart(&s).unwrap().contains("\"1.5.0 'beta'\""));
}

/// Absurd figures (a hostile or broken answer that still parses) render as absurd figures, never
/// as a panic: sums saturate, the sparkline scales in wider integers.
#[test]
fn absurd_figures_do_not_panic() {
    let mut s = week();
    for d in s.days.iter_mut().chain(s.before.iter_mut()) {
        if let Some(v) = &mut d.visits {
            v.visit_pv = u64::MAX;
            v.visit_uv = u64::MAX - 1;
            v.session_cnt = u64::MAX;
            v.visit_uv_new = u64::MAX;
        }
    }
    for x in &mut s.sources {
        x.sessions = u64::MAX;
    }
    let (_, t) = totals(&s.days);
    assert_eq!(t.visit_pv, u64::MAX);
    let md = markdown(&s, "t");
    assert!(md.contains("```mermaid"), "{md}");
    let _ = terminal(&s);
    assert_eq!(sparkline(&[Some(0), None, Some(u64::MAX)]), "▁ █");
}
