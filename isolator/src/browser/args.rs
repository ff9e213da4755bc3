//! Chromium's command line, built here rather than by chromiumoxide's
//! launcher.
//!
//! chromiumoxide's `Browser::launch` added switches of its own, among them a
//! second `--disable-features`; Chromium honours only the last one, so the
//! isolator's list was dropped in most launches (argument order followed a
//! hash map). Now every switch is ours, and each feature list switch
//! (`disable-features`, `enable-features` and their Blink twins) appears at
//! most once, holding every value any source asked for.
//!
//! The DevTools protocol is served on a pipe (`--remote-debugging-pipe`),
//! never on a TCP port another local user could connect to.

use std::path::Path;

/// Switches that take a comma-separated feature list; Chromium keeps only
/// the last of each, so they are merged into one.
const LIST_SWITCHES: [&str; 4] = [
    "disable-features",
    "enable-features",
    "disable-blink-features",
    "enable-blink-features",
];

/// Switches the configuration may not set: they would reopen DevTools on a
/// port, move the profile out of the server's private directory, or make
/// the browser accept certificates other than the egress proxy's.
pub const RESERVED: [&str; 6] = [
    "remote-debugging-port",
    "remote-debugging-address",
    "remote-debugging-pipe",
    "user-data-dir",
    "ignore-certificate-errors",
    "ignore-certificate-errors-spki-list",
];

/// Features the isolator switches off in every launch.
pub fn disabled_features() -> Vec<&'static str> {
    let mut disabled = vec![
        // Less memory per context (measured on Chromium 156).
        "WebUIOmniboxAimPopup",
        "WebUIOmniboxPopup",
        "PreloadTopChromeWebUI",
        // No translation bar or its downloads.
        "TranslateUI",
    ];
    disabled.extend(crate::egress::chromium_disabled_features());
    disabled
}

/// The profile's `Default/Preferences`, written before the first launch.
/// Every session's BrowserContext reads through to these.
///
/// `plugins.always_open_pdf_externally`: a PDF is never shown by Chromium's
/// own viewer (its text would reach the screen without the page gate, the
/// viewer's document being out of reach of the page script); it is
/// downloaded instead, so the download gate scans it like any file.
pub fn profile_preferences() -> String {
    serde_json::json!({
        "plugins": { "always_open_pdf_externally": true },
    })
    .to_string()
}

/// Process-wide switches (without leading dashes), before merging.
fn base_switches(profile: &Path, no_sandbox: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "headless",
        "hide-scrollbars",
        "mute-audio",
        "remote-debugging-pipe",
        // What chromiumoxide's launcher passed (puppeteer's defaults) and
        // still applies.
        "disable-gpu",
        "disable-dev-shm-usage",
        "disable-client-side-phishing-detection",
        "disable-component-extensions-with-background-pages",
        "disable-extensions",
        "disable-hang-monitor",
        "disable-ipc-flooding-protection",
        "disable-popup-blocking",
        "disable-prompt-on-repost",
        // Also makes `Browser.getBrowserCommandLine` answer.
        "enable-automation",
        "enable-features=NetworkService,NetworkServiceInProcess",
        "enable-blink-features=IdleDetection",
        "lang=en_US",
        "password-store=basic",
        "use-mock-keychain",
        "font-render-hinting=none",
        "force-color-profile=srgb",
        // Every session's page is on someone's screen: Chromium must not treat
        // all but one of them as background tabs (no frames, throttled timers).
        "disable-renderer-backgrounding",
        "disable-background-timer-throttling",
        "disable-backgrounding-occluded-windows",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.push(format!("user-data-dir={}", profile.display()));
    if no_sandbox {
        args.push("no-sandbox".into());
        args.push("disable-setuid-sandbox".into());
    }
    // Keep all traffic in the per-session egress proxies.
    args.extend(crate::egress::chromium_hardening_args());
    args.push(format!(
        "disable-features={}",
        disabled_features().join(",")
    ));
    args
}

/// The whole command line after the executable: our switches, then `extra`
/// (from the caller and the configuration), each with its leading `--`,
/// feature lists merged into one switch each.
pub fn command_line(profile: &Path, no_sandbox: bool, extra: &[String]) -> Vec<String> {
    let mut switches = base_switches(profile, no_sandbox);
    switches.extend(extra.iter().cloned());
    merge(switches)
        .into_iter()
        .map(|s| format!("--{s}"))
        .collect()
}

/// Drops repeated switches (the first wins its place) and merges every list
/// switch into one at the end, values in first-seen order without repeats.
fn merge(switches: Vec<String>) -> Vec<String> {
    let mut lists: Vec<(&str, Vec<String>)> = LIST_SWITCHES.iter().map(|s| (*s, vec![])).collect();
    let mut out: Vec<String> = Vec::new();
    for switch in switches {
        let switch = switch.trim_start_matches('-').to_owned();
        let (name, value) = switch.split_once('=').unwrap_or((&switch, ""));
        if let Some((_, values)) = lists.iter_mut().find(|(n, _)| *n == name) {
            for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                if !values.iter().any(|x| x == v) {
                    values.push(v.to_owned());
                }
            }
        } else if !out.contains(&switch) {
            out.push(switch);
        }
    }
    for (name, values) in lists {
        if !values.is_empty() {
            out.push(format!("{name}={}", values.join(",")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(args: &[String], name: &str) -> usize {
        args.iter()
            .filter(|a| a.split('=').next() == Some(&format!("--{name}")))
            .count()
    }

    #[test]
    fn one_list_switch_holding_every_feature() {
        let extra = vec![
            "disable-features=Foo,WebUIOmniboxPopup".to_owned(),
            "enable-features=Bar".to_owned(),
            "lang=de".to_owned(),
        ];
        let args = command_line(Path::new("/p"), false, &extra);
        assert_eq!(count(&args, "disable-features"), 1, "{args:?}");
        assert_eq!(count(&args, "enable-features"), 1, "{args:?}");
        let disabled = args
            .iter()
            .find_map(|a| a.strip_prefix("--disable-features="))
            .unwrap();
        let disabled: Vec<&str> = disabled.split(',').collect();
        for f in disabled_features().into_iter().chain(["Foo"]) {
            assert_eq!(disabled.iter().filter(|d| **d == f).count(), 1, "{f}");
        }
        assert!(
            args.contains(&"--enable-features=NetworkService,NetworkServiceInProcess,Bar".into())
        );
        assert!(args.contains(&"--remote-debugging-pipe".into()));
        assert!(!args
            .iter()
            .any(|a| a.starts_with("--remote-debugging-port")));
        assert!(args.contains(&"--user-data-dir=/p".into()));
        assert!(!args.contains(&"--no-sandbox".into()));
        assert!(command_line(Path::new("/p"), true, &[]).contains(&"--no-sandbox".into()));
    }

    #[test]
    fn repeated_switches_appear_once() {
        let args = merge(vec!["a".into(), "--a".into(), "b=1".into()]);
        assert_eq!(args, ["a", "b=1"]);
    }
}
