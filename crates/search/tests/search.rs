//! End-to-end tests of the knowledge-base index on the fixtures under
//! `tests/fixtures/`.

use std::path::PathBuf;

use lifebuoy_search::{ArticleDoc, Audience, KbIndex, SearchOpts, Synonyms, detect_lang, eval, kbfiles, tokens};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn index() -> KbIndex {
    let idx = KbIndex::open_in_ram().unwrap();
    for d in kbfiles::load_dir(fixtures().join("articles")).unwrap() {
        idx.upsert(&d).unwrap();
    }
    idx.commit().unwrap();
    idx
}

fn doc(id: &str, lang: &str, title: &str, body: &str) -> ArticleDoc {
    ArticleDoc {
        article_id: id.into(),
        slug: id.into(),
        lang: lang.into(),
        title: title.into(),
        body_markdown: body.into(),
        category: "misc".into(),
        keywords: vec![],
        status: "published".into(),
    }
}

fn slugs(idx: &KbIndex, q: &str, opts: &SearchOpts) -> Vec<(String, String)> {
    idx.search(q, opts).unwrap().into_iter().map(|h| (h.slug, h.lang)).collect()
}

fn first_slug(idx: &KbIndex, q: &str, lang: &str) -> Option<String> {
    let opts = SearchOpts { lang: Some(lang.into()), ..SearchOpts::default() };
    idx.search(q, &opts).unwrap().into_iter().next().map(|h| h.slug)
}

#[test]
fn traditional_query_finds_simplified_article_and_back() {
    let idx = KbIndex::open_in_ram().unwrap();
    idx.upsert(&doc("s", "zh-Hans", "提币说明", "提币需要审核。")).unwrap();
    idx.upsert(&doc("t", "zh-Hant", "充值說明", "提幣前請先完成充值。")).unwrap();
    idx.upsert(&doc("x", "zh-Hans", "合约", "永续合约的资金费率。")).unwrap();
    idx.commit().unwrap();
    let hit = |q: &str| slugs(&idx, q, &SearchOpts::default()).into_iter().map(|s| s.0).collect::<Vec<_>>();
    let r = hit("提幣");
    assert!(r.contains(&"s".to_string()) && r.contains(&"t".to_string()), "{r:?}");
    assert!(!r.contains(&"x".to_string()), "{r:?}");
    let r = hit("提币");
    assert!(r.contains(&"s".to_string()) && r.contains(&"t".to_string()), "{r:?}");
}

#[test]
fn variant_account_characters_match() {
    let idx = KbIndex::open_in_ram().unwrap();
    idx.upsert(&doc("a", "zh-Hans", "说明", "资产一般五分钟到账。")).unwrap();
    idx.upsert(&doc("b", "zh-Hans", "其他", "与此无关的内容。")).unwrap();
    idx.commit().unwrap();
    for q in ["到帳", "到賬", "到账", "还没到账", "還沒到帳"] {
        let r = slugs(&idx, q, &SearchOpts::default());
        assert_eq!(r.first().map(|x| x.0.as_str()), Some("a"), "query {q}: {r:?}");
        assert_eq!(r.len(), 1, "query {q}: {r:?}");
    }
}

#[test]
fn jieba_context_split_is_covered_by_bigrams() {
    // Whatever jieba does with 还没到账, the article with 到账 is found.
    let idx = KbIndex::open_in_ram().unwrap();
    idx.upsert(&doc("a", "zh-Hans", "充值", "充值到账时间取决于网络确认。")).unwrap();
    idx.commit().unwrap();
    let r = slugs(&idx, "我的币还没到账", &SearchOpts::default());
    assert_eq!(r.first().map(|x| x.0.as_str()), Some("a"));
    assert!(tokens("还没到账").contains(&"到账".to_string()));
}

#[test]
fn english_typo_finds_withdrawal_article() {
    let idx = index();
    assert_eq!(first_slug(&idx, "withdrawl", "en").as_deref(), Some("withdrawal-delayed"));
    assert_eq!(first_slug(&idx, "withdrawals pending", "en").as_deref(), Some("withdrawal-delayed"));
    // exact matches rank above fuzzy ones
    let hits = idx.search("deposit", &SearchOpts { lang: Some("en".into()), ..Default::default() }).unwrap();
    assert_eq!(hits[0].slug, "deposit-not-arrived");
}

#[test]
fn synonyms_expand_queries_without_reindex() {
    let idx = index();
    // 出金 appears in no article: only the synonym 提币 makes it match
    assert_eq!(first_slug(&idx, "出金", "zh-Hans").as_deref(), Some("withdrawal-delayed"));
    // synonyms can be replaced at runtime
    idx.set_synonyms(Synonyms::empty());
    assert_eq!(first_slug(&idx, "出金", "zh-Hans"), None);
    idx.set_synonyms(Synonyms::parse("出金 / 提币"));
    assert_eq!(first_slug(&idx, "出金", "zh-Hans").as_deref(), Some("withdrawal-delayed"));
    // an expanded term scores below the typed one
    idx.set_synonyms(Synonyms::default_exchange());
    let direct = idx.search("提币", &SearchOpts { lang: Some("zh-Hans".into()), ..Default::default() }).unwrap();
    let syn = idx.search("出金", &SearchOpts { lang: Some("zh-Hans".into()), ..Default::default() }).unwrap();
    assert!(syn[0].score < direct[0].score, "{} vs {}", syn[0].score, direct[0].score);
}

#[test]
fn filters_by_lang_category_and_status() {
    let idx = index();
    let all = slugs(&idx, "withdrawal 提币", &SearchOpts { limit: 50, ..Default::default() });
    assert!(all.iter().all(|(s, _)| s != "agent-withdrawal-review" && s != "draft-news"), "{all:?}");
    let en = slugs(&idx, "withdrawal", &SearchOpts { lang: Some("en".into()), ..Default::default() });
    assert!(!en.is_empty() && en.iter().all(|(_, l)| l == "en"), "{en:?}");
    let hant = slugs(&idx, "提币", &SearchOpts { lang: Some("zh-Hant".into()), ..Default::default() });
    assert_eq!(hant, vec![("withdrawal-delayed".to_string(), "zh-Hant".to_string())]);
    let kyc = slugs(&idx, "review 审核", &SearchOpts { category: Some("kyc".into()), limit: 10, ..Default::default() });
    assert!(!kyc.is_empty() && kyc.iter().all(|(s, _)| s == "kyc-review-time"), "{kyc:?}");
    let agent = slugs(&idx, "escalate withdrawal review", &SearchOpts { include_internal: true, ..Default::default() });
    assert_eq!(agent.first().map(|x| x.0.as_str()), Some("agent-withdrawal-review"), "{agent:?}");
    // drafts never show
    let d = slugs(&idx, "maintenance", &SearchOpts { include_internal: true, ..Default::default() });
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn snippet_is_escaped_html_with_marks() {
    let idx = index();
    let hits = idx.search("resubmit", &SearchOpts { lang: Some("en".into()), ..Default::default() }).unwrap();
    let s = &hits[0].snippet_html;
    assert!(s.contains("<mark>resubmit</mark>"), "{s}");
    assert!(s.contains("&lt; 24h &amp; &quot;soon&quot;"), "{s}");
    let hits = idx.search("到帳", &SearchOpts { lang: Some("zh-Hant".into()), ..Default::default() }).unwrap();
    assert!(hits[0].snippet_html.contains("<mark>到帳</mark>"), "{}", hits[0].snippet_html);
    // Markdown syntax is not shown
    assert!(!hits[0].snippet_html.contains("**"), "{}", hits[0].snippet_html);
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let idx = index();
    let mut d = doc("withdrawal-delayed", "en", "Replaced title", "zebra giraffe words");
    d.category = "withdrawal".into();
    idx.upsert(&d).unwrap();
    idx.commit().unwrap();
    assert_eq!(first_slug(&idx, "resubmit", "en"), None);
    assert_eq!(first_slug(&idx, "zebra giraffe", "en").as_deref(), Some("withdrawal-delayed"));
    idx.delete("withdrawal-delayed", "en").unwrap();
    idx.commit().unwrap();
    assert_eq!(first_slug(&idx, "zebra giraffe", "en"), None);
    // other languages untouched
    assert_eq!(first_slug(&idx, "提币", "zh-Hans").as_deref(), Some("withdrawal-delayed"));
    idx.clear().unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), 0);
}

#[test]
fn open_in_dir_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb-index");
    {
        let idx = KbIndex::open_in_dir(&path).unwrap();
        idx.upsert(&doc("a", "zh-Hans", "提币", "提币说明")).unwrap();
        idx.commit().unwrap();
    }
    let idx = KbIndex::open_in_dir(&path).unwrap();
    assert_eq!(idx.num_docs(), 1);
    assert_eq!(first_slug(&idx, "提幣", "zh-Hans").as_deref(), Some("a"));
}

#[test]
fn answers_withdrawal_question_with_passage() {
    let idx = index();
    let a = idx.answer("我的提币一直在审核中，要等多久？", None).unwrap();
    assert!(!a.is_empty());
    assert_eq!(a[0].slug, "withdrawal-delayed");
    assert_eq!(a[0].lang, "zh-Hans");
    assert!(a[0].passage.contains("审核"), "{}", a[0].passage);
    assert!(a[0].confidence >= lifebuoy_search::MIN_CONFIDENCE && a[0].confidence <= 1.0);
    // Traditional question → Traditional version
    let a = idx.answer("我的提幣一直在審核中，要等多久？", None).unwrap();
    assert_eq!(a[0].slug, "withdrawal-delayed");
    assert_eq!(a[0].lang, "zh-Hant");
    // English question → English version
    let a = idx.answer("my withdrawal has been under review for hours", None).unwrap();
    assert_eq!(a[0].slug, "withdrawal-delayed");
    assert_eq!(a[0].lang, "en");
    // no zh-Hant version of deposit-not-arrived: falls back to zh-Hans
    let a = idx.answer("充值還沒到帳，交易哈希在哪裡查", Some("zh-Hant")).unwrap();
    assert_eq!(a[0].slug, "deposit-not-arrived");
    assert_eq!(a[0].lang, "zh-Hans");
    // one answer per slug
    let mut seen: Vec<&str> = a.iter().map(|x| x.slug.as_str()).collect();
    seen.dedup();
    assert_eq!(seen.len(), a.len());
}

#[test]
fn answer_declines_off_topic() {
    let idx = index();
    for q in ["how do I bake sourdough bread", "明天天气怎么样", "推荐一部好看的电影", "who won the football match"]
    {
        let a = idx.answer(q, None).unwrap();
        assert!(a.is_empty(), "{q}: {a:?}");
    }
    // internal articles are never answers for customers
    let a = idx.answer("agent playbook escalate withdrawal review", None).unwrap();
    assert!(a.iter().all(|x| x.slug != "agent-withdrawal-review"), "{a:?}");
}

#[test]
fn kbfiles_round_trip() {
    let docs = kbfiles::load_dir(fixtures().join("articles")).unwrap();
    assert_eq!(docs.len(), 11);
    let dir = tempfile::tempdir().unwrap();
    kbfiles::write_dir(dir.path(), &docs).unwrap();
    let again = kbfiles::load_dir(dir.path()).unwrap();
    assert_eq!(docs, again);
    // tricky values survive
    let mut odd = doc("odd-one", "en", "Title: with \"quotes\", [brackets] # and hash", "Body\n");
    odd.keywords = vec!["a, b".into(), "won't".into(), "[x]".into(), "- dash".into()];
    kbfiles::write_dir(dir.path(), std::slice::from_ref(&odd)).unwrap();
    let back = kbfiles::load_dir(dir.path()).unwrap();
    assert_eq!(back.iter().find(|d| d.slug == "odd-one"), Some(&odd));
    // index → export round trip
    let idx = index();
    let exported = idx.all_articles().unwrap();
    assert_eq!(exported.len(), 11);
    assert_eq!(exported, docs);
}

#[test]
fn kbfiles_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("bad-one");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("en.md"), "---\nslug: bad-one\nlang: en\ntitle: ok\nstatus: weird\n---\nbody").unwrap();
    let e = kbfiles::load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("bad-one/en.md:1:") && e.contains("unknown status"), "{e}");
    std::fs::write(d.join("en.md"), "---\nslug: bad-one\nlang: en\nkeywords: [a, \"b]\ntitle: x\n---\n").unwrap();
    let e = kbfiles::load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("bad-one/en.md:4:"), "{e}");
}

#[test]
fn detect_lang_cases() {
    assert_eq!(detect_lang("我的提币还没到账"), "zh-Hans");
    assert_eq!(detect_lang("我的提幣還沒到帳"), "zh-Hant");
    assert_eq!(detect_lang("withdrawal not received"), "en");
    assert_eq!(detect_lang("USDT 提币 pending 了"), "zh-Hans");
    assert_eq!(detect_lang("USDT 提幣 pending 了"), "zh-Hant");
    assert_eq!(detect_lang("2FA"), "en");
    assert_eq!(detect_lang("帳號被鎖住了"), "zh-Hant");
}

#[test]
fn eval_on_fixture_questions() {
    let idx = index();
    let qs = eval::load_questions(fixtures().join("questions.jsonl")).unwrap();
    let r = eval::evaluate(&idx, &qs).unwrap();
    assert_eq!(r.questions, 8);
    assert_eq!(r.answerable, 6);
    assert!(r.top1 >= 5.0 / 6.0, "{r:?}");
    assert_eq!(r.false_answer_rate, 0.0, "{r:?}");
}

#[test]
fn eval_asks_each_question_as_its_audience() {
    let idx = index();
    let mut qs = eval::load_questions(fixtures().join("questions.jsonl")).unwrap();
    // a question about an internal playbook: customers never get it, the console's agents do
    let playbook = "agent playbook for reviewing withdrawals";
    let customer = idx.answer_for(playbook, None, Audience::Customer).unwrap();
    assert!(customer.iter().all(|a| a.slug != "agent-withdrawal-review" && a.status == "published"), "{customer:?}");
    let agent = idx.answer_for(playbook, None, Audience::Agent).unwrap();
    assert!(agent.iter().any(|a| a.slug == "agent-withdrawal-review" && a.status == "internal"), "{agent:?}");
    qs.push(eval::EvalQuestion {
        q: playbook.into(),
        slug: Some("agent-withdrawal-review".into()),
        lang: None,
        audience: Audience::Agent,
        split: eval::Split::Tune,
    });
    let r = eval::evaluate(&idx, &qs).unwrap();
    assert_eq!(r.answerable, 7);
    assert_eq!((r.customers.answerable, r.agents.answerable), (6, 1));
    assert_eq!(r.agents.top3, 1.0, "{r:?}");
    assert!(r.customers.top1 >= 5.0 / 6.0, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.summary_json("all")).unwrap();
    assert_eq!(j["agents"]["answerable"], 1);
    assert_eq!(j["answerable"], 7);
}

#[test]
fn chatter_alone_is_not_answered() {
    let idx = index();
    for q in ["hello, please help!!", "你好 请问 在吗 谢谢", "您好，麻烦帮我一下", "hi team, urgent please"]
    {
        let a = idx.answer(q, None).unwrap();
        assert!(a.is_empty(), "{q}: {a:?}");
    }
    // chatter around a real question does not stop the answer
    let a = idx.answer("你好 请问 我的提币一直在审核中 要等多久 谢谢", None).unwrap();
    assert_eq!(a.first().map(|x| x.slug.as_str()), Some("withdrawal-delayed"), "{a:?}");
}

#[test]
fn answer_is_judged_on_the_version_in_the_question_language() {
    // the English version is the only one that covers the question; the
    // Chinese one ranks first on the shared token
    let idx = KbIndex::open_in_ram().unwrap();
    let mut zh = doc("kyc-time", "zh-Hans", "KYC 审核时间", "KYC 审核一般需要 1 个工作日。KYC KYC");
    zh.keywords = vec!["KYC".into()];
    let mut en = doc(
        "kyc-time",
        "en",
        "How long KYC review takes",
        "KYC review is usually done in 1 business day; pending reviews older than 3 days are escalated.",
    );
    en.keywords = vec!["KYC review".into(), "pending".into()];
    idx.upsert(&zh).unwrap();
    idx.upsert(&en).unwrap();
    idx.upsert(&doc("other", "en", "Withdrawal fees", "Fees depend on the network.")).unwrap();
    idx.commit().unwrap();
    let a = idx.answer_scored("kyc review pending for days", None).unwrap();
    assert_eq!(a[0].slug, "kyc-time");
    assert_eq!(a[0].lang, "en");
}

#[test]
fn a_typo_reaches_synonyms_and_one_character_finds_the_words_holding_it() {
    let idx = KbIndex::open_in_ram().unwrap();
    idx.set_synonyms(Synonyms::default_exchange());
    idx.upsert(&doc("cn", "zh-Hans", "提现多久到账", "提现审核一般十分钟内完成。")).unwrap();
    idx.upsert(&doc("frozen", "zh-Hans", "账户被冻结怎么办", "冻结后请联系客服。")).unwrap();
    idx.upsert(&doc("coin", "zh-Hans", "币", "币 是什么：本文介绍平台支持的资产。")).unwrap();
    idx.upsert(&doc("fees", "zh-Hans", "手续费说明", "不同网络收取不同费用。")).unwrap();
    idx.upsert(&doc("usdt", "zh-Hans", "稳定币充值", "稳定币充值需要链上确认。")).unwrap();
    idx.commit().unwrap();
    let hit = |q: &str| slugs(&idx, q, &SearchOpts::default()).into_iter().map(|s| s.0).collect::<Vec<_>>();
    // Only Chinese text holds the withdrawal: the misspelt English word reaches it through its synonym group.
    assert_eq!(hit("withdrawl"), vec!["cn"], "withdrawl → withdrawal → 提现");
    assert_eq!(hit("冻"), vec!["frozen"], "冻 finds 冻结");
    // 币 as a word of its own ranks above the words that merely hold it.
    let coin = hit("币");
    assert_eq!(coin, vec!["coin", "usdt"], "稳定币 holds it, below the article where it is a word");
    assert!(!coin.contains(&"fees".to_string()), "{coin:?}");
    assert!(hit("鑫").is_empty(), "a character no article holds finds nothing");
}
