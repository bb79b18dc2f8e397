//! How a mail reads in a thread: pure functions, no I/O, unit-tested here.
//!
//! - [`fold`] splits a mail's text into what the sender wrote and what is folded away in the thread view: the
//!   quoted history (`>` lines at the end, "On … wrote:", "在 … 写道：", "在 … 寫道：", Outlook's
//!   "-----Original Message-----" and "From: … Sent: …" headers, Foxmail and QQ Mail's "发件人：" and
//!   "原始邮件" blocks) and the signature (after a `-- ` line). The whole text stays the message's body (the
//!   record, and what search reads); the fold is only how it is shown.
//! - [`sanitize_html`] turns a mail's HTML into HTML that is safe to show inside our pages (ammonia): no
//!   scripts, styles or event handlers, no remote images (a remote image is a read receipt and a tracker), inline
//!   images (`cid:`) pointed at the attachment they became, links only to http(s) and mailto, with
//!   `rel="noopener noreferrer"`.
//! - [`split_html`] finds where the quoted history starts in a mail's HTML (Gmail's `gmail_quote`, Outlook's
//!   `divRplyFwdMsg`, Apple Mail and Thunderbird's `<blockquote>`, QQ Mail's "原始邮件"), so the two halves are
//!   sanitised apart and stored joined by [`QUOTE_MARK`], which no sanitised HTML can contain (ammonia drops
//!   comments).

use std::borrow::Cow;
use std::collections::HashMap;

/// Between the sender's part and the quoted part of a stored mail HTML. A comment: the sanitiser removes every
/// comment from mail, so a sender cannot forge it.
pub const QUOTE_MARK: &str = "<!--lifebuoy:quoted-->";

/// A mail's text, as the thread shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// What the sender wrote.
    pub main: String,
    /// The quoted history and signature, shown folded; `None` when there is none (or when nothing would be
    /// left above it: a mail that is all quote is shown whole).
    pub quoted: Option<String>,
}

/// Splits a mail's text into what the sender wrote and what is folded away (see the module's doc). Inline
/// replies (answers written between quoted lines) are not folded: the quotes there are the context of the
/// answers; only a block of `>` lines that runs to the end of the mail is.
pub fn fold(text: &str) -> Folded {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines.len();
    for (i, line) in lines.iter().enumerate() {
        // The signature separator `-- ` (many clients drop its trailing space).
        if line.trim_end() == "--" {
            cut = i;
            break;
        }
        if starts_history(&lines, i) {
            cut = i;
            break;
        }
        if line.trim_start().starts_with('>') && quotes_to_end(&lines[i..]) {
            cut = i;
            break;
        }
    }
    let main = lines[..cut].join("\n").trim_end().to_string();
    let quoted = lines[cut.min(lines.len())..].join("\n").trim().to_string();
    if main.trim().is_empty() || quoted.is_empty() {
        return Folded { main: text.trim_end().to_string(), quoted: None };
    }
    Folded { main, quoted: Some(quoted) }
}

/// Whether the line at `i` opens a quoted history: an attribution line or a forwarded-headers block.
fn starts_history(lines: &[&str], i: usize) -> bool {
    let l = lines[i].trim();
    let next = lines.get(i + 1).map(|s| s.trim()).unwrap_or("");
    let ends_wrote = |s: &str| s.ends_with("wrote:") || s.ends_with("writes:");
    let ends_xiedao = |s: &str| ["写道：", "写道:", "寫道：", "寫道:"].iter().any(|w| s.ends_with(w));
    // "On Mon, 30 Nov 2026 at 10:00, Zhang San <z@example.com> wrote:" (often wrapped before "wrote:").
    if l.starts_with("On ") && (ends_wrote(l) || (next.len() < 60 && ends_wrote(next))) {
        return true;
    }
    // "在 2026年11月30日 10:00，张三 <z@example.com> 写道：" (Apple Mail, Gmail in Chinese), wrapped too.
    if l.starts_with('在') && (ends_xiedao(l) || (next.chars().count() < 40 && ends_xiedao(next))) {
        return true;
    }
    let squeezed: String = l.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '_').collect();
    // Outlook "-----Original Message-----", Foxmail/QQ "------------------ 原始邮件 ------------------".
    if l.starts_with("--")
        && ["originalmessage", "原始邮件", "原始郵件", "forwardedmessage"].iter().any(|m| squeezed.to_lowercase() == *m)
    {
        return true;
    }
    // An Outlook header block: "From: …" with "Sent: …" (or "Date:") within the next lines; "发件人：" (Outlook
    // and Foxmail in Chinese), "寄件者：" (Traditional).
    let header = |s: &str, names: &[&str]| {
        names.iter().any(|n| s.strip_prefix(n).is_some_and(|rest| rest.starts_with(':') || rest.starts_with('：')))
    };
    if header(l, &["发件人", "寄件者", "發件人"]) {
        return true;
    }
    if header(l, &["From", "*From"]) {
        return lines[i + 1..].iter().take(4).any(|s| header(s.trim(), &["Sent", "*Sent", "Date", "To"]));
    }
    false
}

/// Whether every non-blank line from here on is a `>` quote (or the signature after a `-- ` line).
fn quotes_to_end(rest: &[&str]) -> bool {
    for l in rest {
        let t = l.trim();
        if t == "--" {
            return true;
        }
        if !t.is_empty() && !t.starts_with('>') {
            return false;
        }
    }
    true
}

/// Where the quoted history starts in a mail's HTML (a byte offset at a `<`), if it has one after some
/// content of the sender's own.
pub fn split_html(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    // Markers that are an element's start tag, and markers inside one (back up to its `<`).
    const TAGS: &[&str] = &["<blockquote"];
    const INSIDE: &[&str] = &[
        "gmail_quote",
        "divrplyfwdmsg",
        "appendonsend",
        "moz-cite-prefix",
        "yahoo_quoted",
        "-----original message-----",
        "原始邮件",
        "原始郵件",
        "发件人：",
        "发件人:",
        "寄件者：",
    ];
    let mut best: Option<usize> = None;
    for t in TAGS {
        if let Some(i) = lower.find(t) {
            best = Some(best.map_or(i, |b: usize| b.min(i)));
        }
    }
    for m in INSIDE {
        if let Some(i) = lower.find(m)
            && let Some(lt) = lower[..i].rfind('<')
        {
            best = Some(best.map_or(lt, |b: usize| b.min(lt)));
        }
    }
    let at = best?;
    let before = &html[..at];
    has_visible_text(before).then_some(at)
}

/// Whether some HTML has any text outside its tags (roughly: enough to tell an empty head from a real one).
fn has_visible_text(html: &str) -> bool {
    let mut in_tag = false;
    let mut text = String::new();
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&nbsp;", " ");
    text.chars().any(|c| !c.is_whitespace())
}

/// Sanitises a mail's HTML for display: what ammonia allows by default (no scripts, styles, forms, frames,
/// event handlers or comments), minus every remote or `data:` image, links restricted to http(s) and mailto
/// and given `rel="noopener noreferrer"`; an inline image `cid:X` becomes the attachment `inline[X]` (its URL),
/// or nothing.
pub fn sanitize_html(html: &str, inline: &HashMap<String, String>) -> String {
    let inline = inline.clone();
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_url_schemes(["cid"])
        .rm_tags(["map", "area"])
        .attribute_filter(move |element, attribute, value| match (element, attribute) {
            ("img", "src") => {
                let id = value.trim().strip_prefix("cid:").or_else(|| value.trim().strip_prefix("CID:"))?;
                let id = id.trim_matches(|c| c == '<' || c == '>');
                inline.get(id).map(|url| Cow::Owned(url.clone()))
            }
            (_, "href") => {
                let v = value.trim_start().to_ascii_lowercase();
                (v.starts_with("http://") || v.starts_with("https://") || v.starts_with("mailto:"))
                    .then_some(Cow::Borrowed(value))
            }
            (_, "src" | "srcset" | "longdesc" | "cite") => None,
            _ => Some(Cow::Borrowed(value)),
        })
        .clean(html)
        .to_string()
}

/// A mail's HTML as stored: the sender's part and the quoted part sanitised apart, joined by [`QUOTE_MARK`].
pub fn stored_html(html: &str, inline: &HashMap<String, String>) -> String {
    match split_html(html) {
        Some(at) => {
            let main = sanitize_html(&html[..at], inline);
            let quoted = sanitize_html(&html[at..], inline);
            if quoted.trim().is_empty() { main } else { format!("{main}{QUOTE_MARK}{quoted}") }
        }
        None => sanitize_html(html, inline),
    }
}

/// A stored mail HTML read back: (the sender's part, the quoted part).
pub fn stored_parts(stored: &str) -> (&str, Option<&str>) {
    match stored.split_once(QUOTE_MARK) {
        Some((main, quoted)) => (main, Some(quoted)),
        None => (stored, None),
    }
}

/// A header's RFC 2047 encoded words decoded with adjacent words of one charset joined as bytes first: some
/// mailers cut a word in the middle of a multi-byte character (RFC 2047 forbids it; they do it anyway), which a
/// word-by-word decoder turns into U+FFFD. Text between encoded words that is only white space is dropped, as
/// RFC 2047 says; other text is kept. `None` when the value has no encoded word.
pub fn decode_header_words(raw: &str) -> Option<String> {
    let raw: String = raw.replace("\r\n", "").replace('\n', "");
    if !raw.contains("=?") {
        return None;
    }
    let mut out = String::new();
    let mut pending: Option<(String, Vec<u8>)> = None;
    let flush = |pending: &mut Option<(String, Vec<u8>)>, out: &mut String| {
        if let Some((charset, bytes)) = pending.take() {
            match mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()) {
                Some(decode) => out.push_str(&decode(&bytes)),
                None => out.push_str(&String::from_utf8_lossy(&bytes)),
            }
        }
    };
    let mut rest = raw.as_str();
    while let Some(start) = rest.find("=?") {
        let word = rest[start + 2..].splitn(3, '?').collect::<Vec<_>>();
        let parsed = match word.as_slice() {
            [charset, enc, tail] => tail
                .find("?=")
                .map(|end| (*charset, *enc, &tail[..end], 2 + charset.len() + 1 + enc.len() + 1 + end + 2)),
            _ => None,
        };
        let Some((charset, enc, text, len)) = parsed else {
            break;
        };
        // White space between two encoded words is not text; anything else is.
        let between = &rest[..start];
        if !between.trim().is_empty() || pending.is_none() {
            flush(&mut pending, &mut out);
            out.push_str(between);
        }
        let charset = charset.split('*').next().unwrap_or(charset).to_ascii_lowercase();
        let bytes = match enc {
            "B" | "b" => mail_parser::decoders::base64::base64_decode(text.as_bytes()),
            "Q" | "q" => Some(q_decode(text)),
            _ => None,
        };
        let Some(bytes) = bytes else {
            flush(&mut pending, &mut out);
            out.push_str(&rest[start..start + len]);
            rest = &rest[start + len..];
            continue;
        };
        match &mut pending {
            Some((c, b)) if *c == charset => b.extend_from_slice(&bytes),
            _ => {
                flush(&mut pending, &mut out);
                pending = Some((charset, bytes));
            }
        }
        rest = &rest[start + len..];
    }
    flush(&mut pending, &mut out);
    out.push_str(rest);
    Some(out.trim().to_string())
}

/// The `Q` encoding of RFC 2047: `_` is a space, `=XX` a byte.
fn q_decode(text: &str) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'='),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A mail-born message as the thread view shows it: the sender's part, and the folded quote (with a `<details>`
/// around it in the page).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MailView {
    /// `main` and `quoted` are sanitised HTML (shown as is); otherwise plain text (escaped by the page).
    pub html: bool,
    pub main: String,
    pub quoted: Option<String>,
}

/// How a message that came by mail is shown: its stored HTML when it has one, else its text, folded.
pub fn view(body: &str, stored_html: Option<&str>) -> MailView {
    match stored_html {
        Some(h) => {
            let (main, quoted) = stored_parts(h);
            MailView { html: true, main: main.to_string(), quoted: quoted.map(str::to_string) }
        }
        None => {
            let f = fold(body);
            MailView { html: false, main: f.main, quoted: f.quoted }
        }
    }
}

/// The views of a conversation's mail-born messages (the customer's messages of an email case), by message id.
pub async fn thread_views(
    store: &lifebuoy_store::Store,
    conversation: &lifebuoy_store::Conversation,
    timeline: &[lifebuoy_store::TimelineItem],
) -> crate::AppResult<HashMap<String, MailView>> {
    if conversation.kind != "email" {
        return Ok(HashMap::new());
    }
    let html: HashMap<String, String> = store.message_html(&conversation.id).await?.into_iter().collect();
    Ok(timeline
        .iter()
        .filter_map(|i| match i {
            lifebuoy_store::TimelineItem::Message { message: m, .. } if m.author_kind == "customer" => {
                Some((m.id.clone(), view(&m.body, html.get(&m.id).map(String::as_str))))
            }
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> (String, Option<String>) {
        let f = fold(text);
        (f.main, f.quoted)
    }

    #[test]
    fn gmail_attribution_and_quotes_fold() {
        let (main, quoted) = folded(
            "Thanks, it arrived.\n\nOn Mon, 30 Nov 2026 at 10:00, Lifebuoy Support <support@desk.example> wrote:\n> Your deposit is on its way.\n> \n",
        );
        assert_eq!(main, "Thanks, it arrived.");
        assert!(quoted.unwrap().starts_with("On Mon, 30 Nov 2026"));
    }

    #[test]
    fn wrapped_attribution_folds() {
        let (main, quoted) =
            folded("ok\n\nOn Mon, 30 Nov 2026 at 10:00, Lifebuoy Support <support@desk.example>\nwrote:\n> hi");
        assert_eq!(main, "ok");
        assert!(quoted.is_some());
    }

    #[test]
    fn chinese_attributions_fold_in_both_scripts() {
        let (main, quoted) =
            folded("收到，谢谢。\n\n在 2026年11月30日 10:00，客服 <support@desk.example> 写道：\n> 您的充值已到账。");
        assert_eq!((main.as_str(), quoted.is_some()), ("收到，谢谢。", true));
        let (main, quoted) =
            folded("收到，謝謝。\n在 2026年11月30日 上午10:00，客服 <support@desk.example> 寫道：\n> 您的充值已到帳。");
        assert_eq!((main.as_str(), quoted.is_some()), ("收到，謝謝。", true));
    }

    #[test]
    fn outlook_blocks_fold() {
        let (main, quoted) = folded("See below.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nhello");
        assert_eq!(main, "See below.");
        assert!(quoted.unwrap().starts_with("-----Original Message-----"));
        let (main, quoted) = folded(
            "Still waiting.\n\n________________________________\nFrom: Lifebuoy Support <support@desk.example>\nSent: Monday, November 30, 2026 10:00\nTo: me\nSubject: Re: deposit\n\nWe are checking.",
        );
        assert_eq!(main, "Still waiting.\n\n________________________________");
        assert!(quoted.unwrap().starts_with("From: Lifebuoy Support"));
    }

    #[test]
    fn foxmail_and_qq_blocks_fold() {
        let (main, quoted) = folded("好的\n\n发件人：客服中心\n发送时间：2026-11-30 10:00\n收件人：我\n主题：充值");
        assert_eq!((main.as_str(), quoted.is_some()), ("好的", true));
        let (main, quoted) =
            folded("好的\n\n------------------ 原始邮件 ------------------\n发件人: \"客服\"<support@desk.example>;\n");
        assert_eq!((main.as_str(), quoted.is_some()), ("好的", true));
    }

    #[test]
    fn signatures_fold() {
        let (main, quoted) = folded("Please check order 123.\n\n-- \nZhang San\nCEO, Example Ltd");
        assert_eq!(main, "Please check order 123.");
        assert_eq!(quoted.as_deref(), Some("-- \nZhang San\nCEO, Example Ltd"));
    }

    #[test]
    fn inline_replies_and_plain_mail_are_not_folded() {
        let text = "> Which order?\n123456\n> Which coin?\nUSDT";
        assert_eq!(folded(text), (text.to_string(), None));
        let text = "my withdrawal is stuck\n\nsince Monday";
        assert_eq!(folded(text), (text.to_string(), None));
        // "From:" in the middle of the sender's own words is not a header block.
        let text = "From: my side everything looks fine.\nPlease look again.";
        assert_eq!(folded(text), (text.to_string(), None));
    }

    #[test]
    fn a_mail_that_is_all_quote_is_shown_whole() {
        let text = "> forwarded\n> text";
        assert_eq!(folded(text), (text.to_string(), None));
    }

    #[test]
    fn html_is_sanitised() {
        let mut inline = HashMap::new();
        inline.insert("logo@x".to_string(), "/api/v1/attachments/a1".to_string());
        let out = sanitize_html(
            r#"<p onclick="x()">Hi<script>alert(1)</script><style>p{}</style></p>
               <img src="https://tracker.example/p.gif"><img src="cid:logo@x" alt="logo"><img src="data:image/png;base64,AAAA">
               <a href="https://example.com/x">ok</a> <a href="javascript:alert(1)">bad</a> <!-- c -->"#,
            &inline,
        );
        assert!(!out.contains("script") && !out.contains("alert") && !out.contains("onclick"), "{out}");
        assert!(!out.contains("tracker.example") && !out.contains("data:"), "{out}");
        assert!(out.contains(r#"src="/api/v1/attachments/a1""#), "{out}");
        assert!(out.contains(r#"rel="noopener noreferrer""#), "{out}");
        assert!(!out.contains("<!--"), "{out}");
        assert!(out.contains("Hi"));
    }

    #[test]
    fn html_quotes_split_and_cannot_be_forged() {
        let html =
            r#"<div>Thanks!</div><div class="gmail_quote"><div>On Mon wrote:</div><blockquote>old</blockquote></div>"#;
        let at = split_html(html).unwrap();
        assert!(html[at..].starts_with("<div class=\"gmail_quote\""));
        let stored = stored_html(html, &HashMap::new());
        let (main, quoted) = stored_parts(&stored);
        assert!(main.contains("Thanks!") && !main.contains("old"));
        assert!(quoted.unwrap().contains("old"));
        // All quote: nothing to fold under.
        assert_eq!(split_html("<blockquote>only</blockquote>"), None);
        // A sender writing the mark gets it removed.
        let stored = stored_html(&format!("<p>a</p>{QUOTE_MARK}<p>b</p>"), &HashMap::new());
        assert_eq!(stored_parts(&stored).1, None);
    }

    #[test]
    fn encoded_words_split_inside_a_character_decode() {
        // "账户安全" in UTF-8, cut after 4 and 11 bytes: inside the second and fourth characters.
        let raw = "=?UTF-8?B?6LSm5g==?= =?UTF-8?B?iLflronlhag=?=";
        assert_eq!(decode_header_words(raw).as_deref(), Some("账户安全"));
        let bytes = "账户安全问题".as_bytes();
        let b64 = |b: &[u8]| {
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            b.chunks(3)
                .map(|c| {
                    let n =
                        (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
                    let mut s: String = (0..4).map(|k| T[(n >> (18 - 6 * k)) as usize & 63] as char).collect();
                    if c.len() < 3 {
                        s.truncate(c.len() + 1);
                        s.push_str(&"=".repeat(3 - c.len()));
                    }
                    s
                })
                .collect::<String>()
        };
        let raw = format!("Re: =?utf-8?B?{}?=\r\n =?utf-8?B?{}?= [LB-1]", b64(&bytes[..4]), b64(&bytes[4..]));
        assert_eq!(decode_header_words(&raw).as_deref(), Some("Re: 账户安全问题 [LB-1]"));
        // Q words, another charset between, and plain text kept.
        assert_eq!(
            decode_header_words("=?utf-8?Q?Funding_rate_=E8=B4?= =?utf-8?Q?=B9?=").as_deref(),
            Some("Funding rate 费")
        );
        assert_eq!(decode_header_words("=?gbk?B?xOO6ww==?= and =?utf-8?B?5aW9?=").as_deref(), Some("你好 and 好"));
        assert_eq!(decode_header_words("plain"), None);
    }
}
