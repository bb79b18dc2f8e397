//! Evaluates the answer engine on the knowledge base.
//!
//! ```text
//! cargo run -p lifebuoy-search --example kb_eval -- [QUESTIONS.jsonl] [ARTICLES_DIR] [--verbose]
//! ```
//! Defaults: `kb/eval/questions.jsonl` and `kb/articles` (relative to the
//! workspace root). Prints the misses, the figures over all questions and
//! then the report as one JSON line (with customers' and agents' questions
//! also scored apart). `KB_EVAL_DUMP=FILE` also writes every tuning question's
//! unthresholded answers and confidence features (for calibration); the
//! held-out questions are left out of it.

use std::path::PathBuf;

use lifebuoy_search::{KbIndex, eval, kbfiles};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "--verbose" || a == "-v");
    args.retain(|a| !a.starts_with('-'));
    let questions = args.first().map(PathBuf::from).unwrap_or_else(|| root.join("kb/eval/questions.jsonl"));
    let articles = args.get(1).map(PathBuf::from).unwrap_or_else(|| root.join("kb/articles"));

    let docs = kbfiles::load_dir(&articles)?;
    let index = KbIndex::open_in_ram()?;
    for d in &docs {
        index.upsert(d)?;
    }
    index.commit()?;
    let qs = eval::load_questions(&questions)?;
    let report = eval::evaluate(&index, &qs)?;

    println!("articles: {} files from {}", docs.len(), articles.display());
    println!("questions: {} from {}", qs.len(), questions.display());
    println!("misses ({}):", report.misses.len());
    for m in &report.misses {
        let got: Vec<String> = m.got.iter().map(|(s, l, c)| format!("{s}/{l}:{c:.2}")).collect();
        println!(
            "  expected={:<40} rank={:<5} got=[{}]  q={}",
            m.expected.as_deref().unwrap_or("<none>"),
            m.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
            got.join(", "),
            m.q
        );
        if verbose {
            for a in index.answer_scored(&m.q, None)? {
                println!("      scored {}:{:.3} {}", a.slug, a.confidence, a.title);
            }
        }
    }
    println!(
        "top1={:.1}% top3={:.1}% mrr={:.3} declined={:.1}% false_answers={:.1}% (answerable {}, unanswerable {})",
        report.top1 * 100.0,
        report.top3 * 100.0,
        report.mrr,
        report.declined_rate * 100.0,
        report.false_answer_rate * 100.0,
        report.answerable,
        report.unanswerable
    );
    println!("{}", report.summary_json("all"));
    if let Ok(dump) = std::env::var("KB_EVAL_DUMP") {
        // calibration data: every question with its unthresholded answers
        let mut out = String::new();
        // Calibration sees the tuning part only: the held-out questions are never fitted on.
        for q in qs.iter().filter(|q| q.split == eval::Split::Tune) {
            let scored = index.answer_scored(&q.q, q.lang.as_deref())?;
            let got: Vec<(String, f32)> = scored.iter().map(|a| (a.slug.clone(), a.confidence)).collect();
            let features = index.answer_features(&q.q, q.lang.as_deref())?;
            out.push_str(&serde_json::json!({"q": q.q, "slug": q.slug, "got": got, "features": features}).to_string());
            out.push('\n');
        }
        std::fs::write(&dump, out)?;
        println!("calibration dump written to {dump}");
    }
    Ok(())
}
