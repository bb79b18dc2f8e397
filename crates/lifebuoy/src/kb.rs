//! The knowledge base from the binary's point of view: the starter articles embedded for `--demo`, articles
//! from a folder (`--kb DIR`), `lifebuoy kb import|export DIR` against the configured database, and
//! `lifebuoy kb eval`.

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

#[derive(Subcommand)]
pub enum KbCmd {
    /// Import article files (`DIR/<slug>/<lang>.md`) into the database: new slugs are created, changed ones
    /// saved as a new version, identical ones left alone. Running servers pick the changes up on restart.
    Import {
        dir: PathBuf,
        #[command(flatten)]
        data: crate::DataArgs,
    },
    /// Export every article (all statuses) from the database as files `DIR/<slug>/<lang>.md`.
    Export {
        dir: PathBuf,
        #[command(flatten)]
        data: crate::DataArgs,
    },
    /// Measure the answer engine on a labelled question set (JSONL: {"q": ..., "slug": ... | null}). Prints the
    /// figures of the tuning part, of the held-out part and of both, then one JSON line for the chosen part.
    Eval {
        file: PathBuf,
        /// Articles to answer from; default the embedded starter knowledge base.
        #[arg(long)]
        articles: Option<PathBuf>,
        /// The part of the set the JSON line covers: `heldout` (never used for tuning), `tune`, or `all`.
        #[arg(long, default_value = "all", value_parser = ["all", "tune", "heldout"])]
        split: String,
    },
}

pub async fn run(cmd: KbCmd) -> anyhow::Result<()> {
    match cmd {
        KbCmd::Import { dir, data } => {
            let docs = kbfiles::load_dir(&dir).with_context(|| format!("reading articles from {}", dir.display()))?;
            let inputs = lifebuoy_web::knowledge::inputs_from_docs(&docs)?;
            let store = data.open().await?;
            let author = lifebuoy_store::KbAuthor { id: None, name: "import".into() };
            let r = store.kb_import(&inputs, &author).await;
            store.close().await;
            let r = r.context("importing")?;
            println!(
                "{} article files: {} articles created, {} updated, {} unchanged",
                docs.len(),
                r.created,
                r.updated,
                r.unchanged
            );
            Ok(())
        }
        KbCmd::Export { dir, data } => {
            let store = data.open().await?;
            let articles = store.kb_articles(&Default::default()).await;
            store.close().await;
            let articles = articles.context("reading articles")?;
            let docs: Vec<ArticleDoc> = articles.iter().flat_map(lifebuoy_web::knowledge::file_docs).collect();
            kbfiles::write_dir(&dir, &docs).with_context(|| format!("writing to {}", dir.display()))?;
            println!("{} articles exported as {} files to {}", articles.len(), docs.len(), dir.display());
            Ok(())
        }
        KbCmd::Eval { file, articles, split } => {
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
            println!("{} article files, {} questions in {}", docs.len(), qs.len(), file.display());
            let mut chosen = None;
            for part in ["tune", "heldout", "all"] {
                let selected: Vec<eval::EvalQuestion> =
                    qs.iter().filter(|q| part == "all" || q.split.as_str() == part).cloned().collect();
                let r = eval::evaluate(&index, &selected)?;
                print_report(part, &r);
                if part == split {
                    chosen = Some(r);
                }
            }
            let r = chosen.context("the chosen split")?;
            anyhow::ensure!(r.questions > 0, "no {split} questions in {}", file.display());
            println!("{}", r.summary_json(&split));
            Ok(())
        }
    }
}

/// The figures of one part of the question set, for people.
fn print_report(part: &str, r: &eval::EvalReport) {
    println!("{part}: {} questions ({} answerable, {} with no answer)", r.questions, r.answerable, r.unanswerable);
    println!(
        "  top-1 {:.1}%  top-3 {:.1}%  MRR {:.3}  false answers {:.1}% ({} of {})  declined {:.1}%",
        r.top1 * 100.0,
        r.top3 * 100.0,
        r.mrr,
        r.false_answer_rate * 100.0,
        r.false_answers,
        r.unanswerable,
        r.declined_rate * 100.0
    );
    for (who, sc) in [("customers", &r.customers), ("agents", &r.agents)] {
        if sc.answerable > 0 {
            println!(
                "  {who}' questions: {} answerable, top-1 {:.1}%  top-3 {:.1}%  MRR {:.3}",
                sc.answerable,
                sc.top1 * 100.0,
                sc.top3 * 100.0,
                sc.mrr
            );
        }
    }
}
