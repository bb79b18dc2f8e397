//! The help center in real headless Chromium: a reader searches in Traditional Chinese and finds the Simplified
//! article, votes it helpful; the vote shows on the agents' analytics page; a supervisor edits the article and
//! the public page and search show the change at once. Screenshots of the help home, an article and the editor
//! in each language go to `target/screenshots/help-*.png`.

use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, screenshot_dir, spawn_app_with};

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
    shot(&reader, "help-article-zh-Hans").await;

    // "Was this helpful?" works without JavaScript: a form post, then thanks.
    click(&reader, ".feedback-ask button[value=yes]").await;
    let thanks = text_of(&reader, ".feedback-thanks").await;
    assert!(thanks.contains("感谢"), "{thanks}");

    // The language switch keeps the reader on the same article.
    reader.goto(&app.url("/help/zh-Hans/withdrawal-delayed")).await.unwrap();
    click(&reader, ".also-in a[hreflang=zh-Hant]").await;
    assert!(text_of(&reader, "article.article h1").await.contains("提幣"));
    shot(&reader, "help-article-zh-Hant").await;
    reader.goto(&app.url("/help/zh-Hant")).await.unwrap();
    shot(&reader, "help-home-zh-Hant").await;
    reader.goto(&app.url("/help/en")).await.unwrap();
    assert!(text_of(&reader, ".help-hero h1").await.contains("How can we help"));
    shot(&reader, "help-home-en").await;
    reader.goto(&app.url("/help/en/withdrawal-delayed")).await.unwrap();
    shot(&reader, "help-article-en").await;
    reader.goto(&app.url("/help/en/c/funds")).await.unwrap();
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
    shot(&agent, "kb-analytics-zh-Hans").await;

    // The supervisor edits the article; the public page and search show the change at once.
    agent.goto(&app.url("/console/kb?q=withdrawal-delayed")).await.unwrap();
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
    for l in ["zh-Hant", "en"] {
        agent.goto(&app.url(&format!("/lang/{l}?back=/console/kb/a/{id}"))).await.unwrap();
        agent.wait().for_element(Locator::Css("#kb-editor")).await.unwrap();
        shot(&agent, &format!("kb-editor-{l}")).await;
    }
    agent.goto(&app.url(&format!("/console/kb/a/{id}/history"))).await.unwrap();
    assert!(text_of(&agent, ".versions").await.contains("v2"));
    shot(&agent, "kb-history-en").await;
    app.cleanup().await;
}
