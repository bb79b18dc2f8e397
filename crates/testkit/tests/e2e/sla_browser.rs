//! Chat clocks in real headless Chromium (issue 13): two customers wait in the queue; the one whose two
//! minutes are nearly up shows an amber clock, goes red when they run out, and stands above the chat that
//! changed more recently. The clock is the chat policy's (first answer within 2 minutes of the handover).

use fantoccini::{Client, Locator};
use lifebuoy_app::Actor;
use lifebuoy_app::chat::service;
use lifebuoy_domain::{Lang, Role};
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, TestApp, screenshot_dir, spawn_app_with};
use std::time::Duration;

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

/// A customer asks the bot, then for a human; nobody is online, so the chat waits in the queue.
async fn queued_chat(app: &TestApp, external_id: &str, name: &str, body: &str) -> String {
    let customer = app.store.upsert_exchange_customer(external_id, None, Some(name), Some("zh-Hans")).await.unwrap();
    let a = service::customer_send(&app.app, &customer, None, Lang::ZhHans, Some("withdrawal"), "c-1", body, &[])
        .await
        .expect("the customer's message");
    let cid = a.conversation.id.clone();
    service::handover(&app.app, &Actor::Customer(customer), &cid, "customer").await.expect("handover");
    for _ in 0..100 {
        if let Some((_, ch)) = app.store.chat(&cid).await.unwrap()
            && ch.state == "queued"
        {
            return cid;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chat {cid} never reached the queue");
}

/// Moves a chat's handover back in time (straight in the database), as if the customer had waited longer.
async fn backdate_queue(app: &TestApp, cid: &str, ms: i64) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&app.db_url()).await.unwrap();
    sqlx::query("UPDATE chats SET queued_at = queued_at - $1 WHERE conversation_id = $2")
        .bind(ms)
        .bind(cid)
        .execute(&mut c)
        .await
        .unwrap();
}

/// The inbox's lines in page order: (conversation id, clock class, line class).
async fn inbox_lines(c: &Client) -> Vec<(String, String, String)> {
    let got = c
        .execute(
            "return Array.from(document.querySelectorAll('#inbox .cc-item')).map(li => { \
               const k = li.querySelector('.cc-clock'); \
               return [li.dataset.cid, k ? k.className : '', li.className]; });",
            vec![],
        )
        .await
        .expect("read the inbox");
    serde_json::from_value(got).expect("lines")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_past_its_clock_turns_red_and_leads_the_queue() {
    let app = spawn_app_with(Backend::Sqlite, false).await;
    app.agent("sla.agent@x.dev", "A3001", Role::AgentL1, &["support"]).await;
    // 王芳 asked first, 李雷 a moment later: by latest change 李雷 would come first.
    let first = queued_chat(&app, "U-SLA-1", "王芳", "提币三个小时还没到账").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = queued_chat(&app, "U-SLA-2", "李雷", "充值地址填错了怎么办").await;
    // 王芳 has waited 1 min 40 s of her 2 minutes: 20 s left, under the quarter that warns.
    backdate_queue(&app, &first, 100_000).await;

    let driver = ChromeDriver::start().await;
    let agent = driver.session("zh-CN").await;
    agent.goto(&app.url("/console/login")).await.unwrap();
    agent.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("sla.agent@x.dev").await.unwrap();
    agent.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    agent.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&agent, "#queue, .queue").await;
    agent.goto(&app.url("/console/chats")).await.unwrap();
    wait_css(&agent, "#conn.is-online").await;
    // The department's tab lists every chat; without clocks it would put the latest change first.
    wait_css(&agent, "#tab-dept").await.click().await.unwrap();
    wait_css(&agent, &format!("#inbox .cc-item[data-cid='{second}'] .cc-clock")).await;
    let lines = inbox_lines(&agent).await;
    let order: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(order, vec![first.as_str(), second.as_str()], "the nearer deadline first: {lines:?}");
    assert!(lines[0].1.contains("sla-warning"), "20 s left is a warning: {lines:?}");
    assert!(lines[1].1.contains("sla-ok"), "a fresh chat has its whole two minutes: {lines:?}");
    let text = agent
        .find(Locator::Css(&format!("#inbox .cc-item[data-cid='{first}'] .cc-clock")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("剩 0:"), "time left in words: {text:?}");

    // Her two minutes run out while the agent looks: the line turns red, still on top.
    wait_css(&agent, &format!("#inbox .cc-item.is-overdue[data-cid='{first}'] .cc-clock.sla-breached")).await;
    let lines = inbox_lines(&agent).await;
    assert_eq!(lines[0].0, first, "{lines:?}");
    assert!(lines[0].2.contains("is-overdue"), "{lines:?}");
    assert!(!lines[1].2.contains("is-overdue"), "the other chat still has time: {lines:?}");
    let text = agent
        .find(Locator::Css(&format!("#inbox .cc-item[data-cid='{first}'] .cc-clock")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("超时 0:"), "overdue in words: {text:?}");
    let png = agent.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join("sla-01-chat-overdue-zh-Hans.png"), png).unwrap();
    agent.close().await.unwrap();
    app.cleanup().await;
}
