//! Who may start a session: the per-address limit on public demo sessions, and the client's
//! address as the TCP peer gives it.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// At most `limit` starts per key (a client address, a caller's number) in any window (a
/// sliding window; 0: no limit).
pub struct RateLimiter<K = IpAddr> {
    limit: usize,
    window: Duration,
    seen: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    pub fn per_hour(limit: u32) -> RateLimiter<K> {
        RateLimiter::new(limit as usize, Duration::from_secs(3600))
    }

    pub fn new(limit: usize, window: Duration) -> RateLimiter<K> {
        RateLimiter {
            limit,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter<IpAddr> {
    /// Counts a start from `addr` at `now`; `Err(seconds)` until the next one is allowed.
    pub fn check(&self, addr: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        // Without a peer address (an in-process caller) every such caller shares one bucket.
        self.check_key(addr.unwrap_or(IpAddr::from([0, 0, 0, 0])), now)
    }
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    /// Counts a start for `key` at `now`; `Err(seconds)` until the next one is allowed.
    pub fn check_key(&self, key: K, now: Instant) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // Forget addresses whose starts all left the window, so the map cannot grow forever.
        if seen.len() > 10_000 {
            seen.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let starts = seen.entry(key).or_default();
        while starts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            starts.pop_front();
        }
        if starts.len() >= self.limit {
            let oldest = starts.front().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        starts.push_back(now);
        Ok(())
    }
}

/// The client's IP address (the TCP peer), when the server was started with connection info.
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_limit_per_window_and_is_told_when_to_come_back() {
        let rl = RateLimiter::new(3, Duration::from_secs(3600));
        let t0 = Instant::now();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for i in 0..3 {
            assert_eq!(rl.check(a, t0 + Duration::from_secs(i)), Ok(()));
        }
        let wait = rl.check(a, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, 3590, "until the first start leaves the window");
        assert_eq!(
            rl.check(b, t0 + Duration::from_secs(10)),
            Ok(()),
            "per address"
        );
        assert_eq!(rl.check(a, t0 + Duration::from_secs(3601)), Ok(()));
        let unlimited = RateLimiter::new(0, Duration::from_secs(1));
        for _ in 0..1000 {
            assert_eq!(unlimited.check(a, t0), Ok(()));
        }
    }
}
