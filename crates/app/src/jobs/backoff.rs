//! How long a failed job waits before its next attempt.

use std::time::Duration;

/// Exponential backoff with jitter: after the n-th failed run a job waits `base · 2^(n−1)`, at most `cap`,
/// of which a random point in the upper half is taken (so many jobs failing together do not all come back in
/// the same millisecond, and no wait is shorter than half its step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    /// 5 s, 10 s, 20 s, ... up to an hour.
    fn default() -> Self {
        Backoff { base: Duration::from_secs(5), cap: Duration::from_secs(3600) }
    }
}

impl Backoff {
    /// The step after the `attempt`-th failed run (1-based; 0 counts as 1), before jitter.
    pub fn step(&self, attempt: i64) -> Duration {
        let mut step = self.base;
        // Doubling stops at the cap (at most 64 times before any Duration saturates), so no attempt overflows.
        for _ in 1..attempt.clamp(1, 66) {
            if step >= self.cap {
                break;
            }
            step = step.saturating_mul(2);
        }
        step.min(self.cap)
    }

    /// The wait after the `attempt`-th failed run, for a `jitter` drawn uniformly from `[0, 1)`:
    /// `step/2 + jitter · step/2`.
    pub fn delay(&self, attempt: i64, jitter: f64) -> Duration {
        let step = self.step(attempt);
        let half = step / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// [`Backoff::delay`] with a random jitter.
    pub fn delay_random(&self, attempt: i64) -> Duration {
        self.delay(attempt, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn steps_double_from_the_base() {
        let b = Backoff { base: ms(100), cap: Duration::from_secs(3600) };
        let steps: Vec<u128> = (1..=6).map(|n| b.step(n).as_millis()).collect();
        assert_eq!(steps, [100, 200, 400, 800, 1600, 3200]);
        // Attempt 0 (never happens: a failure follows a claim) is treated as the first.
        assert_eq!(b.step(0), ms(100));
        assert_eq!(b.step(-3), ms(100));
    }

    #[test]
    fn steps_stop_at_the_cap_and_never_overflow() {
        let b = Backoff { base: ms(1000), cap: ms(60_000) };
        assert_eq!(b.step(6), ms(32_000));
        assert_eq!(b.step(7), ms(60_000));
        assert_eq!(b.step(63), ms(60_000));
        assert_eq!(b.step(64), ms(60_000));
        assert_eq!(b.step(i64::MAX), ms(60_000));
        let huge = Backoff { base: Duration::from_secs(u64::MAX / 2), cap: Duration::MAX };
        assert!(huge.step(100) >= Duration::from_secs(u64::MAX / 2));
    }

    #[test]
    fn jitter_takes_the_upper_half_of_the_step() {
        let b = Backoff { base: ms(1000), cap: Duration::from_secs(3600) };
        assert_eq!(b.delay(3, 0.0), ms(2000));
        assert_eq!(b.delay(3, 0.5), ms(3000));
        assert_eq!(b.delay(3, 0.999_999).as_millis(), 3999);
        // Out-of-range jitter is clamped rather than trusted.
        assert_eq!(b.delay(3, -1.0), ms(2000));
        assert_eq!(b.delay(3, 7.0), ms(4000));
        // At the cap the jitter still spreads retries.
        let capped = Backoff { base: ms(1000), cap: ms(10_000) };
        assert_eq!(capped.delay(20, 0.0), ms(5000));
        assert_eq!(capped.delay(20, 1.0), ms(10_000));
    }

    #[test]
    fn random_delays_stay_in_bounds_and_spread() {
        let b = Backoff { base: ms(1000), cap: Duration::from_secs(3600) };
        let delays: Vec<Duration> = (0..1000).map(|_| b.delay_random(2)).collect();
        assert!(delays.iter().all(|d| *d >= ms(1000) && *d <= ms(2000)), "{delays:?}");
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "jitter should spread retries, got {} distinct delays", distinct.len());
    }
}
