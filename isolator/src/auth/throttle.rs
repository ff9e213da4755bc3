//! Growing delays after failed logins, per (user name, client address).
//!
//! A hard lockout per user name is a weapon: five wrong passwords from
//! anywhere would lock the real user out. Here every key has its own
//! count, so an attacker slows down only their own guesses:
//!
//! - **(user, client)**: a few attempts free ([`FREE_PER_USER`]), then a wait
//!   that doubles with each further attempt, from [`FIRST_DELAY`] up to
//!   [`MAX_DELAY`]. The real user at another address is not affected.
//! - **(any user, client)**: the same from one client across all names
//!   (password spraying), after [`FREE_PER_CLIENT`] attempts.
//!
//! Counts decay: each [`DECAY`] without an attempt forgets one. A client is
//! its IPv4 address or its IPv6 /64 (one host usually holds a whole /64, so
//! per-address keys there would be no limit at all).
//!
//! Every attempt counts as a failure *before* the password is checked (so
//! parallel attempts cannot slip past the count), and a success takes it back.
//!
//! Memory is bounded: user names are kept only as SHA-256 (a 60 KB name
//! costs 32 bytes), and the table holds at most [`MAX_ENTRIES`]. When it is
//! full, decayed entries go first, then those with the fewest failures: a
//! flood of random names (one failure each) cannot flush the count of the
//! key an attacker is actually working on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Attempts per (user, client) without any wait.
pub const FREE_PER_USER: u32 = 3;
/// Attempts per client across all user names without any wait.
pub const FREE_PER_CLIENT: u32 = 20;
/// The first wait; each further attempt doubles it.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(5 * 60);
/// Quiet time after which one failure is forgotten.
pub const DECAY: Duration = Duration::from_secs(5 * 60);
/// Most keys tracked.
pub const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Scope {
    User([u8; 32]),
    AnyUser,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Key {
    scope: Scope,
    client: IpAddr,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last: Instant,
    until: Instant,
}

impl Entry {
    fn failures_at(&self, now: Instant) -> u32 {
        let quiet = now.saturating_duration_since(self.last).as_secs() / DECAY.as_secs();
        self.failures
            .saturating_sub(u32::try_from(quiet).unwrap_or(u32::MAX))
    }

    fn idle(&self, now: Instant) -> bool {
        self.failures_at(now) == 0 && self.until <= now
    }
}

/// The wait after the `n`th counted attempt when `free` are free.
pub fn delay_after(n: u32, free: u32) -> Duration {
    if n <= free {
        return Duration::ZERO;
    }
    let doublings = (n - free - 1).min(20);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// The failed-login table.
pub struct LoginThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
    max_entries: usize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

impl LoginThrottle {
    /// A table holding at most `max_entries` keys.
    pub fn with_capacity(max_entries: usize) -> Self {
        LoginThrottle {
            entries: Mutex::new(HashMap::new()),
            max_entries: max_entries.max(2),
        }
    }

    fn keys(user: &str, client: IpAddr) -> [(Key, u32); 2] {
        let client = client_net(client);
        [
            (
                Key {
                    scope: Scope::User(Sha256::digest(user.as_bytes()).into()),
                    client,
                },
                FREE_PER_USER,
            ),
            (
                Key {
                    scope: Scope::AnyUser,
                    client,
                },
                FREE_PER_CLIENT,
            ),
        ]
    }

    /// Starts a login attempt for `user` from `client`: `Err(wait)` while a
    /// wait is running, else the attempt is counted (as a failure until
    /// [`succeeded`](Self::succeeded) takes it back).
    pub fn begin(&self, user: &str, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let keys = Self::keys(user, client);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let wait = keys
            .iter()
            .filter_map(|(k, _)| entries.get(k))
            .map(|e| e.until.saturating_duration_since(now))
            .max()
            .unwrap_or_default();
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, free) in keys {
            if !entries.contains_key(&key) && entries.len() >= self.max_entries {
                evict(&mut entries, self.max_entries, now);
            }
            let e = entries.entry(key).or_insert(Entry {
                failures: 0,
                last: now,
                until: now,
            });
            let n = e.failures_at(now).saturating_add(1);
            *e = Entry {
                failures: n,
                last: now,
                until: now + delay_after(n, free),
            };
        }
        Ok(())
    }

    /// The attempt begun for `user` from `client` was right: its (user,
    /// client) count is cleared and the client's own count takes it back.
    pub fn succeeded(&self, user: &str, client: IpAddr, now: Instant) {
        let [(user_key, _), (client_key, free)] = Self::keys(user, client);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&user_key);
        if let Some(e) = entries.get_mut(&client_key) {
            let n = e.failures_at(now).saturating_sub(1);
            e.failures = n;
            e.last = now;
            e.until = now + delay_after(n, free);
        }
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room: drops idle entries, then those with the fewest failures,
/// down to nine tenths of `max`.
fn evict(entries: &mut HashMap<Key, Entry>, max: usize, now: Instant) {
    entries.retain(|_, e| !e.idle(now));
    let target = max - max / 10;
    if entries.len() <= target {
        return;
    }
    let mut by_failures: Vec<(u32, Key)> = entries
        .iter()
        .map(|(k, e)| (e.failures_at(now), *k))
        .collect();
    let drop = entries.len() - target;
    by_failures.select_nth_unstable_by_key(drop - 1, |(n, _)| *n);
    for (_, k) in &by_failures[..drop] {
        entries.remove(k);
    }
}

/// The unit a client is counted by: its IPv4 address, or its IPv6 /64.
fn client_net(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// How a name typed at the login form appears in the log. An unknown name
/// may be anything (a password typed in the wrong field, a forged log line),
/// so it is never written: only a short fingerprint that tells repeated
/// attempts apart. A known name is a configured user's, escaped and cut
/// anyway so no byte of it can start a new log line or an escape sequence.
pub fn name_for_log(name: &str, known: bool) -> String {
    if known {
        let mut out: String = name.chars().take(64).flat_map(char::escape_debug).collect();
        if name.chars().count() > 64 {
            out.push('…');
        }
        out
    } else {
        let digest = Sha256::digest(name.as_bytes());
        format!("(unknown user #{})", hex::encode(&digest[..4]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "192.0.2.1";
    const B: &str = "192.0.2.2";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn waits_double_from_the_fourth_attempt_and_are_capped() {
        let waits: Vec<u64> = (1..=14)
            .map(|n| delay_after(n, FREE_PER_USER).as_secs())
            .collect();
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(delay_after(u32::MAX, 3), MAX_DELAY);
    }

    #[test]
    fn attacker_at_one_address_does_not_slow_the_user_at_another() {
        let t = LoginThrottle::default();
        let mut now = Instant::now();
        let mut refused = 0;
        let mut last_wait = Duration::ZERO;
        for _ in 0..50 {
            match t.begin("alice", ip(A), now) {
                Ok(()) => {}
                Err(wait) => {
                    refused += 1;
                    assert!(
                        wait >= last_wait || last_wait.is_zero(),
                        "{wait:?} after {last_wait:?}"
                    );
                    last_wait = wait;
                    // The attacker waits it out and tries again.
                    now += wait;
                }
            }
        }
        assert!(refused > 5, "{refused}");
        assert!(last_wait >= Duration::from_secs(64), "{last_wait:?}");
        // alice at B: not slowed at all.
        assert_eq!(t.begin("alice", ip(B), now), Ok(()));
        t.succeeded("alice", ip(B), now);
        // And the attacker is still waiting.
        assert!(t.begin("alice", ip(A), now).is_err());
    }

    #[test]
    fn spraying_names_from_one_client_is_slowed_too() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        // The free attempts, and one more that starts the first wait.
        for i in 0..=FREE_PER_CLIENT {
            assert_eq!(t.begin(&format!("user{i}"), ip(A), now), Ok(()));
        }
        assert!(t.begin("one-more", ip(A), now).is_err());
        assert_eq!(t.begin("one-more", ip(B), now), Ok(()));
    }

    #[test]
    fn success_clears_and_counts_decay() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_PER_USER {
            t.begin("alice", ip(A), now).unwrap();
        }
        t.succeeded("alice", ip(A), now);
        for _ in 0..FREE_PER_USER {
            t.begin("alice", ip(A), now).unwrap();
        }
        // The fourth is delayed; after enough quiet time, free again.
        t.begin("alice", ip(A), now).unwrap();
        assert!(t.begin("alice", ip(A), now).is_err());
        let later = now + DECAY * 4;
        assert_eq!(t.begin("alice", ip(A), later), Ok(()));
    }

    #[test]
    fn ipv6_clients_count_by_slash_64() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..=FREE_PER_USER {
            t.begin("alice", ip(&format!("2001:db8:1:2::{i:x}")), now)
                .unwrap();
        }
        assert!(t.begin("alice", ip("2001:db8:1:2::ffff"), now).is_err());
        assert_eq!(t.begin("alice", ip("2001:db8:1:3::1"), now), Ok(()));
    }

    #[test]
    fn random_names_do_not_grow_the_table_or_flush_a_hot_key() {
        let t = LoginThrottle::with_capacity(1_000);
        let mut now = Instant::now();
        // The attacker's real work: many failures for alice from A.
        for _ in 0..10 {
            if let Err(w) = t.begin("alice", ip(A), now) {
                now += w;
            }
        }
        let hot = t.begin("alice", ip(A), now).unwrap_err();
        // Then 100 000 random names from 100 000 addresses.
        for i in 0..100_000u32 {
            let client = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = t.begin(&format!("random-{i}-{}", "x".repeat(100)), client, now);
            assert!(t.len() <= 1_000);
        }
        assert!(
            t.begin("alice", ip(A), now).is_err(),
            "alice@A was flushed: {hot:?}"
        );
    }

    #[test]
    fn names_in_the_log_are_cut_escaped_or_withheld() {
        let hostile = format!(
            "x\n2026-12-06T00:00:00Z INFO login user=admin\u{1b}[31m{}",
            "A".repeat(10_000)
        );
        let logged = name_for_log(&hostile, false);
        assert!(logged.starts_with("(unknown user #"), "{logged}");
        assert!(logged.len() < 40);
        let known = name_for_log(&hostile, true);
        assert!(
            !known.contains('\n') && !known.contains('\u{1b}'),
            "{known}"
        );
        assert!(known.chars().count() < 200, "{}", known.len());
        assert_eq!(name_for_log("alice", true), "alice");
        assert_eq!(name_for_log("x", false), name_for_log("x", false));
    }
}
