//! POSIX path arithmetic as Node's `path.posix` does it, on `/`-separated paths relative to the
//! mini program root (the root itself is `""`), and the order in which miniprogram-ci lists files.

use std::cmp::Ordering;

/// `path.posix.normalize` of a relative path: `.` and empty segments dropped, `..` applied (kept
/// at the front when it climbs above the root, so such a path names no file of the project).
pub fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// `path.posix.join(dir, rel)`, normalised; a leading `/` of `rel` does not restart at the root
/// (as in Node, where `join("a", "/b")` is `a/b`).
pub fn join(dir: &str, rel: &str) -> String {
    normalize(&format!("{dir}/{rel}"))
}

/// `path.posix.dirname`, with the root as `""`.
pub fn dirname(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `path.posix.relative(from, to)` for two root-relative paths.
pub fn relative(from: &str, to: &str) -> String {
    let (from, to) = (normalize(from), normalize(to));
    let f: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = std::iter::repeat_n("..", f.len() - common).collect();
    parts.extend(&t[common..]);
    parts.join("/")
}

/// The order of miniprogram-ci's project listing: each directory's entries sorted by name
/// (bytewise, as libuv's scandir sorts them), a directory's contents at the directory's place.
/// That is a comparison segment by segment, so `cell/x` comes before `cell-group/x` and `patch/x`
/// before `patch.wxss`, unlike a comparison of whole strings (`-` and `.` sort before `/`).
pub fn listing_order(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_path_semantics() {
        assert_eq!(normalize("./a/../b/./c/"), "b/c");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(join("pages/a", "../../c/d"), "c/d");
        assert_eq!(join("", "./x"), "x");
        assert_eq!(join("a", "/b"), "a/b");
        assert_eq!(dirname("app.json"), "");
        assert_eq!(dirname("pages/a/index"), "pages/a");
        assert_eq!(
            relative("pages/b", "miniprogram_npm/x/index"),
            "../../miniprogram_npm/x/index"
        );
        assert_eq!(relative("", "./c/index"), "c/index");
        assert_eq!(
            relative("components/cell", "components/glob/index"),
            "../glob/index"
        );
    }

    #[test]
    fn listing_is_segment_by_segment() {
        let mut v = vec![
            "a.js",
            "a-b.js",
            "a/b.js",
            "a.b/c.js",
            "cell-group/x",
            "cell/x",
            "patch.wxss",
            "patch/x.js",
            "B.js",
        ];
        v.sort_by(|a, b| listing_order(a, b));
        assert_eq!(
            v,
            [
                "B.js",
                "a/b.js",
                "a-b.js",
                "a.b/c.js",
                "a.js",
                "cell/x",
                "cell-group/x",
                "patch/x.js",
                "patch.wxss"
            ]
        );
    }
}
