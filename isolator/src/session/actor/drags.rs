//! Drags inside the remote page. Chromium hands every drag over instead of
//! dropping it (`Input.setInterceptDrags`, see [`crate::session::tab`]); the
//! actor carries it with the user's pointer (`dragEnter`, `dragOver`) and,
//! at release, drops it only when the keyboard gate
//! ([`crate::gates::keyboard::drop`]) passes the text landing in the field
//! under the pointer. A refused drop is cancelled: neither field changes.

use chromiumoxide::cdp::browser_protocol::input::{
    DispatchDragEventParams, DispatchDragEventType, DragData,
};
use chromiumoxide::cdp::browser_protocol::page::CreateIsolatedWorldParams;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::Page;
use std::time::Duration;
use tracing::debug;

use super::Actor;
use crate::gates::keyboard::drop::DropTarget;
use crate::protocol::MouseKind;
use crate::session::input::InputCmd;
use crate::session::tab::with_timeout;

/// The script that says what lies under the drop point.
const DROP_TARGET_JS: &str = include_str!("../drop_target.js");

/// The world the drop-target script runs in (none of the page's scripts).
const DROP_WORLD: &str = "__isolator_drop";

/// A drag in progress.
pub(super) struct Drag {
    /// The tab it started in.
    tab: u16,
    /// What it carries.
    data: DragData,
    /// `dragEnter` has been sent.
    entered: bool,
}

impl Drag {
    /// The text the drag would insert: its plain text, else its other text
    /// items (markup, links) joined.
    fn text(&self) -> String {
        let items = &self.data.items;
        if let Some(plain) = items.iter().find(|i| i.mime_type == "text/plain") {
            return plain.data.clone();
        }
        items
            .iter()
            .filter(|i| i.mime_type.starts_with("text/"))
            .map(|i| i.data.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn event(&self, kind: DispatchDragEventType, x: f64, y: f64, mods: u8) -> InputCmd {
        let mut p = DispatchDragEventParams::new(kind, x, y, self.data.clone());
        p.modifiers = Some(i64::from(mods));
        InputCmd::Drag(Box::new(p))
    }
}

impl Actor {
    /// Chromium handed over a drag that started in tab `tab`.
    pub(super) fn drag_started(&mut self, tab: u16, data: DragData) {
        self.drag = Some(Drag {
            tab,
            data,
            entered: false,
        });
    }

    /// A mouse event while a drag is in progress in the active tab: carried
    /// as drag events, the release as the drop (or its cancellation).
    /// `false`: no drag, the event is the caller's.
    pub(super) async fn drag_mouse(
        &mut self,
        kind: MouseKind,
        (x, y): (f64, f64),
        mods: u8,
        release: &InputCmd,
    ) -> bool {
        let active = self.tabs.active();
        let Some(drag) = self.drag.as_mut().filter(|d| d.tab == active) else {
            return false;
        };
        match kind {
            MouseKind::Move => {
                let first = !drag.entered;
                drag.entered = true;
                let kind = if first {
                    DispatchDragEventType::DragEnter
                } else {
                    DispatchDragEventType::DragOver
                };
                let cmd = drag.event(kind, x, y, mods);
                if let Some(t) = self.tab(active) {
                    if first {
                        t.input(cmd).await;
                    } else {
                        t.input_lossy(cmd);
                    }
                }
                true
            }
            MouseKind::Up => {
                let drag = self.drag.take().expect("a drag in progress");
                self.finish_drag(drag, (x, y), mods).await;
                if let Some(t) = self.tab(active) {
                    t.input(release.clone()).await;
                }
                true
            }
            // Another button or the wheel mid-drag: the drag ends undropped.
            MouseKind::Down | MouseKind::Wheel => {
                self.cancel_drag().await;
                false
            }
        }
    }

    /// Cancels the drag in progress, if any (tab switch, another button).
    pub(super) async fn cancel_drag(&mut self) {
        if let Some(drag) = self.drag.take() {
            if let Some(t) = self.tab(drag.tab) {
                t.input(drag.event(DispatchDragEventType::DragCancel, 0.0, 0.0, 0))
                    .await;
            }
        }
    }

    /// Drops `drag` at (x, y) when the keyboard gate passes it, else cancels it.
    async fn finish_drag(&mut self, drag: Drag, (x, y): (f64, f64), mods: u8) {
        let Some((page, url)) = self.tab(drag.tab).map(|t| (t.page.clone(), t.url.clone())) else {
            return;
        };
        let text = drag.text();
        let target = drop_target(&page, (x, y), self.timeout).await;
        let ruling = self.keyboard.on_drop(
            &self.enforcer,
            &self.handle.user,
            (drag.tab, &url),
            &text,
            &target,
        );
        let pass = self.apply(ruling);
        let Some(t) = self.tab(drag.tab) else { return };
        if pass {
            if !drag.entered {
                t.input(drag.event(DispatchDragEventType::DragEnter, x, y, mods))
                    .await;
            }
            t.input(drag.event(DispatchDragEventType::DragOver, x, y, mods))
                .await;
            t.input(drag.event(DispatchDragEventType::Drop, x, y, mods))
                .await;
        } else {
            t.input(drag.event(DispatchDragEventType::DragCancel, x, y, mods))
                .await;
        }
    }
}

/// What lies under (x, y) of `page`'s viewport, read by a script in a world
/// of its own (the page's scripts cannot tamper with what it reads). Any
/// failure is [`DropTarget::Unknown`]: the gate then judges more, not less.
async fn drop_target(page: &Page, (x, y): (f64, f64), timeout: Duration) -> DropTarget {
    let frame = match page.mainframe().await {
        Ok(Some(f)) => f,
        _ => return DropTarget::Unknown,
    };
    let mut world = CreateIsolatedWorldParams::new(frame);
    world.world_name = Some(DROP_WORLD.into());
    let context = match with_timeout(timeout, page.execute(world)).await {
        Ok(r) => r.result.execution_context_id,
        Err(e) => {
            debug!("drop target unknown: {e}");
            return DropTarget::Unknown;
        }
    };
    let (x, y) = (
        if x.is_finite() { x } else { 0.0 },
        if y.is_finite() { y } else { 0.0 },
    );
    let mut eval = EvaluateParams::new(format!("({})({x}, {y})", DROP_TARGET_JS.trim()));
    eval.context_id = Some(context);
    eval.return_by_value = Some(true);
    match with_timeout(timeout, page.execute(eval)).await {
        Ok(r) => match r.result.result.value.as_ref().and_then(|v| v.as_str()) {
            Some(json) => DropTarget::parse(json),
            None => DropTarget::Unknown,
        },
        Err(e) => {
            debug!("drop target unknown: {e}");
            DropTarget::Unknown
        }
    }
}
