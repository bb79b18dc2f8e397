//! The agents' ticket search over HTTP, on both backends: the queue's `q` goes through the ticket index (the
//! knowledge base's analyser: folding, jieba, synonyms, stemming, typos), and SQL still decides who sees what.

use crate::tickets::post;
use lifebuoy_domain::Role;
use lifebuoy_testkit::{TestApp, on_both_backends};
use serde_json::{Value, json};

/// The ids a signed-in agent's queue search returns (every status), with the page's next cursor.
async fn page(
    app: &TestApp,
    agent: &reqwest::Client,
    q: &str,
    extra: &[(&str, &str)],
) -> (Vec<String>, Option<String>) {
    let mut query = vec![("q", q), ("status", "all")];
    query.extend_from_slice(extra);
    let r = agent.get(app.url("/api/v1/tickets")).query(&query).send().await.expect("search");
    assert_eq!(r.status(), 200, "search {q:?}");
    let v: Value = r.json().await.expect("json");
    let ids = v["items"].as_array().expect("items").iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    (ids, v["next_cursor"].as_str().map(str::to_string))
}

async fn search(app: &TestApp, agent: &reqwest::Client, q: &str) -> Vec<String> {
    page(app, agent, q, &[]).await.0
}

async fn ticket(app: &TestApp, who: &str, subject: &str, body: &str, department: Option<&str>) -> (String, String) {
    let t = json!({"subject": subject, "body": body, "category": "withdrawal"});
    let (s, v) = post(app, "/api/v1/tickets", who, t).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    // The department is the support team's to choose: the exchange's backend moves the case there.
    if let Some(d) = department {
        let token = app.integration_token().await;
        let (s, v) =
            post(app, &format!("/api/v1/tickets/{id}/transfer"), &token, json!({"department": d, "reason": "routing"}))
                .await;
        assert_eq!(s, 200, "{v}");
    }
    (id, v["case_number"].as_str().unwrap().to_string())
}

async fn queue_search_uses_the_analyser_and_the_permissions(app: &TestApp) {
    let alice = app.customer_token("u-search");
    let token = app.integration_token().await;
    app.agent("sp@search.dev", "P1", Role::AgentL1, &["support"]).await;
    app.agent("fin@search.dev", "F1", Role::AgentL1, &["finance"]).await;
    let sp = app.agent_client("sp@search.dev").await;
    let fin = app.agent_client("fin@search.dev").await;

    let (a, case_a) = ticket(app, &alice, "提币三小时未到账", "USDT TRC20 pending", None).await;
    let (b, _) = ticket(app, &alice, "Withdrawal delayed", "my withdrawal of 500 USDT", None).await;
    let (c, case_c) = ticket(app, &alice, "我要提现", "请尽快处理", Some("finance")).await;
    let (d, _) = ticket(app, &alice, "Account question", "hello", None).await;
    let (s, _) = post(
        app,
        &format!("/api/v1/tickets/{d}/messages"),
        &token,
        json!({"body": "Please send a screenshot of the block explorer"}),
    )
    .await;
    assert_eq!(s, 201);

    // Traditional finds Simplified (and 提币's synonyms: withdrawal); a typo finds the word and its synonyms; a word of a reply
    // (not of the subject) finds its case.
    assert_eq!(search(app, &sp, "提幣").await, vec![b.clone(), a.clone()]);
    assert_eq!(search(app, &sp, "三小時 提幣").await, vec![a.clone()]);
    assert_eq!(search(app, &sp, "withdrawl").await, vec![b.clone(), a.clone()], "a typo reaches the synonyms too");
    // One Chinese character finds the words that hold it.
    assert_eq!(search(app, &sp, "幣").await, vec![a.clone()]);
    assert_eq!(search(app, &sp, "screenshots").await, vec![d.clone()]);
    // 出金 is a synonym of 提币, 提现 and withdrawal; the support agent never gets finance's 提现 case, the
    // finance agent does.
    assert_eq!(search(app, &sp, "出金").await, vec![b.clone(), a.clone()]);
    assert_eq!(search(app, &fin, "出金").await, vec![c.clone()]);
    assert_eq!(search(app, &sp, "提现").await, vec![b.clone(), a.clone()]);
    assert!(search(app, &sp, &case_c).await.is_empty(), "not even by its case number");
    assert_eq!(search(app, &sp, &case_a).await, vec![a.clone()], "exact case numbers still match");

    // A new message is found as soon as it is posted; an internal note by agents only.
    let (s, _) =
        post(app, &format!("/api/v1/tickets/{a}/messages"), &alice, json!({"body": "I sent it over Arbitrum"})).await;
    assert_eq!(s, 201);
    assert_eq!(search(app, &sp, "arbitrum").await, vec![a.clone()]);
    let (s, _) = post(
        app,
        &format!("/api/v1/tickets/{b}/messages"),
        &token,
        json!({"body": "VIP customer, check the hot wallet", "internal": true}),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(search(app, &sp, "hot wallet").await, vec![b.clone()]);
    let r = app.http.get(app.url("/api/v1/tickets")).query(&[("q", "hot wallet")]).bearer_auth(&alice).send().await;
    let mine: Value = r.unwrap().json().await.unwrap();
    assert_eq!(mine["items"], json!([]), "customers do not search internal notes");
    let r = app.http.get(app.url("/api/v1/tickets")).query(&[("q", "arbitrum")]).bearer_auth(&alice).send().await;
    let mine: Value = r.unwrap().json().await.unwrap();
    assert_eq!(mine["items"][0]["id"], a.as_str(), "but their own messages");

    // A transfer moves the case out of the agent's search at once.
    let (s, _) = post(
        app,
        &format!("/api/v1/tickets/{b}/transfer"),
        &token,
        json!({"department": "finance", "reason": "refund"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(search(app, &sp, "出金").await, vec![a.clone()]);
    assert_eq!(search(app, &fin, "出金").await, vec![b.clone(), c.clone()]);

    // Pages: the queue's own order and cursor, every match once; other filters still apply.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut extra = vec![("limit", "1"), ("sort", "oldest")];
        if let Some(c) = &cursor {
            extra.push(("cursor", c.as_str()));
        }
        let (ids, next) = page(app, &fin, "出金", &extra).await;
        seen.extend(ids);
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, vec![b.clone(), c.clone()], "oldest first, one per page");
    assert_eq!(page(app, &fin, "出金", &[("department", "support")]).await.0, Vec::<String>::new());

    // The console's queue searches the same way.
    let html = sp.get(app.url("/console")).query(&[("q", "提幣"), ("status", "all")]).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert!(html.contains(&case_a), "the console finds the case");
    assert!(!html.contains(&case_c), "and not finance's");
}
on_both_backends!(
    queue_search_uses_the_analyser_and_the_permissions_on,
    queue_search_uses_the_analyser_and_the_permissions
);

/// While the index is behind, the queue says so instead of quietly missing tickets: in Chromium, the agent
/// searches while the indexer is held (two new tickets not taken in yet) and reads "about 2 changes" above the
/// results; once the indexer runs again, the notice is gone and the tickets are found. The API says the same
/// in `search`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_says_when_search_is_catching_up_in_chromium() {
    use fantoccini::Locator;
    let app = lifebuoy_testkit::spawn_app_with(lifebuoy_testkit::Backend::Sqlite, false).await;
    app.agent("wang@search.dev", "A2048", Role::AgentL1, &["support"]).await;
    let agent_api = app.agent_client("wang@search.dev").await;
    let alice = app.customer_token("u-catching-up");
    let held = app.app.tickets.hold_indexing().await;
    let (a, _) = ticket(&app, &alice, "狗狗币提币卡住 dogewhale", "DOGE pending", None).await;
    let (b, _) = ticket(&app, &alice, "dogewhale 充值没到", "DOGE deposit", None).await;
    let r = agent_api.get(app.url("/api/v1/tickets")).query(&[("q", "dogewhale")]).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["search"], json!({"state": "catching_up", "behind": 2}), "{v}");

    let driver = lifebuoy_testkit::ChromeDriver::start().await;
    let c = driver.session("zh-CN").await;
    c.goto(&app.url("/console/login")).await.unwrap();
    c.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("wang@search.dev").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(lifebuoy_testkit::PASSWORD).await.unwrap();
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(".queue h1")).await.unwrap();
    c.goto(&app.url("/console?q=dogewhale&status=all")).await.unwrap();
    let notice = c.wait().for_element(Locator::Css("#search-state")).await.unwrap().text().await.unwrap();
    assert!(notice.contains("还有约 2 条变更"), "{notice}");
    let png = c.screenshot().await.unwrap();
    std::fs::write(lifebuoy_testkit::screenshot_dir().join("search-catching-up-zh-Hans.png"), png).unwrap();

    drop(held);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        c.refresh().await.unwrap();
        c.wait().for_element(Locator::Css(".queue h1")).await.unwrap();
        let notice = c.find(Locator::Css("#search-state")).await.is_ok();
        let rows = c.find_all(Locator::Css("#queue tbody tr")).await.unwrap().len();
        if !notice && rows == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "notice {notice}, {rows} rows after the indexer ran again");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = agent_api.get(app.url("/api/v1/tickets")).query(&[("q", "dogewhale")]).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["search"], json!({"state": "ready"}));
    let mut ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(ids, want);
    c.close().await.unwrap();
    app.cleanup().await;
}
