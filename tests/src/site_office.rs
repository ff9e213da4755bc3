//! Office pages for the office-mix benchmark (under `/office/`): a mail
//! client, a report with charts and a table, and a customer list, each
//! with a text box fixed at the same place (20..820 x 20..140 CSS px of the
//! viewport, whatever the scroll) where the benchmark types. The text is
//! business prose from a fixed word list; the charts are PNGs drawn here.
//! No animation, so the frame after a key shows that key. The caret shows
//! as in any page (steady: the page-content gate's hooks stop Chromium
//! blinking it).

use std::io::Cursor;

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use image::{Rgb, RgbImage};

/// The pages, in the order a session visits them.
pub const PAGES: [&str; 3] = ["/office/mail", "/office/report", "/office/crm"];

/// The routes, merged into the test site.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/office/mail", get(mail))
        .route("/office/report", get(report))
        .route("/office/crm", get(crm))
        .route("/office/chart/{n}", get(chart))
}

const WORDS: [&str; 40] = [
    "account",
    "invoice",
    "customer",
    "order",
    "policy",
    "report",
    "quarter",
    "budget",
    "meeting",
    "review",
    "supplier",
    "contract",
    "delivery",
    "payment",
    "schedule",
    "team",
    "project",
    "forecast",
    "revenue",
    "margin",
    "approval",
    "request",
    "update",
    "client",
    "shipment",
    "warehouse",
    "renewal",
    "pricing",
    "discount",
    "target",
    "region",
    "sales",
    "the",
    "for",
    "with",
    "and",
    "before",
    "after",
    "our",
    "next",
];

/// A sentence of `n` words from a seed.
fn sentence(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut words = Vec::with_capacity(n);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        words.push(WORDS[(x % WORDS.len() as u64) as usize]);
    }
    let mut s = words.join(" ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s.push('.');
    s
}

fn paragraph(seed: u64) -> String {
    (0..5)
        .map(|i| sentence(seed * 7 + i, 9 + (seed + i) as usize % 8))
        .collect::<Vec<_>>()
        .join(" ")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>\
         <style>body{{font:16px sans-serif;margin:0;padding:160px 20px 20px;color:#222}}\
         #box{{position:fixed;left:20px;top:20px;width:800px;height:120px;font-size:18px}}\
         table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px}}\
         .side{{float:left;width:360px}} .main{{margin-left:380px}} img{{display:block;margin:12px 0}}</style>\
         </head><body><textarea id=box autocomplete=off placeholder='Write here'></textarea>{body}</body></html>"
    ))
}

/// An inbox of 30 messages and one open message.
async fn mail() -> Html<String> {
    let list: String = (0..30)
        .map(|i| {
            format!(
                "<div><b>Sender {i}</b> &middot; {}<br><small>{}</small></div><hr>",
                sentence(i, 5),
                sentence(i + 100, 10)
            )
        })
        .collect();
    let open: String = (0..6).map(|i| format!("<p>{}</p>", paragraph(i))).collect();
    page(
        "Mail",
        &format!(
            "<div class=side>{list}</div><div class=main><h2>{}</h2>{open}</div>",
            sentence(7, 6)
        ),
    )
}

/// A long report: sections of prose, three charts and a table.
async fn report() -> Html<String> {
    let mut body = String::from("<h1>Quarterly report</h1>");
    for s in 0..12u64 {
        body.push_str(&format!("<h2>{}</h2>", sentence(200 + s, 4)));
        for p in 0..3 {
            body.push_str(&format!("<p>{}</p>", paragraph(300 + s * 3 + p)));
        }
        if s % 4 == 1 {
            body.push_str(&format!(
                "<img src=/office/chart/{s} width=640 height=320 alt=chart>"
            ));
        }
    }
    body.push_str("<table><tr><th>Region</th><th>Orders</th><th>Revenue</th><th>Margin</th></tr>");
    for r in 0..30u64 {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}.{:02}</td><td>{}%</td></tr>",
            sentence(400 + r, 2),
            100 + r * 37 % 900,
            10_000 + r * 7919 % 90_000,
            r * 13 % 100,
            5 + r * 7 % 30
        ));
    }
    body.push_str("</table>");
    page("Report", &body)
}

/// A customer list of 60 rows.
async fn crm() -> Html<String> {
    let mut body = String::from(
        "<h1>Customers</h1><table><tr><th>Customer</th><th>Contact</th><th>Status</th><th>Next step</th></tr>",
    );
    for r in 0..60u64 {
        body.push_str(&format!(
            "<tr><td>Customer {r}</td><td>contact{r}@example.com</td><td>{}</td><td>{}</td></tr>",
            sentence(500 + r, 2),
            sentence(600 + r, 6)
        ));
    }
    body.push_str("</table>");
    page("Customers", &body)
}

/// A 640x320 bar chart PNG, its bars from `n`.
async fn chart(Path(n): Path<u64>) -> impl IntoResponse {
    let (w, h) = (640u32, 320u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for x in 40..w - 20 {
        img.put_pixel(x, h - 30, Rgb([60, 60, 60]));
    }
    for y in 20..h - 30 {
        img.put_pixel(40, y, Rgb([60, 60, 60]));
    }
    for bar in 0..8u32 {
        let height = 40 + ((n as u32 + 1) * 53 * (bar + 3)) % 220;
        let x0 = 60 + bar * 70;
        let colour = Rgb([40 + (bar * 25) as u8, 90, 200 - (bar * 20) as u8]);
        for x in x0..x0 + 45 {
            for y in (h - 30 - height)..(h - 30) {
                img.put_pixel(x, y, colour);
            }
        }
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    ([(header::CONTENT_TYPE, "image/png")], png)
}
