//! The paste gate for images in the session actor (see
//! [`crate::session::paste_image`] for the flow).
//!
//! The actor only decides and reports; the OCR check and the delivery into
//! the page run on spawned tasks, so a slow OCR or a busy page never stalls
//! the session's frames and input. Each paste is one gate event: the
//! decision for the tab that was active when the user pasted.

use std::path::Path;
use std::time::Instant;

use policies::{Action, Mode};
use tracing::{debug, info, warn};

use super::Actor;
use crate::enforce::{file_input, notice, Verdict};
use crate::gates::describe_file as describe;
use crate::gates::paste::{self, image::sniff_image};
use crate::session::files::FileState;
use crate::session::paste_image::{self, ImagePasteCmd, PasteAnswer, PasteTicket};
use crate::session::SessionCmd;

impl Actor {
    /// A message from the HTTP side (or the check task) about a pasted image.
    pub(super) fn on_paste_image(&mut self, cmd: ImagePasteCmd) {
        match cmd {
            ImagePasteCmd::Begin { reply } => {
                let _ = reply.send(self.begin_image_paste());
            }
            ImagePasteCmd::Received {
                ticket,
                name,
                size,
                reply,
            } => self.check_pasted_image(ticket, name, size, reply),
            ImagePasteCmd::Refused {
                ticket,
                name,
                size,
                reason,
            } => {
                remove(&ticket.path);
                let d = paste::decision(&self.enforcer, &self.handle.user, &ticket.url);
                let what = describe("paste of image", &name, size);
                self.report_in(
                    Some(ticket.tab),
                    &ticket.url,
                    Action::Paste,
                    what,
                    Verdict::blocked(&d, reason),
                );
            }
            ImagePasteCmd::Checked {
                ticket,
                name,
                size,
                verdict,
                reply,
            } => self.image_checked(ticket, name, size, verdict, reply),
        }
    }

    /// Whether an image paste may start: the tab and size limit, or the
    /// refusal (`paste = block` refuses here, before any byte is read).
    fn begin_image_paste(&mut self) -> Result<PasteTicket, PasteAnswer> {
        self.last_input = Instant::now();
        let Some(tab) = self.active_tab() else {
            return Err(PasteAnswer::refused("There is no page to paste into."));
        };
        let (tab_id, url) = (tab.id, tab.url.clone());
        let d = paste::decision(&self.enforcer, &self.handle.user, &url);
        if d.mode == Mode::Block {
            let verdict = Verdict::before_scan(&d).expect("a block decides before scanning");
            let message = notice::text(Action::Paste, &verdict)
                .unwrap_or_else(|| "Pasting is blocked here.".into());
            self.report_in(
                Some(tab_id),
                &url,
                Action::Paste,
                "paste of an image".into(),
                verdict,
            );
            return Err(PasteAnswer::refused(message));
        }
        let mut limit = self.enforcer.config().max_paste_image_bytes;
        if let Some(max) = d.limits.max_bytes(Action::Paste) {
            limit = limit.min(max);
        }
        // Received into the session's private directory, never into memory.
        let Some(files) = self.files.as_ref() else {
            return Err(PasteAnswer::refused(
                "Image paste is not available in this session.",
            ));
        };
        Ok(PasteTicket {
            tab: tab_id,
            url,
            limit,
            path: files.private_dir.join(FileState::random_name()),
            started: Instant::now(),
        })
    }

    /// Checks a received image off the actor task; the verdict comes back
    /// as [`ImagePasteCmd::Checked`].
    fn check_pasted_image(
        &mut self,
        ticket: PasteTicket,
        name: String,
        size: u64,
        reply: tokio::sync::oneshot::Sender<PasteAnswer>,
    ) {
        let decision = paste::decision(&self.enforcer, &self.handle.user, &ticket.url);
        let enforcer = self.enforcer.clone();
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let verdict =
                paste::image::check_image(&enforcer, &decision, &name, ticket.path.clone()).await;
            let checked = ImagePasteCmd::Checked {
                ticket,
                name,
                size,
                verdict,
                reply,
            };
            // If the session ended meanwhile the reply is dropped: the HTTP
            // side answers that the session is gone.
            handle.send(SessionCmd::PasteImage(Box::new(checked))).await;
        });
    }

    /// Reports the verdict and, when it passes, hands the image to the page.
    fn image_checked(
        &mut self,
        ticket: PasteTicket,
        name: String,
        size: u64,
        verdict: Verdict,
        reply: tokio::sync::oneshot::Sender<PasteAnswer>,
    ) {
        let passes = verdict.passes();
        let refusal = notice::text(Action::Paste, &verdict);
        let what = describe("paste of image", &name, size);
        info!(
            target: "isolator::paste_image",
            outcome = verdict.outcome.as_str(),
            decided_ms = ticket.started.elapsed().as_millis() as u64,
            scan_ms = verdict.scan_time.as_millis() as u64,
            bytes = size,
            "image paste decided"
        );
        self.report_in(Some(ticket.tab), &ticket.url, Action::Paste, what, verdict);
        if !passes {
            remove(&ticket.path);
            let _ = reply.send(PasteAnswer::refused(
                refusal.unwrap_or_else(|| "The image was blocked.".into()),
            ));
            return;
        }
        let Some(tab) = self.tab(ticket.tab) else {
            remove(&ticket.path);
            let _ = reply.send(PasteAnswer::refused(
                "The tab closed before the image could be pasted.",
            ));
            return;
        };
        let page = tab.page.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            // The gate already recognised the content as an image.
            let mime = file_input::head(&ticket.path, 64)
                .ok()
                .and_then(|h| sniff_image(&h).ok())
                .unwrap_or("application/octet-stream");
            let delivered = paste_image::deliver(&page, &name, mime, &ticket.path, timeout).await;
            remove(&ticket.path);
            let answer = match delivered {
                Ok(d) => {
                    debug!(
                        element = %d.target,
                        handled = d.handled,
                        inserted = d.inserted,
                        "pasted image delivered"
                    );
                    PasteAnswer {
                        allowed: true,
                        message: String::new(),
                    }
                }
                Err(e) => {
                    warn!("an allowed image paste did not reach the page: {e}");
                    PasteAnswer::refused(format!("The image could not be pasted: {e}."))
                }
            };
            let _ = reply.send(answer);
        });
    }
}

/// Deletes a received image (gone already is fine).
fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            warn!(path = %path.display(), "a pasted image was not deleted: {e}");
        }
    }
}
