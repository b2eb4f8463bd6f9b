//! Where time comes from: the wall clock, or the emulator's virtual clock that tests and the sandbox
//! move through its admin API, so that nothing sleeps for real there.

use crate::adapters::wechat::WeChat;
use anyhow::Context;
use std::time::Duration;

/// Where time comes from: the wall clock, or the emulator's virtual clock (tests and the sandbox,
/// so that nothing sleeps for real).
#[derive(Debug)]
pub enum Clock {
    /// The wall clock.
    Real,
    /// The emulator's clock, moved through its admin API.
    Virtual {
        /// The emulator.
        wx: WeChat,
        /// Its time as last seen.
        now: u64,
    },
}

impl Clock {
    /// The virtual clock of the emulator behind `wx`.
    pub async fn virtual_of(wx: &WeChat) -> anyhow::Result<Self> {
        let now = wx
            .emulator_clock(None)
            .await
            .context("reading the emulator's clock (virtual-clock is set)")?;
        Ok(Self::Virtual {
            wx: wx.clone(),
            now,
        })
    }

    /// The virtual clock when `virtual_clock` is set (tests and the sandbox), else the wall clock.
    pub async fn of(wx: &WeChat, virtual_clock: bool) -> anyhow::Result<Self> {
        if virtual_clock {
            Self::virtual_of(wx).await
        } else {
            Ok(Self::Real)
        }
    }

    /// Unix seconds.
    pub fn now(&self) -> u64 {
        match self {
            Self::Real => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Self::Virtual { now, .. } => *now,
        }
    }

    /// Milliseconds (the virtual clock moves in whole seconds).
    pub fn now_ms(&self) -> u64 {
        match self {
            Self::Real => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            Self::Virtual { now, .. } => now.saturating_mul(1000),
        }
    }

    /// Sleeps (or advances the virtual clock by) this long.
    pub async fn sleep(&mut self, d: Duration) -> anyhow::Result<()> {
        match self {
            Self::Real => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Self::Virtual { wx, now } => {
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                *now = wx
                    .emulator_clock(Some(secs))
                    .await
                    .context("advancing the emulator's clock")?;
                Ok(())
            }
        }
    }
}
