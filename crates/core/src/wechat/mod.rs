//! WeChat wire facts shared by the client and the emulator: the error-code table and the
//! `{errcode, errmsg}` envelope (one table, so the two cannot drift apart), and the typed answers
//! (`wire`).

pub mod errcode;

/// An appid: `wx` followed by 16 hex digits (mini programs and platforms alike).
pub fn is_appid(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub mod wire;
