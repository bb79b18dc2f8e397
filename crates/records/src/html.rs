//! The records as one self-contained HTML document: inline CSS, no script, nothing loaded from elsewhere, laid
//! out for reading on screen and for printing on A4.

use crate::export::Export;
use crate::readable::{EntryKind, Readable, ReadableConversation, ReadableEntry, ReadableVerification};
use crate::words::Lang;
use std::fmt::Write;

/// Renders `export` as an HTML document in its language. Everything from the export is escaped: bodies are
/// what people typed.
pub fn html(export: &Export) -> String {
    let r = Readable::of(export);
    let mut out =
        String::with_capacity(4096 + export.conversations.iter().map(|c| c.entries.len() * 400).sum::<usize>());
    let title = match export.customer.name.as_deref() {
        Some(name) => format!("{} · {name}", r.title),
        None => r.title.clone(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>{}{}</style>\n</head>\n<body>\n<main class=\"doc\">\n",
        r.lang.tag(),
        esc(&title),
        font_stack(r.lang),
        CSS
    );
    head(&mut out, &r, &export.issuer);
    for c in &r.conversations {
        conversation(&mut out, r.lang, c);
    }
    verification(&mut out, &r.verification);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The document's fonts: the system's CJK sans-serif faces for the language, Simplified or Traditional.
fn font_stack(lang: Lang) -> String {
    let cjk = match lang {
        Lang::Hant => r#""Noto Sans CJK TC", "Source Han Sans TC", "PingFang TC", "Microsoft JhengHei""#,
        Lang::Hans | Lang::En => r#""Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei""#,
    };
    format!(
        ":root{{--sans: -apple-system, BlinkMacSystemFont, \"Segoe UI\", \"Helvetica Neue\", Arial, {cjk}, sans-serif;}}\n"
    )
}

fn head(out: &mut String, r: &Readable, issuer: &str) {
    let _ = write!(
        out,
        "<header class=\"doc-head\">\n<p class=\"issuer\">{}</p>\n<h1>{}</h1>\n",
        esc(issuer),
        esc(&r.title)
    );
    definitions(out, "meta", &r.meta);
    out.push_str("</header>\n");
}

/// A list of labelled values.
fn definitions(out: &mut String, class: &str, rows: &[(String, String)]) {
    let _ = writeln!(out, "<dl class=\"{class}\">");
    for (label, value) in rows {
        let _ = writeln!(out, "<div><dt>{}</dt><dd>{}</dd></div>", esc(label), esc(value));
    }
    out.push_str("</dl>\n");
}

fn conversation(out: &mut String, lang: Lang, c: &ReadableConversation) {
    let w = lang.words();
    let _ = write!(out, "<section class=\"conv\">\n<h2>{}</h2>\n", esc(&c.heading));
    definitions(out, "fields", &c.fields);
    let _ = write!(
        out,
        "<p class=\"count\">{}</p>\n<table class=\"entries\">\n<thead><tr><th class=\"seq\">#</th><th class=\"time\">{}</th>\
         <th class=\"who\">{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        esc(&c.count),
        esc(w.time),
        esc(w.who),
        esc(w.content)
    );
    for e in &c.entries {
        entry(out, lang, e);
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn entry(out: &mut String, lang: Lang, e: &ReadableEntry) {
    let class = match (e.kind, e.by_customer) {
        (EntryKind::Message, true) => "msg customer",
        (EntryKind::Message, false) => "msg",
        (EntryKind::Event, _) => "event",
        (EntryKind::Withheld, _) => "withheld",
    };
    let _ = write!(
        out,
        "<tr class=\"{class}\"><td class=\"seq\">{}</td><td class=\"time\">{}</td><td class=\"who\">{}</td>\
         <td class=\"body\"><div class=\"text\">{}</div>",
        e.seq,
        esc(&e.time),
        esc(&e.who),
        esc(&e.text)
    );
    if !e.attachments.is_empty() {
        out.push_str("<ul class=\"att\">");
        for a in &e.attachments {
            let _ = write!(
                out,
                "<li><span class=\"label\">{}</span> {} · {}<br><span class=\"hash\">SHA-256 {}</span></li>",
                esc(lang.words().attachment),
                esc(&a.filename),
                esc(&a.size),
                esc(&a.sha256)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</td></tr>\n");
}

fn verification(out: &mut String, v: &ReadableVerification) {
    let _ = write!(
        out,
        "<section class=\"verify\">\n<h2>{}</h2>\n<p>{}</p>\n<table class=\"seals\">\n<thead><tr>",
        esc(&v.heading),
        esc(&v.intro)
    );
    for c in &v.columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &v.seals {
        let [case, seq, digest, key, at] = row;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"hash\">{}</td><td class=\"hash\">{}</td><td>{}</td></tr>",
            esc(case),
            esc(seq),
            esc(digest),
            esc(key),
            esc(at)
        );
    }
    let _ = write!(out, "</tbody>\n</table>\n<p class=\"hash\">{}</p>\n", esc(&v.document_key));
    for p in &v.how {
        let _ = writeln!(out, "<p>{}</p>", esc(p));
    }
    out.push_str("</section>\n");
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
@page { size: A4; margin: 18mm 16mm 20mm; }
* { box-sizing: border-box; }
html { background: #f3f4f6; }
body { margin: 0; font-family: var(--sans); font-size: 10.5pt; line-height: 1.6; color: #111827; }
.doc { max-width: 210mm; margin: 24px auto; padding: 18mm 16mm; background: #fff; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
.doc-head { border-bottom: 2px solid #1f2937; padding-bottom: 10px; margin-bottom: 18px; }
.issuer { margin: 0; color: #4b5563; font-size: 9pt; letter-spacing: .02em; }
h1 { margin: 4px 0 12px; font-size: 20pt; font-weight: 700; letter-spacing: .04em; }
h2 { margin: 0 0 8px; font-size: 13pt; font-weight: 700; }
dl { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 2px 24px; margin: 0; }
dl div { display: flex; gap: 10px; min-width: 0; }
dt { flex: 0 0 6.5em; color: #6b7280; }
dd { margin: 0; overflow-wrap: anywhere; }
.conv { margin: 0 0 22px; padding-top: 12px; border-top: 1px solid #d1d5db; }
.count { margin: 6px 0; color: #6b7280; font-size: 9pt; }
table { width: 100%; border-collapse: collapse; }
thead { display: table-header-group; }
th { text-align: left; font-weight: 600; color: #374151; border-bottom: 1px solid #9ca3af; padding: 4px 6px; font-size: 9pt; }
td { vertical-align: top; padding: 6px; border-bottom: 1px solid #e5e7eb; }
tr { break-inside: avoid; page-break-inside: avoid; }
.seq { width: 2.5em; color: #6b7280; text-align: right; font-variant-numeric: tabular-nums; }
.time { width: 9.5em; color: #4b5563; font-size: 9pt; font-variant-numeric: tabular-nums; }
.who { width: 11em; font-weight: 600; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.customer .who { color: #1d4ed8; }
.event .text, .event .who { color: #4b5563; font-weight: 400; }
.withheld .text { color: #6b7280; font-style: italic; }
.att { list-style: none; margin: 6px 0 0; padding: 6px 8px; background: #f9fafb; border: 1px solid #e5e7eb; font-size: 9pt; }
.att .label { color: #6b7280; }
.hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere; word-break: break-all; }
.verify { margin-top: 28px; padding-top: 12px; border-top: 2px solid #1f2937; break-inside: avoid; }
.verify p { margin: 6px 0; }
.seals { margin: 10px 0; font-size: 9pt; }
@media print {
  html { background: #fff; }
  .doc { margin: 0; padding: 0; max-width: none; box-shadow: none; }
  a { color: inherit; text-decoration: none; }
}
"#;
