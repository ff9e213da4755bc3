//! One page (tab) of a session: its CDP set-up, the events it forwards to the
//! session actor, and an ordered queue for its input commands.
//!
//! Input goes through a queue drained by one task per tab, so a page that is
//! slow to process an event delays only its own later input, never the
//! session actor (which keeps streaming frames and answering the client).

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::input::{
    DragData, EventDragIntercepted, SetInterceptDragsParams,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, CaptureScreenshotParams,
    EventFrameNavigated, EventFrameStartedLoading, EventFrameStoppedLoading,
    EventJavascriptDialogClosed, EventJavascriptDialogOpening, EventLoadEventFired,
    EventNavigatedWithinDocument, EventScreencastFrame, ScreencastFrameAckParams,
    StartScreencastFormat, StartScreencastParams, StopScreencastParams,
};
use chromiumoxide::cdp::browser_protocol::target::TargetId;
use chromiumoxide::cdp::js_protocol::runtime::{AddBindingParams, EventBindingCalled};
use chromiumoxide::Page;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::input::InputCmd;
use super::page_msg::{CopyMsg, PageMsg};
pub use crate::browser::cdp::{with_timeout, WORLD};

/// Binding the page scripts report through.
pub const BINDING: &str = "__isolatorReport";
/// The script installed in every document of every tab.
const PAGE_SCRIPT: &str = include_str!("page_script.js");
/// Main-world binding the copy hook reports through (hidden from the page).
pub const COPY_BINDING: &str = "__isolatorCopy";
/// The copy hook, installed in the main world of every document.
const COPY_SCRIPT: &str = include_str!("page_copy.js");

/// An event from a tab, for the session actor.
#[derive(Debug)]
pub enum TabEvent {
    /// A screencast frame (JPEG bytes).
    Frame {
        /// Decoded JPEG.
        jpeg: Vec<u8>,
        /// CSS px of the page area the frame shows.
        width: f64,
        /// CSS px.
        height: f64,
        /// Chromium's screencast session id, for the ack (`None`: a screenshot, no ack).
        ack_id: Option<i64>,
    },
    /// The main frame navigated to a URL (`new_document`: not a same-document change).
    Navigated {
        /// The new URL.
        url: String,
        /// A new document (titles start over).
        new_document: bool,
    },
    /// Loading started or stopped (main frame).
    Loading(bool),
    /// A JavaScript dialog opened.
    DialogOpening {
        /// alert, confirm, prompt, beforeunload.
        kind: String,
        /// Its text.
        message: String,
        /// Prompt default.
        default: String,
    },
    /// The dialog closed.
    DialogClosed,
    /// Whether history back/forward is possible now.
    History {
        /// Back possible.
        can_back: bool,
        /// Forward possible.
        can_forward: bool,
        /// Title of the current history entry.
        title: String,
    },
    /// The page script reported something.
    Page(PageMsg),
    /// The page copied text (the copy hook).
    Copy(CopyMsg),
    /// A navigation failed (`net::ERR_...`).
    NavError(String),
    /// Whether the page answered a responsiveness probe.
    Responsive(bool),
    /// The user started dragging something in the page: Chromium hands
    /// over what it carries instead of dropping it ([`crate::gates::keyboard::drop`]).
    DragStarted(DragData),
    /// No screencast frame has followed frame number `seq` for a while (sent
    /// by the session itself, not Chromium): Chromium drops a paint made while
    /// frames wait for their ack and sends nothing until the next paint, so a
    /// page that stops changing then would stay stale on the user's screen.
    Quiet {
        /// The number of the last frame when the quiet wait began.
        seq: u64,
    },
    /// The tab's event streams ended (target gone).
    Gone,
}

/// A tab of a session.
pub struct Tab {
    /// Id shown to the client.
    pub id: u16,
    /// The CDP page.
    pub page: Page,
    /// The CDP target.
    pub target_id: TargetId,
    /// Current URL.
    pub url: String,
    /// Current title.
    pub title: String,
    /// The page script reported the title of the current document.
    pub title_from_page: bool,
    /// Loading now.
    pub loading: bool,
    /// History back possible.
    pub can_back: bool,
    /// History forward possible.
    pub can_forward: bool,
    /// Screencast is running.
    pub casting: bool,
    input: mpsc::Sender<InputCmd>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Tab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Viewport in CSS px and device pixel ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    /// CSS px.
    pub width: u32,
    /// CSS px.
    pub height: u32,
    /// Device pixel ratio.
    pub dpr: f64,
}

impl Tab {
    /// Sets up a page as a tab: viewport, page script, event forwarding, input queue.
    pub async fn open(
        id: u16,
        page: Page,
        viewport: Viewport,
        events: mpsc::Sender<(u16, TabEvent)>,
        timeout: Duration,
    ) -> Result<Tab, chromiumoxide::error::CdpError> {
        let target_id = page.target_id().clone();
        // Listeners first, so no event between set-up and listening is lost.
        let mut tasks = Vec::new();
        tasks.push(forward_events(id, &page, events.clone()).await?);

        with_timeout(
            timeout,
            page.execute(AddBindingParams {
                name: BINDING.into(),
                execution_context_name: Some(WORLD.into()),
            }),
        )
        .await?;
        with_timeout(
            timeout,
            page.execute(AddScriptToEvaluateOnNewDocumentParams {
                source: PAGE_SCRIPT.into(),
                world_name: Some(WORLD.into()),
                include_command_line_api: None,
                run_immediately: Some(true),
            }),
        )
        .await?;
        with_timeout(
            timeout,
            page.execute(AddBindingParams {
                name: COPY_BINDING.into(),
                execution_context_name: None,
            }),
        )
        .await?;
        with_timeout(
            timeout,
            page.execute(AddScriptToEvaluateOnNewDocumentParams {
                source: COPY_SCRIPT.into(),
                world_name: None,
                include_command_line_api: None,
                run_immediately: Some(true),
            }),
        )
        .await?;
        // In-page drags are dropped by the session once the keyboard gate
        // has ruled (text dragged into a field is an edit like typing).
        with_timeout(
            timeout,
            page.execute(SetInterceptDragsParams { enabled: true }),
        )
        .await?;
        set_viewport(&page, viewport, timeout).await?;

        let (input_tx, input_rx) = mpsc::channel(512);
        tasks.push(tokio::spawn(drain_input(page.clone(), input_rx, timeout)));
        Ok(Tab {
            id,
            page,
            target_id,
            url: String::new(),
            title: String::new(),
            title_from_page: false,
            loading: false,
            can_back: false,
            can_forward: false,
            casting: false,
            input: input_tx,
            tasks,
        })
    }

    /// Queues an input command; waits when the queue is full (keys must not be lost).
    pub async fn input(&self, cmd: InputCmd) {
        let _ = self.input.send(cmd).await;
    }

    /// Queues an input command unless the queue is full (pointer moves may be dropped).
    pub fn input_lossy(&self, cmd: InputCmd) {
        let _ = self.input.try_send(cmd);
    }

    /// Starts streaming frames, or restarts them with the viewport's size.
    ///
    /// Chromium refuses a second `startScreencast` while one runs ("Screencast
    /// is already active") and keeps the first one's size, so any running
    /// cast (ours or one whose answer timed out) is stopped first; stopping
    /// an idle page is a no-op.
    pub async fn start_screencast(
        &mut self,
        viewport: Viewport,
        quality: u8,
        timeout: Duration,
    ) -> Result<(), chromiumoxide::error::CdpError> {
        let params = StartScreencastParams {
            format: Some(StartScreencastFormat::Jpeg),
            quality: Some(i64::from(quality)),
            max_width: Some((f64::from(viewport.width) * viewport.dpr).round() as i64),
            max_height: Some((f64::from(viewport.height) * viewport.dpr).round() as i64),
            every_nth_frame: Some(1),
        };
        with_timeout(timeout, self.page.execute(StopScreencastParams::default())).await?;
        with_timeout(timeout, self.page.execute(params)).await?;
        self.casting = true;
        Ok(())
    }

    /// Takes a JPEG screenshot of the viewport, delivered as a `Frame` event:
    /// an idle page may send no screencast frame when casting (re)starts.
    pub fn snapshot(
        &self,
        viewport: Viewport,
        quality: u8,
        events: mpsc::Sender<(u16, TabEvent)>,
        timeout: Duration,
    ) {
        let page = self.page.clone();
        let id = self.id;
        tokio::spawn(async move {
            let params = CaptureScreenshotParams {
                format: Some(CaptureScreenshotFormat::Jpeg),
                quality: Some(i64::from(quality)),
                ..Default::default()
            };
            use base64::Engine as _;
            if let Ok(shot) = with_timeout(timeout, page.execute(params)).await {
                let data: &str = shot.result.data.as_ref();
                if let Ok(jpeg) = base64::engine::general_purpose::STANDARD.decode(data) {
                    let ev = TabEvent::Frame {
                        jpeg,
                        width: f64::from(viewport.width),
                        height: f64::from(viewport.height),
                        ack_id: None,
                    };
                    let _ = events.send((id, ev)).await;
                }
            }
        });
    }

    /// Stops streaming frames.
    pub async fn stop_screencast(&mut self, timeout: Duration) {
        if self.casting {
            self.casting = false;
            let _ = with_timeout(timeout, self.page.execute(StopScreencastParams::default())).await;
        }
    }
}

/// Applies the client's viewport to a page.
pub async fn set_viewport(
    page: &Page,
    viewport: Viewport,
    timeout: Duration,
) -> Result<(), chromiumoxide::error::CdpError> {
    let params = SetDeviceMetricsOverrideParams::new(
        i64::from(viewport.width),
        i64::from(viewport.height),
        viewport.dpr,
        false,
    );
    with_timeout(timeout, page.execute(params)).await?;
    Ok(())
}

/// Acknowledges a screencast frame (Chromium sends the next one only then).
pub async fn ack_frame(page: &Page, ack_id: i64) {
    let _ = page.execute(ScreencastFrameAckParams::new(ack_id)).await;
}

async fn drain_input(page: Page, mut rx: mpsc::Receiver<InputCmd>, timeout: Duration) {
    while let Some(cmd) = rx.recv().await {
        let result = match cmd {
            InputCmd::Key(p) => with_timeout(timeout, page.execute(p)).await.map(drop),
            InputCmd::Mouse(p) => with_timeout(timeout, page.execute(p)).await.map(drop),
            InputCmd::Touch(p) => with_timeout(timeout, page.execute(p)).await.map(drop),
            InputCmd::Text(p) => with_timeout(timeout, page.execute(p)).await.map(drop),
            InputCmd::Drag(p) => with_timeout(timeout, page.execute(*p)).await.map(drop),
        };
        if let Err(e) = result {
            tracing::debug!("input dropped: {e}");
        }
    }
}

/// Subscribes to the page's events and forwards them, tagged with the tab id.
async fn forward_events(
    id: u16,
    page: &Page,
    tx: mpsc::Sender<(u16, TabEvent)>,
) -> Result<JoinHandle<()>, chromiumoxide::error::CdpError> {
    let frames = page.event_listener::<EventScreencastFrame>().await?;
    let navigated = page.event_listener::<EventFrameNavigated>().await?;
    let in_doc = page
        .event_listener::<EventNavigatedWithinDocument>()
        .await?;
    let started = page.event_listener::<EventFrameStartedLoading>().await?;
    let loaded = page.event_listener::<EventLoadEventFired>().await?;
    let stopped = page.event_listener::<EventFrameStoppedLoading>().await?;
    let dialog_open = page
        .event_listener::<EventJavascriptDialogOpening>()
        .await?;
    let dialog_closed = page.event_listener::<EventJavascriptDialogClosed>().await?;
    let bindings = page.event_listener::<EventBindingCalled>().await?;
    let drags = page.event_listener::<EventDragIntercepted>().await?;
    let main_frame = page.mainframe().await.ok().flatten();

    use base64::Engine as _;
    let frames = frames.filter_map(|ev| async move {
        match base64::engine::general_purpose::STANDARD.decode(ev.data.as_ref() as &str) {
            Ok(jpeg) => Some(TabEvent::Frame {
                jpeg,
                width: ev.metadata.device_width,
                height: ev.metadata.device_height,
                ack_id: Some(ev.session_id),
            }),
            Err(_) => None,
        }
    });
    let main = main_frame.clone();
    let navigated = navigated.filter_map(move |ev| {
        let main = main.clone();
        async move {
            let is_main =
                ev.frame.parent_id.is_none() || main.as_ref().is_some_and(|m| *m == ev.frame.id);
            is_main.then(|| TabEvent::Navigated {
                url: ev.frame.url.clone(),
                new_document: true,
            })
        }
    });
    let main = main_frame.clone();
    let in_doc = in_doc.filter_map(move |ev| {
        let main = main.clone();
        async move {
            (main.as_ref().is_none_or(|m| *m == ev.frame_id)).then(|| TabEvent::Navigated {
                url: ev.url.clone(),
                new_document: false,
            })
        }
    });
    let main = main_frame.clone();
    let started = started.filter_map(move |ev| {
        let main = main.clone();
        async move {
            (main.as_ref().is_none_or(|m| *m == ev.frame_id)).then_some(TabEvent::Loading(true))
        }
    });
    let main = main_frame;
    let stopped = stopped.filter_map(move |ev| {
        let main = main.clone();
        async move {
            (main.as_ref().is_none_or(|m| *m == ev.frame_id)).then_some(TabEvent::Loading(false))
        }
    });
    let loaded = loaded.map(|_| TabEvent::Loading(false));
    let dialog_open = dialog_open.map(|ev| TabEvent::DialogOpening {
        kind: ev.r#type.as_ref().to_ascii_lowercase(),
        message: ev.message.clone(),
        default: ev.default_prompt.clone().unwrap_or_default(),
    });
    let dialog_closed = dialog_closed.map(|_| TabEvent::DialogClosed);
    let bindings = bindings.filter_map(|ev| async move {
        match ev.name.as_str() {
            BINDING => PageMsg::parse(&ev.payload)
                .inspect_err(|e| tracing::debug!("page script report dropped: {e}"))
                .ok()
                .map(TabEvent::Page),
            COPY_BINDING => CopyMsg::parse(&ev.payload)
                .inspect_err(|e| tracing::debug!("copy report dropped: {e}"))
                .ok()
                .map(TabEvent::Copy),
            _ => None,
        }
    });

    let drags = drags.map(|ev| TabEvent::DragStarted(ev.data.clone()));
    let mut all = futures::stream::select_all([
        frames.boxed(),
        navigated.boxed(),
        in_doc.boxed(),
        started.boxed(),
        stopped.boxed(),
        loaded.boxed(),
        dialog_open.boxed(),
        dialog_closed.boxed(),
        bindings.boxed(),
        drags.boxed(),
    ]);
    Ok(tokio::spawn(async move {
        while let Some(ev) = all.next().await {
            if tx.send((id, ev)).await.is_err() {
                return;
            }
        }
        let _ = tx.send((id, TabEvent::Gone)).await;
    }))
}
