//! Records in real headless Chromium: the customer finds a past case in their support history, checks their
//! downloaded export on the help center's verification page (in the browser, against the desk's published
//! key) and sees a tampered copy named; an agent finds the customer by the first characters of a tx hash and
//! sees the history on the customer's page.

use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, identity_token, screenshot_dir, spawn_app_with};
use serde_json::json;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Chooses `file` in the verification page's file input and waits for the verdict: `(data-ok, data-kind,
/// data-seq, text)`.
async fn verify_in_browser(c: &Client, file: &std::path::Path) -> (String, String, String, String) {
    let input = c.find(Locator::Css("#records-file")).await.unwrap();
    input.send_keys(&file.display().to_string()).await.unwrap();
    for _ in 0..100 {
        let out = c.find(Locator::Css("#records-result")).await.unwrap();
        let ok = out.attr("data-ok").await.unwrap().unwrap_or_default();
        if !ok.is_empty() {
            let kind = out.attr("data-kind").await.unwrap().unwrap_or_default();
            let seq = out.attr("data-seq").await.unwrap().unwrap_or_default();
            return (ok, kind, seq, out.text().await.unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no verdict on the verification page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_verifies_an_export_and_agent_finds_the_customer_by_tx_hash() {
    let app = spawn_app_with(Backend::Sqlite, false).await;
    app.agent("zhou.li@x.dev", "A2048", Role::AgentL1, &["support"]).await;
    let token = identity_token("U9001", "zh-CN", 3600);
    let tx = "0x7c1e5b9d2a4f6e8c0b3d5f7a9e1c3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a4c6e";
    let r = app
        .http
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&json!({"subject": "USDT 提币未到账", "body": "提币 500 USDT 三小时未到账，交易哈希已附上。", "category": "withdrawal", "tx_hash": tx}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let case = r.json::<serde_json::Value>().await.unwrap()["case_number"].as_str().unwrap().to_string();
    let driver = ChromeDriver::start().await;

    // The customer's history.
    let customer = driver.session("zh-CN").await;
    customer.goto(&app.url(&format!("/portal/sso?token={token}"))).await.unwrap();
    customer.wait().for_element(Locator::Css("a[href='/portal/tickets/new']")).await.unwrap();
    customer.goto(&app.url("/portal/history")).await.unwrap();
    let list = customer.wait().for_element(Locator::Css("#history-list")).await.unwrap().text().await.unwrap();
    assert!(list.contains(&case) && list.contains("USDT 提币未到账"), "{list}");
    shot(&customer, "records-01-history").await;

    // The export, checked in the browser: untouched, then with one character changed.
    let text = app
        .http
        .get(app.url("/api/v1/records/export?format=json"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let good = app.dir.join("export.json");
    std::fs::write(&good, &text).unwrap();
    let bad = app.dir.join("tampered.json");
    std::fs::write(&bad, text.replacen("500 USDT", "50 USDT", 1)).unwrap();
    customer.goto(&app.url("/help/zh-Hans/verify")).await.unwrap();
    let (ok, _, _, verdict) = verify_in_browser(&customer, &good).await;
    assert_eq!(ok, "true", "{verdict}");
    shot(&customer, "records-02-verified").await;
    customer.refresh().await.unwrap();
    let (ok, kind, seq, verdict) = verify_in_browser(&customer, &bad).await;
    assert_eq!((ok.as_str(), kind.as_str(), seq.as_str()), ("false", "altered", "1"), "{verdict}");
    assert!(verdict.contains(&case), "the verdict names the case: {verdict}");
    shot(&customer, "records-03-tampered").await;

    // The agent finds the customer by the start of the tx hash.
    let agent = driver.session("zh-CN").await;
    agent.goto(&app.url("/console/login")).await.unwrap();
    agent.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("zhou.li@x.dev").await.unwrap();
    agent.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    agent.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    agent.wait().for_element(Locator::Css("a[href='/console/customers']")).await.unwrap().click().await.unwrap();
    let q = agent.wait().for_element(Locator::Css("#customer-search input[name=q]")).await.unwrap();
    q.send_keys(&tx[..14]).await.unwrap();
    agent.find(Locator::Css("#customer-search button[type=submit]")).await.unwrap().click().await.unwrap();
    let hits = agent.wait().for_element(Locator::Css("#customer-hits")).await.unwrap().text().await.unwrap();
    assert!(hits.contains("U9001") && hits.contains("交易哈希"), "{hits}");
    shot(&agent, "records-04-lookup").await;
    agent.find(Locator::Css("#customer-hits a[href^='/console/customers/']")).await.unwrap().click().await.unwrap();
    let history = agent.wait().for_element(Locator::Css("#customer-history")).await.unwrap().text().await.unwrap();
    assert!(history.contains(&case), "{history}");
    shot(&agent, "records-05-customer-page").await;

    customer.close().await.unwrap();
    agent.close().await.unwrap();
    app.cleanup().await;
}
