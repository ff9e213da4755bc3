//! # isolator
//!
//! The service: an HTTP/WebSocket server that runs each user's browsing in a
//! remote headless Chromium (one BrowserContext per session), streams frames
//! to the web client and forwards its input, and owns every side effect of
//! enforcement and audit.

pub mod cli;
pub mod policy_watch;
