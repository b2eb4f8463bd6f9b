//! WeChat wire facts shared by the client and the emulator: the error-code table and the
//! `{errcode, errmsg}` envelope. One table, so the two cannot drift apart.

pub mod errcode;
