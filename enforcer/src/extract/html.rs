//! HTML: visible text from the html5ever *tokenizer*, in one linear pass.
//!
//! No DOM is built (tree building is quadratic in nesting depth, and deep
//! documents overflow recursive walkers), and the sink keeps no element stack:
//! only "am I inside script/style/template" and where blocks break lines.
//! Script and style switch the tokenizer to raw-text states, as a tree
//! builder would, so their bodies never leak as text. Comments are dropped.
//! Attribute text a user sees (`alt`, `title`, `placeholder`, input `value`)
//! is kept: a value typed into a saved form is still data.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Visible text of an HTML document.
pub(crate) fn visible_text(source: &str) -> String {
    let sink = Sink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(source));
    // Our sink never asks the tokenizer to pause for a script, so one feed
    // consumes everything.
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let state = tokenizer.sink.state.take();
    tidy(&state.out)
}

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    out: String,
    /// The raw-text element we are inside (`script`, `style`...), if any.
    hidden: Option<String>,
}

/// Elements whose content is never shown.
const HIDDEN: &[&str] = &["script", "style", "template", "noscript"];

/// Elements that start a new line when opened or closed.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
    "title",
    "option",
    "textarea",
    "button",
    "label",
    "select",
];

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                if let Some(hidden) = &state.hidden {
                    if tag.kind == TagKind::EndTag && hidden == name {
                        state.hidden = None;
                    }
                    return TokenSinkResult::Continue;
                }
                if BLOCKS.contains(&name) {
                    state.out.push('\n');
                } else if matches!(name, "td" | "th") {
                    state.out.push('\t');
                }
                if tag.kind == TagKind::StartTag {
                    for attr in &tag.attrs {
                        let attr_name: &str = &attr.name.local;
                        let shown = matches!(attr_name, "alt" | "title" | "placeholder")
                            || (attr_name == "value" && name == "input");
                        if shown && !attr.value.trim().is_empty() {
                            state.out.push(' ');
                            state.out.push_str(&attr.value);
                            state.out.push(' ');
                        }
                    }
                    if HIDDEN.contains(&name) && !tag.self_closing {
                        state.hidden = Some(name.to_string());
                        return match name {
                            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                            "style" | "noscript" => TokenSinkResult::RawData(RawKind::Rawtext),
                            _ => TokenSinkResult::Continue,
                        };
                    }
                    match name {
                        "textarea" | "title" => return TokenSinkResult::RawData(RawKind::Rcdata),
                        "plaintext" => return TokenSinkResult::Plaintext,
                        _ => {}
                    }
                }
            }
            Token::CharacterTokens(text) => {
                if state.hidden.is_none() {
                    state.out.push_str(&text);
                }
            }
            Token::NullCharacterToken
            | Token::CommentToken(_)
            | Token::DoctypeToken(_)
            | Token::ParseError(_)
            | Token::EOFToken => {}
        }
        TokenSinkResult::Continue
    }
}

/// Collapses runs of spaces within lines and of blank lines, so spans the
/// engine reports stay readable.
fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank_lines = 0;
    for line in raw.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        let mut first = true;
        for word in words {
            if !first {
                out.push(' ');
            }
            out.push_str(word);
            first = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::visible_text;

    #[test]
    fn drops_script_style_and_comments() {
        let html = "<html><head><title>T</title><style>p{color:red}</style>\
            <script>var secret = '</p>4111';</script></head><body>\
            <!-- hidden 999 --><p>Card&nbsp;4111&#32;1111 1111 1111</p>\
            <img alt='diagram'><input value='078-05-1120'></body></html>";
        let text = visible_text(html);
        assert!(text.contains("Card 4111 1111 1111 1111"), "{text}");
        assert!(text.contains("078-05-1120"), "{text}");
        assert!(text.contains("diagram"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("color"), "{text}");
        assert!(!text.contains("999"), "{text}");
    }

    #[test]
    fn inline_tags_do_not_split_words() {
        assert_eq!(visible_text("<p>41<b>11</b>-22</p>"), "4111-22");
    }
}
