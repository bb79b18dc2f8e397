//! Explains how the answer engine sees questions:
//! `cargo run -p lifebuoy-search --example kb_explain -- "question" ...`

use std::path::PathBuf;

use lifebuoy_search::{KbIndex, kbfiles};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let articles = std::env::var("KB_ARTICLES").map(PathBuf::from).unwrap_or_else(|_| root.join("kb/articles"));
    let index = KbIndex::open_in_ram()?;
    for d in kbfiles::load_dir(&articles)? {
        index.upsert(&d)?;
    }
    index.commit()?;
    for q in std::env::args().skip(1) {
        println!("== {q}");
        print!("{}", index.explain_answer(&q)?);
        for a in index.answer_scored(&q, None)? {
            println!(
                "  -> {} {:.3} [{}] {}",
                a.slug,
                a.confidence,
                a.lang,
                a.passage.chars().take(80).collect::<String>().replace('\n', " / ")
            );
        }
    }
    Ok(())
}
