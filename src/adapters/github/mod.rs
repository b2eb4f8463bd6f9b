//! GitHub: the Actions runner protocol (workflow commands, output and summary files).

pub mod actions;
