//! `lifebuoy kb import` / `lifebuoy kb export` against a real database: export → import into an empty
//! database → export again gives identical files, and importing unchanged files changes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lifebuoy"))
        .args(args)
        .env("LIFEBUOY_LOG", "warn")
        .output()
        .expect("run lifebuoy");
    assert!(out.status.success(), "lifebuoy {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn export_import_export_round_trips() {
    let tmp = std::env::temp_dir().join(format!("lb-kb-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let starter = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/articles");
    let (d1, d2, e1, e2) = (tmp.join("d1"), tmp.join("d2"), tmp.join("e1"), tmp.join("e2"));
    let s = |p: &Path| p.display().to_string();

    let out = run(&["kb", "import", &s(&starter), "--data", &s(&d1)]);
    assert!(out.contains("45 articles created, 0 updated, 0 unchanged"), "{out}");
    let out = run(&["kb", "export", &s(&e1), "--data", &s(&d1)]);
    assert!(out.contains("45 articles exported as 105 files"), "{out}");
    let out = run(&["kb", "import", &s(&e1), "--data", &s(&d2)]);
    assert!(out.contains("45 articles created"), "{out}");
    run(&["kb", "export", &s(&e2), "--data", &s(&d2)]);
    let (a, b) = (tree(&e1), tree(&e2));
    assert_eq!(a.len(), 105);
    assert!(a == b, "the second export differs from the first");
    // The export carries everything the starter files say (same articles, same text).
    let starter_docs = lifebuoy_search::kbfiles::load_dir(&starter).unwrap();
    let exported_docs = lifebuoy_search::kbfiles::load_dir(&e1).unwrap();
    assert_eq!(starter_docs, exported_docs);

    // Re-importing unchanged files is a no-op; a changed file is a new version of its article.
    let out = run(&["kb", "import", &s(&e1), "--data", &s(&d1)]);
    assert!(out.contains("0 articles created, 0 updated, 45 unchanged"), "{out}");
    let f = e1.join("withdrawal-delayed/en.md");
    let text = std::fs::read_to_string(&f).unwrap() + "\nOne more line.\n";
    std::fs::write(&f, text).unwrap();
    let out = run(&["kb", "import", &s(&e1), "--data", &s(&d1)]);
    assert!(out.contains("0 articles created, 1 updated, 44 unchanged"), "{out}");
    // Bad files are refused with the file named, and nothing is written.
    std::fs::write(e1.join("withdrawal-delayed/zh-Hans.md"), "---\nslug: withdrawal-delayed\ntitle T\n---\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lifebuoy"))
        .args(["kb", "import", &s(&e1), "--data", &s(&d1)])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("zh-Hans.md:3"), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `kb import` beside a running server: the server's search finds the new article within seconds, with no
/// restart and no hub announcement (the server looks for saves it was not told about).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_beside_a_running_server_reaches_its_search() {
    let tmp = std::env::temp_dir().join(format!("lb-kb-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let (data, articles) = (tmp.join("data"), tmp.join("articles"));
    std::fs::create_dir_all(articles.join("zebracorn-staking")).unwrap();
    std::fs::write(
        articles.join("zebracorn-staking/en.md"),
        "---\nslug: zebracorn-staking\nlang: en\ncategory: trading\ntitle: Zebracorn staking rewards\n\
         keywords: [zebracorn]\nstatus: published\n---\nZebracorn staking pays out every Monday.\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_lifebuoy"))
        .args(["serve", "--demo", "--listen", &addr, "--data"])
        .arg(&data)
        .env("LIFEBUOY_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("lifebuoy serve");
    let search = |q: &'static str| {
        let url = format!("http://{addr}/api/v1/kb/search?q={q}");
        async move {
            let r = reqwest::get(url).await.ok()?;
            if !r.status().is_success() {
                return None;
            }
            let v: serde_json::Value = r.json().await.ok()?;
            Some(
                v["items"]
                    .as_array()?
                    .iter()
                    .filter_map(|i| i["slug"].as_str().map(str::to_string))
                    .collect::<Vec<_>>(),
            )
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while search("withdrawal").await.is_none_or(|s| s.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "the server did not start with the starter articles");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(search("zebracorn").await, Some(vec![]), "not there before the import");

    let out = run(&["kb", "import", &articles.display().to_string(), "--data", &data.display().to_string()]);
    assert!(out.contains("1 articles created"), "{out}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if search("zebracorn").await.is_some_and(|s| s == ["zebracorn-staking"]) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the running server never indexed the imported article");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The lowest held-out top-1 (the expected article, in the question's language, first) that passes: a little
/// below the 0.802 (77 of 96) measured when the held-out questions were written, so that a change to the answer
/// engine or the articles that loses held-out questions fails here.
const HELDOUT_TOP1_FLOOR: f64 = 0.75;
/// The highest share of held-out questions that no article answers which may get an answer anyway: measured
/// 0.10 (2 of 20) when they were written; a third false answer fails.
const HELDOUT_FALSE_ANSWER_CEILING: f64 = 0.125;

/// `lifebuoy kb eval --split heldout` on the held-out questions, which no weight or threshold was fitted on:
/// the figures a customer would see, gated.
#[test]
fn heldout_answers_stay_above_the_floor() {
    let questions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/eval/questions.jsonl");
    let held_out: Vec<_> = lifebuoy_search::eval::load_questions(&questions)
        .unwrap()
        .into_iter()
        .filter(|q| q.split == lifebuoy_search::eval::Split::Heldout)
        .collect();
    let unanswerable = held_out.iter().filter(|q| q.slug.is_none()).count();
    assert!(held_out.len() > unanswerable && unanswerable > 0, "the held-out part has both kinds of question");

    let out = run(&["kb", "eval", &questions.display().to_string(), "--split", "heldout"]);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).expect("a JSON last line");
    eprintln!("{out}");
    assert_eq!(last["split"], "heldout", "{last}");
    assert_eq!(last["questions"], held_out.len(), "{last}");
    assert_eq!(last["unanswerable"], unanswerable, "{last}");
    let (top1, top3, false_answers) =
        (last["top1"].as_f64().unwrap(), last["top3"].as_f64().unwrap(), last["false_answers"].as_f64().unwrap());
    assert!(top3 >= top1, "{last}");
    assert!(top1 >= HELDOUT_TOP1_FLOOR, "held-out top-1 {top1} fell below its floor {HELDOUT_TOP1_FLOOR}: {last}");
    assert!(
        false_answers <= HELDOUT_FALSE_ANSWER_CEILING,
        "held-out false answers {false_answers} rose above their ceiling {HELDOUT_FALSE_ANSWER_CEILING}: {last}"
    );
}
