//! The knowledge base from the binary's point of view: the starter articles embedded for `--demo`, articles
//! from a folder (`--kb DIR`), and `lifebuoy kb eval`.

use anyhow::Context;
use clap::Subcommand;
use lifebuoy_search::{ArticleDoc, KbIndex, eval, kbfiles};
use std::path::PathBuf;

/// The starter knowledge base shipped in the repository (`kb/articles`), embedded in the binary.
static STARTER: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../kb/articles");

/// Parses the embedded starter articles.
pub fn starter_articles() -> anyhow::Result<Vec<ArticleDoc>> {
    let mut out = Vec::new();
    for dir in STARTER.dirs() {
        for f in dir.files() {
            if f.path().extension().is_some_and(|e| e == "md") {
                let text = f.contents_utf8().with_context(|| format!("{} is not UTF-8", f.path().display()))?;
                out.push(kbfiles::parse_article(text, f.path())?);
            }
        }
    }
    Ok(out)
}

/// Articles for the server: from `dir` when given, else the starter set when `demo`, else none.
pub fn articles_for(dir: Option<&PathBuf>, demo: bool) -> anyhow::Result<Vec<ArticleDoc>> {
    match dir {
        Some(d) => Ok(kbfiles::load_dir(d).with_context(|| format!("loading articles from {}", d.display()))?),
        None if demo => starter_articles(),
        None => Ok(vec![]),
    }
}

#[derive(Subcommand, Debug)]
pub enum KbCmd {
    /// Measure the answer engine on a labelled question set (JSONL: {"q": ..., "slug": ... | null}).
    Eval {
        file: PathBuf,
        /// Articles to answer from; default the embedded starter knowledge base.
        #[arg(long)]
        articles: Option<PathBuf>,
    },
}

pub fn run(cmd: KbCmd) -> anyhow::Result<()> {
    match cmd {
        KbCmd::Eval { file, articles } => {
            let docs = match &articles {
                Some(d) => kbfiles::load_dir(d)?,
                None => starter_articles()?,
            };
            let index = KbIndex::open_in_ram()?;
            for d in &docs {
                index.upsert(d)?;
            }
            index.commit()?;
            let qs = eval::load_questions(&file)?;
            let r = eval::evaluate(&index, &qs)?;
            println!(
                "{} article files, {} questions ({} answerable, {} with no answer)",
                docs.len(),
                r.questions,
                r.answerable,
                r.unanswerable
            );
            println!(
                "top-1 {:.1}%  top-3 {:.1}%  MRR {:.3}  false answers {:.1}%  declined {:.1}%",
                r.top1 * 100.0,
                r.top3 * 100.0,
                r.mrr,
                r.false_answer_rate * 100.0,
                r.declined_rate * 100.0
            );
            println!(
                "without the {} questions labelled with internal articles: top-1 {:.1}%  top-3 {:.1}%",
                r.answerable - r.answerable_published,
                r.top1_published * 100.0,
                r.top3_published * 100.0
            );
            println!("{}", r.summary_json());
            Ok(())
        }
    }
}
