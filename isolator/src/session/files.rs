//! Files crossing the isolation boundary: the per-session directories, the
//! commands the HTTP side sends to a session actor about uploads and
//! downloads, and the CDP watchers that feed the upload, download and print
//! gates (file chooser, print requests, browser download events).
//!
//! Directories (both removed when the session ends):
//! - `<data_dir>/files/<session>/` (0700, the isolator only): uploads while
//!   they are received and scanned, and downloads once they are offered.
//! - `<tmp>/isolator-files-<random>/` (0711, made atomically with an
//!   unguessable name, so no other user can have prepared it): `uploads/`
//!   (0711) holds each staged file in its own directory with an
//!   unguessable name; the file is 0400 and owned by the browser's user
//!   when it runs as one (0600 otherwise), so the browser can read it and
//!   nobody else can. `downloads/` (0700, owned by the browser's user) is
//!   where Chromium saves downloads, which only the isolator reads. It is
//!   outside `data_dir` for the same reason as the browser profile: an
//!   unprivileged Chromium must reach it whatever `data_dir`'s permissions
//!   are.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chromiumoxide::cdp::browser_protocol::browser::{
    BrowserContextId, DownloadProgressState, EventDownloadProgress, EventDownloadWillBegin,
    SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use chromiumoxide::cdp::browser_protocol::dom::BackendNodeId;
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, EventFileChooserOpened, FileChooserOpenedMode,
    SetInterceptFileChooserDialogParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{AddBindingParams, EventBindingCalled};
use chromiumoxide::Page;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};

use crate::browser::Running;
use crate::enforce::Verdict;
use crate::session::config::SessionSettings;
use crate::session::tab::with_timeout;

/// Binding (in the page's main world) that `window.print()` reports through.
pub const PRINT_BINDING: &str = "__isolatorPrint";
/// Replaces `window.print()` in every document: printing is the print gate's.
const PRINT_SCRIPT: &str = "(() => { const b = window.__isolatorPrint; \
    if (typeof b !== 'function') return; delete window.__isolatorPrint; \
    Object.defineProperty(window, 'print', { value: function print() { b('print'); }, \
    writable: true, configurable: true }); })();";

/// What the HTTP side asks a session about files.
#[derive(Debug)]
pub enum FilesCmd {
    /// An upload for chooser `chooser` is about to be received: where to
    /// write it and how many bytes it may have (or why it may not start).
    BeginUpload {
        /// The chooser it answers.
        chooser: u64,
        /// The answer.
        reply: oneshot::Sender<Result<UploadTicket, String>>,
    },
    /// An upload was received completely into `ticket.path`.
    Uploaded {
        /// The chooser it answers.
        chooser: u64,
        /// The user's file name.
        name: String,
        /// Where it was written.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The gate's answer.
        reply: oneshot::Sender<UploadAnswer>,
    },
    /// The file behind download `id`, if it is offered to the user.
    Download {
        /// Download id (from the `download` message).
        id: u64,
        /// Path and name, or `None`.
        reply: oneshot::Sender<Option<(PathBuf, String)>>,
    },
}

/// Where and how much an upload may write.
#[derive(Debug)]
pub struct UploadTicket {
    /// The file to create.
    pub path: PathBuf,
    /// The most bytes it may have.
    pub limit: u64,
}

/// The upload gate's answer to the client.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UploadAnswer {
    /// The page received the file.
    pub allowed: bool,
    /// Why not (or a note), for the user.
    pub message: String,
}

/// Events the file gates' watchers and checks send to the session actor.
#[derive(Debug)]
pub enum FileEvent {
    /// The page opened a file chooser.
    Chooser {
        /// Tab id.
        tab: u16,
        /// The `<input type=file>` (absent for choosers without one).
        node: Option<BackendNodeId>,
        /// `multiple` attribute.
        multiple: bool,
    },
    /// The page (or the user) asked to print.
    Print {
        /// Tab id.
        tab: u16,
    },
    /// A download is about to begin somewhere in the browser.
    DownloadBegin {
        /// The frame that started it.
        frame: String,
        /// Chromium's download id.
        guid: String,
        /// Suggested file name.
        name: String,
        /// Tab, once known to be this session's.
        tab: Option<u16>,
    },
    /// A download made progress (or finished, or was cancelled).
    DownloadProgress {
        /// Chromium's download id.
        guid: String,
        /// `Some(true)` completed, `Some(false)` cancelled, `None` in progress.
        done: Option<bool>,
        /// Bytes received so far.
        received: u64,
        /// Bytes announced (0 when the size is unknown).
        total: u64,
    },
    /// An upload was checked.
    UploadChecked {
        /// The chooser it answers.
        chooser: u64,
        /// The user's file name.
        name: String,
        /// Where it was received.
        path: PathBuf,
        /// Bytes.
        size: u64,
        /// The page URL it was decided for.
        url: String,
        /// The verdict.
        verdict: Verdict,
        /// SHA-256 of the file when it passed (the submit gate skips it in request bodies).
        digest: Option<[u8; 32]>,
        /// The answer for the client.
        reply: oneshot::Sender<UploadAnswer>,
    },
    /// A finished download (or a printed PDF) was checked.
    DownloadChecked {
        /// Tab id.
        tab: u16,
        /// The page URL.
        url: String,
        /// The file.
        path: PathBuf,
        /// Its name for the user.
        name: String,
        /// Bytes.
        size: u64,
        /// The download gate's verdict.
        verdict: Verdict,
    },
    /// A print of tab `tab` was rendered and checked (or failed).
    Printed {
        /// Tab id.
        tab: u16,
        /// The page URL.
        url: String,
        /// The PDF's name.
        name: String,
        /// The stored PDF and its size, or why there is none.
        pdf: Result<(PathBuf, u64), String>,
        /// The print gate's verdict.
        print: Verdict,
        /// The download gate's verdict (when the print passed).
        download: Option<Verdict>,
    },
}

/// An open file chooser of the page.
#[derive(Debug)]
pub struct Chooser {
    /// Tab id.
    pub tab: u16,
    /// The file input.
    pub node: Option<BackendNodeId>,
    /// Several files allowed.
    pub multiple: bool,
    /// Staged files given to the input so far.
    pub staged: Vec<String>,
}

/// A download the browser is making for this session.
#[derive(Debug)]
pub struct Pending {
    /// Tab id.
    pub tab: u16,
    /// Page URL when it began.
    pub url: String,
    /// Suggested name.
    pub name: String,
    /// Blocked at the start or cancelled on the way (the file is deleted
    /// if it still arrives).
    pub blocked: bool,
    /// The most bytes it may have (`enforce.max_download_bytes`, lowered
    /// by the policy's cap).
    pub limit: u64,
    /// Its place among the file transfers in progress (none once blocked).
    pub permit: Option<crate::enforce::transfers::TransferPermit>,
}

/// A file offered to the user.
#[derive(Debug)]
pub struct Offered {
    /// Where it is.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
}

/// A session's file state: directories, choosers, downloads, and the channel
/// the watchers and checks report through.
pub struct FileState {
    /// `<data_dir>/files/<session>` (isolator only).
    pub private_dir: PathBuf,
    /// `<tmp>/isolator-files-<random>`.
    pub shared_dir: PathBuf,
    /// The browser's unprivileged (uid, gid), when it runs as one.
    browser_user: Option<(u32, u32)>,
    /// Open choosers by id.
    pub choosers: std::collections::HashMap<u64, Chooser>,
    /// Downloads in progress by guid.
    pub pending: std::collections::HashMap<String, Pending>,
    /// Files offered to the user by id.
    pub offered: std::collections::HashMap<u64, Offered>,
    /// Next chooser / download / file id.
    pub next_id: u64,
    /// For watchers and checks.
    pub tx: mpsc::Sender<FileEvent>,
    /// The actor's end.
    pub rx: mpsc::Receiver<FileEvent>,
    /// The browser-wide download watcher.
    watcher: Option<tokio::task::JoinHandle<()>>,
    /// The tabs' chooser and print watchers.
    pub watchers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FileState {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        for w in &self.watchers {
            w.abort();
        }
        remove_dir(&self.private_dir);
        remove_dir(&self.shared_dir);
    }
}

fn remove_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), "session files were not removed: {e}");
        }
    }
}

fn make_dir(path: &Path, mode: u32) -> Result<(), String> {
    crate::os::private_fs::create_dir_exclusive(path, mode)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

impl FileState {
    /// Creates the session's directories and starts the download watcher.
    pub async fn start(
        config: &SessionSettings,
        session: &str,
        running: &Running,
        context: &BrowserContextId,
        timeout: std::time::Duration,
    ) -> Result<FileState, String> {
        let (tx, rx) = mpsc::channel(64);
        let files_root = config.data_dir.join("files");
        let private_dir = files_root.join(session);
        for dir in [&files_root, &private_dir] {
            crate::os::private_fs::ensure_private_dir(dir).map_err(|e| e.to_string())?;
        }
        let shared_dir = crate::os::private_fs::fresh_temp_dir("isolator-files-", 0o711)
            .map_err(|e| format!("cannot create a directory for the browser's files: {e}"))?;
        let mut state = FileState {
            private_dir,
            shared_dir,
            browser_user: config.browser_user,
            choosers: Default::default(),
            pending: Default::default(),
            offered: Default::default(),
            next_id: 1,
            tx,
            rx,
            watcher: None,
            watchers: Vec::new(),
        };
        make_dir(&state.uploads_dir(), 0o711)?;
        let downloads = state.downloads_dir();
        make_dir(&downloads, 0o700)?;
        if let Some((uid, gid)) = state.browser_user {
            std::os::unix::fs::chown(&downloads, Some(uid), Some(gid))
                .map_err(|e| format!("cannot hand {} to uid {uid}: {e}", downloads.display()))?;
        }
        state.watcher = Some(watch_downloads(running, state.tx.clone()).await?);
        let params = SetDownloadBehaviorParams {
            behavior: SetDownloadBehaviorBehavior::AllowAndName,
            browser_context_id: Some(context.clone()),
            download_path: Some(downloads.display().to_string()),
            events_enabled: Some(true),
        };
        with_timeout(timeout, running.browser.execute(params))
            .await
            .map_err(|e| format!("download behaviour: {e}"))?;
        Ok(state)
    }

    /// Where staged uploads live.
    pub fn uploads_dir(&self) -> PathBuf {
        self.shared_dir.join("uploads")
    }

    /// Where Chromium saves downloads.
    pub fn downloads_dir(&self) -> PathBuf {
        self.shared_dir.join("downloads")
    }

    /// Stages an allowed upload where the browser (and nobody else) can
    /// read it: `<uploads>/<random>/<name>`, the directory 0711, the file
    /// 0400 owned by the browser's user (0600 when the browser runs as the
    /// server's user). The file is moved from `from`.
    pub fn stage(&self, from: &Path, name: &str) -> std::io::Result<PathBuf> {
        let dir = self.uploads_dir().join(FileState::random_name());
        crate::os::private_fs::create_dir_exclusive(&dir, 0o711)?;
        let to = dir.join(name);
        move_file(from, &to)?;
        match self.browser_user {
            Some((uid, gid)) => {
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o400))?;
                std::os::unix::fs::chown(&to, Some(uid), Some(gid))?;
            }
            None => std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))?,
        }
        Ok(to)
    }

    /// A fresh id.
    pub fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A fresh unguessable file name.
    pub fn random_name() -> String {
        crate::auth::random_token()[..24].to_owned()
    }
}

/// Moves a file (a copy and delete across file systems); the result is
/// 0600 (a download arrives with the mode Chromium gave it).
pub fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::rename(from, to).is_ok() {
        // Once here (a directory only the server can write) it cannot change:
        // a symlink the browser's user left in its downloads is not followed.
        if !std::fs::symlink_metadata(to)?.file_type().is_file() {
            std::fs::remove_file(to)?;
            return Err(std::io::Error::other("not a regular file"));
        }
        return std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600));
    }
    let mut src = std::fs::File::open(from)?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    std::io::copy(&mut src, &mut dst)?;
    std::fs::remove_file(from)
}

/// Intercepts a tab's file chooser and `window.print()`, reporting both.
pub async fn watch_tab(
    tab: u16,
    page: &Page,
    tx: mpsc::Sender<FileEvent>,
    timeout: std::time::Duration,
) -> Result<tokio::task::JoinHandle<()>, chromiumoxide::error::CdpError> {
    let choosers = page.event_listener::<EventFileChooserOpened>().await?;
    let bindings = page.event_listener::<EventBindingCalled>().await?;
    with_timeout(
        timeout,
        page.execute(SetInterceptFileChooserDialogParams::new(true)),
    )
    .await?;
    with_timeout(
        timeout,
        page.execute(AddBindingParams {
            name: PRINT_BINDING.into(),
            execution_context_name: None,
        }),
    )
    .await?;
    with_timeout(
        timeout,
        page.execute(AddScriptToEvaluateOnNewDocumentParams {
            source: PRINT_SCRIPT.into(),
            world_name: None,
            include_command_line_api: None,
            run_immediately: Some(true),
        }),
    )
    .await?;
    // The document already loaded (about:blank or a popup) gets it too.
    let _ = page.evaluate_expression(PRINT_SCRIPT).await;
    let choosers = choosers.map(move |ev| FileEvent::Chooser {
        tab,
        node: ev.backend_node_id,
        multiple: ev.mode == FileChooserOpenedMode::SelectMultiple,
    });
    let prints = bindings.filter_map(move |ev| async move {
        (ev.name == PRINT_BINDING).then_some(FileEvent::Print { tab })
    });
    let mut all = futures::stream::select(choosers.boxed(), prints.boxed());
    Ok(tokio::spawn(async move {
        while let Some(ev) = all.next().await {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }))
}

/// Forwards the browser's download events (all contexts: the actor keeps its own).
async fn watch_downloads(
    running: &Running,
    tx: mpsc::Sender<FileEvent>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let begin = running
        .browser
        .event_listener::<EventDownloadWillBegin>()
        .await
        .map_err(|e| e.to_string())?;
    let progress = running
        .browser
        .event_listener::<EventDownloadProgress>()
        .await
        .map_err(|e| e.to_string())?;
    let begin = begin.map(|ev| FileEvent::DownloadBegin {
        frame: ev.frame_id.as_ref().to_owned(),
        guid: ev.guid.clone(),
        name: ev.suggested_filename.clone(),
        tab: None,
    });
    // Progress too, so a download growing past its cap is cancelled while
    // it arrives (Chromium reports it about twice a second).
    let progress = progress.map(|ev| {
        let done = match ev.state {
            DownloadProgressState::InProgress => None,
            DownloadProgressState::Completed => Some(true),
            DownloadProgressState::Canceled => Some(false),
        };
        let bytes = |v: f64| {
            if v.is_finite() && v > 0.0 {
                v as u64
            } else {
                0
            }
        };
        FileEvent::DownloadProgress {
            guid: ev.guid.clone(),
            done,
            received: bytes(ev.received_bytes),
            total: bytes(ev.total_bytes),
        }
    });
    let mut all = futures::stream::select(begin.boxed(), progress.boxed());
    Ok(tokio::spawn(async move {
        while let Some(ev) = all.next().await {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }))
}

/// A file name safe to show and to put in a header: no path, no control
/// characters, at most 200 characters, never empty.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_lose_paths_quotes_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\x\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("a\"b\n.txt"), "ab.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name("..."), "file");
        assert_eq!(clean_name(&"x".repeat(500)).len(), 200);
    }
}
