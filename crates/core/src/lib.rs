//! Pure logic of mp-release.
//!
//! Everything here is deterministic and free of I/O: no files, no environment, no clock, no network,
//! no async runtime. The binary (and the emulator) feed it data and perform whatever it decides.
//! A CI check keeps tokio, reqwest, hyper and octocrab out of this crate's dependency tree.
#![warn(missing_docs)]

pub mod fleet;
pub mod github;
pub mod health;
pub mod identity;
pub mod json_edit;
pub mod limit;
pub mod notify;
pub mod pipeline;
pub mod push;
pub mod report;
pub mod retry;
pub mod stats;
pub mod template;
pub mod upload;
pub mod version;
pub mod wechat;
