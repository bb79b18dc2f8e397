//! The secret guard and "who is real" in real headless Chromium, in each language: a demo customer (张伟 in
//! Simplified Chinese, 陳美玲 in Traditional Chinese, Alex in English) pastes a 12-word recovery phrase into the
//! chat widget; the widget stops it before it is sent, explains why in the customer's language, and nothing of it
//! reaches the server; "send without it" sends the rest with the marker. The widget says plainly that staff never
//! ask for passwords, codes, phrases or transfers; an agent's reply carries the agent number with a verified
//! badge that opens the official check's answer; a look-alike link in a reply is marked and opens only after a
//! confirm step. The help center's check names a look-alike; the portal's new-ticket form stops a phrase too.

use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{ChromeDriver, TestApp, on_both_backends, screenshot_dir};
use serde_json::json;
use std::time::Duration;

const PHRASE: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

async fn wait_text(c: &Client, css: &str, text: &str) -> String {
    for _ in 0..200 {
        if let Ok(els) = c.find_all(Locator::Css(css)).await {
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
    shot(c, "trust-failed").await;
    let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap_or_default();
    panic!("no {css} with text {text:?}; the page shows:\n{body}");
}

/// Messages and events in the database holding `needle`.
async fn stored(app: &TestApp, needle: &str) -> i64 {
    use sqlx::Connection;
    let q =
        "SELECT (SELECT COUNT(*) FROM messages WHERE body LIKE $1) + (SELECT COUNT(*) FROM events WHERE data LIKE $1)";
    let like = format!("%{needle}%");
    match app.db_url() {
        u if u.starts_with("postgres") => {
            let mut c = sqlx::PgConnection::connect(&u).await.unwrap();
            sqlx::query_scalar::<_, i64>(q).bind(&like).fetch_one(&mut c).await.unwrap()
        }
        u => {
            let mut c = sqlx::SqliteConnection::connect(&u).await.unwrap();
            sqlx::query_scalar::<_, i64>(q).bind(&like).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// Puts `text` into the composer as a paste does (value set, then the `paste` event).
async fn paste(c: &Client, text: &str) {
    c.execute(
        "const i = document.getElementById('input'); i.focus(); i.value = arguments[0]; \
         i.dispatchEvent(new Event('paste', {bubbles: true}));",
        vec![json!(text)],
    )
    .await
    .expect("paste");
}

async fn open_widget(c: &Client) {
    wait_css(c, "#lifebuoy-launcher").await.click().await.expect("open the widget");
    let frame = wait_css(c, "#lifebuoy-chat iframe").await;
    frame.enter_frame().await.expect("enter the chat frame");
    wait_css(c, "#view-chat:not([hidden]) #input").await;
    wait_css(c, "#conn.is-online").await;
}

async fn widget_stops_a_pasted_phrase(app: &TestApp) {
    let driver = ChromeDriver::start().await;
    let agent = app.agent("trust.browser@x.dev", "A3001", Role::AgentL1, &["support"]).await;
    let token = app.integration_token().await;
    app.http
        .post(app.url("/api/v1/trust/channels"))
        .bearer_auth(&token)
        .json(&json!({"kind": "domain", "value": "demo.lifebuoy.dev", "label": "官方网站 · Official website"}))
        .send()
        .await
        .unwrap();
    for (uid, lang, title, never, marker) in [
        ("U10001", "zh-CN", "请勿发送助记词", "官方客服绝不会索要您的密码", "[已隐藏：疑似助记词]"),
        ("U10002", "zh-TW", "請勿傳送助記詞", "官方客服絕不會向您索取密碼", "[已隱藏：疑似助記詞]"),
        (
            "U10003",
            "en",
            "Don't send a recovery phrase",
            "Our staff will never ask for your password",
            "[hidden: looks like a recovery phrase]",
        ),
    ] {
        let c = driver.session(lang).await;
        c.goto(&app.url(&format!("/demo/exchange?as={uid}"))).await.unwrap();
        open_widget(&c).await;
        assert!(wait_css(&c, "#never-ask").await.text().await.unwrap().contains(never), "{lang}: the plain statement");

        // Pasted: stopped at once, explained; pressing Enter sends nothing either.
        paste(&c, PHRASE).await;
        let warning = wait_text(&c, "#guard:not([hidden]) #guard-title", title).await;
        assert!(warning.contains(title));
        shot(&c, &format!("trust-01-guard-{lang}")).await;
        wait_css(&c, "#guard-edit").await.click().await.unwrap();
        assert!(c.find(Locator::Css("#guard[hidden]")).await.is_ok(), "edit hides the warning");
        c.execute("document.getElementById('composer').requestSubmit()", vec![]).await.unwrap();
        wait_css(&c, "#guard:not([hidden])").await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(c.find_all(Locator::Css(".lbw-msg.mine")).await.unwrap().is_empty(), "{lang}: nothing was queued");
        assert_eq!(stored(app, "sausage").await, 0, "{lang}: nothing of the phrase reached the server");
        let customer = app.store.exchange_customer(uid).await.unwrap().expect("signed in");
        assert!(app.store.open_chat_state(&customer.id).await.unwrap().is_none(), "{lang}: not even a chat was opened");

        // "Send without it": the rest goes, with the marker where the phrase was.
        paste(&c, &format!("my words {PHRASE} are they safe?")).await;
        wait_css(&c, "#guard:not([hidden]) #guard-strip").await.click().await.unwrap();
        let sent = wait_text(&c, ".lbw-msg.mine[data-seq] .lbw-body", "are they safe?").await;
        assert!(sent.contains(marker) && !sent.contains("sausage"), "{lang}: {sent}");
        assert_eq!(stored(app, "sausage").await, 0, "{lang}");
        assert!(stored(app, marker).await >= 1, "{lang}: the marker was stored");
        shot(&c, &format!("trust-02-sent-without-{lang}")).await;
        c.close().await.unwrap();
    }

    // An agent's reply: the verified badge opens the check's answer; a look-alike link is marked and confirmed.
    let c = driver.session("zh-CN").await;
    c.goto(&app.url("/demo/exchange?as=U10001")).await.unwrap();
    open_widget(&c).await;
    let customer = app.store.exchange_customer("U10001").await.unwrap().expect("signed in");
    let (cid, _) = app.store.open_chat_state(&customer.id).await.unwrap().expect("the chat opened above");
    let agent_actor = lifebuoy_app::Actor::Agent(app.store.agent(&agent).await.unwrap().unwrap());
    let system = lifebuoy_app::Actor::system("test");
    lifebuoy_app::chat::service::handover(&app.app, &system, &cid, "asked").await.expect("to the queue");
    lifebuoy_app::chat::service::assign(&app.app, &system, &cid, &agent, false).await.expect("assigned");
    lifebuoy_app::chat::service::agent_send(
        &app.app,
        &agent_actor,
        &cid,
        "a-link",
        "您好，请在官网 https://demo.lifebuoy.dev/help 查看，不要打开 https://demo-lifebuoy-support.dev/login",
        false,
        &[],
    )
    .await
    .expect("the agent replies");
    let badge = wait_css(&c, ".lbw-msg.agent .lbw-verified").await;
    assert!(badge.text().await.unwrap().contains("A3001"));
    badge.click().await.unwrap();
    let verdict = wait_text(&c, ".lbw-msg.agent .lbw-verdict", "A3001").await;
    assert!(verdict.contains("官方客服"), "{verdict}");
    let bad = wait_css(&c, ".lbw-msg.agent a[data-check='lookalike']").await;
    c.execute("document.querySelector('.lbw-msg.agent .lbw-verdict').scrollIntoView({block: 'end'})", vec![])
        .await
        .unwrap();
    shot(&c, "trust-03a-badge-verified").await;
    wait_css(&c, ".lbw-msg.agent a[data-check='official']").await;
    wait_text(&c, ".lbw-linktag.is-lookalike", "").await;
    bad.click().await.unwrap();
    let warn = wait_text(&c, "#linkcheck:not([hidden]) #linkcheck-body", "demo.lifebuoy.dev").await;
    assert!(warn.contains("仿冒") && warn.contains("demo-lifebuoy-support.dev"), "{warn}");
    assert_eq!(c.windows().await.unwrap().len(), 1, "nothing opened before the confirm step");
    shot(&c, "trust-03b-link-confirm").await;
    wait_css(&c, "#linkcheck-cancel").await.click().await.unwrap();
    c.close().await.unwrap();

    // The help center's check, and the portal's form.
    let c = driver.session("zh-TW").await;
    c.goto(&app.url("/help/zh-Hant/official?value=https%3A%2F%2Fdemo-lifebuoy-support.dev%2Flogin")).await.unwrap();
    let v = wait_css(&c, "#verdict").await.text().await.unwrap();
    assert!(v.contains("這不是官方管道") && v.contains("demo.lifebuoy.dev"), "{v}");
    shot(&c, "trust-04-help-lookalike-zh-Hant").await;
    wait_css(&c, "#report-btn").await.click().await.unwrap();
    let done = wait_css(&c, "#reported").await.text().await.unwrap();
    assert!(done.contains("LB-"), "{done}");
    c.goto(&app.url("/help/zh-Hant/official?value=demo.lifebuoy.dev")).await.unwrap();
    assert!(wait_css(&c, "#verdict[data-official='true']").await.text().await.unwrap().contains("這是官方管道"));
    shot(&c, "trust-05-help-official-zh-Hant").await;
    c.goto(&app.url("/portal/sso?token=").replace("token=", &format!("token={}", app.customer_token("trust-portal"))))
        .await
        .unwrap();
    c.goto(&app.url("/portal/tickets/new")).await.unwrap();
    wait_css(&c, "#new-ticket input[name=subject]").await.send_keys("wallet").await.unwrap();
    wait_css(&c, "#new-ticket textarea[name=body]").await.send_keys(&format!("words: {PHRASE}")).await.unwrap();
    wait_css(&c, "#new-ticket [type=submit]").await.click().await.unwrap();
    let g = wait_css(&c, "#new-ticket .guard-box:not([hidden])").await.text().await.unwrap();
    assert!(g.contains("recovery phrase"), "{g}");
    assert_eq!(stored(app, "sausage").await, 0);
    shot(&c, "trust-06-portal-guard").await;
    c.close().await.unwrap();
}
on_both_backends!(widget_stops_a_pasted_phrase_on, widget_stops_a_pasted_phrase, demo);
