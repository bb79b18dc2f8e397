//! Evaluation of the answer engine against a question set.
//!
//! The question set is JSON Lines: `{"q": "...", "slug": "withdrawal-delayed"}`
//! for a question that an article answers, `{"q": "...", "slug": null}` for
//! one that no article answers (the engine should decline). A question asked
//! by an agent in the console carries `"audience": "agent"` and is answered
//! as the console answers it, from published and internal articles; every
//! other question is a customer's, answered from published articles only.
//! A question marked `"split": "heldout"` belongs to the held-out part: written
//! after the engine's weights and [`crate::MIN_CONFIDENCE`] were fitted, and never
//! used to fit or tune anything; every other question is in the tuning part
//! (`"split": "tune"`, the default). Other keys are ignored.
//!
//! An answer is right when it is the expected article **in the question's
//! language**: the `lang` hint when given, else the script the question is
//! written in ([`crate::detect_lang`]). A Chinese question answered with the
//! English version (or an English one with a Chinese version) is a miss for the
//! customer; Simplified and Traditional count as one language here, since most
//! articles are written in one of them only.

use std::path::Path;

use serde::Serialize;

use crate::answer::Audience;
use crate::error::{Result, SearchError};
use crate::fold::detect_lang;
use crate::index::KbIndex;

/// The part of the question set a question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Questions the engine was fitted and tuned on.
    #[default]
    Tune,
    /// Questions kept out of every fitting and tuning: the honest figures.
    Heldout,
}

impl Split {
    /// The name used in the question set and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Tune => "tune",
            Split::Heldout => "heldout",
        }
    }
}

/// One evaluation question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalQuestion {
    /// The question.
    pub q: String,
    /// The slug of the article that answers it, `None` if none does.
    pub slug: Option<String>,
    /// Optional language hint passed to `answer()`.
    pub lang: Option<String>,
    /// Who asks it.
    pub audience: Audience,
    /// The part of the set it belongs to.
    pub split: Split,
}

impl EvalQuestion {
    /// The language the answer must be in: the hint, else the question's script.
    pub fn answer_lang(&self) -> &str {
        self.lang.as_deref().unwrap_or_else(|| detect_lang(&self.q))
    }
}

/// Whether an article version in `got` is in the language `want` (Simplified and Traditional Chinese count
/// as one).
fn same_language(want: &str, got: &str) -> bool {
    want == got || (want.starts_with("zh") && got.starts_with("zh"))
}

/// A question the engine got wrong (or only partly right).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalMiss {
    /// The question.
    pub q: String,
    /// Expected slug (`None`: expected no answer).
    pub expected: Option<String>,
    /// The language the answer had to be in.
    pub lang: String,
    /// What `answer()` returned: `(slug, language, confidence)`, best first.
    pub got: Vec<(String, String, f32)>,
    /// 1-based rank of the expected slug, in the question's language, in `got`, if present.
    pub rank: Option<usize>,
}

/// The figures over a group of answerable questions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Scores {
    /// Questions with an expected slug.
    pub answerable: usize,
    /// Share whose first answer is the expected slug.
    pub top1: f64,
    /// Share with the expected slug among the answers.
    pub top3: f64,
    /// Mean reciprocal rank (0 when absent).
    pub mrr: f64,
    /// Share that got no answer at all.
    pub declined_rate: f64,
}

impl Scores {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({"answerable": self.answerable, "top1": round4(self.top1), "top3": round4(self.top3),
            "mrr": round4(self.mrr), "declined_rate": round4(self.declined_rate)})
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Number of questions.
    pub questions: usize,
    /// Questions with an expected slug.
    pub answerable: usize,
    /// Share of answerable questions whose first answer is the expected slug.
    pub top1: f64,
    /// Share of answerable questions with the expected slug among the answers.
    pub top3: f64,
    /// Mean reciprocal rank over answerable questions (0 when absent).
    pub mrr: f64,
    /// Share of answerable questions that got no answer at all.
    pub declined_rate: f64,
    /// Share of unanswerable (null-slug) questions that got any answer.
    pub false_answer_rate: f64,
    /// Number of unanswerable questions that got an answer.
    pub false_answers: usize,
    /// Number of unanswerable questions.
    pub unanswerable: usize,
    /// The figures over customers' answerable questions.
    pub customers: Scores,
    /// The figures over agents' answerable questions.
    pub agents: Scores,
    /// Questions not answered perfectly (expected slug not first, or an
    /// answer to an unanswerable question).
    pub misses: Vec<EvalMiss>,
}

impl EvalReport {
    /// One-line JSON summary (without the misses), naming the part of the set it covers (`"all"`, `"tune"`
    /// or `"heldout"`). `top1`, `top3` and `false_answers` are shares (0..1); `false_answer_count` is a count.
    pub fn summary_json(&self, split: &str) -> String {
        self.summary(split).to_string()
    }

    /// [`EvalReport::summary_json`] as a value.
    pub fn summary(&self, split: &str) -> serde_json::Value {
        serde_json::json!({
            "split": split,
            "questions": self.questions,
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "top1": round4(self.top1),
            "top3": round4(self.top3),
            "mrr": round4(self.mrr),
            "declined_rate": round4(self.declined_rate),
            "false_answers": round4(self.false_answer_rate),
            "false_answer_count": self.false_answers,
            "misses": self.misses.len(),
            "customers": self.customers.json(),
            "agents": self.agents.json(),
        })
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Parses a JSONL question set. `origin` names the source in errors.
pub fn parse_questions(text: &str, origin: &Path) -> Result<Vec<EvalQuestion>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") || line.starts_with('#') {
            continue;
        }
        let bad = |message: String| SearchError::Eval { path: origin.to_path_buf(), line: i + 1, message };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let q =
            v.get("q").and_then(|q| q.as_str()).ok_or_else(|| bad("missing string field \"q\"".into()))?.to_string();
        let slug = match v.get("slug") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if s.is_empty() => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(bad(format!("\"slug\" must be a string or null, found {other}"))),
        };
        let lang = v.get("lang").and_then(|l| l.as_str()).map(str::to_string);
        let split = match v.get("split") {
            None | Some(serde_json::Value::Null) => Split::Tune,
            Some(s) => serde_json::from_value(s.clone())
                .map_err(|_| bad(format!("\"split\" must be \"tune\" or \"heldout\", found {s}")))?,
        };
        let audience = match v.get("audience") {
            None | Some(serde_json::Value::Null) => Audience::Customer,
            Some(a) => serde_json::from_value(a.clone())
                .map_err(|_| bad(format!("\"audience\" must be \"customer\" or \"agent\", found {a}")))?,
        };
        out.push(EvalQuestion { q, slug, lang, audience, split });
    }
    Ok(out)
}

/// Reads a JSONL question set from a file.
pub fn load_questions(path: impl AsRef<Path>) -> Result<Vec<EvalQuestion>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| SearchError::Io { path: path.to_path_buf(), source })?;
    parse_questions(&text, path)
}

/// Counters of answered questions.
#[derive(Default)]
struct Tally {
    answerable: usize,
    top1: usize,
    top3: usize,
    declined: usize,
    rr: f64,
}

impl Tally {
    fn add(&mut self, got: &[(String, String, f32)], rank: Option<usize>) {
        self.answerable += 1;
        if got.is_empty() {
            self.declined += 1;
        }
        if rank == Some(1) {
            self.top1 += 1;
        }
        if rank.is_some_and(|r| r <= 3) {
            self.top3 += 1;
        }
        if let Some(r) = rank {
            self.rr += 1.0 / r as f64;
        }
    }

    fn scores(&self) -> Scores {
        let share = |n: usize| if self.answerable == 0 { 0.0 } else { n as f64 / self.answerable as f64 };
        Scores {
            answerable: self.answerable,
            top1: share(self.top1),
            top3: share(self.top3),
            mrr: if self.answerable == 0 { 0.0 } else { self.rr / self.answerable as f64 },
            declined_rate: share(self.declined),
        }
    }
}

/// Runs every question through [`KbIndex::answer_for`] with its audience and
/// scores the result: right is the expected article in the question's language
/// ([`EvalQuestion::answer_lang`]). The language hint is passed to the engine
/// only when the question set gives one.
pub fn evaluate(index: &KbIndex, questions: &[EvalQuestion]) -> Result<EvalReport> {
    let (mut all, mut customers, mut agents) = (Tally::default(), Tally::default(), Tally::default());
    let mut unanswerable = 0usize;
    let mut false_answers = 0usize;
    let mut misses = Vec::new();
    for q in questions {
        let answers = index.answer_for(&q.q, q.lang.as_deref(), q.audience)?;
        let got: Vec<(String, String, f32)> =
            answers.iter().map(|a| (a.slug.clone(), a.lang.clone(), a.confidence)).collect();
        let lang = q.answer_lang().to_string();
        match &q.slug {
            Some(expected) => {
                let rank = got.iter().position(|(s, l, _)| s == expected && same_language(&lang, l)).map(|p| p + 1);
                all.add(&got, rank);
                match q.audience {
                    Audience::Customer => customers.add(&got, rank),
                    Audience::Agent => agents.add(&got, rank),
                }
                if rank != Some(1) {
                    misses.push(EvalMiss { q: q.q.clone(), expected: Some(expected.clone()), lang, got, rank });
                }
            }
            None => {
                unanswerable += 1;
                if !got.is_empty() {
                    false_answers += 1;
                    misses.push(EvalMiss { q: q.q.clone(), expected: None, lang, got, rank: None });
                }
            }
        }
    }
    let overall = all.scores();
    Ok(EvalReport {
        questions: questions.len(),
        answerable: overall.answerable,
        top1: overall.top1,
        top3: overall.top3,
        mrr: overall.mrr,
        declined_rate: overall.declined_rate,
        false_answer_rate: if unanswerable == 0 { 0.0 } else { false_answers as f64 / unanswerable as f64 },
        false_answers,
        unanswerable,
        customers: customers.scores(),
        agents: agents.scores(),
        misses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_jsonl() {
        let t = "{\"q\": \"a\", \"slug\": \"x\"}\n\n{\"q\": \"b\", \"slug\": null, \"extra\": 1}\n";
        let qs = parse_questions(t, Path::new("q.jsonl")).unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].slug.as_deref(), Some("x"));
        assert_eq!(qs[1].slug, None);
        assert_eq!(qs[0].audience, Audience::Customer);
        assert_eq!(qs[0].split, Split::Tune);
        let qs =
            parse_questions("{\"q\": \"a\", \"slug\": null, \"split\": \"heldout\"}", Path::new("q.jsonl")).unwrap();
        assert_eq!(qs[0].split, Split::Heldout);
        let e = parse_questions("{\"q\": \"a\", \"split\": \"train\"}", Path::new("q.jsonl")).unwrap_err().to_string();
        assert!(e.contains("split"), "{e}");
        let qs =
            parse_questions("{\"q\": \"a\", \"slug\": \"x\", \"audience\": \"agent\"}", Path::new("q.jsonl")).unwrap();
        assert_eq!(qs[0].audience, Audience::Agent);
        let e =
            parse_questions("{\"q\": \"a\", \"audience\": \"boss\"}", Path::new("q.jsonl")).unwrap_err().to_string();
        assert!(e.contains("audience"), "{e}");
        let e = parse_questions("{\"slug\": 1}", Path::new("q.jsonl")).unwrap_err().to_string();
        assert!(e.starts_with("q.jsonl:1:"), "{e}");
    }

    #[test]
    fn the_answer_must_be_in_the_question_language() {
        let q = |text: &str, lang: Option<&str>| EvalQuestion {
            q: text.into(),
            slug: Some("x".into()),
            lang: lang.map(str::to_string),
            audience: Audience::Customer,
            split: Split::Tune,
        };
        assert_eq!(q("提币没到账", None).answer_lang(), "zh-Hans");
        assert_eq!(q("提幣沒到帳", None).answer_lang(), "zh-Hant");
        assert_eq!(q("withdrawal stuck", None).answer_lang(), "en");
        assert_eq!(q("withdrawal stuck", Some("zh-Hans")).answer_lang(), "zh-Hans");
        assert!(same_language("zh-Hant", "zh-Hans") && same_language("en", "en"));
        assert!(!same_language("zh-Hans", "en") && !same_language("en", "zh-Hant"));
    }
}
