//! Integration tests of the mp-release binary: one test binary, shared helpers.

mod helpers;

mod act;
mod action;
mod bad_input;
mod docs;
mod emulator_cmd;
mod fleet;
mod github;
mod hostile;
mod inputs;
mod interop;
mod layout;
mod notify;
mod pipeline;
mod proxy;
mod relay;
mod rollout;
mod stats;
mod template;
mod upload;
mod version_cmd;
mod workflow_output;
