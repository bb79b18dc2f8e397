//! The knowledge-base index benchmark behind `lifebuoy bench kb`: build time and query latency on generated
//! mixed Chinese/English articles (deterministic, so runs are comparable).

use std::time::Instant;

use crate::{ArticleDoc, KbIndex, Result, SearchOpts};

/// A tiny deterministic PRNG (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

const ZH_TOPIC: &[&str] = &[
    "提币",
    "充值",
    "充币",
    "到账",
    "未到账",
    "实名认证",
    "身份认证",
    "谷歌验证",
    "验证码",
    "放币",
    "申诉",
    "冻结",
    "风控",
    "钓鱼",
    "助记词",
    "私钥",
    "合约",
    "爆仓",
    "强平",
    "资金费率",
    "链上",
    "主网",
    "地址",
    "标签",
    "备注",
    "手续费",
    "审核",
    "子账户",
    "理财",
    "质押",
    "空投",
    "杠杆",
    "保证金",
    "仓位",
    "订单",
    "挂单",
    "市价单",
    "限价单",
    "法币",
    "商家",
    "银行卡",
    "转账",
    "退款",
    "交易哈希",
    "区块浏览器",
    "确认数",
    "白名单",
    "密码",
    "登录",
    "手机号",
    "邮箱",
    "工单",
    "客服",
    "账户",
    "资产",
    "余额",
    "网络",
    "钱包",
    "维护",
    "公告",
    "限额",
    "额度",
    "等级",
    "证件",
    "护照",
];
const ZH_COMMON: &[&str] = &[
    "如果", "请", "您", "可以", "需要", "通常", "已经", "进行", "查看", "点击", "提交", "完成", "确认", "等待", "联系",
    "提供", "处理", "显示", "进入", "页面", "记录", "状态", "时间", "分钟", "小时", "之后", "之前", "平台", "系统",
    "安全", "问题", "原因", "操作", "成功", "失败", "重新", "自动", "人工", "检查", "注意", "不要", "一般", "会", "将",
    "在", "和", "的", "了", "是",
];
const ZH_TRAD: &[&str] = &["提幣", "到帳", "帳戶", "審核", "凍結", "網路", "錢包", "驗證碼", "實名認證", "餘額"];
const EN_TOPIC: &[&str] = &[
    "withdrawal",
    "deposit",
    "credited",
    "pending",
    "verification",
    "identity",
    "authenticator",
    "2fa",
    "release",
    "appeal",
    "frozen",
    "risk",
    "phishing",
    "seed",
    "phrase",
    "private",
    "key",
    "futures",
    "liquidation",
    "funding",
    "rate",
    "network",
    "address",
    "memo",
    "tag",
    "fee",
    "fees",
    "review",
    "sub-account",
    "staking",
    "airdrop",
    "leverage",
    "margin",
    "position",
    "order",
    "limit",
    "market",
    "merchant",
    "bank",
    "transfer",
    "refund",
    "hash",
    "explorer",
    "confirmations",
    "whitelist",
    "password",
    "login",
    "phone",
    "email",
    "ticket",
    "support",
    "account",
    "balance",
    "wallet",
    "maintenance",
    "announcement",
    "passport",
    "usdt",
    "btc",
    "eth",
    "trc20",
    "erc20",
];
const EN_COMMON: &[&str] = &[
    "the",
    "your",
    "you",
    "can",
    "will",
    "when",
    "after",
    "before",
    "check",
    "please",
    "usually",
    "within",
    "minutes",
    "hours",
    "page",
    "history",
    "status",
    "contact",
    "provide",
    "submit",
    "complete",
    "confirm",
    "wait",
    "open",
    "tap",
    "select",
    "enter",
    "make",
    "sure",
    "that",
    "this",
    "again",
    "automatically",
    "manual",
    "security",
    "reason",
    "failed",
    "successful",
    "new",
    "first",
];

fn zh_text(r: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = match r.below(10) {
            0..=3 => r.pick(ZH_TOPIC),
            4 => r.pick(ZH_TRAD),
            5 => r.pick(EN_TOPIC),
            _ => r.pick(ZH_COMMON),
        };
        if w.is_ascii() {
            s.push(' ');
            s.push_str(w);
            s.push(' ');
        } else {
            s.push_str(w);
        }
        if i % 12 == 11 {
            s.push('。');
        }
        if i % 60 == 59 {
            s.push_str("\n\n");
        }
    }
    s
}

fn en_text(r: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = if r.below(3) == 0 { r.pick(EN_TOPIC) } else { r.pick(EN_COMMON) };
        if !s.is_empty() && !s.ends_with('\n') {
            s.push(' ');
        }
        s.push_str(w);
        if i % 14 == 13 {
            s.push('.');
        }
        if i % 70 == 69 {
            s.push_str("\n\n");
        }
    }
    s
}

fn article(r: &mut Rng, i: usize) -> ArticleDoc {
    let lang = ["zh-Hans", "zh-Hant", "en"][i % 3];
    let len = 150 + r.below(300);
    let (title, body, keywords) = if lang == "en" {
        let t = en_text(r, 8);
        let b = en_text(r, len);
        (t, b, (0..4).map(|_| r.pick(EN_TOPIC).to_string()).collect())
    } else {
        let t = zh_text(r, 6);
        let b = zh_text(r, len);
        (t, b, (0..4).map(|_| r.pick(ZH_TOPIC).to_string()).collect())
    };
    let status = if i.is_multiple_of(20) { "internal" } else { "published" };
    ArticleDoc {
        article_id: format!("a{}", i / 3),
        slug: format!("article-{}", i / 3),
        lang: lang.to_string(),
        title,
        body_markdown: body,
        category: ["withdrawal", "deposit", "kyc", "security", "trading", "c2c"][r.below(6)].to_string(),
        keywords,
        status: status.to_string(),
    }
}

fn query(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("{}{}", r.pick(ZH_TOPIC), r.pick(ZH_TOPIC)),
        1 => format!("我的{}一直{}怎么办", r.pick(ZH_TOPIC), r.pick(ZH_TOPIC)),
        2 => format!("{} {}", r.pick(EN_TOPIC), r.pick(EN_TOPIC)),
        _ => {
            // an English word with a typo
            let w = r.pick(EN_TOPIC);
            let mut chars: Vec<char> = w.chars().collect();
            if chars.len() > 4 {
                let k = 1 + r.below(chars.len() - 2);
                chars.remove(k);
            }
            format!("{} {}", chars.into_iter().collect::<String>(), r.pick(EN_COMMON))
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

/// What one size measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KbBenchReport {
    /// Article versions indexed.
    pub articles: usize,
    /// Seconds to index them all and commit.
    pub build_s: f64,
    /// Timed searches.
    pub queries: usize,
    /// Mean hits per search.
    pub avg_hits: f64,
    /// Search latency, median, milliseconds.
    pub p50_ms: f64,
    /// Search latency, 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Slowest search, milliseconds.
    pub max_ms: f64,
    /// Answer-engine latency (300 questions), median, milliseconds.
    pub answer_p50_ms: f64,
    /// Answer-engine latency, 99th percentile, milliseconds.
    pub answer_p99_ms: f64,
}

impl KbBenchReport {
    /// One line for people.
    pub fn line(&self) -> String {
        format!(
            "articles={} build={:.2}s queries={} avg_hits={:.1} search p50={:.3}ms p99={:.3}ms max={:.3}ms | answer p50={:.2}ms p99={:.2}ms",
            self.articles,
            self.build_s,
            self.queries,
            self.avg_hits,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.answer_p50_ms,
            self.answer_p99_ms
        )
    }

    /// One line of JSON.
    pub fn json(&self) -> String {
        let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
        serde_json::json!({"bench": "kb", "articles": self.articles, "build_s": r3(self.build_s),
            "queries": self.queries, "p50_ms": r3(self.p50_ms), "p99_ms": r3(self.p99_ms), "max_ms": r3(self.max_ms),
            "answer_p50_ms": r3(self.answer_p50_ms), "answer_p99_ms": r3(self.answer_p99_ms)})
        .to_string()
    }
}

/// Indexes `n` generated article versions in RAM and times `n_queries` searches (after 100 for warm-up) and
/// 300 answer-engine questions.
pub fn run(n: usize, n_queries: usize) -> Result<KbBenchReport> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let docs: Vec<ArticleDoc> = (0..n).map(|i| article(&mut r, i)).collect();
    let index = KbIndex::open_in_ram()?;
    let t = Instant::now();
    for d in &docs {
        index.upsert(d)?;
    }
    index.commit()?;
    let build_s = t.elapsed().as_secs_f64();
    drop(docs);

    let queries: Vec<String> = (0..n_queries.max(1)).map(|_| query(&mut r)).collect();
    let opts = SearchOpts { limit: 10, ..SearchOpts::default() };
    for q in queries.iter().take(100) {
        index.search(q, &opts)?;
    }
    let mut lat = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        let h = index.search(q, &opts)?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        hits += h.len();
    }
    lat.sort_by(f64::total_cmp);
    // the answer engine, on fewer questions (it reads candidate bodies)
    let mut alat = Vec::new();
    for q in queries.iter().take(300) {
        let t = Instant::now();
        index.answer(q, None)?;
        alat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    alat.sort_by(f64::total_cmp);
    Ok(KbBenchReport {
        articles: n,
        build_s,
        queries: queries.len(),
        avg_hits: hits as f64 / queries.len() as f64,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(0.0),
        answer_p50_ms: percentile(&alat, 0.5),
        answer_p99_ms: percentile(&alat, 0.99),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_small_run_measures_something() {
        let r = super::run(300, 50).unwrap();
        assert_eq!(r.articles, 300);
        assert!(r.avg_hits > 0.0, "generated queries find generated articles");
        assert!(r.p50_ms > 0.0 && r.p99_ms >= r.p50_ms && r.max_ms >= r.p99_ms);
        assert!(r.json().starts_with("{") && r.json().contains("\"bench\":\"kb\""));
    }
}
