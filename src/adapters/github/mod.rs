//! GitHub: the Actions runner protocol (workflow commands, output and summary files) and the REST
//! API (check runs, statuses, comments, releases).

pub mod actions;
pub mod api;
