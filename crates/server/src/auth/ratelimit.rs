//! Rate limiting of the auth endpoints, per client address (GCRA, the governor crate), so
//! that password guessing is slow and a flood of sign-ins cannot starve the server of CPU
//! (each one costs an Argon2 hash).

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// A per-address limiter.
#[derive(Clone)]
pub struct AuthLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for AuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthLimiter(..)")
    }
}

impl AuthLimiter {
    /// Allows `per_minute` attempts a minute per address, in bursts of up to `per_minute`.
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
        }
    }

    /// `Ok` when `addr` may try now, else how long until it may.
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        self.limiter.check_key(&addr).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_limited_after_its_burst_and_others_are_not() {
        let limiter = AuthLimiter::new(3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!((0..3).all(|_| limiter.check(a).is_ok()));
        let wait = limiter.check(a).err();
        assert!(wait.is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(20)));
        assert!(limiter.check(b).is_ok());
    }
}
