//! Test pages for the page-content gate's images and cross-element masking
//! (under `/pc/`): images showing a card number or clean text, rendered here
//! with a real font; a canvas drawn with a card number; a page where the
//! value is split across elements, set in inputs (by markup and by script),
//! in a tooltip, an open shadow root and a same-origin iframe. Paths under
//! `/pc/open/` are where the tests' policies allow everything, under
//! `/pc/audit/` where images are OCR'd without masking. `/pc/document`
//! quotes a paragraph of a licence text the fingerprint tests register.

use std::io::Cursor;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use image::{GrayImage, Luma};

/// A card number that passes the Luhn check (a well-known test number).
pub const CARD: &str = "4111 1111 1111 1111";
/// Text with nothing sensitive.
pub const CLEAN: &str = "Order 12345 shipped";
/// The font images are rendered with.
const FONT: &str = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";

/// The routes, merged into the test site.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/pc/img/{which}", get(image_png))
        .route("/pc/image/{which}", get(image_page))
        .route("/pc/open/image/{which}", get(image_page))
        .route("/pc/audit/image/{which}", get(image_page))
        .route("/pc/canvas", get(canvas_page))
        .route("/pc/split", get(split_page))
        .route("/pc/open/split", get(split_page))
        .route("/pc/document", get(document_page))
        .route("/pc/open/document", get(document_page))
}

/// The first paragraph of section 13 of Debian's GPL-3 text
/// (`/usr/share/common-licenses/GPL-3`, package `base-files`), with the
/// licence's own line breaks.
pub fn gpl_paragraph() -> String {
    let gpl = std::fs::read_to_string("/usr/share/common-licenses/GPL-3").expect("base-files");
    let start = gpl
        .find("  13. Use with the GNU Affero")
        .expect("section 13");
    gpl[start..]
        .split("\n\n")
        .nth(1)
        .expect("its paragraph")
        .to_owned()
}

/// A wiki page quoting [`gpl_paragraph`] between lines of its own.
async fn document_page() -> Html<String> {
    page(
        "Document",
        &format!(
            "<h3>Team wiki: release notes</h3><p>{}</p><p>Contact the front desk about invoices</p>",
            gpl_paragraph()
        ),
    )
}

/// A 600x200 PNG showing `text` in 32 px Liberation Sans, dark on white.
pub fn text_png(text: &str) -> Vec<u8> {
    let (w, h) = (600u32, 200u32);
    let font = FontVec::try_from_vec(std::fs::read(FONT).expect("font file")).expect("font");
    let px = PxScale::from(32.0);
    let scaled = font.as_scaled(px);
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    let mut x = 30.0f32;
    let y = 80.0 + scaled.ascent();
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(x, y));
        x += scaled.h_advance(id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                let (px_x, px_y) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if px_x >= 0 && px_y >= 0 && (px_x as u32) < w && (px_y as u32) < h {
                    let v: f32 = 255.0 - 235.0 * cov.min(1.0);
                    img.put_pixel(px_x as u32, px_y as u32, Luma([v.round() as u8]));
                }
            });
        }
    }
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn text_of(which: &str) -> &'static str {
    match which.trim_end_matches(".png") {
        "card" => CARD,
        _ => CLEAN,
    }
}

async fn image_png(Path(which): Path<String>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        text_png(text_of(&which)),
    )
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>\
         <style>body{{font:24px sans-serif;margin:0;padding:20px}}img,canvas{{display:block}}</style>\
         </head><body>{body}</body></html>"
    ))
}

/// One image; the page notes whether it was painted without a filter in the
/// first frame after it loaded, then titles itself `Image ready`.
async fn image_page(Path(which): Path<String>) -> Html<String> {
    page(
        "Image",
        &format!(
            "<p>Statement</p><img id=pic width=600 height=200 src=/pc/img/{which}.png>\
             <script>const pic=document.getElementById('pic');\
             const painted=()=>requestAnimationFrame(()=>{{\
             window.firstPaintFilter=getComputedStyle(pic).filter;\
             setTimeout(()=>{{document.title='Image ready';}},300);}});\
             if(pic.complete)painted();else pic.addEventListener('load',painted);</script>"
        ),
    )
}

/// A canvas the page draws a card number on.
async fn canvas_page() -> Html<String> {
    page(
        "Canvas",
        &format!(
            "<canvas id=cv width=600 height=200></canvas>\
             <script>const g=document.getElementById('cv').getContext('2d');\
             g.fillStyle='#fff';g.fillRect(0,0,600,200);g.fillStyle='#111';\
             g.font='40px sans-serif';g.fillText('{CARD}',30,120);\
             setTimeout(()=>{{document.title='Canvas ready';}},300);</script>"
        ),
    )
}

/// The card number split across spans and inside a `<b>`, in an input's
/// markup and one set by script, in a tooltip, an open shadow root and a
/// same-origin iframe; clean text around them.
async fn split_page() -> Html<String> {
    let parts: Vec<&str> = CARD.split(' ').collect();
    let spans: String = parts
        .iter()
        .map(|p| format!("<span>{p}</span>"))
        .collect::<Vec<_>>()
        .join(" ");
    let bold = format!("41<b>11</b> {}", parts[1..].join(" "));
    page(
        "Split",
        &format!(
            "<p id=spans>Card {spans}</p><p id=bold>Number {bold}</p>\
             <p id=plain>{CLEAN}</p>\
             <input id=markup size=30 value=\"{CARD}\"><input id=scripted size=30>\
             <input id=cleanfield size=30 value=\"{CLEAN}\">\
             <p id=tip title=\"{CARD}\">hover me</p>\
             <div id=host></div>\
             <iframe id=fr srcdoc=\"<p id=inner>Framed {CARD}</p>\"></iframe>\
             <script>\
             document.getElementById('host').attachShadow({{mode:'open'}}).innerHTML='<p id=shadowed>Shadow {CARD}</p>';\
             const f=document.getElementById('scripted');\
             requestAnimationFrame(()=>{{f.value='{CARD}';\
             requestAnimationFrame(()=>{{window.scriptedSecurity=getComputedStyle(f).webkitTextSecurity;}});}});\
             setTimeout(()=>{{document.title='Split ready';}},1200);\
             </script>"
        ),
    )
}
