//! `JSON.stringify` as Node does it, for regenerated JSON files to match miniprogram-ci byte for byte:
//! compact; integer-like keys first in ascending order, then the others in source order; numbers
//! printed the JavaScript way (`10000.0` → `10000`, `1.5e4` → `15000`, `1e21` → `1e+21`); strings
//! with only `"`, `\` and control characters escaped (non-ASCII raw, `\/` becomes `/`).

use serde_json::{Map, Value};

/// A key JavaScript treats as an array index: a canonical decimal below 2³² − 1.
fn array_index(k: &str) -> Option<u32> {
    if k.is_empty() || (k.len() > 1 && k.starts_with('0')) || !k.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    k.parse::<u32>().ok().filter(|&n| n != u32::MAX)
}

/// Object keys in the order JavaScript enumerates them.
pub fn js_key_order(m: &Map<String, Value>) -> Vec<&String> {
    let mut ints: Vec<(u32, &String)> = m
        .keys()
        .filter_map(|k| array_index(k).map(|n| (n, k)))
        .collect();
    ints.sort_by_key(|(n, _)| *n);
    let mut keys: Vec<&String> = ints.into_iter().map(|(_, k)| k).collect();
    keys.extend(m.keys().filter(|k| array_index(k).is_none()));
    keys
}

/// JavaScript's `Number.prototype.toString()` for a finite number.
pub fn js_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return "null".into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest round-trip digits, as JavaScript uses.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign_e = if e >= 0 { "+" } else { "-" };
        match digits.len() {
            1 => format!("{digits}e{sign_e}{}", e.abs()),
            _ => format!("{}.{}e{sign_e}{}", &digits[..1], &digits[1..], e.abs()),
        }
    };
    format!("{sign}{body}")
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            // Integers that fit a double exactly print as they are; others go through f64 as in JS.
            (Some(i), _) if i.unsigned_abs() < (1 << 53) => out.push_str(&i.to_string()),
            (_, Some(u)) if u < (1 << 53) => out.push_str(&u.to_string()),
            _ => out.push_str(&js_number(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, k) in js_key_order(m).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(k, out);
                out.push(':');
                write(&m[k], out);
            }
            out.push('}');
        }
    }
}

/// `JSON.stringify(value)`.
pub fn stringify(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// `JSON.parse` of file text: a UTF-8 BOM is tolerated (Node's readers strip it).
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_javascript() {
        let cases = [
            (10000.0, "10000"),
            (1.50e4, "15000"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (-0.0, "0"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, want) in cases {
            assert_eq!(js_number(x), want, "{x}");
        }
        assert_eq!(
            stringify(&parse("[1.0, 2.50, 9007199254740993, -0]").unwrap()),
            "[1,2.5,9007199254740992,0]"
        );
    }

    #[test]
    fn integer_keys_first_then_source_order() {
        let v = parse(r#"{"b":1,"10":2,"a":3,"2":4,"01":5,"-1":6,"4294967295":7}"#).unwrap();
        assert_eq!(
            stringify(&v),
            r#"{"2":4,"10":2,"b":1,"a":3,"01":5,"-1":6,"4294967295":7}"#
        );
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let v = parse(r#"{"t":"首页 \u4e2d \/ slash \"q\" \\ \u0001 \t \u2028"}"#).unwrap();
        assert_eq!(
            stringify(&v),
            "{\"t\":\"首页 中 / slash \\\"q\\\" \\\\ \\u0001 \\t \u{2028}\"}"
        );
        assert!(parse("\u{feff}{\"a\":1}").is_ok());
    }
}
