//! The code-upload protocol of the official `miniprogram-ci` (2.1.42): the pack format, the
//! `ci.signature`, and the limits the server checks. Pure: bytes and strings in, bytes and strings out.

pub mod checks;
pub mod components;
pub mod js_json;
pub mod pack;
pub mod paths;
pub mod project;
pub mod schema;
pub mod signature;

/// The `miniprogram-ci` version our uploads claim to be (it goes into `ci.signature`).
pub const CI_VERSION: &str = "2.1.42";

/// WeChat's package limits as `getattr` reports them by default (MB): main package and each
/// subpackage 2 MB, all packages together 12 MB here (`MaxSubpackageFullCodeSize`; newer accounts get
/// more, which `getattr` tells).
pub const DEFAULT_MAX_CODE_MB: u64 = 2;
/// See [`DEFAULT_MAX_CODE_MB`].
pub const DEFAULT_MAX_SUB_MB: u64 = 2;
/// See [`DEFAULT_MAX_CODE_MB`].
pub const DEFAULT_MAX_FULL_MB: u64 = 12;
