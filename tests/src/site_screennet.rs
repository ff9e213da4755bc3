//! Test pages for the screen net (under `/sn/`): pages that draw a card
//! number where the page script cannot read it, each also served under
//! `/sn/open/` (where the tests' policies allow everything) as a control:
//!
//! - `canvases`: four small canvases side by side, one group of digits each;
//! - `svg`: an `<img>` of an SVG document whose `<text>` is the number;
//! - `gif`: an animated GIF (rendered here with Liberation Sans) showing the
//!   number, moving a few pixels each frame, as a video would;
//! - `bdo`: the digits written backwards in the DOM and shown forwards by
//!   `<bdo dir=rtl>`, so the DOM's text is not a card number;
//! - `late`: a canvas that draws the number 1.5 s after load (the moment the
//!   page titles itself `Late drawn`).
//!
//! Every page shows a clean line too (`Order 12345 shipped`), which must stay
//! readable, and titles itself `<Name> ready` once drawn.

use std::io::Cursor;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, Rgba, RgbaImage};

use crate::site_pagecontent::{CARD, CLEAN};

/// The font the GIF is rendered with.
const FONT: &str = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";

/// The pages, by name.
pub const TRICKS: [&str; 4] = ["canvases", "svg", "gif", "bdo"];

/// The routes, merged into the test site.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/sn/{name}", get(trick))
        .route("/sn/open/{name}", get(trick))
        .route("/sn/card.gif", get(gif))
}

/// The title page `name` sets once drawn: `Canvases ready`.
pub fn ready_title(name: &str) -> String {
    let mut c = name.chars();
    let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or(' ');
    format!("{first}{} ready", c.as_str())
}

fn page(name: &str, body: &str, script: &str) -> Html<String> {
    let ready = ready_title(name);
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{name}</title>\
         <style>body{{font:26px sans-serif;margin:0;padding:30px}}\
         .row{{display:flex;gap:14px;align-items:center}}</style></head><body>\
         <p>{CLEAN}</p>{body}<script>{script}\
         setTimeout(()=>{{if(!document.title.endsWith('ready'))document.title='{ready}';}},400);\
         </script></body></html>"
    ))
}

async fn trick(Path(name): Path<String>) -> Response {
    let groups: Vec<&str> = CARD.split(' ').collect();
    match name.as_str() {
        "canvases" => {
            let canvases: String = (0..4)
                .map(|i| format!("<canvas id=g{i} width=90 height=44></canvas>"))
                .collect();
            let draw = format!(
                "{groups:?}.forEach((g,i)=>{{const c=document.getElementById('g'+i).getContext('2d');\
                 c.fillStyle='#fff';c.fillRect(0,0,90,44);c.fillStyle='#111';\
                 c.font='28px sans-serif';c.fillText(g,4,32);}});"
            );
            page(&name, &format!("<div class=row>{canvases}</div>"), &draw).into_response()
        }
        "svg" => {
            let svg = format!(
                "<svg xmlns='http://www.w3.org/2000/svg' width='520' height='60'>\
                 <rect width='520' height='60' fill='white'/>\
                 <text x='8' y='42' font-family='sans-serif' font-size='30'>{CARD}</text></svg>"
            );
            let uri = format!("data:image/svg+xml,{}", svg.replace('#', "%23"));
            page(
                &name,
                &format!("<img src=\"{uri}\" width=520 height=60>"),
                "",
            )
            .into_response()
        }
        "gif" => page(&name, "<img src=/sn/card.gif width=520 height=60>", "").into_response(),
        "bdo" => {
            let backwards: String = CARD.chars().rev().collect();
            page(&name, &format!("<p><bdo dir=rtl>{backwards}</bdo></p>"), "").into_response()
        }
        "late" => page(
            &name,
            "<canvas id=late width=520 height=60></canvas>",
            &format!(
                "setTimeout(()=>{{const c=document.getElementById('late').getContext('2d');\
                 c.fillStyle='#fff';c.fillRect(0,0,520,60);c.fillStyle='#111';\
                 c.font='30px sans-serif';c.fillText('{CARD}',8,42);\
                 document.title='Late drawn';}},1500);"
            ),
        )
        .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An animated GIF of the card number, 520x60, four frames 150 ms apart,
/// the text a few pixels further right in each.
async fn gif() -> impl IntoResponse {
    let font = FontVec::try_from_vec(std::fs::read(FONT).expect("font file")).expect("font");
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.set_repeat(Repeat::Infinite).expect("gif");
        for step in 0..4u32 {
            let img = text_image(&font, CARD, 520, 60, 8.0 + 3.0 * step as f32);
            let frame = Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(150, 1));
            enc.encode_frame(frame).expect("gif frame");
        }
    }
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        out.into_inner(),
    )
}

/// `text` in 30 px Liberation Sans, dark on white, starting at `x`.
fn text_image(font: &FontVec, text: &str, w: u32, h: u32, x: f32) -> RgbaImage {
    let px = PxScale::from(30.0);
    let scaled = font.as_scaled(px);
    let mut img = RgbaImage::from_pixel(w, h, Rgba([255, 255, 255, 255]));
    let mut pen = x;
    let y = 10.0 + scaled.ascent();
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, y));
        pen += scaled.h_advance(id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                let (px_x, px_y) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if px_x >= 0 && px_y >= 0 && (px_x as u32) < w && (px_y as u32) < h {
                    let v = (255.0 - 235.0 * cov.min(1.0)).round() as u8;
                    img.put_pixel(px_x as u32, px_y as u32, Rgba([v, v, v, 255]));
                }
            });
        }
    }
    img
}
