//! GitHub's REST API (check runs, statuses, comments, releases). The Actions runner protocol
//! (workflow commands, output and summary files) is the process output channel: `crate::output`.

pub mod api;
