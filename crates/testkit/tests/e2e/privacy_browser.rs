//! Retention and privacy in real headless Chromium, through the forms (with their CSRF tokens): a customer asks
//! in the portal for a correction of their name; a supervisor sees it among the open requests and carries it out;
//! on the case page the supervisor places and releases a legal hold, deletes the case, and restores it from the
//! list of deleted conversations; the retention page shows each channel's policy.

use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, ChromeDriver, PASSWORD, identity_token, screenshot_dir, spawn_app_with};
use serde_json::json;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn click(c: &Client, css: &str) {
    c.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_and_customers_use_the_privacy_pages() {
    let app = spawn_app_with(Backend::Sqlite, true).await;
    let driver = ChromeDriver::start().await;
    app.agent("pb.sup@x.dev", "S801", Role::Supervisor, &["support"]).await;
    let token = identity_token("pb-ming", "zh-CN", 3600);
    let t: serde_json::Value = app
        .http
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&json!({"subject": "充值未到账", "body": "USDT 充值两小时未到账", "category": "deposit"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = t["id"].as_str().unwrap().to_string();

    // The customer asks for a correction of their name.
    let customer = driver.session("zh-CN").await;
    customer.goto(&app.url(&format!("/portal/sso?token={token}"))).await.unwrap();
    customer.goto(&app.url("/portal/privacy")).await.unwrap();
    let form = customer.wait().for_element(Locator::Css("#ask-correction form")).await.unwrap();
    form.find(Locator::Css("select[name=field]")).await.unwrap().select_by_value("name").await.unwrap();
    form.find(Locator::Css("input[name=value]")).await.unwrap().send_keys("王明").await.unwrap();
    form.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    assert!(text(&customer, "#request-filed").await.contains("更正个人资料"));
    let mine = text(&customer, "#my-requests").await;
    assert!(mine.contains("更正个人资料") && mine.contains("处理中"), "{mine}");
    shot(&customer, "privacy-01-portal").await;

    // The supervisor carries it out from the open requests.
    let sup = driver.session("zh-CN").await;
    sup.goto(&app.url("/console/login")).await.unwrap();
    sup.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("pb.sup@x.dev").await.unwrap();
    sup.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    sup.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    click(&sup, "a[href='/console/data-requests']").await;
    assert!(text(&sup, "#open-requests").await.contains("王明"));
    shot(&sup, "privacy-02-requests").await;
    click(&sup, "#open-requests form[action$='/complete'] button").await;
    sup.wait().for_element(Locator::Css("#requests-empty")).await.unwrap();
    let k = app.store.conversation(&id).await.unwrap().unwrap().customer_id;
    assert_eq!(app.store.customer(&k).await.unwrap().unwrap().name.as_deref(), Some("王明"));

    // On the case page: a hold, released; the case deleted, then restored from the deleted list.
    sup.goto(&app.url(&format!("/console/tickets/{id}"))).await.unwrap();
    let reason = sup.wait().for_element(Locator::Css("#hold-form input[name=reason]")).await.unwrap();
    reason.send_keys("仲裁进行中").await.unwrap();
    click(&sup, "#hold-form button[type=submit]").await;
    assert!(text(&sup, "#hold-list").await.contains("仲裁进行中"));
    shot(&sup, "privacy-03-hold").await;
    click(&sup, "#hold-list form button").await;
    sup.wait().for_element(Locator::Css("#no-holds")).await.unwrap();
    click(&sup, "#delete-case").await;
    assert!(text(&sup, "#case-deleted").await.contains("恢复"));
    shot(&sup, "privacy-04-deleted").await;
    sup.goto(&app.url("/console/deleted")).await.unwrap();
    shot(&sup, "privacy-05-deleted-list").await;
    click(&sup, "#deleted-list form button").await;
    sup.wait().for_element(Locator::Css("#deleted-empty")).await.unwrap();
    assert_eq!(app.store.deletion_state(&id).await.unwrap().deleted_at, None, "restored");

    // The retention page lists every channel.
    click(&sup, "a[href='/console/retention']").await;
    let policies = text(&sup, "#retention-policies").await;
    assert!(policies.contains("在线咨询") && policies.contains("永久保留"), "{policies}");
    shot(&sup, "privacy-06-retention").await;
    customer.close().await.unwrap();
    sup.close().await.unwrap();
    app.cleanup().await;
}
