//! Tests of the runner protocol, parsing back with the runner's own rules.

use super::*;
use std::collections::BTreeMap;

/// The runner's `$GITHUB_OUTPUT` parser (actions/runner FileCommandManager, Linux): lines end at LF;
/// `name=value` when `=` comes before any `<<`; otherwise `name<<DELIM`, and the value is the exact
/// text up to the LF before the first line equal to DELIM.
fn runner_parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut idx = 0;
    let read_line = |idx: &mut usize| -> Option<(String, usize)> {
        if *idx >= text.len() {
            return None;
        }
        let start = *idx;
        match text[start..].find('\n') {
            Some(off) => {
                *idx = start + off + 1;
                Some((text[start..start + off].to_owned(), 1))
            }
            None => {
                *idx = text.len();
                Some((text[start..].to_owned(), 0))
            }
        }
    };
    while let Some((line, _)) = read_line(&mut idx) {
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let hd = line.find("<<");
        match (eq, hd) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                out.insert(line[..e].to_owned(), line[e + 1..].to_owned());
            }
            (_, Some(h)) => {
                let (name, delim) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delim.is_empty() {
                    return Err(format!("bad heredoc line {line:?}"));
                }
                let start = idx;
                let mut end = idx;
                loop {
                    let Some((l, nl)) = read_line(&mut idx) else {
                        return Err(format!("no delimiter {delim}"));
                    };
                    if l == delim {
                        break;
                    }
                    end = idx - nl;
                }
                out.insert(
                    name.to_owned(),
                    if end > start {
                        text[start..end].to_owned()
                    } else {
                        String::new()
                    },
                );
            }
            _ => return Err(format!("bad line {line:?}")),
        }
    }
    Ok(out)
}

#[test]
fn hostile_values_round_trip_exactly() {
    let values = [
        "",
        "plain",
        "a=b<<c",
        "100% done %0A not a newline",
        "line1\nline2",
        "crlf\r\nvalue\r\n",
        "lone\rcarriage",
        "ends with newline\n",
        "\n\n",
        "ghadelimiter_fixed\nghadelimiter_fixed",
        "EOF\nEOF\n",
        "emoji 🚀\nzh 体验版",
    ];
    // The injected delimiter generator first offers the would-be delimiter that the value contains.
    let mut file = String::new();
    for (i, v) in values.iter().enumerate() {
        let mut offers = [
            "ghadelimiter_fixed".to_owned(),
            "EOF".to_owned(),
            "ghadelimiter_2".to_owned(),
        ]
        .into_iter();
        file.push_str(&format_output(&format!("k{i}"), v, || {
            offers.next().unwrap()
        }));
    }
    let parsed = runner_parse(&file).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(parsed[&format!("k{i}")], *v, "value {i}");
    }
}

#[test]
fn single_line_is_plain_and_multiline_uses_random_delimiter() {
    assert_eq!(
        format_output("version", "1.2.3", || unreachable!()),
        "version=1.2.3\n"
    );
    let a = format_output("n", "x\ny", random_delimiter);
    let b = format_output("n", "x\ny", random_delimiter);
    assert!(a.starts_with("n<<ghadelimiter_"), "{a}");
    assert_ne!(a, b, "delimiters must be random");
}

#[test]
fn annotation_escaping() {
    let props = AnnotationProps {
        file: Some("src/a,b:c.rs".into()),
        line: Some(7),
        title: Some("50%: bad\nthing".into()),
    };
    assert_eq!(
        annotation(Level::Error, "100% wrong\r\nnext: line, here", &props),
        "::error file=src/a%2Cb%3Ac.rs,line=7,title=50%25%3A bad%0Athing::100%25 wrong%0D%0Anext: line, here\n"
    );
    assert_eq!(
        annotation(Level::Notice, "hi", &AnnotationProps::default()),
        "::notice::hi\n"
    );
    assert_eq!(
        annotation(Level::Warning, "w", &AnnotationProps::default()),
        "::warning::w\n"
    );
}

#[test]
fn summary_is_cut_visibly_within_the_limit() {
    let line = "| row | 体验版 | value |\n";
    let big = line.repeat(SUMMARY_LIMIT / line.len() + 100);
    for already in [0, 1000, SUMMARY_LIMIT - 200] {
        let out = fit_summary(&big, already);
        assert!(
            already + out.len() <= SUMMARY_LIMIT,
            "already {already}: {}",
            out.len()
        );
        assert!(
            out.ends_with("step-summary limit.\n"),
            "{}",
            &out[out.len() - 80..]
        );
        assert!(
            out.len() + already > SUMMARY_LIMIT - 5000,
            "cut far too early"
        );
    }
    assert_eq!(
        fit_summary(&big, SUMMARY_LIMIT - 10),
        "",
        "a full file gets nothing more"
    );
    let small = "# ok\n";
    assert_eq!(fit_summary(small, 0), small);
}

#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn mask_lines_are_escaped_and_secrets_redacted_from_outputs() {
    let buf = Shared::default();
    let mut w = Workflow::early(true, Redactor::default(), Box::new(buf.clone()));
    w.mask("-----BEGIN-----\nabc%0Adef\n-----END-----").unwrap();
    w.outputs(
        &[("version".into(), "token -----BEGIN----- here".into())],
        &serde_json::json!({}),
    )
    .unwrap();
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.starts_with(
            "::add-mask::-----BEGIN-----\n::add-mask::abc%250Adef\n::add-mask::-----END-----\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("version=token *** here\n"), "{text}");
}
