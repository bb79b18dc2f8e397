//! The secret guard's false alarms, measured: every knowledge-base article (the starter `kb/` in all three
//! languages and the search crate's fixtures) and every question of the labelled eval sets, as whole texts and
//! line by line, must trigger nothing. Ordinary Chinese is written with the same characters as the BIP39 Chinese
//! word lists, and the articles talk about passwords, 2FA codes, API keys and recovery phrases: this is where a
//! careless detector fires. `cargo test -p lifebuoy-app --test trust_false_alarms -- --nocapture` prints the
//! figure.

use lifebuoy_app::trust::secrets;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// (where, text) of everything measured.
fn corpus() -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let mut md = Vec::new();
    files(&root().join("kb/articles"), "md", &mut md);
    files(&root().join("crates/search/tests/fixtures/articles"), "md", &mut md);
    assert!(md.len() >= 100, "the knowledge base is where it was ({} articles)", md.len());
    for p in md {
        texts.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
    }
    // More plain-text corpora to measure on (say the customer articles of the project's seeds): a directory of
    // `.txt` files in TRUST_CORPUS_EXTRA.
    if let Ok(dir) = std::env::var("TRUST_CORPUS_EXTRA") {
        let mut txt = Vec::new();
        files(Path::new(&dir), "txt", &mut txt);
        for p in txt {
            texts.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
    }
    for q in ["kb/eval/questions.jsonl", "crates/search/tests/fixtures/questions.jsonl"] {
        let s = std::fs::read_to_string(root().join(q)).unwrap();
        for (i, line) in s.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            texts.push((format!("{q}:{}", i + 1), v["q"].as_str().unwrap().to_string()));
        }
    }
    texts
}

#[test]
fn the_knowledge_base_and_the_eval_questions_raise_no_alarm() {
    let texts = corpus();
    let mut alarms = Vec::new();
    let (mut units, mut chars) = (0usize, 0usize);
    for (at, text) in &texts {
        chars += text.chars().count();
        for unit in std::iter::once(text.as_str()).chain(text.lines()) {
            units += 1;
            for f in secrets::scan(unit) {
                alarms.push(format!("{at}: {:?} in {:?}", f.kind, &unit[f.range.clone()]));
            }
        }
    }
    println!(
        "secret guard false alarms: {} in {} texts (articles and questions) checked whole and line by line ({} checks, {} characters)",
        alarms.len(),
        texts.len(),
        units,
        chars
    );
    assert!(alarms.is_empty(), "false alarms:\n{}", alarms.join("\n"));
}

/// The control: the same corpus with a phrase pasted into each text is caught every time (so the zero above is
/// not a detector that finds nothing).
#[test]
fn a_phrase_pasted_into_any_of_them_is_caught() {
    let phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    for (at, text) in corpus() {
        let mid = text.char_indices().nth(text.chars().count() / 2).map_or(0, |(i, _)| i);
        let pasted = format!("{} {phrase} {}", &text[..mid], &text[mid..]);
        let r = secrets::redact(&pasted, lifebuoy_domain::Lang::ZhHans);
        assert!(r.kinds.contains(&secrets::SecretKind::Mnemonic) && !r.text.contains("sausage"), "{at}");
    }
}
