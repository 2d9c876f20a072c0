//! When to refresh a token, as Java's `ExpiringCredentialRefreshingLogin` decides it: at
//! `window_factor` (+ up to `window_jitter`) of its lifetime, but not before `min_period` has
//! passed nor later than `buffer` before it expires; a token too short-lived for both is
//! refreshed halfway. Sans-IO: times are passed in.

use std::time::Duration;

use tokio::time::Instant;

use crate::NetError;

/// Java's `sasl.login.refresh.*` settings (same names, same defaults, same bounds).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RefreshConfig {
    /// `sasl.login.refresh.window.factor`: fraction of the lifetime after which to refresh
    /// (0.5 to 1.0, default 0.8).
    pub window_factor: f64,
    /// `sasl.login.refresh.window.jitter`: random fraction added to it (0 to 0.25, default
    /// 0.05).
    pub window_jitter: f64,
    /// `sasl.login.refresh.min.period.seconds`: at least this long between refreshes (0 to 900
    /// s, default 60 s).
    pub min_period: Duration,
    /// `sasl.login.refresh.buffer.seconds`: refresh at least this long before expiry (0 to
    /// 3600 s, default 300 s).
    pub buffer: Duration,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            window_factor: 0.8,
            window_jitter: 0.05,
            min_period: Duration::from_secs(60),
            buffer: Duration::from_secs(300),
        }
    }
}

impl RefreshConfig {
    /// Checks the bounds Java checks.
    pub fn validate(&self) -> Result<(), NetError> {
        let invalid = |reason: &str| {
            Err(NetError::InvalidConfig {
                reason: reason.to_owned(),
            })
        };
        if !(0.5..=1.0).contains(&self.window_factor) {
            return invalid("sasl.login.refresh.window.factor must be between 0.5 and 1.0");
        }
        if !(0.0..=0.25).contains(&self.window_jitter) {
            return invalid("sasl.login.refresh.window.jitter must be between 0 and 0.25");
        }
        if self.min_period > Duration::from_secs(900) {
            return invalid("sasl.login.refresh.min.period.seconds must be at most 900");
        }
        if self.buffer > Duration::from_secs(3600) {
            return invalid("sasl.login.refresh.buffer.seconds must be at most 3600");
        }
        Ok(())
    }

    /// When to refresh a token obtained at `obtained` that expires at `expires`; `random` in
    /// `[0, 1)` draws the jitter.
    pub fn refresh_at(&self, obtained: Instant, expires: Instant, random: f64) -> Instant {
        let lifetime = expires.saturating_duration_since(obtained);
        if self.min_period + self.buffer > lifetime {
            return obtained + lifetime / 2;
        }
        let fraction = self.window_factor + self.window_jitter * random.clamp(0.0, 1.0);
        let proposed = obtained + lifetime.mul_f64(fraction);
        let buffer_start = expires - self.buffer;
        let min_end = obtained + self.min_period;
        proposed.min(buffer_start).max(min_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_follows_javas_window_min_period_and_buffer() {
        let config = RefreshConfig::default();
        let t0 = Instant::now();
        let hour = Duration::from_secs(3600);
        // One hour: 80 % to 85 % of it, well inside the bounds.
        let at = config.refresh_at(t0, t0 + hour, 0.0);
        assert_eq!(at - t0, hour.mul_f64(0.8));
        let at = config.refresh_at(t0, t0 + hour, 1.0);
        assert_eq!(at - t0, hour.mul_f64(0.85));
        // Ten minutes: 80 % would fall inside the 5-minute buffer, so at its start.
        let ten = Duration::from_secs(600);
        assert_eq!(
            config.refresh_at(t0, t0 + ten, 0.5) - t0,
            ten - config.buffer
        );
        // Four seconds cannot fit the min period and the buffer: halfway.
        let short = Duration::from_secs(4);
        assert_eq!(config.refresh_at(t0, t0 + short, 0.5) - t0, short / 2);
        // With small bounds the window applies, raised to the min period.
        let tight = RefreshConfig {
            min_period: Duration::from_millis(3500),
            buffer: Duration::ZERO,
            ..config
        };
        assert_eq!(
            tight.refresh_at(t0, t0 + short, 0.0) - t0,
            Duration::from_millis(3500)
        );
        assert_eq!(tight.refresh_at(t0, t0 + ten, 0.0) - t0, ten.mul_f64(0.8));
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        for bad in [
            RefreshConfig {
                window_factor: 0.4,
                ..Default::default()
            },
            RefreshConfig {
                window_jitter: 0.3,
                ..Default::default()
            },
            RefreshConfig {
                buffer: Duration::from_secs(3601),
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        RefreshConfig::default().validate().unwrap();
    }
}
