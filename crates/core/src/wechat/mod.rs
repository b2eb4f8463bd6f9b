//! WeChat wire facts shared by the client and the emulator: the error-code table and the
//! `{errcode, errmsg}` envelope (one table, so the two cannot drift apart), and the typed answers
//! (`wire`).

pub mod errcode;

pub mod wire;
