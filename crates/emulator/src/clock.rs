//! The emulator's clock: virtual by default (moved by `advance` and by polls), or real time.

use std::time::Instant;

/// 2026-01-01T00:00:00Z: where every virtual clock starts, so ids and timestamps are reproducible.
pub const EPOCH: u64 = 1_767_225_600;

/// Seconds since the Unix epoch, virtual or real.
#[derive(Debug, Clone)]
pub struct Clock {
    offset: u64,
    real: Option<Instant>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::virtual_time()
    }
}

impl Clock {
    /// A virtual clock at [`EPOCH`] that moves only when told.
    pub fn virtual_time() -> Self {
        Self {
            offset: 0,
            real: None,
        }
    }

    /// A clock that follows the wall clock from [`EPOCH`] (served mode, for manual use).
    pub fn real_time() -> Self {
        Self {
            offset: 0,
            real: Some(Instant::now()),
        }
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> u64 {
        EPOCH + self.offset + self.real.map_or(0, |t| t.elapsed().as_secs())
    }

    /// Moves the clock forward.
    pub fn advance(&mut self, seconds: u64) {
        self.offset += seconds;
    }
}

/// WeChat resets daily counters at 00:00 Beijing time (UTC+8).
const BEIJING: u64 = 8 * 3600;

/// Day number (Beijing time) of a Unix timestamp.
pub fn day_of(ts: u64) -> u64 {
    (ts + BEIJING) / 86_400
}

/// Month number (year * 12 + month - 1, Beijing time) of a Unix timestamp.
pub fn month_of(ts: u64) -> u64 {
    // Civil-from-days (H. Hinnant's algorithm), for days since 1970-01-01.
    let z = i64::try_from(day_of(ts)).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    u64::try_from(y * 12 + m - 1).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_months_in_beijing_time() {
        // 2026-01-31T15:59:59Z is 23:59:59 in Beijing; one second later is February there.
        let end_jan = 1_769_875_199;
        assert_eq!(month_of(end_jan), 2026 * 12);
        assert_eq!(month_of(end_jan + 1), 2026 * 12 + 1);
        assert_eq!(day_of(end_jan) + 1, day_of(end_jan + 1));
        let mut c = Clock::virtual_time();
        assert_eq!(c.now(), EPOCH);
        c.advance(90);
        assert_eq!(c.now(), EPOCH + 90);
    }
}
