//! A faithful emulator of the WeChat server APIs that mp-release calls.
//!
//! Built like wiremock: the logic is a socket-free [`World`] (`World::handle(request) -> response`)
//! that follows `wechat-api.md`, including its odd rules (`{}` bodies, the privacy-scan wait, 85009,
//! 61039), with a virtual clock, scripted review outcomes, quotas, rate limits and faults. A thin HTTP
//! layer ([`Emulator::start`]) serves it on 127.0.0.1 from its own thread and runtime, and shuts down
//! on drop. Nothing in it sleeps except a scripted `delay` fault.
//!
//! Where the reference is unsure, the code says `REFERENCE-UNSURE:` and names the choice made.
#![warn(missing_docs)]

mod clock;
mod http;
mod qr;
pub mod scenario;
mod tls;
mod world;

pub use clock::{Clock, EPOCH};
pub use http::Emulator;
pub use scenario::{
    FaultKind, FaultRule, Feedback, JsError, Outcome, PushTarget, RandomFaults, RateLimit,
    ReviewStep, ScanRule, Scenario, Traffic, UploadLimits,
};
pub use tls::TestCa;
pub use world::{
    AppSpec, Category, JournalEntry, OutgoingPush, PushedEvent, Request, Response, UploadRecord,
    World, ADMIN_PREFIX,
};
