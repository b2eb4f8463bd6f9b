//! Adapters: everything that touches the outside world (git, files, GitHub's runner).

pub mod fs;
pub mod git;
pub mod github;
pub mod http;
pub mod notify;
pub mod qr;
pub mod upload;
pub mod wechat;
