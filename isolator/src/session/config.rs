//! `[sessions]` and `[stream]`: session limits, timeouts and frame
//! streaming, and [`SessionSettings`], all a session needs to know of the
//! server's configuration.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// Session limits and timeouts.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Server-wide cap on live sessions; further users get a clear "full" message.
    pub max: usize,
    /// Most live sessions one user may have at once (the server-wide `max`
    /// still applies); one more is refused with a message naming the limit.
    /// Not applied with `auth.mode = "none"`, where everyone is the one user
    /// "anonymous".
    pub max_per_user: usize,
    /// Seconds without user input after which a session ends.
    pub idle_timeout_secs: u64,
    /// Seconds a session survives a dropped WebSocket, waiting for the client
    /// to re-attach with the same page state.
    pub reconnect_grace_secs: u64,
    /// Most tabs (the main page plus popups) a session may have open.
    pub max_tabs: usize,
    /// Most page loads (main-frame navigations, redirects and reloads
    /// included) per session per minute; beyond it loading is stopped with a
    /// notice (a refresh or redirect loop cannot spin the browser).
    pub max_navigations_per_minute: u32,
    /// A page whose renderer does not answer for this many seconds (a script
    /// in an endless loop) is reported after a third of it and then stopped:
    /// its renderer is killed and the tab shows a blank page. Sessions have
    /// their own renderers, so others are not affected.
    pub busy_page_kill_secs: u64,
    /// Keep one session's browser side (egress proxy, BrowserContext, blank
    /// page) made ahead, so that the next session starts without waiting
    /// for a renderer process (about 25 MB of Chromium memory and a
    /// loopback port while it waits). Off by default; on in the example
    /// configuration.
    pub spare: bool,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            max: 20,
            max_per_user: 5,
            idle_timeout_secs: 15 * 60,
            reconnect_grace_secs: 60,
            max_tabs: 8,
            max_navigations_per_minute: 120,
            busy_page_kill_secs: 30,
            spare: false,
        }
    }
}

/// Frame streaming from the isolated page to the client.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// JPEG quality, 1..=100.
    pub jpeg_quality: u8,
    /// Most frames per second sent to a client (60 fps costs Chromium ~1.5 cores
    /// per actively changing session on a small machine).
    pub max_fps: u32,
    /// The screen net: frames of pages whose `page` rule masks something are
    /// OCR'd where they changed and masked values hidden before the client
    /// sees them (see `gates::screen`). Off: only the page script masks.
    pub net: bool,
    /// Longest a frame is held while the net reads it, ms; past it the newest
    /// frame is shown with its unread text hidden (0..=5000).
    pub net_hold_ms: u64,
    /// OCR jobs of the net running at once on this machine, all sessions
    /// together; 0: half the cores, at least one (0..=64).
    pub net_ocr_slots: usize,
    /// Wall time for the OCR of one band of a frame, ms; a band not read in
    /// time is hidden (100..=30000).
    pub net_band_ms: u64,
    /// Seconds a watched page may stay still (no frame, no input) before its
    /// screencast rests: Chromium then frees the capture buffers (about
    /// 7 MB per session). Input, and any sign that the page changes (DOM,
    /// animations, media, scrolling, canvas drawing, navigation, dialogs),
    /// restart it with a fresh picture at once. 0: never rest (0..=3600).
    pub rest_after_secs: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            jpeg_quality: 70,
            max_fps: 30,
            net: true,
            net_hold_ms: 300,
            net_ocr_slots: 0,
            net_band_ms: 3_000,
            rest_after_secs: 20,
        }
    }
}

impl SessionsConfig {
    /// Checks values that parse but are out of range.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad =
            |field: &'static str, message: &str| Err(ConfigError::invalid(origin, field, message));
        if self.max == 0 || self.max > 10_000 {
            return bad("sessions.max", "must be between 1 and 10000");
        }
        if self.max_per_user == 0 || self.max_per_user > 10_000 {
            return bad("sessions.max_per_user", "must be between 1 and 10000");
        }
        if self.idle_timeout_secs < 10 {
            return bad("sessions.idle_timeout_secs", "must be at least 10 seconds");
        }
        if self.max_tabs == 0 || self.max_tabs > 100 {
            return bad("sessions.max_tabs", "must be between 1 and 100");
        }
        if self.max_navigations_per_minute == 0 {
            return bad("sessions.max_navigations_per_minute", "must be at least 1");
        }
        if !(6..=3600).contains(&self.busy_page_kill_secs) {
            return bad(
                "sessions.busy_page_kill_secs",
                "must be between 6 and 3600 seconds",
            );
        }
        Ok(())
    }
}

impl StreamConfig {
    /// Checks values that parse but are out of range.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(ConfigError::invalid(
                origin,
                "stream.jpeg_quality",
                "must be between 1 and 100",
            ));
        }
        if !(1..=60).contains(&self.max_fps) {
            return Err(ConfigError::invalid(
                origin,
                "stream.max_fps",
                "must be between 1 and 60",
            ));
        }
        if self.net_hold_ms > 5_000 {
            return Err(ConfigError::invalid(
                origin,
                "stream.net_hold_ms",
                "must be at most 5000",
            ));
        }
        if self.net_ocr_slots > 64 {
            return Err(ConfigError::invalid(
                origin,
                "stream.net_ocr_slots",
                "must be at most 64",
            ));
        }
        if !(100..=30_000).contains(&self.net_band_ms) {
            return Err(ConfigError::invalid(
                origin,
                "stream.net_band_ms",
                "must be between 100 and 30000",
            ));
        }
        if self.rest_after_secs > 3600 {
            return Err(ConfigError::invalid(
                origin,
                "stream.rest_after_secs",
                "must be at most 3600 (0: never rest)",
            ));
        }
        Ok(())
    }
}

/// What sessions need of the server's configuration, gathered by
/// [`crate::config::Config::session_settings`].
#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// Limits and timeouts.
    pub sessions: SessionsConfig,
    /// Frame streaming.
    pub stream: StreamConfig,
    /// How long one CDP command may take.
    pub command_timeout: Duration,
    /// The uid and gid Chromium runs as, when not the server's own.
    pub browser_user: Option<(u32, u32)>,
    /// Where sessions keep their files (`<data_dir>/files`).
    pub data_dir: PathBuf,
    /// Whether users are told apart (any auth mode but `none`), so that
    /// `sessions.max_per_user` applies.
    pub users_known: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            sessions: SessionsConfig::default(),
            stream: StreamConfig::default(),
            command_timeout: Duration::from_secs(10),
            browser_user: None,
            data_dir: std::env::temp_dir().join("isolator"),
            users_known: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StreamConfig;

    #[test]
    fn the_screen_net_options_are_checked_and_name_their_field() {
        assert!(StreamConfig::default().validate("t.toml").is_ok());
        let bad = [
            (
                StreamConfig {
                    net_hold_ms: 5_001,
                    ..Default::default()
                },
                "stream.net_hold_ms",
            ),
            (
                StreamConfig {
                    net_ocr_slots: 65,
                    ..Default::default()
                },
                "stream.net_ocr_slots",
            ),
            (
                StreamConfig {
                    net_band_ms: 99,
                    ..Default::default()
                },
                "stream.net_band_ms",
            ),
            (
                StreamConfig {
                    net_band_ms: 30_001,
                    ..Default::default()
                },
                "stream.net_band_ms",
            ),
            (
                StreamConfig {
                    rest_after_secs: 3_601,
                    ..Default::default()
                },
                "stream.rest_after_secs",
            ),
        ];
        for (config, field) in bad {
            let err = config.validate("t.toml").unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
        let off: StreamConfig = toml::from_str("net = false\nnet_hold_ms = 0").unwrap();
        assert!(!off.net && off.validate("t.toml").is_ok());
    }
}
