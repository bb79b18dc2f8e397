//! A C2C appeal in real headless Chromium, three browsers at once (issue 14): the exchange registers an order and
//! reports it paid; the buyer (portal, Simplified Chinese) writes in the order chat and appeals from the order
//! page; the arbiter (console) finds it in the queue, takes it, asks the seller for evidence; the seller (portal,
//! Traditional Chinese) sees the request, answers with a screenshot; the arbiter sees both sides side by side,
//! writes an internal note, is told why an empty rationale is refused, and decides; both parties read the
//! decision on their order page, and neither ever sees the note.

use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{ChromeDriver, PASSWORD, TestApp, identity_token, on_both_backends, png_bytes, screenshot_dir};
use serde_json::json;
use std::time::Duration;

const ORDER: &str = "C2C-88001";
const NOTE: &str = "内部：核对付款人姓名与实名一致";

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("waiting for {sel}: {e}"))
}

async fn body(c: &Client) -> String {
    c.find(Locator::Css("body")).await.unwrap().text().await.unwrap_or_default()
}

/// Waits until an element matching `sel` holds `text`; returns its text.
async fn wait_text(c: &Client, sel: &str, text: &str) -> String {
    for _ in 0..200 {
        if let Ok(els) = c.find_all(Locator::Css(sel)).await {
            for e in els {
                if let Ok(t) = e.text().await
                    && t.contains(text)
                {
                    return t;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(c, "appeals-failed").await;
    panic!("no {sel} with {text:?}; the page shows:\n{}", body(c).await);
}

async fn portal(driver: &ChromeDriver, app: &TestApp, uid: &str, lang: &str) -> Client {
    let c = driver.session(lang).await;
    c.goto(&app.url(&format!("/portal/sso?token={}", identity_token(uid, lang, 3600)))).await.unwrap();
    css(&c, "a[href='/portal/tickets/new']").await;
    c
}

async fn submit(c: &Client, form: &str) {
    css(c, &format!("{form} [type=submit]")).await.click().await.unwrap();
}

async fn appeal_story(app: &TestApp) {
    let arbiter = app.agent("arbiter.browser@x.dev", "R7001", Role::AgentL1, &["risk"]).await;
    app.store.set_agent_permission(&arbiter, "arbiter", true).await.unwrap();
    let token = app.integration_token().await;
    let r = app
        .http
        .post(app.url("/api/v1/c2c/orders"))
        .bearer_auth(&token)
        .json(&json!({"id": ORDER, "buyer": "U-BUY-1", "seller": "U-SELL-1", "asset": "USDT", "amount": "1500",
                      "fiat_amount": "10860.00", "fiat_currency": "CNY", "payment_method": "银行卡 · 招商银行"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .http
        .post(app.url(&format!("/api/v1/c2c/orders/{ORDER}/events")))
        .bearer_auth(&token)
        .json(&json!({"event": "paid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let driver = ChromeDriver::start().await;
    // Signed in before the order's conversation exists: the seller's customer row is made at sign-in.
    let buyer = portal(&driver, app, "U-BUY-1", "zh-CN").await;
    let seller = portal(&driver, app, "U-SELL-1", "zh-TW").await;

    // The buyer: the order on the portal's home, its page, a message, an appeal.
    buyer.refresh().await.unwrap();
    css(&buyer, &format!("#my-orders a[href='/portal/orders/{ORDER}']")).await.click().await.unwrap();
    assert!(css(&buyer, "#order-card").await.text().await.unwrap().contains("10860.00 CNY"));
    assert!(css(&buyer, "#role-line").await.text().await.unwrap().contains("买家"));
    let receipt = app.dir.join("receipt.png");
    std::fs::write(&receipt, png_bytes()).unwrap();
    css(&buyer, "#order-message textarea[name=body]")
        .await
        .send_keys("我已通过招商银行转账 10860 元，请尽快放币。")
        .await
        .unwrap();
    css(&buyer, "#order-message input[type=file]").await.send_keys(&receipt.display().to_string()).await.unwrap();
    submit(&buyer, "#order-message").await;
    wait_text(&buyer, ".msg.mine .msg-body", "请尽快放币").await;
    css(&buyer, ".msg.mine img.thumb").await;
    assert!(css(&buyer, "#standing-warning").await.text().await.unwrap().contains("官方沟通记录"));
    css(&buyer, "#appeal-details summary").await.click().await.unwrap();
    css(&buyer, "#appeal-form select[name=reason]").await.select_by_value("paid_not_released").await.unwrap();
    css(&buyer, "#appeal-form textarea[name=body]")
        .await
        .send_keys("14:02 已付款，卖家 30 分钟未放币，也不回复消息。")
        .await
        .unwrap();
    submit(&buyer, "#appeal-form").await;
    wait_text(&buyer, "#appeal-status", "已提交").await;
    assert!(css(&buyer, "#withdraw-btn").await.is_displayed().await.unwrap(), "the opener may withdraw");

    // The arbiter: the queue, the appeal, take it, ask the seller for evidence.
    let arb = driver.session("zh-CN").await;
    arb.goto(&app.url("/console/login")).await.unwrap();
    css(&arb, "input[name=email]").await.send_keys("arbiter.browser@x.dev").await.unwrap();
    css(&arb, "input[name=password]").await.send_keys(PASSWORD).await.unwrap();
    css(&arb, "form button[type=submit]").await.click().await.unwrap();
    css(&arb, "#nav-appeals").await.click().await.unwrap();
    let row = wait_text(&arb, "#appeal-queue tbody tr", ORDER).await;
    assert!(row.contains("已付款，对方未放币") && row.contains("1500 USDT") && row.contains("买家"), "{row}");
    assert!(row.contains("0:5"), "an hour to answer, as a clock: {row}");
    shot(&arb, "appeals-01-queue-zh-Hans").await;
    css(&arb, "#appeal-queue tbody tr .case a").await.click().await.unwrap();
    submit(&arb, "#take-form").await;
    wait_text(&arb, "#appeal-status", "仲裁审核中").await;
    css(&arb, "#evidence-form textarea[name=note]")
        .await
        .send_keys("请上传收款账户当日的银行流水截图。")
        .await
        .unwrap();
    submit(&arb, "#evidence-form").await;
    wait_text(&arb, "#appeal-status", "等待补充凭证").await;

    // The seller: the request, the buyer's message as the buyer's, an answer with a screenshot.
    seller.goto(&app.url(&format!("/portal/orders/{ORDER}"))).await.unwrap();
    let warning = css(&seller, "#standing-warning").await.text().await.unwrap();
    assert!(warning.contains("官方溝通紀錄"), "the standing warning in the seller's language: {warning}");
    let ask = css(&seller, "#evidence-ask").await.text().await.unwrap();
    assert!(ask.contains("仲裁員請您"), "{ask}");
    let theirs = wait_text(&seller, ".msg.side-other", "请尽快放币").await;
    assert!(theirs.contains("買家"), "the buyer's message, labelled from the seller's side: {theirs}");
    // The buyer's payment proof opens for the seller, though the order's conversation is the buyer's.
    let proof_ok = seller
        .execute(
            "const i = document.querySelector('.msg.side-other img.thumb'); return !!i && i.complete && i.naturalWidth > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(proof_ok, json!(true), "the seller sees the buyer's proof");
    let official = wait_text(&seller, ".msg.side-official", "银行流水").await;
    assert!(official.contains("官方仲裁") && official.contains("R7001"), "{official}");
    let file = app.dir.join("statement.png");
    std::fs::write(&file, png_bytes()).unwrap();
    css(&seller, "#order-message textarea[name=body]")
        .await
        .send_keys("未收到款項，附上當日銀行流水截圖。")
        .await
        .unwrap();
    css(&seller, "#order-message input[type=file]").await.send_keys(&file.display().to_string()).await.unwrap();
    submit(&seller, "#order-message").await;
    css(&seller, ".msg.mine img.thumb").await;
    wait_text(&seller, "#appeal-status", "仲裁審核中").await;

    // The arbiter: both sides side by side, a note, a refusal explained, the decision.
    arb.refresh().await.unwrap();
    wait_text(&arb, "#appeal-status", "仲裁审核中").await;
    wait_text(&arb, "#lanes .lane-buyer", "请尽快放币").await;
    wait_text(&arb, "#lanes .lane-seller", "銀行流水").await;
    css(&arb, "#lanes .lane-seller img.thumb").await;
    css(&arb, "#note-form textarea[name=body]").await.send_keys(NOTE).await.unwrap();
    submit(&arb, "#note-form").await;
    wait_text(&arb, "#lanes .msg.note", NOTE).await;
    css(&arb, "#decide-form input[value=release_to_buyer]").await.click().await.unwrap();
    css(&arb, "#decide-form textarea[name=rationale]").await.send_keys("   ").await.unwrap();
    submit(&arb, "#decide-form").await;
    let refused = css(&arb, "#refused").await.text().await.unwrap();
    assert!(refused.contains("请检查填写的内容"), "the use case's refusal, in the page: {refused}");
    css(&arb, "#decide-form input[value=release_to_buyer]").await.click().await.unwrap();
    css(&arb, "#decide-form textarea[name=rationale]")
        .await
        .send_keys("买家提供了付款时间与金额；卖家流水截图显示当日有一笔 10860.00 元入账，付款人与买家实名一致。")
        .await
        .unwrap();
    submit(&arb, "#decide-form").await;
    wait_text(&arb, "#appeal-status", "已裁决").await;
    assert!(css(&arb, "#appeal-decision").await.text().await.unwrap().contains("放币给买家"));
    wait_text(&arb, "#lanes .decision-event", "放币给买家").await;
    arb.execute("document.getElementById('lanes').scrollIntoView()", vec![]).await.unwrap();
    shot(&arb, "appeals-02-console-appeal-zh-Hans").await;
    arb.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    shot(&arb, "appeals-03-console-appeal-top-zh-Hans").await;

    // Both parties read the decision; the seller's screenshot opens for the buyer; the note stays inside.
    buyer.refresh().await.unwrap();
    let d = css(&buyer, "#decision").await.text().await.unwrap();
    assert!(d.contains("放币给买家") && d.contains("实名一致"), "{d}");
    let img_ok = buyer
        .execute(
            "const i = document.querySelector('.msg.side-other img.thumb'); return !!i && i.complete && i.naturalWidth > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(img_ok, json!(true), "the buyer sees the seller's proof");
    assert!(!body(&buyer).await.contains("核对付款人"), "the internal note never reaches a party");
    buyer.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    shot(&buyer, "appeals-04-portal-order-buyer-zh-Hans").await;
    seller.refresh().await.unwrap();
    let d = css(&seller, "#decision").await.text().await.unwrap();
    assert!(d.contains("放幣給買家"), "{d}");
    assert!(!body(&seller).await.contains("核对付款人"));
    seller.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    shot(&seller, "appeals-05-portal-order-seller-zh-Hant").await;

    // Nobody else: another customer's browser is told the order does not exist.
    let other = portal(&driver, app, "U-OTHER-1", "zh-CN").await;
    other.goto(&app.url(&format!("/portal/orders/{ORDER}"))).await.unwrap();
    assert!(body(&other).await.contains("页面不存在"), "{}", body(&other).await);
    for c in [buyer, seller, arb, other] {
        c.close().await.unwrap();
    }
}
on_both_backends!(appeal_story_on, appeal_story);

/// The order in the chat window (`Lifebuoy.openOrder`) and the accounts beside the appeal: on the demo exchange's
/// page the buyer (Simplified Chinese) opens the support window on the order from the exchange's order list,
/// writes and appeals there; the seller (Traditional Chinese) does the same from theirs and answers; a supervisor
/// opens the appeal in the console and sees both parties' exchange accounts, read from the exchange's signed
/// customer-context endpoint (the demo's), with what the exchange pushed; an admin sees the integration page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_in_the_widget_and_accounts_beside_the_appeal() {
    const ORDER_W: &str = "C2C-77001";
    let app = lifebuoy_testkit::spawn_app_with(lifebuoy_testkit::Backend::Sqlite, true).await;
    let token = app.integration_token().await;
    let api = |m: reqwest::Method, path: &str, body: serde_json::Value| {
        app.http.request(m, app.url(path)).bearer_auth(&token).json(&body).send()
    };
    let r = api(
        reqwest::Method::POST,
        "/api/v1/c2c/orders",
        json!({"id": ORDER_W, "buyer": "U10001", "seller": "U10002", "asset": "USDT", "amount": "500",
               "fiat_amount": "3600.00", "fiat_currency": "CNY", "payment_method": "bank_transfer"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let r = api(reqwest::Method::POST, &format!("/api/v1/c2c/orders/{ORDER_W}/events"), json!({"event": "paid"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let source = json!({"url": app.url("/demo/exchange/customer-context"),
                        "secret": lifebuoy_web::pages::DEMO_CONTEXT_SECRET, "cache_s": 0});
    let r = api(reqwest::Method::PUT, "/api/v1/customer-context", source).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = api(
        reqwest::Method::PUT,
        "/api/v1/exchange-users/U10002/profile",
        json!({"vip_tier": "VIP2", "flags": ["c2c_merchant"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);

    // An incident notice: the window's notice bar and the help center carry it, in each reader's language.
    let notice = json!({
        "title": {"zh-Hans": "BTC 提币延迟", "zh-Hant": "BTC 提幣延遲", "en": "BTC withdrawals delayed"},
        "body": {"zh-Hans": "比特币网络拥堵，提币约延迟两小时。", "zh-Hant": "比特幣網路壅塞，提幣約延遲兩小時。",
                 "en": "The Bitcoin network is congested: about two hours."},
        "ends_at": chrono::Utc::now().timestamp_millis() + 3_600_000i64, "topics": ["withdrawal"], "severity": "incident"
    });
    let r = api(reqwest::Method::POST, "/api/v1/announcements", notice).await.unwrap();
    assert_eq!(r.status(), 201);

    let driver = ChromeDriver::start().await;
    let order_window = |c: &Client, who: &'static str| {
        let c = c.clone();
        let url = app.url(&format!("/demo/exchange?as={who}"));
        async move {
            c.goto(&url).await.unwrap();
            css(&c, &format!("#dx-orders [data-lifebuoy-order='{ORDER_W}']")).await.click().await.unwrap();
            css(&c, "#lifebuoy-chat iframe").await.enter_frame().await.unwrap();
            css(&c, "#view-order:not([hidden]) #order-input").await;
        }
    };

    // The buyer: the order in the window, the warning in their language, a message, an appeal.
    let buyer = driver.session("zh-CN").await;
    order_window(&buyer, "U10001").await;
    wait_text(&buyer, "#order-card", "3600.00 CNY").await;
    wait_text(&buyer, "#order-card", "您是本订单的买家").await;
    wait_text(&buyer, "#order-warning", "官方沟通记录").await;
    wait_text(&buyer, "#notices .lbw-notice-title", "BTC 提币延迟").await;
    let input = css(&buyer, "#order-input").await;
    input.send_keys("我已经转账 3600 元，请尽快放币。").await.unwrap();
    input.send_keys(&String::from(char::from(fantoccini::key::Key::Enter))).await.unwrap();
    wait_text(&buyer, "#order-thread .lbw-msg.mine .lbw-body", "请尽快放币").await;
    css(&buyer, "#order-appeal-open").await.click().await.unwrap();
    css(&buyer, "#order-appeal-form select[name=reason]").await.select_by_value("paid_not_released").await.unwrap();
    css(&buyer, "#order-appeal-form textarea[name=body]")
        .await
        .send_keys("14:02 已付款，卖家 30 分钟未放币。")
        .await
        .unwrap();
    css(&buyer, "#order-appeal-submit").await.click().await.unwrap();
    wait_text(&buyer, "#order-appeal-status", "已提交").await;
    css(&buyer, "#order-withdraw").await;
    shot(&buyer, "appeals-06-widget-order-buyer-zh-Hans").await;

    // The seller: the buyer's message labelled as the buyer's, the appeal by the other side, an answer.
    let seller = driver.session("zh-TW").await;
    order_window(&seller, "U10002").await;
    wait_text(&seller, "#order-card", "您是本訂單的賣家").await;
    wait_text(&seller, "#order-warning", "官方溝通紀錄").await;
    wait_text(&seller, "#notices .lbw-notice-title", "BTC 提幣延遲").await;
    let theirs = wait_text(&seller, "#order-thread .lbw-msg.side-other", "请尽快放币").await;
    assert!(theirs.contains("買家"), "{theirs}");
    wait_text(&seller, "#order-appeal", "買家提出的申訴").await;
    assert!(seller.find(Locator::Css("#order-withdraw")).await.is_err(), "only the opener withdraws");
    let input = css(&seller, "#order-input").await;
    input.send_keys("還沒收到款項，我再確認一下銀行。").await.unwrap();
    input.send_keys(&String::from(char::from(fantoccini::key::Key::Enter))).await.unwrap();
    wait_text(&seller, "#order-thread .lbw-msg.mine .lbw-body", "還沒收到款項").await;
    shot(&seller, "appeals-07-widget-order-seller-zh-Hant").await;
    // The buyer's window shows the answer without a reload.
    wait_text(&buyer, "#order-thread .lbw-msg.side-other", "還沒收到款項").await;

    // A supervisor opens the appeal: both parties' accounts from the exchange beside it.
    app.agent("sup.accounts@x.dev", "S5001", Role::Supervisor, &["support"]).await;
    let appeal = app.store.appeals_of_order(ORDER_W).await.unwrap().remove(0);
    let sup = driver.session("zh-CN").await;
    sup.goto(&app.url("/console/login")).await.unwrap();
    css(&sup, "input[name=email]").await.send_keys("sup.accounts@x.dev").await.unwrap();
    css(&sup, "input[name=password]").await.send_keys(PASSWORD).await.unwrap();
    css(&sup, "form button[type=submit]").await.click().await.unwrap();
    css(&sup, "#nav-appeals").await;
    sup.goto(&app.url(&format!("/console/appeals/{}", appeal.id))).await.unwrap();
    let b = wait_text(&sup, "#acct-buyer", "L2").await;
    assert!(b.contains("U10001") && b.contains("正常") && b.contains("TRC20"), "the buyer's account: {b}");
    let s = wait_text(&sup, "#acct-seller", "受限").await;
    assert!(s.contains("U10002") && s.contains("暫停提幣") && s.contains("c2c_merchant"), "the seller's account: {s}");
    assert!(s.contains(ORDER_W), "the seller's open C2C orders, from the exchange: {s}");
    sup.execute("document.getElementById('account-card').scrollIntoView()", vec![]).await.unwrap();
    shot(&sup, "accounts-01-console-appeal-zh-Hans").await;
    // The look is in the access log.
    let looks = app.store.access_log(None, None, None, 100).await.unwrap();
    assert!(looks.iter().filter(|r| r.what == "account").count() >= 2, "each account read is logged");

    // The admin's integration page: the source as set, the pushed profile's effect is elsewhere.
    app.agent("admin.integ@x.dev", "A5002", Role::Admin, &["support"]).await;
    let admin = driver.session("zh-CN").await;
    admin.goto(&app.url("/console/login")).await.unwrap();
    css(&admin, "input[name=email]").await.send_keys("admin.integ@x.dev").await.unwrap();
    css(&admin, "input[name=password]").await.send_keys(PASSWORD).await.unwrap();
    css(&admin, "form button[type=submit]").await.click().await.unwrap();
    css(&admin, "#nav-integrations").await.click().await.unwrap();
    wait_text(&admin, "#context-set", "/demo/exchange/customer-context").await;
    css(&admin, "#four-eyes-form input[name=currency]").await.send_keys("CNY").await.unwrap();
    css(&admin, "#four-eyes-form input[name=above]").await.send_keys("50000").await.unwrap();
    submit(&admin, "#four-eyes-form").await;
    wait_text(&admin, "#four-eyes-rules", "50000").await;
    css(&admin, "#four-eyes-form input[name=currency]").await.send_keys("CNY").await.unwrap();
    css(&admin, "#four-eyes-form input[name=above]").await.send_keys("12,5").await.unwrap();
    submit(&admin, "#four-eyes-form").await;
    css(&admin, "#bad-entry").await;
    shot(&admin, "accounts-02-console-integrations").await;
    admin.goto(&app.url("/help/zh-Hans")).await.unwrap();
    let n = wait_text(&admin, "#notices .notice-banner", "BTC 提币延迟").await;
    assert!(n.contains("比特币网络拥堵") && n.contains("故障"), "the help center's notice: {n}");
    shot(&admin, "announce-01-help-center-zh-Hans").await;
    for c in [buyer, seller, sup, admin] {
        c.close().await.unwrap();
    }
}
