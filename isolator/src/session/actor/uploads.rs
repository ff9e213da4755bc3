//! Uploads in a session: the page's file chooser opens (intercepted), the
//! client sends a file, the upload gate ([`crate::gates::upload`]) rules
//! and a passing file is set on the page's input.

//!   `Page.printToPDF` and then passes the download gate like any download.

use std::path::Path;

use chromiumoxide::cdp::browser_protocol::dom::{DescribeNodeParams, SetFileInputFilesParams};
use policies::{Action, Mode};
use tracing::{debug, warn};

use super::files::delete;
use super::Actor;
use crate::enforce::{notice, Verdict};
use crate::gates::{describe_file, upload};
use crate::protocol::ServerMsg;
use crate::session::files::{Chooser, UploadAnswer};
use crate::session::tab::with_timeout;

impl Actor {
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
        let d = upload::decision(&self.enforcer, &self.handle.user, &url);
        let verdict = Verdict::blocked(&d, reason);
        self.report_in(
            Some(tab),
            &url,
            Action::Upload,
            describe_file("upload", name, size),
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

    pub(super) async fn chooser_opened(
        &mut self,
        tab: u16,
        node: Option<chromiumoxide::cdp::browser_protocol::dom::BackendNodeId>,
        multiple: bool,
    ) {
        let url = self.tab_url(tab);
        let d = upload::decision(&self.enforcer, &self.handle.user, &url);
        if d.mode == Mode::Block {
            let verdict = Verdict::before_scan(&d).expect("a block decides before scanning");
            self.report_in(
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

    pub(super) async fn upload_checked(
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
        self.report_in(
            tab,
            url,
            Action::Upload,
            describe_file("upload", name, size),
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
}
