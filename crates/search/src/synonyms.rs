//! Query-time synonyms.
//!
//! Synonyms are applied when a query is built (query expansion), never at
//! indexing time, so editing them needs no reindex.

use crate::analysis::{Word, words};
use crate::fold::{fold, is_cjk};

/// The built-in synonym groups for a cryptocurrency exchange, in the text
/// format that [`Synonyms::parse`] reads.
pub const DEFAULT_EXCHANGE_SYNONYMS: &str = "\
# withdrawals / deposits
提现, 提币, 出金, 提款, 取款, withdraw, withdrawal, cash out
充值, 充币, 入金, 存款, 存币, deposit, top up
到账, 入账, credited, arrived
未到账, 没到账, 不到账, 没收到, 未收到, not received, not arrived, missing
# identity
身份认证, 实名, 实名认证, 身份验证, 身分认证, 身分验证, KYC, identity verification, verify identity
身份证, 身分证, ID card, identity card
# second factor
谷歌验证, 谷歌验证器, 身份验证器, 二次验证, 双重验证, 两步验证, 2FA, GA, authenticator, google authenticator, two-factor
放币, 放行, release, release coins
冻结, 封号, 锁定, frozen, freeze, locked, suspended
风控, risk control
手续费, 矿工费, fee, fees
标签, 备注, memo, tag, destination tag
合约, 期货, futures, perpetual
爆仓, 强平, 强制平仓, liquidation, liquidated
资金费率, funding rate, funding fee
助记词, 恢复短语, seed phrase, mnemonic, recovery phrase
验证码, 短信验证码, 邮箱验证码, verification code, otp
申诉, appeal, dispute
钓鱼, 防钓鱼码, phishing, anti-phishing
诈骗, 骗局, 骗子, scam, fraud, scammer
注销, 销户, 注销账户, close account, delete account, account closure
手机号, 手机号码, phone number, mobile number
邮箱, email, e-mail
登录, 登陆, log in, login, sign in
被盗, 盗号, hacked, compromised, stolen
错链, 转错链, 充错链, wrong network, wrong chain
场外, 法币交易, c2c, p2p, otc
密码, password
# Taiwan usage: 汇出 (匯出) for export
导出, 汇出, export
记录, 纪录, record, records
# someone else's money, card or ID (third-party payments, KYC with another's ID)
第三方, 他人, third party, third-party, someone else
家人, 家属, 老婆, 老公, 妻子, 丈夫, 配偶, 父母, family, family member, wife, husband, spouse, parents
上币, 上线, listing, listed
";

/// One synonym term, pre-analysed.
#[derive(Debug, Clone)]
struct Term {
    /// As written in the synonym file.
    raw: String,
    /// Folded form.
    folded: String,
    /// `lb_text` word tokens (folded, stemmed).
    tokens: Vec<String>,
    /// Contains CJK: matched by substring, otherwise by whole words.
    cjk: bool,
}

/// Groups of equivalent terms, used to expand queries.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Term>>,
}

/// A term that a query was expanded with.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    /// The term as written in the synonym set.
    pub term: String,
    /// Its `lb_text` tokens; a document matches the expansion when it has
    /// all of them.
    pub tokens: Vec<String>,
}

impl Synonyms {
    /// The built-in synonym set for a crypto exchange
    /// ([`DEFAULT_EXCHANGE_SYNONYMS`]).
    pub fn default_exchange() -> Synonyms {
        Synonyms::parse(DEFAULT_EXCHANGE_SYNONYMS)
    }

    /// An empty set.
    pub fn empty() -> Synonyms {
        Synonyms::default()
    }

    /// Parses the text format: one group per line, terms separated by `,`,
    /// `，`, `/` or `、`; blank lines and lines starting with `#` are
    /// skipped. Groups with fewer than two distinct terms are dropped.
    pub fn parse(text: &str) -> Synonyms {
        let mut groups = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut group: Vec<Term> = Vec::new();
            for raw in line.split([',', '，', '/', '、']) {
                let raw = raw.trim();
                if raw.is_empty() {
                    continue;
                }
                let folded = fold(raw);
                if group.iter().any(|t| t.folded == folded) {
                    continue;
                }
                group.push(Term { raw: raw.to_string(), cjk: folded.chars().any(is_cjk), folded, tokens: Vec::new() });
            }
            if group.len() >= 2 {
                groups.push(group);
            }
        }
        Synonyms { groups }
    }

    /// Fills in the analysed tokens (needs the segmenter, which itself reads
    /// the default groups, hence done lazily).
    fn analysed(mut self) -> Synonyms {
        for g in &mut self.groups {
            for t in g.iter_mut() {
                t.tokens = words(&t.raw).into_iter().map(|w| w.term).collect();
            }
            g.retain(|t| !t.tokens.is_empty());
        }
        self.groups.retain(|g| g.len() >= 2);
        self
    }

    /// Prepares the set for query expansion.
    pub(crate) fn prepared(self) -> Synonyms {
        if self.groups.iter().flatten().all(|t| t.tokens.is_empty()) { self.analysed() } else { self }
    }

    /// The groups, as written.
    pub fn groups(&self) -> Vec<Vec<String>> {
        self.groups.iter().map(|g| g.iter().map(|t| t.raw.clone()).collect()).collect()
    }

    /// Serialises back to the text format (one group per line, `, `).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for g in &self.groups {
            let terms: Vec<&str> = g.iter().map(|t| t.raw.as_str()).collect();
            s.push_str(&terms.join(", "));
            s.push('\n');
        }
        s
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when there is no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups that a query mentions, as `(group index, matched term
    /// indices)`. `folded_query` is the folded query; `query_terms` its
    /// `lb_text` word tokens.
    fn matches(&self, folded_query: &str, query_terms: &[String]) -> Vec<(usize, Vec<usize>)> {
        let mut out = Vec::new();
        for (gi, g) in self.groups.iter().enumerate() {
            let mut hit = Vec::new();
            for (ti, t) in g.iter().enumerate() {
                let found = if t.cjk {
                    folded_query.contains(&t.folded)
                } else {
                    !t.tokens.is_empty() && query_terms.windows(t.tokens.len()).any(|w| w == t.tokens.as_slice())
                };
                if found {
                    hit.push(ti);
                }
            }
            if !hit.is_empty() {
                out.push((gi, hit));
            }
        }
        out
    }

    /// The terms to add to a query: every other term of every group the
    /// query mentions.
    pub fn expand(&self, query: &str) -> Vec<Expansion> {
        let folded = fold(query);
        let terms: Vec<String> = words(query).into_iter().map(|w| w.term).collect();
        self.expand_prepared(&folded, &terms)
    }

    pub(crate) fn expand_prepared(&self, folded: &str, terms: &[String]) -> Vec<Expansion> {
        let mut out: Vec<Expansion> = Vec::new();
        for (gi, hit) in self.matches(folded, terms) {
            for (ti, t) in self.groups[gi].iter().enumerate() {
                if hit.contains(&ti) || t.tokens.is_empty() {
                    continue;
                }
                if out.iter().any(|e| e.tokens == t.tokens) {
                    continue;
                }
                out.push(Expansion { term: t.raw.clone(), tokens: t.tokens.clone() });
            }
        }
        out
    }

    /// The synonym terms written in a query, as runs of its words: `(first
    /// word, end word (exclusive), group)`, left to right, without overlap,
    /// the longest term winning at each word. A Chinese term matches words
    /// whose folded surfaces, put together, spell it; any other term matches
    /// words whose analysed terms are its tokens.
    pub(crate) fn spans(&self, words: &[Word]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut best: Option<(usize, usize)> = None;
            for (gi, g) in self.groups.iter().enumerate() {
                for t in g {
                    let end = if t.cjk {
                        let mut spelled = String::new();
                        let mut end = None;
                        for (k, w) in words.iter().enumerate().skip(i).take(4) {
                            spelled.push_str(&w.surface);
                            if spelled == t.folded {
                                end = Some(k + 1);
                                break;
                            }
                            if !t.folded.starts_with(&spelled) {
                                break;
                            }
                        }
                        end
                    } else {
                        let n = t.tokens.len();
                        (n > 0 && i + n <= words.len() && words[i..i + n].iter().map(|w| &w.term).eq(t.tokens.iter()))
                            .then_some(i + n)
                    };
                    if let Some(end) = end.filter(|&e| best.is_none_or(|(b, _)| e > b)) {
                        best = Some((end, gi));
                    }
                }
            }
            match best {
                Some((end, gi)) => {
                    out.push((i, end, gi));
                    i = end;
                }
                None => i += 1,
            }
        }
        out
    }

    /// The terms of group `gi`: folded form, `lb_text` tokens, and whether it
    /// is Chinese.
    pub(crate) fn group_terms(&self, gi: usize) -> Vec<(String, Vec<String>, bool)> {
        self.groups
            .get(gi)
            .map_or_else(Vec::new, |g| g.iter().map(|t| (t.folded.clone(), t.tokens.clone(), t.cjk)).collect())
    }

    /// The groups with a one-word, non-Chinese term within `max` typos of `term` (an analysed query word that
    /// is no term itself): a misspelt word reaches its synonyms as the word spelt right does ("withdrawl" →
    /// withdrawal → 提现). Insertions, deletions, substitutions and swaps of two neighbours count one each, as
    /// in the indexes' fuzzy matching.
    pub(crate) fn near_groups(&self, term: &str, max: u8) -> Vec<usize> {
        if max == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (gi, g) in self.groups.iter().enumerate() {
            let near = g.iter().any(|t| {
                !t.cjk && t.tokens.len() == 1 && t.tokens[0] != term && typos(&t.tokens[0], term) <= max as usize
            });
            if near {
                out.push(gi);
            }
        }
        out
    }

    /// For each group the query mentions, all of its terms' folded forms and
    /// tokens (used to decide whether a document covers a query word).
    pub(crate) fn group_of(&self, folded_word: &str, term: &str) -> Option<Vec<(String, Vec<String>)>> {
        for g in &self.groups {
            if g.iter().any(|t| t.folded == folded_word || (t.tokens.len() == 1 && t.tokens[0] == term)) {
                return Some(g.iter().map(|t| (t.folded.clone(), t.tokens.clone())).collect());
            }
        }
        None
    }
}

/// Optimal-string-alignment (Damerau–Levenshtein) distance between two words, over characters: insertions,
/// deletions, substitutions and swaps of two neighbours count one each, as in the indexes' fuzzy matching.
/// Stops early past `max` (answers `max + 1`): only small distances are ever asked for.
pub fn typo_distance(a: &str, b: &str, max: usize) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1).min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// [`typo_distance`] up to 3.
fn typos(a: &str, b: &str) -> usize {
    typo_distance(a, b, 3)
}

/// The synonym set an index searches with, swapped whole when admins edit the groups (shared by the
/// knowledge-base and ticket indexes).
pub(crate) struct SynonymCell(std::sync::RwLock<std::sync::Arc<Synonyms>>);

impl SynonymCell {
    /// Starts with the built-in exchange groups.
    pub(crate) fn new() -> Self {
        SynonymCell(std::sync::RwLock::new(std::sync::Arc::new(Synonyms::default_exchange().prepared())))
    }

    /// Replaces the set (takes effect on the next search; no reindex).
    pub(crate) fn set(&self, synonyms: Synonyms) {
        let prepared = std::sync::Arc::new(synonyms.prepared());
        match self.0.write() {
            Ok(mut s) => *s = prepared,
            Err(p) => *p.into_inner() = prepared,
        }
    }

    /// The set in use.
    pub(crate) fn get(&self) -> std::sync::Arc<Synonyms> {
        match self.0.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_round_trip() {
        let s = Synonyms::parse("# c\n提现, 提币 / withdraw\n\nkyc、实名\nalone\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s.to_text(), "提现, 提币, withdraw\nkyc, 实名\n");
        let again = Synonyms::parse(&s.to_text());
        assert_eq!(again.groups(), s.groups());
    }

    #[test]
    fn typo_distance_counts_swaps_as_one() {
        assert_eq!(typos("withdrawl", "withdraw"), 1);
        assert_eq!(typos("withdrwa", "withdraw"), 1, "a swap of neighbours");
        assert_eq!(typos("deposit", "dpeosti"), 2, "two swaps");
        assert_eq!(typos("abc", "abc"), 0);
        assert_eq!(typos("kyc", "verification"), 4, "far apart stops early");
    }

    #[test]
    fn a_misspelt_word_reaches_its_group() {
        let syn = Synonyms::default_exchange().prepared();
        let gi = syn.near_groups("withdrawl", 1);
        assert!(!gi.is_empty(), "withdrawl is one typo from withdraw");
        assert!(syn.group_terms(gi[0]).iter().any(|(f, _, _)| f == "提现"), "and its group holds 提现");
        assert!(syn.near_groups("zzzzzzzz", 2).is_empty());
        assert!(syn.near_groups("withdrawl", 0).is_empty(), "no typos allowed, none matched");
    }

    #[test]
    fn expands() {
        let s = Synonyms::default_exchange().prepared();
        let e = s.expand("出金多久到");
        assert!(e.iter().any(|x| x.term == "提币"), "{e:?}");
        assert!(e.iter().any(|x| x.tokens == vec!["withdraw".to_string()]), "{e:?}");
        let e = s.expand("my withdrawals are late");
        assert!(e.iter().any(|x| x.term == "提币"), "{e:?}");
        let e = s.expand("sourdough bread");
        assert!(e.is_empty());
        // "ga" must not fire inside another word
        let e = s.expand("gas fee");
        assert!(!e.iter().any(|x| x.term == "谷歌验证"), "{e:?}");
    }
}
