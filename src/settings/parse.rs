//! The typed parsers of inputs, one per kind, with their bounds: every input's text goes through
//! one of these (named by the input table's kinds), so a kind is read the same from a flag, the
//! environment or the config file.

use std::time::Duration;
use url::Url;

pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got {s:?}")),
    }
}

/// `wx` followed by 16 hex digits.
pub(crate) fn check_appid(s: &str) -> Result<String, String> {
    let s = s.trim();
    if mp_release_core::wechat::is_appid(s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "expected an appid: wx followed by 16 hex digits (like wx1234567890abcdef), got {s:?}"
        ))
    }
}

/// `90`, `90s`, `15m`, `5h`, `7d`, `1h30m` → seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("expected a duration such as 90s, 15m, 5h, 7d or 1h30m, got {s:?}");
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    if let Some(ms) = s.strip_suffix("ms") {
        return ms
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| bad());
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// A duration within `[min, max]`: a value outside is refused with the bound, so no later
/// arithmetic on it can overflow (a wait of 2^64 seconds, a poll of a century).
pub(crate) fn bounded_duration(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    let show = |d: Duration| match d.as_secs() {
        0 => format!("{} ms", d.as_millis()),
        n if n % 86_400 == 0 => format!("{}d", n / 86_400),
        n if n % 3600 == 0 => format!("{}h", n / 3600),
        n => format!("{n}s"),
    };
    if d < min {
        return Err(format!("at least {} is needed, got {s:?}", show(min)));
    }
    if d > max {
        return Err(format!("at most {} is allowed, got {s:?}", show(max)));
    }
    Ok(d)
}

/// `rollout`: comma-separated percentages, each with its own watch window when given
/// (`5@2h,20@12h,100`), else `watch`. Strictly increasing, 1–100, at most 20 steps; a step below
/// 100 % is watched at least a minute (the gate has nothing to judge sooner).
pub(crate) fn parse_rollout(
    s: &str,
    watch: u64,
) -> Result<Vec<mp_release_core::pipeline::RolloutStep>, String> {
    let mut steps: Vec<mp_release_core::pipeline::RolloutStep> = Vec::new();
    for part in s.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(format!(
                "an empty step in {s:?}: give percentages such as 1,5,20,100"
            ));
        }
        let (pct, w) = match part.split_once('@') {
            Some((p, w)) => (p, Some(w)),
            None => (part, None),
        };
        let percent: u32 = match pct.trim().trim_end_matches('%').parse() {
            Ok(p) if (1..=100).contains(&p) => p,
            _ => {
                return Err(format!(
                    "step {part:?}: expected a percentage from 1 to 100"
                ))
            }
        };
        let watch_secs = match w {
            Some(w) => bounded_duration(w.trim(), Duration::from_secs(60), limits::WATCH)
                .map_err(|e| format!("step {part:?}: the watch window: {e}"))?
                .as_secs(),
            None => watch,
        };
        if let Some(prev) = steps.last() {
            if percent <= prev.percent {
                return Err(format!(
                    "the percentages must rise step by step (WeChat refuses a lower one with 85082): {percent} after {}",
                    prev.percent
                ));
            }
        }
        if percent < 100 && watch_secs < 60 {
            return Err(format!(
                "step {part:?}: a watch window of at least 1m is needed"
            ));
        }
        steps.push(mp_release_core::pipeline::RolloutStep {
            percent,
            watch_secs,
        });
    }
    if steps.len() > 20 {
        return Err(format!("at most 20 steps, got {}", steps.len()));
    }
    Ok(steps)
}

/// Upper bounds of the duration inputs.
pub(crate) mod limits {
    use std::time::Duration;
    /// `wait-timeout`: longer than WeChat's 7 working days with room to spare.
    pub const WAIT: Duration = Duration::from_secs(30 * 86_400);
    /// `poll-interval`, `poll-max`, `privacy-poll-interval`.
    pub const POLL: Duration = Duration::from_secs(86_400);
    /// A rollout step's watch window: a week.
    pub const WATCH: Duration = Duration::from_secs(7 * 86_400);
    /// `request-timeout`, `upload-timeout`.
    pub const REQUEST: Duration = Duration::from_secs(3600);
    /// `lookback` of resume.
    pub const LOOKBACK: Duration = Duration::from_secs(90 * 86_400);
}

pub(crate) fn url(s: &str) -> Result<Url, String> {
    let u = Url::parse(s.trim())
        .map_err(|e| format!("expected a URL such as https://api.weixin.qq.com ({e})"))?;
    match u.scheme() {
        "http" | "https" => Ok(u),
        other => Err(format!(
            "expected an http or https URL, got scheme {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("90", 90),
            ("90s", 90),
            ("15m", 900),
            ("5h", 18_000),
            ("7d", 604_800),
            ("1h30m", 5_400),
            ("0", 0),
        ];
        for (s, want) in ok {
            assert_eq!(parse_duration(s).unwrap().as_secs(), want, "{s}");
        }
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
        let max = Duration::from_secs(30 * 86_400);
        assert_eq!(bounded_duration("30d", Duration::ZERO, max).unwrap(), max);
        for over in [
            "31d",
            "18446744073709551615",
            "18446744073709551615ms",
            "720h1s",
        ] {
            let e = bounded_duration(over, Duration::ZERO, max).unwrap_err();
            assert!(e.contains("at most 30d"), "{over}: {e}");
        }
        assert!(bounded_duration("0", Duration::from_millis(1), max)
            .unwrap_err()
            .contains("at least 1 ms"));
        for bad in ["", "5x", "h", "1.5h", "m5", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn appids() {
        assert!(check_appid("wx1234567890abcdef").is_ok());
        for bad in ["wx123", "ab1234567890abcdef", "wx1234567890abcdeg", ""] {
            assert!(check_appid(bad).is_err(), "{bad}");
        }
    }
}
