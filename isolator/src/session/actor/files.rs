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

use std::path::Path;

use policies::Action;
use tracing::warn;

use super::Actor;
use crate::enforce::file_input;
use crate::gates::{describe_file, upload};
use crate::session::files::{FileEvent, FileState, FilesCmd, UploadAnswer, UploadTicket};

pub(super) fn delete(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            warn!(path = %path.display(), "a blocked file was not deleted: {e}");
        }
    }
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

    pub(super) fn tab_url(&self, tab: u16) -> String {
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
                let d = upload::decision(&self.enforcer, &self.handle.user, &url);
                let limit = upload::size_cap(&self.enforcer, &d);
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
                let decision = upload::decision(&self.enforcer, &self.handle.user, &url);
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
                self.report_in(
                    Some(tab),
                    &url,
                    Action::Print,
                    describe_file("print to", &name, size),
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
}
