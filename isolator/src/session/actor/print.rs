//! Printing in a session: the print gate ([`crate::gates::print`]) rules,
//! the page is printed to PDF and the PDF is offered like a download once
//! the download gate has scanned it.

//!   `Page.printToPDF` and then passes the download gate like any download.

use chromiumoxide::cdp::browser_protocol::page::PrintToPdfParams;
use policies::{Action, Mode};

use super::Actor;
use crate::enforce::Verdict;
use crate::gates::{download, print};
use crate::session::files::{clean_name, FileEvent, FileState};
use crate::session::tab::with_timeout;

impl Actor {
    /// Print gate: `window.print()`, Ctrl/Cmd+P or the client's Print button.
    pub(super) fn print(&mut self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        let (url, title, page) = (tab.url.clone(), tab.title.clone(), tab.page.clone());
        let print = print::decision(&self.enforcer, &self.handle.user, &url);
        let name = print::file_name(&title, clean_name);
        if print.mode == Mode::Block {
            let verdict = Verdict::before_scan(&print).expect("a block decides before scanning");
            self.report_in(
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
                self.report_in(
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
        let download = download::decision(&self.enforcer, &self.handle.user, &url);
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
