//! The foundation's story in real headless Chromium: a customer files a ticket with a screenshot; an agent
//! signs in, finds it in the queue and replies; the customer sees the reply with the agent's 工号.

use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, identity_token, png_bytes, screenshot_dir, spawn_app_with};

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_files_agent_replies_customer_sees_agent_number() {
    // Demo mode: the starter knowledge base is indexed, so the form can suggest articles.
    let app = spawn_app_with(Backend::Sqlite, true).await;
    app.agent("li.na@x.dev", "A1024", Role::AgentL1, &["support"]).await;
    let driver = ChromeDriver::start().await;
    let shot_file = app.dir.join("withdrawal-screenshot.png");
    std::fs::write(&shot_file, png_bytes()).unwrap();

    // The customer arrives from the exchange, signed in by the identity token: the link's page posts it back
    // by itself (a GET signs nobody in).
    let customer = driver.session("zh-CN").await;
    customer.goto(&app.url(&format!("/portal/sso?token={}", identity_token("U777", "zh-CN", 3600)))).await.unwrap();
    customer.wait().for_element(Locator::Css("a[href='/portal/tickets/new']")).await.unwrap();
    assert!(text_of(&customer, "h1").await.contains("我的工单"));
    customer.find(Locator::Css("a[href='/portal/tickets/new']")).await.unwrap().click().await.unwrap();
    customer.wait().for_element(Locator::Css("#new-ticket")).await.unwrap();
    // The form says what the desk promises for the chosen category (the shipped policies: a day for account
    // questions, 30 minutes for withdrawals).
    customer.find(Locator::Css("select[name=category]")).await.unwrap().select_by_value("account").await.unwrap();
    assert_eq!(text_of(&customer, "#sla-promise").await, "我们会在 1 天内给您首次回复。");
    customer.find(Locator::Css("select[name=category]")).await.unwrap().select_by_value("withdrawal").await.unwrap();
    assert_eq!(text_of(&customer, "#sla-promise").await, "我们会在 30 分钟内给您首次回复。");
    customer
        .find(Locator::Css("input[name=subject]"))
        .await
        .unwrap()
        .send_keys("USDT 提币 3 小时未到账")
        .await
        .unwrap();
    customer
        .find(Locator::Css("textarea[name=body]"))
        .await
        .unwrap()
        .send_keys("TRC20 提币一直显示处理中，截图见附件。")
        .await
        .unwrap();
    // As the customer types, the form suggests the help-center article on withdrawals.
    let suggestion = text_of(&customer, "#suggest:not([hidden]) li a").await;
    assert!(suggestion.contains("提币"), "{suggestion}");
    shot(&customer, "01-customer-sees-suggestion").await;
    customer.find(Locator::Css("input[name=tx_hash]")).await.unwrap().send_keys("0xfeedbeef").await.unwrap();
    customer
        .find(Locator::Css("input[name=files]"))
        .await
        .unwrap()
        .send_keys(&shot_file.display().to_string())
        .await
        .unwrap();
    shot(&customer, "01b-customer-new-ticket").await;
    customer.find(Locator::Css("#new-ticket button[type=submit]")).await.unwrap().click().await.unwrap();
    let case = text_of(&customer, ".ticket-head .case").await;
    let case = case.split_whitespace().last().unwrap().to_string();
    assert!(case.starts_with("LB-"), "{case}");
    assert!(customer.find(Locator::Css(".msg img.thumb")).await.is_ok(), "the screenshot is shown in the thread");
    shot(&customer, "02-customer-ticket-filed").await;

    // The agent signs in, finds the case in the queue, opens it and replies.
    let agent = driver.session("zh-CN").await;
    agent.goto(&app.url("/console/login")).await.unwrap();
    agent.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("li.na@x.dev").await.unwrap();
    agent.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    agent.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    agent.wait().for_element(Locator::Css("#queue")).await.unwrap();
    shot(&agent, "03-agent-queue").await;
    agent.find(Locator::LinkText(&case)).await.expect("the new case is in the queue").click().await.unwrap();
    agent.wait().for_element(Locator::Css("#reply-body")).await.unwrap();
    assert!(agent.find(Locator::Css(".msg img.thumb")).await.is_ok(), "the agent sees the screenshot");
    agent
        .find(Locator::Css("#reply-body"))
        .await
        .unwrap()
        .send_keys("您好，已为您查询：该笔提币已上链，请在钱包中刷新。")
        .await
        .unwrap();
    agent.find(Locator::Css("#send-btn")).await.unwrap().click().await.unwrap();
    agent.wait().for_element(Locator::Css(".msg.mine .agent-no")).await.unwrap();
    shot(&agent, "04-agent-replied").await;

    // The customer reloads and sees the reply, signed with the agent's number.
    customer.refresh().await.unwrap();
    let reply = text_of(&customer, ".msg.theirs .msg-body").await;
    assert!(reply.contains("该笔提币已上链"), "{reply}");
    let badge = text_of(&customer, ".msg.theirs .agent-no").await;
    assert_eq!(badge, "工号 A1024");
    let status = text_of(&customer, ".ticket-head .pill").await;
    assert_eq!(status, "处理中", "the agent's reply opened the case");
    shot(&customer, "05-customer-sees-reply").await;

    customer.close().await.unwrap();
    agent.close().await.unwrap();
    app.cleanup().await;
}
