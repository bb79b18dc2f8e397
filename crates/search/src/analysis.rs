//! Text analysis: the `lb_text` (jieba words + English stemming) and
//! `lb_bigram` (overlapping CJK bigrams) analysers, shared by every index of
//! the platform through [`register`].

use std::collections::HashSet;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use tantivy::Index;
use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer};

use crate::fold::{fold_with_offsets, is_cjk};

/// Name under which the word analyser is registered.
pub const TEXT_ANALYZER: &str = "lb_text";

/// The version of the analysers (folding, segmentation, the domain dictionary, bigrams, stemming, stop words):
/// bump it with any change that turns some text into other tokens. Indexes kept on disk carry it in their
/// stamp and are rebuilt when it differs.
pub const ANALYSER_VERSION: u32 = 1;
/// Name under which the CJK bigram analyser is registered.
pub const BIGRAM_ANALYZER: &str = "lb_bigram";

/// Domain words added to jieba's dictionary (in folded, Simplified form), so
/// that they come out as one token instead of being cut apart.
pub const DOMAIN_WORDS: &[&str] = &[
    "提币",
    "提现",
    "出金",
    "充币",
    "充值",
    "入金",
    "到账",
    "未到账",
    "没到账",
    "不到账",
    "实名",
    "实名认证",
    "身份认证",
    "身份验证",
    "高级认证",
    "人脸识别",
    "活体",
    "活体检测",
    "谷歌验证",
    "谷歌验证器",
    "验证器",
    "验证码",
    "短信验证码",
    "邮箱验证码",
    "二次验证",
    "放币",
    "放行",
    "申诉",
    "冻结",
    "解冻",
    "风控",
    "钓鱼",
    "钓鱼网站",
    "防钓鱼码",
    "助记词",
    "私钥",
    "公钥",
    "合约",
    "永续合约",
    "交割合约",
    "爆仓",
    "强平",
    "强制平仓",
    "资金费率",
    "链上",
    "主网",
    "地址",
    "提币地址",
    "充值地址",
    "充币地址",
    "标签",
    "备注",
    "手续费",
    "矿工费",
    "网络费",
    "审核",
    "审核中",
    "处理中",
    "待审核",
    "白名单",
    "地址簿",
    "杠杆",
    "保证金",
    "追加保证金",
    "仓位",
    "平仓",
    "开仓",
    "止盈",
    "止损",
    "限价单",
    "市价单",
    "挂单",
    "吃单",
    "现货",
    "理财",
    "质押",
    "解押",
    "赎回",
    "空投",
    "返佣",
    "邀请码",
    "子账户",
    "资金账户",
    "现货账户",
    "合约账户",
    "划转",
    "资金划转",
    "闪兑",
    "法币",
    "场外",
    "场外交易",
    "承兑商",
    "商家",
    "买家",
    "卖家",
    "订单",
    "付款",
    "收款",
    "收款方式",
    "银行卡",
    "转账",
    "汇款",
    "退款",
    "确认数",
    "区块确认",
    "区块浏览器",
    "交易哈希",
    "哈希",
    "哈希值",
    "转错链",
    "充错链",
    "错链",
    "主链",
    "公链",
    "跨链",
    "注销",
    "注销账户",
    "销户",
    "修改手机",
    "换绑",
    "解绑",
    "绑定",
    "登录",
    "登陆",
    "密码",
    "资金密码",
    "重置",
    "找回",
    "被盗",
    "盗号",
    "异常登录",
    "新设备",
    "锁定",
    "解锁",
    "限额",
    "提币限额",
    "最小提币",
    "最低提币",
    "最小充值",
    "最低充值",
    "小额",
    "粉尘",
    "代币",
    "币种",
    "下架",
    "上币",
    "维护",
    "钱包维护",
    "暂停",
    "身份证",
    "护照",
    "驾照",
    "自拍",
    "手持",
    "证件",
    "居住证明",
    "地址证明",
    "客服",
    "工单",
    "人工客服",
    "api",
    "密钥",
    "api密钥",
    "反洗钱",
    "冷却期",
    "安全设置",
    "防钓鱼",
    "官方渠道",
    "官方",
    "假冒",
    "诈骗",
    "骗子",
    "杀猪盘",
    "客诉",
    "等级",
    "kyc",
    "usdt",
    "trc20",
    "erc20",
    "bep20",
    // exchange products and services (so that a question about one is not
    // mistaken for one about its generic half, e.g. 网格交易 → 交易)
    "网格交易",
    "跟单交易",
    "合约跟单",
    "现货跟单",
    "带单",
    "量化交易",
    "交易机器人",
    "平台币",
    "杠杆代币",
    "期权",
    "期权交易",
    "杠杆交易",
    "借贷",
    "质押借币",
    "定投",
    "理财产品",
    "活期理财",
    "定期理财",
    "流动性挖矿",
    "矿池",
    "新币挖矿",
    "新币申购",
    "打新",
    "launchpad",
    "launchpool",
    "跨链桥",
    "冷钱包",
    "硬件钱包",
    "热钱包",
    "稳定币",
    "模拟交易",
    "合约模拟盘",
];

/// Words dropped by `lb_text` (after folding). Kept short: only words that
/// carry no topic at all.
pub const STOP_WORDS: &[&str] = &[
    // English
    "a",
    "an",
    "the",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "do",
    "does",
    "did",
    "i",
    "my",
    "me",
    "we",
    "our",
    "you",
    "your",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "and",
    "or",
    "how",
    "what",
    "why",
    "when",
    "where",
    "which",
    "who",
    "can",
    "could",
    "should",
    "would",
    "will",
    "with",
    "from",
    "by",
    "as",
    "am",
    "have",
    "has",
    "had",
    "there",
    "please",
    "hi",
    "hello",
    "so",
    "if",
    "then",
    "than",
    "but",
    "just",
    "any",
    "some",
    "about",
    "into",
    "im",
    "i'm",
    "it's",
    "get",
    "got",
    "there",
    "here",
    "s",
    "t",
    "'s",
    // Chinese
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "嘛",
    "哦",
    "哈",
    "么",
    "我",
    "你",
    "您",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "也",
    "都",
    "就",
    "还",
    "要",
    "会",
    "能",
    "可以",
    "怎么",
    "怎么办",
    "怎样",
    "怎么样",
    "如何",
    "什么",
    "为什么",
    "一下",
    "这个",
    "那个",
    "请问",
    "请",
    "好",
    "一直",
    "已经",
    "现在",
    "这",
    "那",
    "得",
    "地",
    "着",
    "被",
    "把",
    "让",
    "给",
    "对",
    "吗",
    "啦",
    "喔",
    "嗯",
    "该",
    "应该",
    "需要",
    "想",
    // Cantonese particles
    "咗",
    "嘅",
    "啲",
    "咩",
    "喺",
    "嘢",
    "唔",
    "冇",
    "系",
    "咪",
    "佢",
    "俾",
    "畀",
    "啰",
    "喇",
    "㗎",
    "噉",
    "咁",
    "乜",
    "啱",
    "嚟",
    "哋",
    "晒",
    "咯",
    "嗰",
    "睇",
    "唧",
    "呢度",
    "边度",
    "乜嘢",
];

/// CJK characters that never start or end a bigram of `lb_bigram`
/// (particles and pronouns that would otherwise glue any two words together).
const BIGRAM_SKIP: &[char] = &['的', '了', '吗', '呢', '吧', '啊', '呀', '嘛', '哦', '么', '我', '你', '您'];

pub(crate) fn stop_words() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
}

/// The shared jieba segmenter, with the default dictionary plus
/// [`DOMAIN_WORDS`] and the Chinese terms of the default synonym set.
pub fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(|| {
        let mut j = Jieba::new();
        let mut add = |w: &str| {
            let w = crate::fold::fold(w);
            if w.chars().any(is_cjk) && w.chars().count() >= 2 {
                j.add_word(&w, Some(50_000), Some("n"));
            }
        };
        for w in DOMAIN_WORDS {
            add(w);
        }
        for group in crate::synonyms::Synonyms::default_exchange().groups() {
            for t in group {
                add(&t);
            }
        }
        j
    })
}

/// Part-of-speech tags (jieba's) of the words of a folded text.
pub(crate) fn pos_tags(folded: &str) -> std::collections::HashMap<String, String> {
    jieba().tag(folded, false).into_iter().map(|t| (t.word.to_string(), t.tag.to_string())).collect()
}

/// How `lb_text` segments Chinese.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CutMode {
    /// jieba search mode: a long word and its dictionary sub-words.
    Search,
    /// jieba default mode: one segmentation.
    Words,
}

/// The tokenizer behind `lb_text`: fold, jieba segmentation, stop words.
/// Offsets point into the *original* text. Stemming is added by the
/// [`TextAnalyzer`] built in [`text_analyzer`].
#[derive(Clone)]
pub struct LbTextTokenizer {
    mode: CutMode,
}

/// A token stream over tokens computed up front.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

impl Tokenizer for LbTextTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let folded = fold_with_offsets(text);
        let j = jieba();
        let cut = match self.mode {
            CutMode::Search => j.cut_for_search(&folded.text, false),
            CutMode::Words => j.cut(&folded.text, false),
        };
        let stops = stop_words();
        let mut tokens = Vec::with_capacity(cut.len());
        for t in cut {
            let w = t.word;
            if !w.chars().any(is_word_char) {
                continue;
            }
            let w = w.trim_matches(|c: char| !is_word_char(c));
            if w.is_empty() || stops.contains(w) || w.len() > 64 {
                continue;
            }
            let lead = t.word.find(w).unwrap_or(0);
            let (s, e) = folded.original_range(t.byte_start + lead, t.byte_start + lead + w.len());
            tokens.push(Token {
                offset_from: s,
                offset_to: e,
                position: tokens.len(),
                text: w.to_string(),
                position_length: 1,
            });
        }
        VecTokenStream { tokens, next: 0 }
    }
}

/// The tokenizer behind `lb_bigram`: folded text, overlapping CJK character
/// bigrams (a lone CJK character gives a unigram). Non-CJK text is skipped:
/// it is covered by `lb_text`.
#[derive(Clone, Default)]
pub struct LbBigramTokenizer;

impl Tokenizer for LbBigramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let folded = fold_with_offsets(text);
        let mut tokens = Vec::new();
        let mut run: Vec<(usize, char)> = Vec::new();
        let flush = |run: &mut Vec<(usize, char)>, tokens: &mut Vec<Token>| {
            push_bigrams(run, &folded, tokens);
            run.clear();
        };
        for (i, c) in folded.text.char_indices() {
            if is_cjk(c) {
                run.push((i, c));
            } else {
                flush(&mut run, &mut tokens);
            }
        }
        flush(&mut run, &mut tokens);
        VecTokenStream { tokens, next: 0 }
    }
}

fn push_bigrams(run: &[(usize, char)], folded: &crate::fold::Folded, tokens: &mut Vec<Token>) {
    let skip = |c: char| BIGRAM_SKIP.contains(&c);
    let emit = |from: usize, to: usize, text: String, tokens: &mut Vec<Token>| {
        let (s, e) = folded.original_range(from, to);
        tokens.push(Token { offset_from: s, offset_to: e, position: tokens.len(), text, position_length: 1 });
    };
    if run.len() == 1 {
        let (i, c) = run[0];
        if !skip(c) {
            emit(i, i + c.len_utf8(), c.to_string(), tokens);
        }
        return;
    }
    for w in run.windows(2) {
        let (i, a) = w[0];
        let (k, b) = w[1];
        if skip(a) || skip(b) {
            continue;
        }
        let mut s = String::with_capacity(6);
        s.push(a);
        s.push(b);
        emit(i, k + b.len_utf8(), s, tokens);
    }
}

/// Builds the `lb_text` analyser (search-mode segmentation + English stemming).
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(LbTextTokenizer { mode: CutMode::Search }).filter(Stemmer::new(Language::English)).build()
}

pub(crate) fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(LbTextTokenizer { mode: CutMode::Words }).filter(Stemmer::new(Language::English)).build()
}

/// Builds the `lb_bigram` analyser.
pub fn bigram_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(LbBigramTokenizer).build()
}

/// Registers `lb_text` and `lb_bigram` on `index`, so that tickets, chat and
/// the knowledge base all analyse text the same way.
pub fn register(index: &Index) {
    index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
    index.tokenizers().register(BIGRAM_ANALYZER, bigram_analyzer());
}

fn collect(mut analyzer: TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

/// Tokens that `lb_text` produces for `text` (for tests and debugging).
///
/// ```
/// let t = lifebuoy_search::tokens("我的提幣還沒到帳 withdrawals");
/// assert!(t.contains(&"提币".to_string()));
/// assert!(t.contains(&"到账".to_string()));
/// assert!(t.contains(&"withdraw".to_string()));
/// ```
pub fn tokens(text: &str) -> Vec<String> {
    thread_local! {
        static A: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(text_analyzer());
    }
    A.with(|a| {
        let mut a = a.borrow_mut();
        let mut out = Vec::new();
        let mut stream = a.token_stream(text);
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        out
    })
}

/// Tokens that `lb_bigram` produces for `text`.
pub fn bigram_tokens(text: &str) -> Vec<String> {
    collect(bigram_analyzer(), text)
}

/// A word of a query or passage, as the answer engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// Analysed form (folded, stemmed).
    pub term: String,
    /// Folded surface form.
    pub surface: String,
    /// Byte range in the original text.
    pub start: usize,
    /// End of the byte range in the original text.
    pub end: usize,
}

/// Default-mode words of `text` with their folded surface form.
pub(crate) fn words(text: &str) -> Vec<Word> {
    thread_local! {
        static A: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(words_analyzer());
    }
    A.with(|a| {
        let mut a = a.borrow_mut();
        let mut out = Vec::new();
        let mut stream = a.token_stream(text);
        while let Some(t) = stream.next() {
            let surface = crate::fold::fold(&text[t.offset_from..t.offset_to]);
            out.push(Word { term: t.text.clone(), surface, start: t.offset_from, end: t.offset_to });
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_words_and_folding() {
        let t = tokens("提幣一直未到帳");
        assert!(t.contains(&"提币".to_string()), "{t:?}");
        assert!(t.contains(&"到账".to_string()), "{t:?}");
        let t = tokens("还没到账");
        assert!(t.contains(&"到账".to_string()), "{t:?}");
    }

    #[test]
    fn english_is_stemmed_and_stopped() {
        let t = tokens("How do I withdraw my deposits?");
        assert_eq!(t, vec!["withdraw", "deposit"]);
    }

    #[test]
    fn bigrams() {
        assert_eq!(bigram_tokens("还没到賬"), vec!["还没", "没到", "到账"]);
        assert_eq!(bigram_tokens("币 usdt"), vec!["币"]);
        assert_eq!(bigram_tokens("我的提币"), vec!["提币"]);
    }

    #[test]
    fn offsets_point_into_original() {
        let text = "ＵＳＤＴ提幣";
        let mut a = text_analyzer();
        let mut s = a.token_stream(text);
        let mut seen = Vec::new();
        while let Some(t) = s.next() {
            seen.push((t.text.clone(), text[t.offset_from..t.offset_to].to_string()));
        }
        assert!(seen.contains(&("usdt".into(), "ＵＳＤＴ".into())), "{seen:?}");
        assert!(seen.contains(&("提币".into(), "提幣".into())), "{seen:?}");
    }
}
