//! Per-token request rates (token buckets, in this process) and daily byte
//! quotas per workspace, application and token, each per signal (counted
//! here and summed in the store, so every process sharing the database
//! sees the same totals within one sync interval).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sightline_core::{Signal, TenantId};

use crate::ControlError;
use crate::model::Authenticated;
use crate::store::ControlStore;

/// Token buckets by token id.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    rate: f64,
    cap: f64,
}

/// Buckets kept before full ones are dropped (a full bucket is the same as
/// no bucket).
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// Takes one request from `key`'s bucket (`rate` per second, holding at
    /// most `burst`, `ceil(rate)` when none); `Err` carries how long until
    /// the next request would be admitted.
    pub fn check(
        &self,
        key: &str,
        rate: f64,
        burst: Option<u32>,
        now: Instant,
    ) -> Result<(), Duration> {
        let cap =
            f64::from(burst.unwrap_or_else(|| rate.ceil().clamp(1.0, u32::MAX as f64) as u32));
        let mut b = self.buckets.lock();
        if b.len() > MAX_BUCKETS && !b.contains_key(key) {
            // Each bucket by its own rate: the full ones are as good as gone.
            b.retain(|_, x| {
                x.tokens + now.saturating_duration_since(x.at).as_secs_f64() * x.rate < x.cap
            });
        }
        let e = b.entry(key.to_string()).or_insert(Bucket {
            tokens: cap,
            at: now,
            rate,
            cap,
        });
        e.rate = rate;
        e.cap = cap;
        let elapsed = now.saturating_duration_since(e.at).as_secs_f64();
        e.tokens = (e.tokens + elapsed * rate).min(cap);
        e.at = now;
        if e.tokens >= 1.0 {
            e.tokens -= 1.0;
            Ok(())
        } else {
            // Bounded: a rate as low as allowed waits at most this long.
            let wait = ((1.0 - e.tokens) / rate).clamp(0.0, 86_400.0);
            Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::from_secs(86_400)))
        }
    }
}

/// A refused write: which quota, and when it resets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    /// `workspace`, `application` or `token`.
    pub scope: &'static str,
    pub limit: i64,
    pub retry_after_secs: u64,
}

impl std::fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "daily byte quota of the {} exceeded ({} bytes per day per signal); it resets at 00:00 UTC",
            self.scope, self.limit
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    workspace: TenantId,
    scope: String,
    signal: Signal,
    day: i64,
}

#[derive(Default)]
struct Usage {
    /// The store's total as last read.
    stored: i64,
    /// Admitted here and not yet added to the store.
    pending: i64,
}

/// Daily byte quotas.
pub struct Quotas {
    store: Arc<dyn ControlStore>,
    usage: Mutex<HashMap<Key, Usage>>,
}

/// How often admitted bytes are added to the store's totals.
pub const QUOTA_SYNC: Duration = Duration::from_secs(2);

impl Quotas {
    pub fn new(store: Arc<dyn ControlStore>) -> Arc<Self> {
        Arc::new(Quotas {
            store,
            usage: Mutex::new(HashMap::new()),
        })
    }

    /// The usage keys of a write by this token, with their limits.
    fn keys(
        auth: &Authenticated,
        signal: Signal,
        now_secs: i64,
    ) -> Vec<(&'static str, Key, Option<i64>)> {
        let Some(ws) = &auth.tenant else {
            return Vec::new();
        };
        let day = now_secs.div_euclid(86_400);
        let key = |scope: String| Key {
            workspace: ws.clone(),
            scope,
            signal,
            day,
        };
        // The workspace's usage is always counted; the others only when
        // limited.
        let mut keys = vec![(
            "workspace",
            key("workspace".into()),
            auth.limits.workspace_daily_bytes,
        )];
        if let (Some(app), Some(limit)) =
            (&auth.scope.application, auth.limits.application_daily_bytes)
        {
            keys.push((
                "application",
                key(format!("application:{app}")),
                Some(limit),
            ));
        }
        if let Some(limit) = auth.limits.token_daily_bytes {
            keys.push((
                "token",
                key(format!("token:{}", auth.token_id)),
                Some(limit),
            ));
        }
        keys
    }

    /// Admits `bytes` of `signal` for the token's workspace, application
    /// and token quotas, or refuses them all. Usage is stored under the
    /// signal's [`Signal::as_str`] name. `now_secs` is the caller's clock
    /// (Unix seconds). A write that then fails is given back with
    /// [`Quotas::refund`].
    pub async fn charge(
        &self,
        auth: &Authenticated,
        signal: Signal,
        bytes: i64,
        now_secs: i64,
    ) -> Result<Result<(), QuotaExceeded>, ControlError> {
        let checks = Self::keys(auth, signal, now_secs);
        let retry_after_secs = (86_400 - now_secs.rem_euclid(86_400)) as u64;
        // Totals not known here yet are read outside the lock.
        let missing: Vec<Key> = {
            let usage = self.usage.lock();
            checks
                .iter()
                .filter(|(_, k, limit)| limit.is_some() && !usage.contains_key(k))
                .map(|(_, k, _)| k.clone())
                .collect()
        };
        let mut loaded = Vec::with_capacity(missing.len());
        for k in missing {
            let stored = self
                .store
                .add_usage(&k.workspace, &k.scope, k.signal.as_str(), k.day, 0)
                .await?;
            loaded.push((k, stored));
        }
        let mut usage = self.usage.lock();
        for (k, stored) in loaded {
            usage.entry(k).or_insert(Usage { stored, pending: 0 });
        }
        for (scope, k, limit) in &checks {
            if let Some(limit) = limit {
                let u = usage.get(k).map(|u| u.stored + u.pending).unwrap_or(0);
                if u.saturating_add(bytes) > *limit {
                    return Ok(Err(QuotaExceeded {
                        scope: *scope,
                        limit: *limit,
                        retry_after_secs,
                    }));
                }
            }
        }
        for (_, k, _) in checks {
            usage.entry(k).or_default().pending += bytes;
        }
        Ok(Ok(()))
    }

    /// Gives back what [`Quotas::charge`] admitted for a write that was not
    /// stored after all.
    pub fn refund(&self, auth: &Authenticated, signal: Signal, bytes: i64, now_secs: i64) {
        let mut usage = self.usage.lock();
        for (_, k, _) in Self::keys(auth, signal, now_secs) {
            if let Some(u) = usage.get_mut(&k) {
                u.pending -= bytes;
            }
        }
    }

    /// Adds what was admitted to the store's totals and reads every total
    /// back (so other processes' usage shows here too); drops days that
    /// are over. The store is called outside the lock.
    pub async fn sync(&self, now_secs: i64) -> Result<(), ControlError> {
        let today = now_secs.div_euclid(86_400);
        let work: Vec<(Key, i64)> = {
            let mut usage = self.usage.lock();
            usage.retain(|k, _| k.day >= today - 1);
            usage.iter().map(|(k, u)| (k.clone(), u.pending)).collect()
        };
        for (k, sent) in work {
            let total = self
                .store
                .add_usage(&k.workspace, &k.scope, k.signal.as_str(), k.day, sent)
                .await?;
            if let Some(u) = self.usage.lock().get_mut(&k) {
                u.stored = total;
                u.pending -= sent;
            }
        }
        Ok(())
    }

    /// Runs [`Quotas::sync`] every [`QUOTA_SYNC`] until dropped.
    pub fn spawn_sync(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(QUOTA_SYNC);
            loop {
                tick.tick().await;
                let Some(q) = weak.upgrade() else { return };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default();
                if let Err(e) = q.sync(now).await {
                    tracing::warn!(error = %e, "quota usage sync failed");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_admits_the_burst_then_the_rate() {
        let r = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.check("a", 1.0, Some(3), t0).is_ok());
        }
        let wait = r.check("a", 1.0, Some(3), t0).expect_err("burst spent");
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert!(
            r.check("b", 1.0, Some(3), t0).is_ok(),
            "buckets are per key"
        );
        assert!(
            r.check("a", 1.0, Some(3), t0 + Duration::from_millis(1001))
                .is_ok()
        );
        assert!(
            r.check("a", 1.0, Some(3), t0 + Duration::from_millis(1002))
                .is_err()
        );
    }
}
