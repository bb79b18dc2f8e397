//! The readable forms: the HTML escapes what people typed and holds the records; the PDF's text, as
//! `pdftotext` extracts it, holds both Chinese scripts, the agent's 工号 and the attachment's SHA-256.

mod common;

use common::*;
use lifebuoy_records::{Content, EntryBody, FontSource, SigningKey, html, pdf};
use std::path::Path;
use std::process::Command;

/// The text of `pdf` as `pdftotext` reads it (pages `first..=last` if given).
fn pdf_text(pdf: &[u8], pages: Option<(usize, usize)>) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("records.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let mut cmd = Command::new("pdftotext");
    cmd.args(["-enc", "UTF-8"]);
    if let Some((first, last)) = pages {
        cmd.args(["-f", &first.to_string(), "-l", &last.to_string()]);
    }
    let out = match cmd.arg(&path).arg("-").output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run pdftotext ({e}): install poppler-utils (apt-get install poppler-utils)"),
    };
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("pdftotext writes UTF-8")
}

/// Text without any white space: lines wrap and extraction adds spaces where it likes.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn font() -> FontSource {
    FontSource::find().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_html_escapes_a_script_in_a_body() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let EntryBody::Shown { content: Content::Message { body, .. }, .. } = &mut e.conversations[1].entries[0].body
    else {
        panic!("a message")
    };
    *body = "<script>alert('x')</script> & \"quoted\"".into();
    let page = html(&e);
    assert!(!page.contains("<script"), "a body must never become markup");
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
}

#[test]
fn the_html_holds_the_records_and_loads_nothing() {
    let key = SigningKey::generate();
    let e = sample(&key);
    let page = html(&e);
    for want in [HANS_BODY, HANT_BODY, CASE_1, CASE_2, "沟通记录", "工号 A1024", "案件编号", "UTC", "内部备注，未包含"]
    {
        assert!(page.contains(want), "missing {want:?}");
    }
    assert!(page.contains(&attachment_sha256()));
    assert!(page.contains("状态由“处理中”变更为“待客户回复”"));
    assert!(page.contains("2024-05-01 02:00:00 UTC"));
    assert!(page.contains("lifebuoy verify") && page.contains("/help/verify"));
    let head = &e.conversations[0].seals[0].digest;
    assert!(page.contains(head.as_str()), "the signed head digest is there to compare");
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"zh-Hans\">"));
    for external in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(!page.contains(external), "the document must be self-contained: found {external:?}");
    }
}

#[test]
fn the_html_speaks_the_exports_language() {
    let key = SigningKey::generate();
    let hant = html(&sample_in(&key, "zh-Hant"));
    for want in ["溝通紀錄", "案件編號", "工號 A1024", "內部備註，未收錄", "狀態由「處理中」變更為「待客戶回覆」"]
    {
        assert!(hant.contains(want), "zh-Hant: missing {want:?}");
    }
    let en = html(&sample_in(&key, "en"));
    for want in ["Support records", "Case number", "Agent ID A1024", "Internal note, not included"] {
        assert!(en.contains(want), "en: missing {want:?}");
    }
}

#[test]
fn the_pdf_text_holds_both_scripts_the_agent_number_and_the_attachment_hash() {
    let key = SigningKey::generate();
    let e = sample(&key);
    let bytes = pdf(&e, &font()).expect("renders");
    assert!(bytes.starts_with(b"%PDF-"));
    let text = squeeze(&pdf_text(&bytes, None));
    for want in [HANS_BODY, HANT_BODY, "工号A1024", "工号B2048", CASE_1, CASE_2, "沟通记录", "第1页，共"] {
        assert!(text.contains(&squeeze(want)), "the PDF's text lacks {want:?}:\n{text}");
    }
    assert!(text.contains(&attachment_sha256()), "the attachment's SHA-256 in full");
    let head = &e.conversations[1].seals[0].digest;
    assert!(text.contains(head.as_str()), "the signed head digest is there to compare");
}

#[test]
fn the_pdf_in_traditional_chinese_numbers_its_pages_so() {
    let key = SigningKey::generate();
    let bytes = pdf(&sample_in(&key, "zh-Hant"), &font()).expect("renders");
    let text = squeeze(&pdf_text(&bytes, None));
    for want in ["溝通紀錄", "工號A1024", "第1頁，共2頁", "第2頁，共2頁"] {
        assert!(text.contains(want), "lacks {want:?}:\n{text}");
    }
}

#[test]
fn a_missing_font_file_is_named() {
    let err = FontSource::from_path(Path::new("/nonexistent/NotoSansCJK-Regular.ttc")).expect_err("no such file");
    assert!(err.to_string().contains("/nonexistent/NotoSansCJK-Regular.ttc"), "{err}");
}

#[test]
fn ten_thousand_messages_render_to_a_pdf() {
    let key = SigningKey::generate();
    let e = big(&key, 10_000);
    let font = font();
    let started = std::time::Instant::now();
    let bytes = pdf(&e, &font).expect("renders");
    eprintln!("10,000 messages: PDF of {} bytes in {:?}", bytes.len(), started.elapsed());
    let first = squeeze(&pdf_text(&bytes, Some((1, 1))));
    let total: usize = first
        .split_once("第1页，共")
        .and_then(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok())
        .expect("the first page says how many pages there are");
    assert!(total > 100, "{total} pages");
    let last = squeeze(&pdf_text(&bytes, Some((total, total))));
    assert!(
        last.contains("/help/verify") && last.contains(&format!("第{total}页，共{total}页")),
        "the last page:\n{last}"
    );
}
