//! The help center in real headless Chromium: a reader searches in Traditional Chinese and finds the Simplified
//! article, votes it helpful; the vote shows on the agents' analytics page; a supervisor edits the article and
//! the public page and search show the change at once. Screenshots of the help home, an article and the editor
//! in each language go to `target/screenshots/help-*.png`.

use fantoccini::{Client, Locator};
use lifebuoy_domain::{Lang, Role};
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, TestApp, screenshot_dir, spawn_app_with};
use lifebuoy_web::i18n::t;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.expect("text")
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// The page's text in `css` contains `want`; says which page and what it shows otherwise.
async fn shows(c: &Client, css: &str, want: &str) {
    let got = text_of(c, css).await;
    let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    assert!(got.contains(want), "{url}: {css} shows {got:?}, not {want:?}");
}

/// The start of an article's first paragraph of plain text, as the page shows it (the Markdown before its
/// first link, emphasis or code).
fn opening_words(markdown: &str) -> String {
    for line in markdown.lines().map(str::trim) {
        if line.is_empty()
            || line.starts_with(['#', '-', '*', '>', '|', '!'])
            || line.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        let plain: String = line.chars().take_while(|c| !"[*`_(（<".contains(*c)).take(16).collect();
        if plain.trim().chars().count() >= 4 {
            return plain.trim().to_string();
        }
    }
    panic!("no plain opening words in {markdown:?}");
}

/// A public article page in `lang`: its title, the start of its body, and the help center's labels in `lang`.
async fn check_article(c: &Client, app: &TestApp, slug: &str, lang: Lang) {
    let a = app.store.kb_article_by_slug(slug).await.unwrap().unwrap();
    let tr = a.translation(lang.as_str()).unwrap();
    shows(c, "article.article h1", &tr.title).await;
    shows(c, ".article-body", &opening_words(&tr.body)).await;
    shows(c, ".help-contact h2", &t(lang, "help.still_need")).await;
}

/// The help center's home in `lang`: its heading, search button and contact box.
async fn check_home(c: &Client, lang: Lang) {
    shows(c, ".help-hero h1", &t(lang, "help.hero_title")).await;
    shows(c, ".help-hero .help-search button", &t(lang, "help.search_btn")).await;
    shows(c, ".help-contact h2", &t(lang, "help.still_need")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_searches_votes_and_agent_edits() {
    let app = spawn_app_with(Backend::Sqlite, true).await;
    app.agent("editor@x.dev", "S2048", Role::Supervisor, &["support"]).await;
    let driver = ChromeDriver::start().await;

    // A reader in mainland China lands on /help and searches in Traditional characters.
    let reader = driver.session("zh-CN").await;
    reader.goto(&app.url("/help")).await.unwrap();
    assert!(reader.current_url().await.unwrap().path().ends_with("/help/zh-Hans"));
    assert!(text_of(&reader, ".help-hero h1").await.contains("有什么可以帮您"));
    check_home(&reader, Lang::ZhHans).await;
    shot(&reader, "help-home-zh-Hans").await;
    let q = reader.find(Locator::Css(".help-search input[name=q]")).await.unwrap();
    q.send_keys("提幣沒到帳").await.unwrap();
    click(&reader, ".help-search button[type=submit]").await;
    reader.wait().for_element(Locator::Css(".results")).await.expect("results");
    let first = text_of(&reader, ".result a.result-title").await;
    assert!(first.contains("提币"), "the Simplified article comes first: {first}");
    assert!(reader.find(Locator::Css(".result .snippet mark")).await.is_ok(), "matches are highlighted");
    shot(&reader, "help-search-zh-Hans").await;
    click(&reader, "a.result-title[href='/help/zh-Hans/withdrawal-delayed']").await;
    reader.wait().for_element(Locator::Css("article.article h1")).await.unwrap();
    assert!(text_of(&reader, ".crumbs").await.contains("充值与提币"), "breadcrumbs");
    check_article(&reader, &app, "withdrawal-delayed", Lang::ZhHans).await;
    shows(&reader, ".feedback-ask", &t(Lang::ZhHans, "help.helpful_q")).await;
    shot(&reader, "help-article-zh-Hans").await;

    // "Was this helpful?" works without JavaScript: a form post, then thanks.
    click(&reader, ".feedback-ask button[value=yes]").await;
    let thanks = text_of(&reader, ".feedback-thanks").await;
    assert!(thanks.contains("感谢"), "{thanks}");

    // The language switch keeps the reader on the same article.
    reader.goto(&app.url("/help/zh-Hans/withdrawal-delayed")).await.unwrap();
    click(&reader, ".also-in a[hreflang=zh-Hant]").await;
    assert!(text_of(&reader, "article.article h1").await.contains("提幣"));
    check_article(&reader, &app, "withdrawal-delayed", Lang::ZhHant).await;
    shows(&reader, ".feedback-thanks", &t(Lang::ZhHant, "help.thanks")).await;
    shot(&reader, "help-article-zh-Hant").await;
    reader.goto(&app.url("/help/zh-Hant")).await.unwrap();
    check_home(&reader, Lang::ZhHant).await;
    shot(&reader, "help-home-zh-Hant").await;
    reader.goto(&app.url("/help/en")).await.unwrap();
    assert!(text_of(&reader, ".help-hero h1").await.contains("How can we help"));
    check_home(&reader, Lang::En).await;
    shot(&reader, "help-home-en").await;
    reader.goto(&app.url("/help/en/withdrawal-delayed")).await.unwrap();
    check_article(&reader, &app, "withdrawal-delayed", Lang::En).await;
    shows(&reader, ".feedback-thanks", &t(Lang::En, "help.thanks")).await;
    shot(&reader, "help-article-en").await;
    reader.goto(&app.url("/help/en/c/funds")).await.unwrap();
    let cats = app.store.kb_categories().await.unwrap();
    let funds = cats.iter().find(|c| c.slug == "funds").unwrap();
    shows(&reader, "h1.cat-title", &funds.name_en).await;
    let children: Vec<_> = cats.iter().filter(|c| c.parent.as_deref() == Some("funds")).collect();
    assert!(!children.is_empty(), "funds has subcategories");
    for child in children {
        shows(&reader, ".help-main", &child.name_en).await;
    }
    shot(&reader, "help-category-en").await;

    // A supervisor signs in; the reader's vote is on the analytics page.
    let agent = driver.session("zh-CN").await;
    agent.goto(&app.url("/console/login")).await.unwrap();
    agent.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("editor@x.dev").await.unwrap();
    agent.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    click(&agent, "form button[type=submit]").await;
    agent.wait().for_element(Locator::Css(".topnav a[href='/console/kb']")).await.expect("signed in");
    agent.goto(&app.url("/console/kb/analytics")).await.unwrap();
    let helpful = text_of(&agent, "#votes tr[data-slug=withdrawal-delayed] td.helpful").await;
    assert_eq!(helpful, "1");
    shows(&agent, "h1", &t(Lang::ZhHans, "kb.analytics")).await;
    shot(&agent, "kb-analytics-zh-Hans").await;

    // The supervisor edits the article; the public page and search show the change at once.
    agent.goto(&app.url("/console/kb?q=withdrawal-delayed")).await.unwrap();
    shows(&agent, "h1", &t(Lang::ZhHans, "kb.title")).await;
    let zh_title = app
        .store
        .kb_article_by_slug("withdrawal-delayed")
        .await
        .unwrap()
        .unwrap()
        .translation("zh-Hans")
        .unwrap()
        .title
        .clone();
    shows(&agent, "#kb-list", &zh_title).await;
    shot(&agent, "kb-list-zh-Hans").await;
    click(&agent, "#kb-list tbody tr a").await;
    agent.wait().for_element(Locator::Css("#kb-editor")).await.unwrap();
    let body = agent.find(Locator::Css("textarea[name='body_zh-Hans']")).await.unwrap();
    body.send_keys("\n\n## 网络拥堵时\n\n链上拥堵时，区块确认会变慢，请耐心等待蜂鸟确认完成。").await.unwrap();
    // The live preview is rendered by the server as the agent types.
    let mut previewed = false;
    for _ in 0..40 {
        if text_of(&agent, "#preview-zh-Hans").await.contains("蜂鸟确认") {
            previewed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    assert!(previewed, "live preview");
    agent.execute("document.getElementById('preview-zh-Hans').scrollIntoView({block: 'end'})", vec![]).await.unwrap();
    shows(&agent, "h1", &t(Lang::ZhHans, "kb.edit_title")).await;
    shows(&agent, "#kb-editor", &t(Lang::ZhHans, "kb.category")).await;
    shot(&agent, "kb-editor-zh-Hans").await;
    agent.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(&agent, "#save-btn").await;
    assert!(!text_of(&agent, ".notice-ok").await.is_empty(), "saved");
    reader.goto(&app.url("/help/zh-Hans/withdrawal-delayed")).await.unwrap();
    assert!(text_of(&reader, ".article-body").await.contains("蜂鸟确认"), "the public page shows the edit");
    reader.goto(&app.url("/help/zh-Hant/search?q=蜂鳥確認")).await.unwrap();
    reader.wait().for_element(Locator::Css(".results")).await.expect("results");
    let hit = reader.find(Locator::Css(".result a.result-title")).await.unwrap().attr("href").await.unwrap();
    assert_eq!(
        hit.as_deref(),
        Some("/help/zh-Hant/withdrawal-delayed"),
        "search finds the new words, typed in Traditional"
    );

    // The editor and its history in the other languages.
    let id = app.store.kb_article_by_slug("withdrawal-delayed").await.unwrap().unwrap().id;
    for l in [Lang::ZhHant, Lang::En] {
        agent.goto(&app.url(&format!("/lang/{}?back=/console/kb/a/{id}", l.as_str()))).await.unwrap();
        agent.wait().for_element(Locator::Css("#kb-editor")).await.unwrap();
        shows(&agent, "h1", &t(l, "kb.edit_title")).await;
        shows(&agent, "#kb-editor", &t(l, "kb.category")).await;
        // The saved edit is in the editor, whatever the console's language.
        let body =
            agent.find(Locator::Css("textarea[name='body_zh-Hans']")).await.unwrap().prop("value").await.unwrap();
        assert!(body.unwrap_or_default().contains("蜂鸟确认"), "the editor in {l:?} shows the saved body");
        shot(&agent, &format!("kb-editor-{}", l.as_str())).await;
    }
    agent.goto(&app.url(&format!("/console/kb/a/{id}/history"))).await.unwrap();
    assert!(text_of(&agent, ".versions").await.contains("v2"));
    shows(&agent, "h1", &t(Lang::En, "kb.history")).await;
    shot(&agent, "kb-history-en").await;
    app.cleanup().await;
}
