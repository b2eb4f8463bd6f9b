//! Putting code on WeChat: the native engine (this binary speaks miniprogram-ci's protocol).

pub mod native;
