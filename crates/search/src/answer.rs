//! The answer engine: from a customer's question to up to three articles,
//! each with the passage that answers best and a calibrated confidence.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tantivy::{Searcher, TantivyDocument, Term};

use crate::analysis::{Word, bigram_tokens};
use crate::error::Result;
use crate::fold::{detect_lang, fold, is_cjk};
use crate::highlight::levenshtein_within;
use crate::index::{Analysed, KbIndex, StoredDoc};
use crate::markdown::blocks;
use crate::synonyms::Synonyms;

/// Answers whose confidence is below this are not returned.
/// Calibrated on the tuning part of the knowledge-base evaluation set
/// (`kb/eval/questions.jsonl`, see [`crate::eval`]; the held-out part was never
/// used): it trades answered questions against answers to questions that no
/// article covers; lower it for more answers and more false ones.
pub const MIN_CONFIDENCE: f32 = 0.4;

/// Ranking of candidates: weight of the normalised BM25 score.
const RANK_BM25: f32 = 0.4;
/// Ranking of candidates: weight of the coverage of the question.
const RANK_COVERAGE: f32 = 0.3;
/// Ranking of candidates: weight of the coverage by title and keywords.
const RANK_FOCUS: f32 = 0.3;

/// The confidence model: a logistic function of the features of the best
/// candidate (see [`confidence`]). Fitted by logistic regression (L2,
/// unanswerable questions weighted 3×) on the tuning part of
/// `kb/eval/questions.jsonl` without the questions about internal articles; the signs are the
/// expected ones and a 2-fold cross-validation gives figures close to the
/// fit's. Weight of the weighted coverage of the question.
const CONF_COVERAGE: f32 = 2.77;
/// Confidence: weight of the coverage by title and keywords.
const CONF_FOCUS: f32 = 0.99;
/// Confidence: weight of the coverage of the topic concepts.
const CONF_TOPIC: f32 = 1.21;
/// Confidence: weight of the relative margin over the runner-up.
const CONF_MARGIN: f32 = 2.75;
/// Confidence: weight of ln(1 + BM25 score of the best version): how much
/// specific text matched at all.
const CONF_BM25: f32 = 2.49;
/// Confidence: weight of the share of topical weight the article misses.
const CONF_MISSING: f32 = -1.92;
/// Confidence: intercept.
const CONF_BIAS: f32 = -11.55;

/// Number of distinct articles considered for an answer.
const CANDIDATES: usize = 8;
/// Topic concepts: topical words weighing at least this share of the
/// heaviest one.
const TOPIC_SHARE: f32 = 0.5;
/// A concept covered less than this counts as missing from an article.
const MISSING_BELOW: f32 = 0.3;

/// Maximum number of answers returned.
pub const MAX_ANSWERS: usize = 3;

/// Maximum length (characters) of a passage.
pub const MAX_PASSAGE_CHARS: usize = 800;

/// Who asks: the articles an answer may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// A customer: published articles only.
    #[default]
    Customer,
    /// An agent in the console: published articles and the internal playbooks.
    Agent,
}

impl Audience {
    /// The article statuses this audience may read.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Audience::Customer => &["published"],
            Audience::Agent => &["published", "internal"],
        }
    }
}

/// An answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// Article id.
    pub article_id: String,
    /// Slug.
    pub slug: String,
    /// Language of the version returned.
    pub lang: String,
    /// Title of that version.
    pub title: String,
    /// `"published"`, or `"internal"` (agents only: see [`Audience`]).
    pub status: String,
    /// The paragraph / list / section of the body that best answers (plain
    /// text).
    pub passage: String,
    /// 0..1; answers below [`MIN_CONFIDENCE`] are never returned.
    pub confidence: f32,
}

/// Question words that say what kind of answer is wanted ("how long",
/// "why") rather than what the question is about. They count little
/// towards coverage.
const INTENT_WORDS: &[&str] = &[
    "多久",
    "多长时间",
    "多长",
    "几天",
    "几个小时",
    "几小时",
    "什么时候",
    "何时",
    "为什么",
    "为啥",
    "为何",
    "怎么",
    "怎么办",
    "如何",
    "怎样",
    "能不能",
    "可不可以",
    "可以",
    "是不是",
    "有没有",
    "哪里",
    "在哪",
    "在哪里",
    "哪儿",
    "时候",
    "区别",
    "不同",
    "点算",
    "点样",
    "几时",
    "几耐",
    "多少",
    "几",
    "吗",
    "要不要",
    "会不会",
    "还",
    "没",
    "不",
    "有",
    "是",
    "啥",
    "咋",
    "咋办",
    "办法",
    "问题",
    "情况",
    "原因",
    "时间",
    "需要",
    "一般",
    "正常",
    "long",
    "why",
    "when",
    "where",
    "how",
    "can",
    "cannot",
    "can't",
    "cant",
    "not",
    "no",
    "don't",
    "dont",
    "didn't",
    "didnt",
    "doesn't",
    "doesnt",
    "isn't",
    "won't",
    "still",
    "yet",
    "ok",
    "okay",
    "need",
    "want",
    "help",
    "problem",
    "issue",
    "now",
    "time",
    "again",
    "already",
    "possible",
];

/// Very common words that, when the knowledge base does not contain them,
/// say nothing about the topic (chatter, filler, colloquialisms).
const FILLER_WORDS: &[&str] = &[
    "bro",
    "guys",
    "literally",
    "like",
    "really",
    "actually",
    "lol",
    "pls",
    "plz",
    "thanks",
    "thank",
    "thx",
    "u",
    "ur",
    "ya",
    "yeah",
    "hey",
    "ok",
    "dude",
    "man",
    "sir",
    "madam",
    "hello",
    "hi",
    "just",
    "even",
    "also",
    "one",
    "two",
    "three",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "week",
    "weeks",
    "today",
    "yesterday",
    "tomorrow",
    "last",
    "ago",
    "since",
    "tri",
    "try",
    "tried",
    "say",
    "said",
    "tell",
    "told",
    "know",
    "think",
    "thing",
    "stuff",
    "someth",
    "someon",
    "anyon",
    "everyth",
    "noth",
    "wtf",
    "omg",
    "sure",
    "right",
    "go",
    "goe",
    "went",
    "come",
    "came",
    "make",
    "made",
    "take",
    "took",
    "see",
    "saw",
    "look",
    "much",
    "mani",
    "more",
    "befor",
    "after",
    "show",
    "other",
    "anoth",
    "everi",
    "all",
    "each",
    "ever",
    "never",
    "alway",
    "whole",
    "lot",
    "bit",
    "littl",
    "big",
    "wait",
    "most",
    "veri",
    "too",
    "way",
    "use",
    "good",
    "bad",
    "new",
    "old",
    "first",
    "time",
    "still",
    "啦",
    "呀",
    "哎",
    "唉",
    "喂",
    "嗨",
    "谢谢",
    "感谢",
    "麻烦",
    "你好",
    "您好",
    "客服",
    "朋友",
    "今天",
    "昨天",
    "刚才",
    "刚刚",
    "一天",
    "两天",
    "三天",
    "几天",
    "小时",
    "分钟",
    "一个",
    "两个",
    "几个",
    "好几",
    "十几个",
    "已经",
    "到底",
    "真的",
    "突然",
    "莫名其妙",
    "一下",
    "告诉",
    "知道",
    "觉得",
    "说",
    "看",
    "钟",
    "个",
    "次",
    "天",
    "们",
    "里",
    "上",
    "下",
    "中",
    "后",
    "前",
    "突然",
    "明明",
    "总是",
    "还是",
    "刚",
    "竟然",
    "居然",
    "完全",
    "根本",
    "其实",
    "确实",
    "马上",
    "立刻",
    "赶紧",
    "好像",
    "似乎",
    "可能",
    "一直",
    "怎么回事",
    "破",
];

/// Chatter: greetings, politeness, pleas for help, interjections. They say
/// nothing about the question and never count as covering it (English
/// entries are stems, Chinese ones folded to Simplified).
const CHATTER_WORDS: &[&str] = &[
    "hey",
    "hi",
    "hello",
    "please",
    "pleas",
    "pls",
    "plz",
    "thanks",
    "thank",
    "thx",
    "bro",
    "guys",
    "guy",
    "dude",
    "lol",
    "omg",
    "wtf",
    "help",
    "sir",
    "madam",
    "urgent",
    "urgentli",
    "asap",
    "kindli",
    "dear",
    "team",
    "anyon",
    "somebodi",
    "anybodi",
    "sorri",
    "excus",
    "hmm",
    "um",
    "uh",
    "ugh",
    "请问",
    "你好",
    "您好",
    "帮我",
    "帮忙",
    "帮帮",
    "帮帮忙",
    "麻烦",
    "麻烦你",
    "谢谢",
    "感谢",
    "多谢",
    "在吗",
    "在不在",
    "有人吗",
    "急",
    "着急",
    "急急急",
    "求助",
    "求求",
    "救命",
    "哈哈",
    "呵呵",
    "喂",
    "嗨",
    "哎",
    "唉",
    "哎呀",
    "天哪",
    "啦",
    "呀",
    "唔该",
    "该死",
    "靠",
    "卧槽",
];

fn is_chatter(term: &str, surface: &str) -> bool {
    CHATTER_WORDS.contains(&surface) || CHATTER_WORDS.contains(&term)
}

fn is_intent(term: &str, surface: &str) -> bool {
    INTENT_WORDS.contains(&surface) || INTENT_WORDS.contains(&term)
}

fn is_filler(term: &str, surface: &str) -> bool {
    FILLER_WORDS.contains(&surface) || FILLER_WORDS.contains(&term)
}

/// A meaningful word of the question, with its weight.
#[derive(Debug, Clone)]
struct Concept {
    word: Word,
    cjk: bool,
    weight: f32,
    /// Synonym group members: (folded, tokens).
    synonyms: Vec<(String, Vec<String>)>,
    bigrams: Vec<String>,
    /// The knowledge base does not contain the word at all.
    absent: bool,
    /// The word says what the question is about (not how it asks, not a
    /// quantity or filler).
    topical: bool,
}

/// Text of a passage prepared for coverage checks.
struct Bag {
    folded: String,
    tokens: HashMap<String, usize>,
}

impl Bag {
    fn new(text: &str) -> Bag {
        let mut tokens = HashMap::new();
        for t in crate::analysis::tokens(text) {
            *tokens.entry(t).or_insert(0) += 1;
        }
        Bag { folded: fold(text), tokens }
    }

    fn count_of(&self, folded: &str, toks: &[String]) -> usize {
        if folded.chars().any(is_cjk) {
            self.folded.matches(folded).count()
        } else if toks.is_empty() {
            0
        } else {
            toks.iter().map(|t| self.tokens.get(t).copied().unwrap_or(0)).min().unwrap_or(0)
        }
    }

    /// How well this text covers a concept (0..1) and how often.
    fn coverage_tf(&self, c: &Concept) -> (f32, usize) {
        let w = &c.word;
        let direct = if c.cjk {
            self.folded.matches(w.surface.as_str()).count().max(self.tokens.get(&w.term).copied().unwrap_or(0))
        } else {
            self.tokens.get(&w.term).copied().unwrap_or(0)
        };
        if direct > 0 {
            return (1.0, direct);
        }
        let syn: usize = c.synonyms.iter().map(|(f, t)| self.count_of(f, t)).sum();
        if syn > 0 {
            return (0.9, syn);
        }
        if c.cjk && c.bigrams.len() >= 2 {
            let n = c.bigrams.iter().filter(|b| self.folded.contains(b.as_str())).count();
            if n > 0 {
                // only parts of the word: a weak match (the generic half of
                // a compound, 交易 of 网格交易, says little)
                let share = n as f32 / c.bigrams.len() as f32;
                return (0.7 * share * share, 1);
            }
        }
        if c.cjk && c.absent && w.surface.chars().count() >= 2 {
            // a word the knowledge base never uses: the article may say the
            // same with a related word sharing characters (锁住 / 锁定)
            let chars: Vec<char> = w.surface.chars().filter(|ch| is_cjk(*ch)).collect();
            let found = chars.iter().filter(|ch| self.folded.contains(**ch)).count();
            if found > 0 {
                return (0.35 * found as f32 / chars.len() as f32, 1);
            }
        }
        if c.cjk {
            return (0.0, 0);
        }
        let d = KbIndex::fuzzy_distance(&w.term) as usize;
        if d > 0 {
            let n: usize = self
                .tokens
                .iter()
                .filter(|(t, _)| t.is_ascii() && levenshtein_within(t, &w.term, d) <= d)
                .map(|(_, n)| *n)
                .sum();
            if n > 0 {
                return (if w.term.len() >= 8 { 0.7 } else { 0.5 }, n);
            }
        }
        (0.0, 0)
    }

    fn coverage(&self, c: &Concept) -> f32 {
        self.coverage_tf(c).0
    }
}

/// An article prepared for coverage checks: what it is about (title and
/// keywords) and what it says (body).
struct ArticleBag {
    focus: Bag,
    body: Bag,
}

impl ArticleBag {
    fn new(d: &StoredDoc) -> ArticleBag {
        let mut focus = d.title.clone();
        for k in &d.keywords {
            focus.push('\n');
            focus.push_str(k);
        }
        ArticleBag { focus: Bag::new(&focus), body: Bag::new(&d.body) }
    }

    /// Coverage of one concept: (overall, by title/keywords). Full in the
    /// title/keywords, less for a passing mention in the body.
    fn coverage_focus(&self, c: &Concept) -> (f32, f32) {
        let f = self.focus.coverage(c);
        let (b, tf) = self.body.coverage_tf(c);
        let tf_factor = match tf {
            0 => 0.0,
            1 => 0.6,
            2 => 0.75,
            _ => 0.85,
        };
        (f.max(b * tf_factor), f)
    }

    fn coverage(&self, c: &Concept) -> f32 {
        self.coverage_focus(c).0
    }

    /// The coverage of every concept, computed once.
    fn covered(&self, concepts: &[Concept]) -> Covered {
        let (all, focus) = concepts.iter().map(|c| self.coverage_focus(c)).unzip();
        Covered { all, focus }
    }

    /// (overall coverage, focus coverage), both weighted 0..1.
    fn weighted(&self, concepts: &[Concept]) -> (f32, f32) {
        self.covered(concepts).weighted(concepts)
    }

    /// See [`Covered::missing`].
    fn missing(&self, concepts: &[Concept]) -> (f32, f32) {
        self.covered(concepts).missing(concepts)
    }

    /// See [`Covered::topic`].
    fn topic(&self, concepts: &[Concept]) -> (f32, f32) {
        self.covered(concepts).topic(concepts)
    }
}

/// How an article covers each concept of a question (same order).
struct Covered {
    all: Vec<f32>,
    focus: Vec<f32>,
}

impl Covered {
    /// (overall coverage, focus coverage), both weighted 0..1.
    fn weighted(&self, concepts: &[Concept]) -> (f32, f32) {
        let total: f32 = concepts.iter().map(|c| c.weight).sum();
        if total <= 0.0 {
            return (0.0, 0.0);
        }
        let all = concepts.iter().zip(&self.all).map(|(c, v)| c.weight * v).sum::<f32>() / total;
        let focus = concepts.iter().zip(&self.focus).map(|(c, v)| c.weight * v).sum::<f32>() / total;
        (all, focus)
    }

    /// (share of the topical weight not covered, share of the topical
    /// weight on words unknown to the knowledge base and not covered).
    fn missing(&self, concepts: &[Concept]) -> (f32, f32) {
        let total: f32 = concepts.iter().filter(|c| c.topical).map(|c| c.weight).sum();
        if total <= 0.0 {
            return (0.0, 0.0);
        }
        let mut missing = 0.0;
        let mut unknown = 0.0;
        for (c, cov) in concepts.iter().zip(&self.all).filter(|(c, _)| c.topical) {
            if *cov < MISSING_BELOW {
                missing += c.weight;
                if c.absent {
                    unknown += c.weight;
                }
            }
        }
        (missing / total, unknown / total)
    }

    /// (coverage of the topic concepts, coverage of the most specific one):
    /// the topic concepts are the topical words whose weight is close to the
    /// heaviest one's, i.e. what the question is about.
    fn topic(&self, concepts: &[Concept]) -> (f32, f32) {
        let topical = || concepts.iter().zip(&self.all).filter(|(c, _)| c.topical);
        let Some(max) = topical().map(|(c, _)| c.weight).reduce(f32::max) else {
            return (0.0, 0.0);
        };
        let mut total = 0.0;
        let mut covered = 0.0;
        let mut head = (0.0f32, f32::MAX);
        for (c, cov) in topical().filter(|(c, _)| c.weight >= TOPIC_SHARE * max) {
            total += c.weight;
            covered += c.weight * cov;
            // ties: the least covered of the heaviest words
            if c.weight > head.0 + 1e-3 || ((c.weight - head.0).abs() <= 1e-3 && *cov < head.1) {
                head = (c.weight, *cov);
            }
        }
        (if total > 0.0 { covered / total } else { 0.0 }, if head.1 == f32::MAX { 0.0 } else { head.1 })
    }
}

/// Chinese numerals and measure words: a word made only of these
/// ("好几次", "两个", "三天") is a quantity, not a topic.
const QUANTITY_CHARS: &str = "零一二三四五六七八九十百千万亿两几多好半每个次天年月日号分秒钟块元位条笔单张倍周星期小时";

fn is_quantity(surface: &str) -> bool {
    let mut chars = surface.chars().peekable();
    if chars.peek().is_some_and(|c| c.is_ascii_digit()) {
        // 500u, 20x, 3天, 24h
        return true;
    }
    surface.chars().all(|c| QUANTITY_CHARS.contains(c))
}

/// Words whose part of speech makes them carry no topic: adverbs,
/// numerals, measure words, pronouns, particles, prepositions,
/// conjunctions, interjections, time and direction words.
fn is_function_pos(tag: &str) -> bool {
    matches!(tag.chars().next(), Some('d' | 'm' | 'q' | 'r' | 'u' | 'y' | 'p' | 'c' | 'e' | 'o' | 't' | 'f'))
}

fn concepts(index: &KbIndex, searcher: &Searcher, a: &Analysed, syn: &Synonyms) -> Vec<Concept> {
    let n = searcher.num_docs().max(1) as f32;
    let tags = crate::analysis::pos_tags(&a.folded);
    // Runs of adjacent single CJK characters are usually one word that
    // jieba does not know ("跟单" → 跟|单): treat each run as one phrase.
    let mut words: Vec<(Word, bool)> = Vec::new(); // (word, merged phrase)
    for w in &a.words {
        let single = w.surface.chars().count() == 1 && w.surface.chars().all(is_cjk);
        if single && let Some((prev, merged)) = words.last_mut() {
            let prev_single = prev.surface.chars().all(is_cjk) && (*merged || prev.surface.chars().count() == 1);
            if prev_single && prev.end == w.start {
                prev.surface.push_str(&w.surface);
                prev.term.push_str(&w.term);
                prev.end = w.end;
                *merged = true;
                continue;
            }
        }
        words.push((w.clone(), false));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (w, merged) in words {
        if !seen.insert(w.term.clone()) {
            continue;
        }
        let cjk = w.surface.chars().any(is_cjk);
        let mut df = if merged { 0.0 } else { index.word_df(searcher, &w.term) as f32 };
        let bigrams = if cjk { bigram_tokens(&w.surface) } else { Vec::new() };
        if df == 0.0 && cjk && !bigrams.is_empty() && w.surface.chars().count() >= 2 {
            df = bigrams
                .iter()
                .map(|b| searcher.doc_freq(&Term::from_field_text(index.fields.body_bi, b)).unwrap_or(0))
                .min()
                .unwrap_or(0) as f32;
        }
        let synonyms = syn.group_of(&w.surface, &w.term).unwrap_or_default();
        if df == 0.0 && !synonyms.is_empty() {
            df = 1.0;
        }
        // damped idf: topic words that many articles mention stay important
        let mut weight = 1.0 + (1.0 + n / (df + 1.0)).ln();
        let chars = w.surface.chars().count();
        let tag = if merged { "" } else { tags.get(&w.surface).map(String::as_str).unwrap_or("") };
        let mut topical = false;
        if is_chatter(&w.term, &w.surface) {
            // politeness and filler never count as covering the question
            continue;
        } else if is_intent(&w.term, &w.surface) {
            weight *= 0.25;
        } else if is_quantity(&w.surface) || (cjk && is_function_pos(tag) && synonyms.is_empty()) {
            weight *= 0.2;
        } else if is_filler(&w.term, &w.surface) {
            // filler says little about the topic, nothing when the
            // knowledge base never uses it
            weight *= if df == 0.0 { 0.2 } else { 0.4 };
        } else if cjk && chars == 1 {
            weight *= 0.35;
        } else {
            topical = !is_filler(&w.term, &w.surface);
        }
        out.push(Concept { word: w, cjk, weight, synonyms, bigrams, absent: df == 0.0, topical });
    }
    out
}

/// Preference order of languages for a question in `lang`.
fn lang_preference(lang: &str) -> [&'static str; 3] {
    match lang {
        "zh-Hant" => ["zh-Hant", "zh-Hans", "en"],
        "en" => ["en", "zh-Hans", "zh-Hant"],
        _ => ["zh-Hans", "zh-Hant", "en"],
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

/// Chooses the block of `body_md` that covers the question best.
fn best_passage(body_md: &str, concepts: &[Concept]) -> String {
    let bs = blocks(body_md);
    if bs.is_empty() {
        return String::new();
    }
    let total: f32 = concepts.iter().map(|c| c.weight).sum();
    let mut best: Option<(f32, usize)> = None;
    for (i, b) in bs.iter().enumerate() {
        let text = Bag::new(&b.text);
        let head = Bag::new(&b.heading);
        let mut score = 0.0;
        for c in concepts {
            let cov = text.coverage(c).max(0.6 * head.coverage(c));
            score += c.weight * cov;
        }
        if total > 0.0 {
            score /= total;
        }
        // a passage should say something: very short blocks lose a little
        let len = b.text.chars().count();
        if len < 30 {
            score *= 0.8;
        }
        if best.is_none_or(|(s, _)| score > s + 1e-6) {
            best = Some((score, i));
        }
    }
    let (_, i) = best.unwrap_or((0.0, 0));
    truncate_chars(&bs[i].text, MAX_PASSAGE_CHARS)
}

/// A candidate article during answering, with the features that rank it
/// and that its confidence is computed from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Candidate {
    pub slug: String,
    /// Best BM25 score of any of its versions.
    pub score: f32,
    /// Weighted coverage of the question's concepts (0..1).
    pub coverage: f32,
    /// Weighted coverage by title and keywords only (0..1).
    pub focus: f32,
    /// Weighted coverage of the question's topic concepts (0..1).
    pub topic: f32,
    /// Coverage of the question's single most specific concept (0..1).
    pub head: f32,
    /// Share of the topical weight on words that the article does not
    /// cover at all.
    pub missing: f32,
    /// Share of the topical weight on words that the knowledge base never
    /// uses and the article does not cover.
    pub unknown: f32,
    /// Ranking score.
    pub combined: f32,
}

impl Candidate {
    fn features(&mut self, bag: &ArticleBag, concepts: &[Concept]) {
        let cov = bag.covered(concepts);
        let (coverage, focus) = cov.weighted(concepts);
        let (topic, head) = cov.topic(concepts);
        // the best version of the article decides
        if coverage + focus + topic > self.coverage + self.focus + self.topic {
            self.coverage = coverage;
            self.focus = focus;
            self.topic = topic;
            self.head = head;
            let (missing, unknown) = cov.missing(concepts);
            self.missing = missing;
            self.unknown = unknown;
        }
    }

    fn rank(&mut self, max_score: f32) {
        self.combined = RANK_BM25 * (self.score / max_score) + RANK_COVERAGE * self.coverage + RANK_FOCUS * self.focus;
    }
}

impl KbIndex {
    /// A human-readable account of how a question is understood and how the
    /// candidate articles cover it (for debugging and calibration).
    pub fn explain_answer(&self, question: &str) -> Result<String> {
        use std::fmt::Write;
        let searcher = self.searcher();
        let a = self.analyse(question);
        let syn = self.synonyms();
        let cs = concepts(self, &searcher, &a, &syn);
        let mut s = String::new();
        let _ = writeln!(s, "tokens: {:?}", a.tokens);
        let _ = writeln!(s, "expansions: {:?}", a.expansions.iter().map(|e| &e.term).collect::<Vec<_>>());
        for c in &cs {
            let _ = writeln!(
                s,
                "  concept {:<12} w={:.2} syn={} topical={} absent={}",
                c.word.surface,
                c.weight,
                c.synonyms.len(),
                c.topical,
                c.absent
            );
        }
        let (top, _) = self.ranked(&searcher, &a, None, None, &["published", "internal"], 10)?;
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let d = StoredDoc::from_doc(&doc, &self.fields);
            let bag = ArticleBag::new(&d);
            let covs: Vec<String> = cs.iter().map(|c| format!("{}={:.1}", c.word.surface, bag.coverage(c))).collect();
            let (all, focus) = bag.weighted(&cs);
            let (topic, _) = bag.topic(&cs);
            let (missing, _) = bag.missing(&cs);
            let _ = writeln!(
                s,
                "  {score:7.2} {:<40} {:<7} cov={all:.2} focus={focus:.2} topic={topic:.2} missing={missing:.2} [{}]",
                d.slug,
                d.lang,
                covs.join(" ")
            );
        }
        for (a, c) in self.answer_candidates(question, None, Audience::Agent)? {
            let _ = writeln!(
                s,
                "  candidate {:<40} conf={:.3} bm25={:.2} cov={:.2} focus={:.2} topic={:.2} missing={:.2} combined={:.2}",
                a.slug, a.confidence, c.score, c.coverage, c.focus, c.topic, c.missing, c.combined
            );
        }
        Ok(s)
    }

    /// Answers a customer's question from published articles: up to
    /// [`MAX_ANSWERS`] articles, best first, one per slug, each in the
    /// question's language (`lang`, or detected) when that translation
    /// exists. Returns an empty Vec when nothing reaches
    /// [`MIN_CONFIDENCE`] (better no answer than a wrong one).
    pub fn answer(&self, question: &str, lang: Option<&str>) -> Result<Vec<Answer>> {
        self.answer_for(question, lang, Audience::Customer)
    }

    /// [`KbIndex::answer`] for a given audience: agents' answers may also come from internal articles.
    pub fn answer_for(&self, question: &str, lang: Option<&str>, audience: Audience) -> Result<Vec<Answer>> {
        Ok(self
            .answer_candidates(question, lang, audience)?
            .into_iter()
            .map(|(a, _)| a)
            .filter(|a| a.confidence >= MIN_CONFIDENCE)
            .collect())
    }

    /// The features behind [`KbIndex::answer_scored`], as JSON (for
    /// calibration).
    #[doc(hidden)]
    pub fn answer_features(&self, question: &str, lang: Option<&str>) -> Result<serde_json::Value> {
        let v: Vec<serde_json::Value> = self
            .answer_candidates(question, lang, Audience::Customer)?
            .into_iter()
            .map(|(a, c)| {
                serde_json::json!({"slug": a.slug, "conf": a.confidence, "score": c.score, "cov": c.coverage,
                    "focus": c.focus, "topic": c.topic, "head": c.head, "combined": c.combined, "missing": c.missing, "unknown": c.unknown})
            })
            .collect();
        Ok(serde_json::Value::Array(v))
    }

    /// Like [`KbIndex::answer`] but without the confidence cut-off (for
    /// calibration and debugging).
    pub fn answer_scored(&self, question: &str, lang: Option<&str>) -> Result<Vec<Answer>> {
        Ok(self.answer_candidates(question, lang, Audience::Customer)?.into_iter().map(|(a, _)| a).collect())
    }

    /// The answers before the cut-off with the features of their articles.
    pub(crate) fn answer_candidates(
        &self,
        question: &str,
        lang: Option<&str>,
        audience: Audience,
    ) -> Result<Vec<(Answer, Candidate)>> {
        let qlang = lang.unwrap_or_else(|| detect_lang(question));
        let searcher = self.searcher();
        let a = self.analyse(question);
        let syn = self.synonyms();
        let (top, _) = self.ranked(&searcher, &a, None, None, audience.statuses(), 40)?;
        if top.is_empty() {
            return Ok(Vec::new());
        }
        let concepts = concepts(self, &searcher, &a, &syn);
        if concepts.is_empty() {
            return Ok(Vec::new());
        }
        // the best slugs; each judged by the best of its versions among the hits
        let mut cands: Vec<Candidate> = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        let mut judged: HashSet<(String, String)> = HashSet::new();
        for (score, addr) in top {
            if cands.len() >= CANDIDATES {
                // enough articles (the leading ones are judged on all their
                // versions below)
                break;
            }
            let doc: TantivyDocument = searcher.doc(addr)?;
            let s = StoredDoc::from_doc(&doc, &self.fields);
            let i = match index_of.get(&s.slug) {
                Some(i) => *i,
                None => {
                    index_of.insert(s.slug.clone(), cands.len());
                    cands.push(Candidate { slug: s.slug.clone(), score, ..Candidate::default() });
                    cands.len() - 1
                }
            };
            cands[i].features(&ArticleBag::new(&s), &concepts);
            judged.insert((s.slug, s.lang));
        }
        let max_score = cands.iter().map(|c| c.score).fold(0.0f32, f32::max).max(1e-6);
        for c in &mut cands {
            c.rank(max_score);
        }
        let by_rank =
            |x: &Candidate, y: &Candidate| y.combined.total_cmp(&x.combined).then(y.score.total_cmp(&x.score));
        cands.sort_by(by_rank);
        // the leading candidates are also judged on the version that would be
        // returned (the one in the question's language may not have been
        // among the hits)
        let mut versions = Vec::new();
        for c in cands.iter_mut().take(MAX_ANSWERS + 1) {
            let vs = self.versions(&searcher, &c.slug, audience.statuses())?;
            let shown = lang_preference(qlang).iter().find_map(|l| vs.get(*l));
            if let Some(v) = shown.filter(|v| !judged.contains(&(v.slug.clone(), v.lang.clone()))) {
                c.features(&ArticleBag::new(v), &concepts);
            }
            c.rank(max_score);
            versions.push((c.slug.clone(), vs));
        }
        cands.sort_by(by_rank);
        let second = cands.get(1).cloned();
        let mut out = Vec::new();
        for (i, c) in cands.iter().take(MAX_ANSWERS).enumerate() {
            let confidence = if i == 0 {
                confidence(c, second.as_ref())
            } else {
                // runners-up: their own confidence, and never above the first
                let first = out.first().map(|(a, _): &(Answer, Candidate)| a.confidence).unwrap_or(1.0);
                confidence(c, None).min(first)
            };
            let Some((_, vs)) = versions.iter().find(|(s, _)| *s == c.slug) else { continue };
            let Some(v) = lang_preference(qlang).iter().find_map(|l| vs.get(*l)) else {
                continue;
            };
            out.push((
                Answer {
                    article_id: v.article_id.clone(),
                    slug: v.slug.clone(),
                    lang: v.lang.clone(),
                    title: v.title.clone(),
                    status: v.status.clone(),
                    passage: best_passage(&v.body_md, &concepts),
                    confidence: confidence.clamp(0.0, 1.0),
                },
                c.clone(),
            ));
        }
        Ok(out)
    }
}

/// Confidence that `c` answers the question, given the runner-up (`None`
/// for a runner-up itself, which gets no margin).
fn confidence(c: &Candidate, second: Option<&Candidate>) -> f32 {
    let margin = match second {
        Some(s) => ((c.combined - s.combined) / c.combined.max(1e-6)).clamp(0.0, 1.0),
        None => 0.0,
    };
    let z = CONF_BIAS
        + CONF_COVERAGE * c.coverage
        + CONF_FOCUS * c.focus
        + CONF_TOPIC * c.topic
        + CONF_MARGIN * margin
        + CONF_BM25 * c.score.max(0.0).ln_1p()
        + CONF_MISSING * c.missing;
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(coverage: f32, focus: f32, score: f32, missing: f32) -> Candidate {
        Candidate {
            slug: "x".into(),
            score,
            coverage,
            focus,
            topic: coverage,
            head: coverage,
            missing,
            unknown: 0.0,
            combined: 0.4 + 0.3 * coverage + 0.3 * focus,
        }
    }

    #[test]
    fn confidence_grows_with_coverage_and_margin_and_falls_with_missing_words() {
        let weak = cand(0.3, 0.1, 15.0, 0.6);
        let strong = cand(0.9, 0.8, 40.0, 0.0);
        let runner = cand(0.5, 0.3, 20.0, 0.4);
        let c = |x: &Candidate| confidence(x, Some(&runner));
        assert!(c(&strong) >= MIN_CONFIDENCE, "{}", c(&strong));
        assert!(c(&weak) < MIN_CONFIDENCE, "{}", c(&weak));
        assert!(c(&cand(0.6, 0.4, 25.0, 0.2)) > c(&cand(0.5, 0.4, 25.0, 0.2)));
        assert!(c(&cand(0.6, 0.4, 25.0, 0.1)) > c(&cand(0.6, 0.4, 25.0, 0.5)));
        assert!(confidence(&strong, Some(&runner)) > confidence(&strong, Some(&strong)));
        for x in [&weak, &strong, &runner] {
            let v = confidence(x, None);
            assert!((0.0..=1.0).contains(&v));
        }
    }

    #[test]
    fn chatter_and_filler_are_recognised() {
        for (term, surface) in
            [("pleas", "please"), ("help", "help"), ("请问", "请问"), ("你好", "你好"), ("帮我", "帮我")]
        {
            assert!(is_chatter(term, surface), "{surface}");
        }
        assert!(!is_chatter("withdraw", "withdrawal"));
        assert!(!is_chatter("提币", "提币"));
        assert!(is_filler("befor", "before"));
        assert!(!is_filler("confirm", "confirmations"));
    }

    #[test]
    fn partial_bigram_match_is_weak() {
        let bag = Bag::new("跟单软件可以通过 API 下单");
        let c = Concept {
            word: Word { term: "跟单交易".into(), surface: "跟单交易".into(), start: 0, end: 12 },
            cjk: true,
            weight: 5.0,
            synonyms: Vec::new(),
            bigrams: bigram_tokens("跟单交易"),
            absent: true,
            topical: true,
        };
        let cov = bag.coverage(&c);
        assert!(cov > 0.0 && cov < MISSING_BELOW, "{cov}");
    }
}
