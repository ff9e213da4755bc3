//! E-mail: RFC 5322 messages (`.eml`) and mbox files, parsed as MIME with
//! the `mail-parser` crate.
//!
//! Read as plain text, a message hides most of what it carries: bodies in
//! base64 or quoted-printable, headers in RFC 2047 encoded words, and every
//! attachment. Here each message gives:
//! - `msg!/headers`: the decoded headers people write (Subject, From, To,
//!   Cc, Reply-To, Comments, Keywords and any `X-` header), one per line;
//! - `msg!/body1`, `msg!/body2`...: every text part decoded (HTML through the
//!   same visible-text reader as `.html` files);
//! - `msg!/<attachment name>`: every attachment decoded and extracted as a
//!   file of its own (sniffed, so a zip attachment is opened), one nesting
//!   level deeper, within the same budget;
//! - a message attached to a message (`message/rfc822`) is walked the same
//!   way, one level deeper.
//!
//! A message sent by Outlook with a sensitivity label carries it in the
//! `msip_labels` header (`MSIP_Label_<id>_Enabled=true; ..._Name=...;`):
//! it is reported as the message's label.
//!
//! An mbox (`From ` separator lines) is split into its messages,
//! `box!/message1`, `box!/message2`...; each counts as a member.

use std::io::Cursor;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::html;
use crate::labels::msip;

/// Headers that carry transport and format data, not what people write.
const SKIPPED_HEADERS: [&str; 10] = [
    "received",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "mime-version",
];

/// Extracts one message; its parts are at nesting `depth`.
pub(crate) fn eml(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| Error::corrupt("e-mail", format!("{path}: not a MIME message")))?;
    walk(ctx, path, &message, depth)
}

/// Extracts every message of an mbox; each is a member at `depth`.
pub(crate) fn mbox(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let messages = mail_parser::mailbox::mbox::MessageIterator::new(Cursor::new(bytes));
    for (index, message) in messages.enumerate() {
        let message = message.map_err(|e| Error::corrupt("mbox", e).in_member(path))?;
        ctx.budget.charge_members(1)?;
        let message_path = join(path, &format!("message{}", index + 1));
        eml(ctx, &message_path, message.contents(), depth + 1)
            .map_err(|e| e.in_member(&message_path))?;
    }
    Ok(())
}

/// Extracts the headers, text parts and attachments of a parsed message.
fn walk(ctx: &mut Ctx<'_>, path: &str, message: &Message<'_>, depth: u32) -> Result<()> {
    let mut headers = String::new();
    for part in &message.parts {
        for header in &part.headers {
            let name = header.name.as_str();
            if SKIPPED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let value = header_text(&header.value);
            if name.eq_ignore_ascii_case("msip_labels") {
                for label in msip::from_header(&value, path) {
                    ctx.label(label);
                }
            }
            if !value.trim().is_empty() {
                headers.push_str(&format!("{name}: {value}\n"));
            }
        }
    }
    ctx.push(join(path, "headers"), headers, Vec::new())?;
    let mut bodies = 0;
    let mut attachments = 0;
    for part in &message.parts {
        ctx.budget.check_time()?;
        let named = part.attachment_name().map(str::to_string);
        let mut attachment_path = |kind: &str| {
            attachments += 1;
            let name = named
                .clone()
                .unwrap_or_else(|| format!("{kind}{attachments}"));
            join(path, &sanitize(&name))
        };
        match &part.body {
            PartType::Text(text) if named.is_none() => {
                bodies += 1;
                ctx.push(
                    join(path, &format!("body{bodies}")),
                    text.to_string(),
                    Vec::new(),
                )?;
            }
            PartType::Html(source) if named.is_none() => {
                bodies += 1;
                let text = html::visible_text(source);
                ctx.push(join(path, &format!("body{bodies}")), text, Vec::new())?;
            }
            PartType::Text(_) | PartType::Html(_) => {
                let member = attachment_path("attachment");
                ctx.member(&member, part.contents(), depth + 1)?;
            }
            PartType::Binary(data) | PartType::InlineBinary(data) => {
                let member = attachment_path("attachment");
                ctx.budget.charge_members(1)?;
                ctx.budget.charge_expanded(data.len() as u64)?;
                ctx.member(&member, data, depth + 1)?;
            }
            PartType::Message(inner) => {
                let member = attachment_path("message");
                ctx.budget.charge_members(1)?;
                ctx.check_depth(&member, depth + 1)?;
                walk(ctx, &member, inner, depth + 1).map_err(|e| e.in_member(&member))?;
            }
            PartType::Multipart(_) => {}
        }
    }
    Ok(())
}

/// The text of a header value: words and addresses, decoded.
fn header_text(value: &HeaderValue<'_>) -> String {
    match value {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.join(", "),
        HeaderValue::Address(Address::List(addrs)) => addrs
            .iter()
            .map(|a| address_text(a.name.as_deref(), a.address.as_deref()))
            .collect::<Vec<_>>()
            .join(", "),
        HeaderValue::Address(Address::Group(groups)) => groups
            .iter()
            .map(|g| {
                let members: Vec<String> = g
                    .addresses
                    .iter()
                    .map(|a| address_text(a.name.as_deref(), a.address.as_deref()))
                    .collect();
                format!(
                    "{}: {}",
                    g.name.as_deref().unwrap_or(""),
                    members.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        HeaderValue::DateTime(_)
        | HeaderValue::ContentType(_)
        | HeaderValue::Received(_)
        | HeaderValue::Empty => String::new(),
    }
}

fn address_text(name: Option<&str>, address: Option<&str>) -> String {
    match (name, address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (Some(n), None) => n.to_string(),
        (None, Some(a)) => a.to_string(),
        (None, None) => String::new(),
    }
}

/// An attachment name as one path segment (no `!/`, no directories).
fn sanitize(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .map(|c| if c.is_control() || c == '!' { '_' } else { c })
        .collect();
    if clean.trim().is_empty() {
        "attachment".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::{extract, Limits};

    #[test]
    fn base64_quoted_printable_and_attachments_are_decoded() {
        let eml = "From: =?UTF-8?B?SmFuZSBSb2U=?= <jane.roe@example.com>\r\n\
            To: bob@example.org\r\nSubject: =?UTF-8?Q?card_4111_1111_1111_1111?=\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain; charset=utf-8\r\n\
            Content-Transfer-Encoding: quoted-printable\r\n\r\nSSN 078-05-=\r\n1120\r\n\
            --b\r\nContent-Type: application/octet-stream; name=\"n.txt\"\r\n\
            Content-Disposition: attachment; filename=\"n.txt\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nSUJBTiBHQjgyIFdFU1QgMTIzNCA1Njk4IDc2NTQgMzI=\r\n\
            --b--\r\n";
        let out = extract("m.eml", eml.as_bytes(), &Limits::default());
        let parts: Vec<(String, String)> = out
            .parts()
            .iter()
            .map(|p| (p.path.clone(), p.text.clone()))
            .collect();
        let find = |path: &str| {
            parts
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, t)| t.clone())
                .unwrap_or_else(|| panic!("no {path} in {parts:?}"))
        };
        assert!(find("m.eml!/headers").contains("Subject: card 4111 1111 1111 1111"));
        assert!(find("m.eml!/headers").contains("Jane Roe <jane.roe@example.com>"));
        assert!(find("m.eml!/body1").contains("SSN 078-05-1120"));
        assert!(find("m.eml!/n.txt").contains("GB82 WEST 1234 5698 7654 32"));
    }
}
