//! The upload, download and print gates in the session actor.
//!
//! - Upload: the page's file chooser is intercepted (`files::watch_tab`); the
//!   client is asked for files (`file_chooser`), uploads each over HTTP into
//!   the session's private directory, and the file is scanned under the
//!   `upload` decision. Only an allowed file is staged where the browser can
//!   read it and given to the input with `DOM.setFileInputFiles`; a blocked
//!   one is deleted at once.
//! - Download: Chromium saves into the session's download directory;
//!   `download = block` cancels at once, and so does a download beyond the
//!   transfer bounds ([`crate::enforce::transfers`]); one whose announced or
//!   received size passes the cap (`enforce.max_download_bytes`, lowered by
//!   the policy's) is cancelled while it arrives; otherwise the finished file
//!   is checked (type, size, scan: streamed from disk to the extraction
//!   worker, never read whole into memory) and only an allowed file is
//!   offered to the client (`download`). Blocked files are deleted.
//! - Print: `window.print()`, Ctrl/Cmd+P and the client's Print button follow
//!   the `print` decision; an allowed print is rendered with
//!   `Page.printToPDF` and then passes the download gate like any download.

use std::path::{Path, PathBuf};

use chromiumoxide::cdp::browser_protocol::browser::CancelDownloadParams;
use chromiumoxide::cdp::browser_protocol::dom::{DescribeNodeParams, SetFileInputFilesParams};
use chromiumoxide::cdp::browser_protocol::page::{GetFrameTreeParams, PrintToPdfParams};
use policies::{Action, Mode};
use tracing::{debug, warn};

use super::Actor;
use crate::enforce::transfers::TransferPermit;
use crate::enforce::{file_input, notice, Verdict};
use crate::protocol::ServerMsg;
use crate::session::files::{
    clean_name, move_file, Chooser, FileEvent, FileState, FilesCmd, Offered, Pending, UploadAnswer,
    UploadTicket,
};
use crate::session::tab::with_timeout;

/// "report.pdf (2.0 MB)": what a gate event says about a file, never its content.
pub(super) fn describe(verb: &str, name: &str, size: u64) -> String {
    format!("{verb} {name} ({})", size_text(size))
}

/// "2.0 MB", "3.5 KB", "12 bytes".
fn size_text(size: u64) -> String {
    if size >= 1 << 20 {
        format!("{:.1} MB", size as f64 / f64::from(1u32 << 20))
    } else if size >= 1 << 10 {
        format!("{:.1} KB", size as f64 / 1024.0)
    } else {
        format!("{size} bytes")
    }
}

/// Why a download over its cap is refused, for the user.
fn too_large(limit: u64) -> String {
    format!(
        "the file is larger than the {} allowed for a download",
        size_text(limit)
    )
}

fn delete(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            warn!(path = %path.display(), "a blocked file was not deleted: {e}");
        }
    }
}

/// Deletes a download's file and Chromium's partial file next to it.
fn delete_download(path: &Path) {
    delete(path);
    let mut partial = path.as_os_str().to_owned();
    partial.push(".crdownload");
    delete(Path::new(&partial));
}

/// Deletes a refused download's files now and again once Chromium has
/// settled: its file thread may still create or flush the partial file
/// after the cancel was reported (seen once in four full runs of the
/// 2 GiB download test: a `.crdownload` left behind).
fn delete_download_settled(path: PathBuf) {
    delete_download(&path);
    tokio::spawn(async move {
        for ms in [300, 1000] {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            delete_download(&path);
        }
    });
}

impl Actor {
    /// Intercepts the file chooser and `window.print()` of tab `tab_id`.
    pub(super) async fn watch_files(&mut self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        let page = tab.page.clone();
        let Some(files) = self.files.as_mut() else {
            return;
        };
        match crate::session::files::watch_tab(tab_id, &page, files.tx.clone(), self.timeout).await
        {
            Ok(task) => files.watchers.push(task),
            Err(e) => warn!(
                tab = tab_id,
                "file chooser and print are not intercepted: {e}"
            ),
        }
    }

    fn tab_url(&self, tab: u16) -> String {
        self.tab(tab).map(|t| t.url.clone()).unwrap_or_default()
    }

    /// A message from the HTTP side about files.
    pub(super) async fn on_files_cmd(&mut self, cmd: FilesCmd) {
        let Some(files) = self.files.as_mut() else {
            let answer = "file transfer is not available in this session".to_owned();
            match cmd {
                FilesCmd::BeginUpload { reply, .. } => drop(reply.send(Err(answer))),
                FilesCmd::Uploaded { path, reply, .. } => {
                    delete(&path);
                    let _ = reply.send(UploadAnswer {
                        allowed: false,
                        message: answer,
                    });
                }
                FilesCmd::Download { reply, .. } => drop(reply.send(None)),
            }
            return;
        };
        match cmd {
            FilesCmd::BeginUpload { chooser, reply } => {
                let Some(tab) = files.choosers.get(&chooser).map(|c| c.tab) else {
                    let _ = reply.send(Err(format!("file chooser {chooser} is not open")));
                    return;
                };
                let path = files.private_dir.join(FileState::random_name());
                let url = self.tab_url(tab);
                let d = self
                    .enforcer
                    .decide(&self.handle.user, &url, Action::Upload);
                let mut limit = self.enforcer.config().max_upload_bytes;
                if let Some(max) = d.limits.max_bytes(Action::Upload) {
                    limit = limit.min(max);
                }
                let _ = reply.send(Ok(UploadTicket { path, limit }));
            }
            FilesCmd::Uploaded {
                chooser,
                name,
                path,
                size,
                reply,
            } => {
                let Some(tab) = files.choosers.get(&chooser).map(|c| c.tab) else {
                    delete(&path);
                    let _ = reply.send(UploadAnswer {
                        allowed: false,
                        message: format!("file chooser {chooser} is not open"),
                    });
                    return;
                };
                let tx = files.tx.clone();
                let url = self.tab_url(tab);
                let decision = self
                    .enforcer
                    .decide(&self.handle.user, &url, Action::Upload);
                let enforcer = self.enforcer.clone();
                tokio::spawn(async move {
                    // Scanned and hashed from disk, never read whole into memory.
                    let verdict = enforcer.check_file(&decision, &name, path.clone()).await;
                    let digest = if verdict.passes() {
                        let p = path.clone();
                        match tokio::task::spawn_blocking(move || file_input::digest_file(&p)).await
                        {
                            Ok(Ok(d)) => Some(d),
                            _ => None,
                        }
                    } else {
                        None
                    };
                    let ev = FileEvent::UploadChecked {
                        chooser,
                        name,
                        path,
                        size,
                        url,
                        verdict,
                        digest,
                        reply,
                    };
                    if let Err(mpsc_err) = tx.send(ev).await {
                        if let FileEvent::UploadChecked { path, .. } = mpsc_err.0 {
                            delete(&path);
                        }
                    }
                });
            }
            FilesCmd::Download { id, reply } => {
                let _ = reply.send(
                    files
                        .offered
                        .get(&id)
                        .map(|o| (o.path.clone(), o.name.clone())),
                );
            }
        }
    }

    /// An upload that never completed (too large, dropped): reported as blocked.
    pub(super) fn upload_refused(&mut self, chooser: u64, name: &str, size: u64, reason: String) {
        let Some(tab) = self
            .files
            .as_ref()
            .and_then(|f| f.choosers.get(&chooser))
            .map(|c| c.tab)
        else {
            return;
        };
        let url = self.tab_url(tab);
        let d = self
            .enforcer
            .decide(&self.handle.user, &url, Action::Upload);
        let verdict = Verdict::blocked(&d, reason);
        self.report_gate(
            Some(tab),
            &url,
            Action::Upload,
            describe("upload", name, size),
            verdict,
        );
    }

    /// The user cancelled the picker: the page's chooser is forgotten (the
    /// input keeps what it had).
    pub(super) fn cancel_chooser(&mut self, id: u64) {
        if let Some(f) = self.files.as_mut() {
            f.choosers.remove(&id);
        }
    }

    /// An event from the file watchers or a finished check.
    pub(super) async fn on_file_event(&mut self, ev: FileEvent) {
        match ev {
            FileEvent::Chooser {
                tab,
                node,
                multiple,
            } => self.chooser_opened(tab, node, multiple).await,
            FileEvent::Print { tab } => self.print(tab),
            FileEvent::DownloadBegin {
                frame,
                guid,
                name,
                tab,
            } => self.download_begins(frame, guid, name, tab).await,
            FileEvent::DownloadProgress {
                guid,
                done,
                received,
                total,
            } => self.download_progress(guid, done, received, total).await,
            FileEvent::UploadChecked {
                chooser,
                name,
                path,
                size,
                url,
                verdict,
                digest,
                reply,
            } => {
                // Known before the page can send the file: the submit gate
                // then leaves it to this verdict.
                if let Some(d) = digest {
                    self.context_link.link().uploads.remember(&name, d);
                }
                let answer = self
                    .upload_checked(chooser, &name, &path, size, &url, verdict)
                    .await;
                let _ = reply.send(answer);
            }
            FileEvent::DownloadChecked {
                tab,
                url,
                path,
                name,
                size,
                verdict,
            } => self.download_checked(tab, &url, path, name, size, verdict),
            FileEvent::Printed {
                tab,
                url,
                name,
                pdf,
                print,
                download,
            } => {
                let size = pdf.as_ref().map(|(_, s)| *s).unwrap_or(0);
                let passes = print.passes();
                self.report_gate(
                    Some(tab),
                    &url,
                    Action::Print,
                    describe("print to", &name, size),
                    print,
                );
                match (pdf, download) {
                    (Ok((path, size)), Some(verdict)) if passes => {
                        self.download_checked(tab, &url, path, name, size, verdict)
                    }
                    (Ok((path, _)), _) => delete(&path),
                    (Err(_), _) => {}
                }
            }
        }
    }

    async fn chooser_opened(
        &mut self,
        tab: u16,
        node: Option<chromiumoxide::cdp::browser_protocol::dom::BackendNodeId>,
        multiple: bool,
    ) {
        let url = self.tab_url(tab);
        let d = self
            .enforcer
            .decide(&self.handle.user, &url, Action::Upload);
        if d.mode == Mode::Block {
            let verdict = Verdict::before_scan(&d).expect("a block decides before scanning");
            self.report_gate(
                Some(tab),
                &url,
                Action::Upload,
                "file chooser".into(),
                verdict,
            );
            return;
        }
        let accept = match (&node, self.tab(tab)) {
            (Some(node), Some(t)) => {
                let p = DescribeNodeParams {
                    backend_node_id: Some(*node),
                    ..Default::default()
                };
                match with_timeout(self.timeout, t.page.execute(p)).await {
                    Ok(r) => r
                        .result
                        .node
                        .attributes
                        .unwrap_or_default()
                        .chunks(2)
                        .find(|kv| kv.len() == 2 && kv[0].eq_ignore_ascii_case("accept"))
                        .map(|kv| kv[1].chars().take(256).collect())
                        .unwrap_or_default(),
                    Err(e) => {
                        debug!("file input not described: {e}");
                        String::new()
                    }
                }
            }
            _ => String::new(),
        };
        let Some(files) = self.files.as_mut() else {
            return;
        };
        // One open chooser per tab: a newer one replaces it.
        files.choosers.retain(|_, c| c.tab != tab);
        let id = files.id();
        files.choosers.insert(
            id,
            Chooser {
                tab,
                node,
                multiple,
                staged: Vec::new(),
            },
        );
        self.send(ServerMsg::FileChooser {
            id,
            multiple,
            accept,
        });
    }

    async fn upload_checked(
        &mut self,
        chooser: u64,
        name: &str,
        path: &Path,
        size: u64,
        url: &str,
        verdict: Verdict,
    ) -> UploadAnswer {
        let tab = self
            .files
            .as_ref()
            .and_then(|f| f.choosers.get(&chooser))
            .map(|c| c.tab);
        let passes = verdict.passes();
        let refusal = notice::text(Action::Upload, &verdict);
        self.report_gate(
            tab,
            url,
            Action::Upload,
            describe("upload", name, size),
            verdict,
        );
        if !passes {
            delete(path);
            return UploadAnswer {
                allowed: false,
                message: refusal.unwrap_or_else(|| "The file was blocked.".into()),
            };
        }
        let (Some(files), Some(tab_id)) = (self.files.as_mut(), tab) else {
            delete(path);
            return UploadAnswer {
                allowed: false,
                message: "The page closed its file chooser.".into(),
            };
        };
        let staged = match files.stage(path, name) {
            Ok(p) => p,
            Err(e) => {
                delete(path);
                warn!("an allowed upload could not be staged: {e}");
                return UploadAnswer {
                    allowed: false,
                    message: "The file could not be handed to the page.".into(),
                };
            }
        };
        let Some(c) = files.choosers.get_mut(&chooser) else {
            return UploadAnswer {
                allowed: false,
                message: "The page closed its file chooser.".into(),
            };
        };
        if !c.multiple {
            c.staged.clear();
        }
        c.staged.push(staged.display().to_string());
        let mut p = SetFileInputFilesParams::new(c.staged.clone());
        p.backend_node_id = c.node;
        let result = match self.tab(tab_id) {
            Some(t) => with_timeout(self.timeout, t.page.execute(p))
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            None => Err("the tab is closed".into()),
        };
        match result {
            Ok(()) => UploadAnswer {
                allowed: true,
                message: format!("{name} was given to the page."),
            },
            Err(e) => {
                warn!("file input not set: {e}");
                UploadAnswer {
                    allowed: false,
                    message: format!("The page's file field is gone ({e})."),
                }
            }
        }
    }

    async fn download_begins(
        &mut self,
        frame: String,
        guid: String,
        name: String,
        tab: Option<u16>,
    ) {
        let tab = tab.or_else(|| {
            self.tabs
                .iter()
                .find(|t| t.target_id.as_ref() == frame)
                .map(|t| t.id)
        });
        let Some(tab) = tab else {
            // Maybe a subframe of one of our tabs: look it up without stalling the actor.
            let pages: Vec<_> = self.tabs.iter().map(|t| (t.id, t.page.clone())).collect();
            let Some(tx) = self.files.as_ref().map(|f| f.tx.clone()) else {
                return;
            };
            let timeout = self.timeout;
            tokio::spawn(async move {
                for (id, page) in pages {
                    let Ok(tree) = with_timeout(timeout, page.execute(GetFrameTreeParams {})).await
                    else {
                        continue;
                    };
                    let mut stack = vec![tree.result.frame_tree];
                    while let Some(t) = stack.pop() {
                        if t.frame.id.as_ref() == frame {
                            let _ = tx
                                .send(FileEvent::DownloadBegin {
                                    frame,
                                    guid,
                                    name,
                                    tab: Some(id),
                                })
                                .await;
                            return;
                        }
                        stack.extend(t.child_frames.unwrap_or_default());
                    }
                }
            });
            return;
        };
        let url = self.tab_url(tab);
        let name = clean_name(&name);
        let d = self
            .enforcer
            .decide(&self.handle.user, &url, Action::Download);
        let mut limit = self.enforcer.config().max_download_bytes;
        if let Some(max) = d.limits.max_bytes(Action::Download) {
            limit = limit.min(max);
        }
        let (blocked, permit) = if d.mode == Mode::Block {
            let verdict = Verdict::before_scan(&d).expect("a block decides before scanning");
            self.cancel_download(&guid).await;
            self.report_gate(
                Some(tab),
                &url,
                Action::Download,
                format!("download {name}"),
                verdict,
            );
            (true, None)
        } else {
            match self.enforcer.transfers().try_begin(&self.handle.user.name) {
                Ok(permit) => (false, Some(permit)),
                Err(why) => {
                    self.cancel_download(&guid).await;
                    self.report_gate(
                        Some(tab),
                        &url,
                        Action::Download,
                        format!("download {name}"),
                        Verdict::blocked(&d, why),
                    );
                    (true, None)
                }
            }
        };
        if let Some(files) = self.files.as_mut() {
            files.pending.insert(
                guid,
                Pending {
                    tab,
                    url,
                    name,
                    blocked,
                    limit,
                    permit,
                },
            );
        }
    }

    /// Asks Chromium to cancel download `guid` (its partial file is deleted).
    async fn cancel_download(&self, guid: &str) {
        let cancel = CancelDownloadParams {
            guid: guid.to_owned(),
            browser_context_id: Some(self.context_id.clone()),
        };
        if let Err(e) = with_timeout(self.timeout, self.running.browser.execute(cancel)).await {
            debug!("download not cancelled (it may have finished; it is deleted then): {e}");
        }
        if let Some(files) = self.files.as_ref() {
            delete_download_settled(files.downloads_dir().join(guid));
        }
    }

    async fn download_progress(
        &mut self,
        guid: String,
        done: Option<bool>,
        received: u64,
        total: u64,
    ) {
        let Some(files) = self.files.as_mut() else {
            return;
        };
        if done.is_none() {
            // Still arriving: cancelled as soon as it is known to be too large.
            let Some(p) = files.pending.get_mut(&guid) else {
                return;
            };
            if p.blocked || received.max(total) <= p.limit {
                return;
            }
            p.blocked = true;
            p.permit = None;
            let (tab, url, name, limit) = (p.tab, p.url.clone(), p.name.clone(), p.limit);
            self.cancel_download(&guid).await;
            let d = self
                .enforcer
                .decide(&self.handle.user, &url, Action::Download);
            let reason = too_large(limit);
            self.report_gate(
                Some(tab),
                &url,
                Action::Download,
                describe("download", &name, received.max(total)),
                Verdict::blocked(&d, reason),
            );
            return;
        }
        let Some(p) = files.pending.remove(&guid) else {
            return;
        };
        let arrived = files.downloads_dir().join(&guid);
        if done != Some(true) || p.blocked {
            delete_download_settled(arrived);
            return;
        }
        // Out of the browser user's directory before it is scanned: what is
        // scanned is what the user is offered (nothing can swap it after the
        // check), and a symlink left there is refused, never followed.
        let path = files.private_dir.join(FileState::random_name());
        let kept = move_file(&arrived, &path);
        if kept.is_err() {
            delete_download(&arrived);
        }
        let tx = files.tx.clone();
        let decision = self
            .enforcer
            .decide(&self.handle.user, &p.url, Action::Download);
        let enforcer = self.enforcer.clone();
        tokio::spawn(async move {
            // Held until the verdict is known.
            let _permit: Option<TransferPermit> = p.permit;
            // Scanned from disk: never read whole into memory.
            let (size, verdict) = match kept.and_then(|()| file_input::open_regular(&path)) {
                Ok((_, size)) if size > p.limit => {
                    (size, Verdict::blocked(&decision, too_large(p.limit)))
                }
                Ok((_, size)) => (
                    size,
                    enforcer.check_file(&decision, &p.name, path.clone()).await,
                ),
                Err(e) => (
                    0,
                    Verdict::blocked(
                        &decision,
                        format!("the downloaded file could not be read ({e})"),
                    ),
                ),
            };
            let ev = FileEvent::DownloadChecked {
                tab: p.tab,
                url: p.url,
                path: path.clone(),
                name: p.name,
                size,
                verdict,
            };
            if tx.send(ev).await.is_err() {
                delete(&path);
            }
        });
    }

    fn download_checked(
        &mut self,
        tab: u16,
        url: &str,
        path: PathBuf,
        name: String,
        size: u64,
        verdict: Verdict,
    ) {
        let passes = verdict.passes();
        self.report_gate(
            Some(tab),
            url,
            Action::Download,
            describe("download", &name, size),
            verdict,
        );
        let Some(files) = self.files.as_mut() else {
            delete(&path);
            return;
        };
        if !passes {
            delete(&path);
            return;
        }
        let id = files.id();
        files.offered.insert(
            id,
            Offered {
                path,
                name: name.clone(),
            },
        );
        self.send(ServerMsg::Download { id, name, size });
    }

    /// Print gate: `window.print()`, Ctrl/Cmd+P or the client's Print button.
    pub(super) fn print(&mut self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        let (url, title, page) = (tab.url.clone(), tab.title.clone(), tab.page.clone());
        let print = self.enforcer.decide(&self.handle.user, &url, Action::Print);
        let name = {
            let t = clean_name(&title);
            format!("{}.pdf", if title.trim().is_empty() { "page" } else { &t })
        };
        if print.mode == Mode::Block {
            let verdict = Verdict::before_scan(&print).expect("a block decides before scanning");
            self.report_gate(
                Some(tab_id),
                &url,
                Action::Print,
                format!("print to {name}"),
                verdict,
            );
            return;
        }
        let permit = match self.enforcer.transfers().try_begin(&self.handle.user.name) {
            Ok(p) => p,
            Err(why) => {
                self.report_gate(
                    Some(tab_id),
                    &url,
                    Action::Print,
                    format!("print to {name}"),
                    Verdict::blocked(&print, why),
                );
                return;
            }
        };
        let Some(files) = self.files.as_ref() else {
            return;
        };
        let download = self
            .enforcer
            .decide(&self.handle.user, &url, Action::Download);
        let (tx, enforcer, dir) = (
            files.tx.clone(),
            self.enforcer.clone(),
            files.private_dir.clone(),
        );
        let timeout = self.timeout.max(std::time::Duration::from_secs(30));
        tokio::spawn(async move {
            let _permit = permit;
            let params = PrintToPdfParams {
                print_background: Some(true),
                ..Default::default()
            };
            let rendered = with_timeout(timeout, page.execute(params)).await;
            let stored = match rendered {
                Err(e) => Err(format!("the page could not be printed ({e})")),
                Ok(r) => {
                    use base64::Engine as _;
                    let data: &str = r.result.data.as_ref();
                    match base64::engine::general_purpose::STANDARD.decode(data) {
                        Err(e) => Err(format!("the printed PDF was malformed ({e})")),
                        Ok(bytes) => {
                            // Stored first, then scanned from disk.
                            let path = dir.join(FileState::random_name());
                            match tokio::fs::write(&path, &bytes).await {
                                Ok(()) => Ok((path, bytes.len() as u64)),
                                Err(e) => Err(format!("the PDF could not be stored ({e})")),
                            }
                        }
                    }
                }
            };
            let (pdf, print_v, download_v) = match stored {
                Err(reason) => (Err(reason.clone()), Verdict::blocked(&print, reason), None),
                Ok((path, size)) => {
                    let pv = enforcer.check_file(&print, &name, path.clone()).await;
                    let dv = if pv.passes() {
                        Some(enforcer.check_file(&download, &name, path.clone()).await)
                    } else {
                        None
                    };
                    (Ok((path, size)), pv, dv)
                }
            };
            let _ = tx
                .send(FileEvent::Printed {
                    tab: tab_id,
                    url,
                    name,
                    pdf,
                    print: print_v,
                    download: download_v,
                })
                .await;
        });
    }
}
