//! The help center's verifier (crates/web/static/verify-records.js) in real headless Chromium, against exports
//! made here: its verdicts must be the Rust verifier's (valid; altered, removed, inserted, reordered at the same
//! entry; a broken signature; a key not trusted; a field outside the format), and its sentences the page's
//! language.

mod common;

use common::*;
use lifebuoy_records::{Content, EntryBody, Export, PublicKey, SigningKey, Tamper, verify_json};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One export for the browser to verify, with the keys to trust (none: the export's own).
struct Case {
    name: &'static str,
    json: String,
    trusted: Option<Vec<PublicKey>>,
}

/// The Rust verdict in the shape verifyExport answers.
fn rust_verdict(case: &Case) -> Value {
    match verify_json(&case.json, case.trusted.as_deref()) {
        Ok(v) => json!({"ok": true, "conversations": v.conversations, "entries": v.entries, "keyIds": v.key_ids}),
        Err(t) => {
            let (kind, at) = match t {
                Tamper::Altered { conversation, case, seq } => ("altered", Some((conversation, case, seq))),
                Tamper::Removed { conversation, case, seq } => ("removed", Some((conversation, case, seq))),
                Tamper::Inserted { conversation, case, seq } => ("inserted", Some((conversation, case, seq))),
                Tamper::Reordered { conversation, case, seq, .. } => ("reordered", Some((conversation, case, seq))),
                Tamper::Seal { conversation, case, seq, .. } => ("seal", Some((conversation, case, seq))),
                Tamper::Signature(_) => ("signature", None),
                Tamper::Format(_) => ("format", None),
            };
            let (conversation, case, seq) = match at {
                Some((c, k, s)) => (json!(c), json!(k), json!(s)),
                None => (Value::Null, Value::Null, Value::Null),
            };
            json!({"ok": false, "kind": kind, "conversation": conversation, "case": case, "seq": seq})
        }
    }
}

/// The parts of a JS verdict the Rust one has.
fn comparable(js: &Value) -> Value {
    if js["ok"] == json!(true) {
        json!({"ok": true, "conversations": js["conversations"], "entries": js["entries"], "keyIds": js["keyIds"]})
    } else {
        json!({"ok": false, "kind": js["kind"], "conversation": js["conversation"], "case": js["case"], "seq": js["seq"]})
    }
}

fn message_mut(e: &mut Export, c: usize, seq: i64) -> &mut String {
    match &mut e.conversations[c].entries[(seq - 1) as usize].body {
        EntryBody::Shown { content: Content::Message { body, .. }, .. } => body,
        _ => panic!("entry {seq} is a shown message"),
    }
}

fn cases() -> Vec<Case> {
    let key = SigningKey::generate();
    let good = sample(&key);
    let text = |e: &Export| serde_json::to_string(e).expect("serialises");
    let case = |name, e: &Export| Case { name, json: text(e), trusted: None };
    let mut altered = good.clone();
    let body = message_mut(&mut altered, 0, 5);
    *body = body.replacen("截图", "截囷", 1);
    let mut removed = good.clone();
    removed.conversations[0].entries.remove(1);
    let mut reordered = good.clone();
    reordered.conversations[1].entries.swap(0, 1);
    let mut inserted = good.clone();
    let copy = inserted.conversations[1].entries[2].clone();
    inserted.conversations[1].entries.insert(3, copy);
    let mut renamed = good.clone();
    if let EntryBody::Shown { author_name, .. } = &mut renamed.conversations[1].entries[3].body {
        *author_name = Some("陳小明".into());
    }
    let mut extra: Value = serde_json::to_value(&good).expect("serialises");
    extra["conversations"][0]["entries"][0]["note"] = json!("added");
    vec![
        Case { name: "untouched", json: text(&good), trusted: Some(vec![key.public(KEY_CREATED)]) },
        case("altered", &altered),
        case("removed", &removed),
        case("reordered", &reordered),
        case("inserted", &inserted),
        case("renamed", &renamed),
        Case { name: "untrusted", json: text(&good), trusted: Some(vec![SigningKey::generate().public(KEY_CREATED)]) },
        Case { name: "extra_field", json: extra.to_string(), trusted: None },
        case("big", &big(&key, 2_000)),
    ]
}

/// A JS string literal holding `s`, safe inside a `<script>` element.
fn js_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises").replace("</", "<\\/")
}

/// The test page: runs verifyExport on every case and writes each verdict, and the sentence for the altered
/// case in each language, into `<pre>` elements.
fn page(script: &Path, cases: &[Case]) -> String {
    let mut calls = String::new();
    for c in cases {
        let trusted = match &c.trusted {
            Some(keys) => serde_json::to_string(keys).expect("keys serialise"),
            None => "undefined".into(),
        };
        calls.push_str(&format!("  await show({:?}, {}, {trusted});\n", c.name, js_string(&c.json)));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-Hans"><head><meta charset="utf-8"><script src="file://{script}"></script></head>
<body>
<script>
async function show(name, json, trusted) {{
  const pre = document.createElement('pre');
  pre.id = 'verdict-' + name;
  try {{
    const r = await verifyExport(json, trusted);
    pre.textContent = JSON.stringify(r);
    if (name === 'altered') {{
      for (const lang of ['zh-Hans', 'zh-Hant', 'en']) {{
        const p = document.createElement('pre');
        p.id = 'sentence-' + lang;
        p.textContent = describeVerdict(r, lang);
        document.body.appendChild(p);
      }}
    }}
  }} catch (e) {{
    pre.textContent = JSON.stringify({{thrown: String(e)}});
  }}
  document.body.appendChild(pre);
}}
(async () => {{
{calls}  document.body.appendChild(Object.assign(document.createElement('pre'), {{id: 'done', textContent: 'done'}}));
}})();
</script>
</body></html>
"#,
        script = script.display()
    )
}

/// The Chromium to run: `chromium` (Debian), else `chromium-browser` or `google-chrome` on the PATH.
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(dir) =
            std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).find(|d| d.join(name).is_file()))
        {
            return dir.join(name);
        }
    }
    panic!("no Chromium on the PATH: install it (apt-get install chromium) to test the browser verifier");
}

/// The DOM of `url` after its scripts ran, as headless Chromium dumps it (into a file: a pipe would fill up
/// and stall it while this waits).
fn dump_dom(url: &str, dir: &Path) -> String {
    let out_path = dir.join("dom.html");
    let out = std::fs::File::create(&out_path).expect("create the DOM file");
    let mut child = Command::new(chromium())
        .args(["--headless=new", "--disable-gpu", "--no-sandbox", "--allow-file-access-from-files"])
        .args(["--virtual-time-budget=5000", "--no-first-run", "--dump-dom"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(url)
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("chromium runs").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&out_path).expect("the DOM is UTF-8")
}

/// The text of `<pre id="{id}">` in a dumped DOM.
fn pre(dom: &str, id: &str) -> Option<String> {
    let open = format!("<pre id=\"{id}\">");
    let start = dom.find(&open)? + open.len();
    let end = start + dom[start..].find("</pre>")?;
    Some(
        dom[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&"),
    )
}

#[test]
fn the_browser_verifier_agrees_with_the_rust_one() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/static/verify-records.js");
    let script = script.canonicalize().expect("crates/web/static/verify-records.js exists");
    let cases = cases();
    let dir = tempfile::tempdir().expect("temp dir");
    let html = dir.path().join("verify.html");
    std::fs::write(&html, page(&script, &cases)).expect("write the page");
    let started = Instant::now();
    let dom = dump_dom(&format!("file://{}", html.display()), dir.path());
    eprintln!("chromium verified {} exports in {:?}", cases.len(), started.elapsed());
    assert!(pre(&dom, "done").is_some(), "the page did not finish verifying:\n{}", &dom[..dom.len().min(2000)]);
    for c in &cases {
        let js: Value = pre(&dom, &format!("verdict-{}", c.name))
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| panic!("no verdict for {}", c.name));
        assert_eq!(comparable(&js), rust_verdict(c), "{}: JS said {js}", c.name);
    }
    // The verdicts are the ones meant, not merely equal.
    let kind = |name: &str| rust_verdict(cases.iter().find(|c| c.name == name).expect("case"));
    assert_eq!(kind("untouched")["ok"], json!(true));
    assert_eq!((kind("altered")["kind"].clone(), kind("altered")["seq"].clone()), (json!("altered"), json!(5)));
    assert_eq!((kind("removed")["kind"].clone(), kind("removed")["seq"].clone()), (json!("removed"), json!(2)));
    assert_eq!(kind("reordered")["kind"], json!("reordered"));
    assert_eq!(kind("inserted")["kind"], json!("inserted"));
    assert_eq!(kind("renamed")["kind"], json!("signature"));
    assert_eq!(kind("untrusted")["kind"], json!("seal"));
    assert_eq!(kind("extra_field")["kind"], json!("format"));
    assert_eq!(kind("big")["entries"], json!(2_000));
    assert_eq!(
        pre(&dom, "sentence-zh-Hans").as_deref(),
        Some(format!("验证失败：案件 {CASE_1} 的第 5 条记录已被改动。").as_str())
    );
    assert_eq!(
        pre(&dom, "sentence-zh-Hant").as_deref(),
        Some(format!("驗證失敗：案件 {CASE_1} 的第 5 筆紀錄已遭改動。").as_str())
    );
    assert_eq!(
        pre(&dom, "sentence-en").as_deref(),
        Some(format!("Verification failed: Case {CASE_1}: entry 5 was altered.").as_str())
    );
}
