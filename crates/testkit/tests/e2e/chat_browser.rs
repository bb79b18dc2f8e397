//! Live chat in real headless Chromium: a signed-in customer of the demo exchange opens the widget, the bot
//! answers from the help center, the customer asks for a human; an agent in another browser accepts the chat in
//! the console; both write (markup stays text); the customer reloads and finds the whole conversation. Plus the
//! framing rules over plain HTTP: only the chat window may be framed by other sites.

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{
    Backend, ChromeDriver, PASSWORD, TestApp, on_both_backends, png_bytes, screenshot_dir, spawn_app_with,
};
use std::time::Duration;

const XSS: &str = "<img src=x onerror=alert(1)>";

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

/// Waits for an element matching `css` whose text contains `text`.
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
    // Leave a picture of what the page showed instead.
    shot(c, "chat-failed").await;
    let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap_or_default();
    panic!("no {css} with text {text:?}; the page shows:\n{body}");
}

/// The `data-seq` of every stored message in the open thread, in page order; panics if one is there twice.
async fn thread_seqs(c: &Client) -> Vec<String> {
    // Read in one script, so a message re-rendered between two WebDriver calls cannot go stale under us.
    let got = c
        .execute(
            "return Array.from(document.querySelectorAll('#thread [data-seq]')).map(e => e.getAttribute('data-seq'));",
            vec![],
        )
        .await
        .expect("read the thread's seqs");
    let seqs: Vec<String> =
        got.as_array().expect("an array of seqs").iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
    let mut unique = seqs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seqs.len(), "a message twice in the thread: {seqs:?}");
    seqs
}

/// Opens the widget on the page and switches into its frame, ready to type.
async fn open_widget(c: &Client) {
    wait_css(c, "#lifebuoy-launcher").await.click().await.expect("open the widget");
    let frame = wait_css(c, "#lifebuoy-chat iframe").await;
    frame.enter_frame().await.expect("enter the chat frame");
    wait_css(c, "#view-chat:not([hidden]) #input").await;
    wait_css(c, "#conn.is-online").await;
}

async fn type_and_enter(c: &Client, css: &str, text: &str) {
    let input = wait_css(c, css).await;
    input.send_keys(text).await.expect("type");
    input.send_keys(&String::from(char::from(Key::Enter))).await.expect("enter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_widget_and_console_in_chromium() {
    let app = spawn_app_with(Backend::Sqlite, true).await;
    let agent_id = app.agent("chat.agent@x.dev", "A2048", Role::AgentL1, &["support"]).await;
    let driver = ChromeDriver::start().await;

    // The customer, signed in on the exchange as 张伟, opens the widget and asks the bot.
    let customer = driver.session("zh-CN").await;
    customer.goto(&app.url("/demo/exchange?as=U10001")).await.unwrap();
    wait_css(&customer, ".dx-hero h1").await;
    shot(&customer, "chat-00-demo-exchange").await;
    open_widget(&customer).await;
    type_and_enter(&customer, "#input", "提币一直没到账怎么办").await;
    let answer = wait_text(&customer, ".lbw-msg.bot:not(.lbw-greeting) .lbw-body", "帮助中心").await;
    assert!(answer.contains("/help/zh-Hans/"), "{answer}");
    let link = wait_css(&customer, ".lbw-msg.bot .lbw-body a.lbw-a").await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    assert!(href.contains("/help/zh-Hans/"), "the article is a link: {href}");
    // The customer's own message is stored (✓) once acknowledged.
    wait_css(&customer, ".lbw-msg.mine .lbw-tick.is-sent, .lbw-msg.mine .lbw-tick.is-read").await;
    customer.enter_parent_frame().await.unwrap();
    shot(&customer, "chat-01-widget-bot-answer-zh-Hans").await;

    // Talk to a human: nobody is online, so the chat waits in the queue and the widget says so.
    let frame = wait_css(&customer, "#lifebuoy-chat iframe").await;
    frame.enter_frame().await.unwrap();
    wait_css(&customer, "#btn-handover").await.click().await.unwrap();
    wait_text(&customer, "#banner .lbw-b-queue", "排队中").await;
    wait_css(&customer, "#btn-offline:not([hidden])").await;
    customer.enter_parent_frame().await.unwrap();
    shot(&customer, "chat-02-widget-queued-zh-Hans").await;

    // The agent signs in, opens the chat console, finds the chat among the queued ones and accepts it.
    let agent = driver.session("zh-CN").await;
    agent.goto(&app.url("/console/login")).await.unwrap();
    agent.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("chat.agent@x.dev").await.unwrap();
    agent.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    agent.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&agent, "#queue, .queue").await;
    agent
        .find(Locator::Css("a[href='/console/chats']"))
        .await
        .expect("the console links the chats")
        .click()
        .await
        .unwrap();
    wait_css(&agent, "#conn.is-online").await;
    wait_css(&agent, "#tab-queued").await.click().await.unwrap();
    let item = wait_css(&agent, "#inbox .cc-item").await;
    assert!(item.text().await.unwrap().contains("张伟"));
    item.click().await.unwrap();
    wait_text(&agent, "#thread .cc-msg", "提币一直没到账怎么办").await;
    wait_css(&agent, "#btn-accept:not([hidden])").await.click().await.unwrap();
    wait_css(&agent, "#tab-mine .cc-count").await;
    wait_text(&agent, "#chat-meta", "进行中").await;
    wait_text(&agent, "#profile", "U10001").await;
    // Beside the chat: the knowledge base's answer to what the customer asked, its link ready for the reply.
    wait_text(&agent, "#kb-suggest a.title", "提币一直未到账").await;
    agent.find(Locator::Css("#kb-suggest li button")).await.unwrap().click().await.unwrap();
    let input = agent.find(Locator::Css("#input")).await.unwrap();
    let filled = input.prop("value").await.unwrap().unwrap_or_default();
    assert!(filled.contains("/help/zh-Hans/withdrawal-delayed"), "{filled}");
    input.clear().await.unwrap();

    // Both write; the customer sees the agent's name and number.
    type_and_enter(&agent, "#input", "您好，我是客服，请提供提币的 TxID。").await;
    wait_text(&agent, "#thread .cc-msg.from-agent:not(.is-pending) .msg-body", "请提供提币的 TxID").await;
    let frame = wait_css(&customer, "#lifebuoy-chat iframe").await;
    frame.enter_frame().await.unwrap();
    wait_text(&customer, ".lbw-msg.agent .lbw-body", "请提供提币的 TxID").await;
    wait_text(&customer, ".lbw-msg.agent .lbw-verified", "工号 A2048").await;
    wait_text(&customer, "#banner .lbw-b-agent", "A2048").await;
    // Typing shows on the other side.
    wait_css(&customer, "#input").await.send_keys(XSS).await.unwrap();
    wait_css(&agent, "#typing:not([hidden])").await;
    wait_css(&customer, "#input").await.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    // A screenshot, attached: shown inline on both sides.
    let png = app.dir.join("deposit-proof.png");
    std::fs::write(&png, png_bytes()).unwrap();
    customer.find(Locator::Css("#file")).await.unwrap().send_keys(&png.display().to_string()).await.unwrap();
    wait_css(&customer, ".lbw-msg.mine .lbw-img[src^='blob:']").await;
    type_and_enter(&customer, "#input", "TxID 是 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060")
        .await;

    // Markup from a customer stays text in the console, and in the widget.
    wait_text(&agent, "#thread .cc-msg .msg-body", XSS).await;
    assert!(agent.find_all(Locator::Css("#thread img:not(.thumb)")).await.unwrap().is_empty());
    wait_text(&agent, "#thread .cc-msg .msg-body", "TxID 是").await;
    wait_css(&agent, "#thread .cc-msg.from-customer img.thumb").await;
    wait_text(&customer, ".lbw-msg.mine .lbw-body", XSS).await;
    assert!(customer.find_all(Locator::Css("#thread .lbw-body img")).await.unwrap().is_empty());
    // An internal note stays with the agents.
    wait_css(&agent, "#mode-note").await.click().await.unwrap();
    type_and_enter(&agent, "#input", "内部备注：链上已确认，等待入账").await;
    wait_text(&agent, "#thread .cc-msg.is-note", "链上已确认").await;
    wait_css(&agent, "#mode-reply").await.click().await.unwrap();
    wait_css(&agent, "#input").await.send_keys("已查到，预计 10 分钟内到账。").await.unwrap();
    wait_css(&customer, "#typing:not([hidden])").await;
    wait_css(&agent, "#input").await.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    wait_text(&customer, ".lbw-msg.agent .lbw-body", "预计 10 分钟内到账").await;
    // The agent sends a picture back (say, where to find the TxID): uploaded from the console, shown in both.
    agent.find(Locator::Css("#file")).await.unwrap().send_keys(&png.display().to_string()).await.unwrap();
    wait_css(&agent, "#thread .cc-msg.from-agent:not(.is-pending) img.thumb").await;
    wait_css(&customer, ".lbw-msg.agent .lbw-img[src^='blob:']").await;
    // The agent has read the customer's messages: ✓✓.
    wait_css(&customer, ".lbw-msg.mine .lbw-tick.is-read").await;
    customer.enter_parent_frame().await.unwrap();
    shot(&customer, "chat-03-widget-with-agent-zh-Hans").await;
    // The console reloads: the chat it had open comes back whole, notes included, nothing twice.
    agent.refresh().await.unwrap();
    wait_css(&agent, "#conn.is-online").await;
    wait_text(&agent, "#thread .cc-msg.from-agent .msg-body", "预计 10 分钟内到账").await;
    let thread = agent.find(Locator::Css("#thread")).await.unwrap().text().await.unwrap();
    for part in ["提币一直没到账怎么办", "链上已确认", XSS] {
        assert_eq!(thread.matches(part).count(), 1, "{part:?} once after reload:\n{thread}");
    }
    wait_css(&agent, "#tab-mine").await.click().await.unwrap();
    wait_text(&agent, "#inbox .cc-item", "张伟").await;
    // A canned reply: "/" and the shortcut, Enter takes it, Enter sends it.
    wait_css(&agent, "#input").await.send_keys("/hel").await.unwrap();
    wait_text(&agent, "#canned:not([hidden]) button", "/hello").await;
    // The latest messages (a TxID, a screenshot) match no article: the suggestions fall back to what the chat
    // is about, its first message.
    wait_text(&agent, "#kb-suggest a.title", "提币一直未到账").await;
    shot(&agent, "chat-04-console-zh-Hans").await;
    wait_css(&agent, "#input").await.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    let filled = agent.find(Locator::Css("#input")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    assert!(filled.starts_with("您好，我是客服专员"), "{filled}");
    wait_css(&agent, "#input").await.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    wait_text(&agent, "#thread .cc-msg.from-agent:not(.is-pending) .msg-body", "我是客服专员").await;
    // The console in English.
    agent.goto(&app.url("/lang/en?back=/console/chats")).await.unwrap();
    wait_text(&agent, "#chat-meta", "Active").await;
    shot(&agent, "chat-04c-console-en").await;
    agent.goto(&app.url("/lang/zh-Hans?back=/console/chats")).await.unwrap();
    wait_text(&agent, "#chat-meta", "进行中").await;

    // The customer reloads the page: the whole conversation is there, and the note is not.
    customer.refresh().await.unwrap();
    open_widget(&customer).await;
    wait_text(&customer, ".lbw-msg.agent .lbw-body", "预计 10 分钟内到账").await;
    let all = customer.find(Locator::Css("#thread")).await.unwrap().text().await.unwrap();
    for part in ["提币一直没到账怎么办", "帮助中心", "请提供提币的 TxID", XSS, "TxID 是"] {
        assert!(all.contains(part), "{part:?} missing after reload:\n{all}");
    }
    assert!(!all.contains("内部备注"), "an internal note reached the customer");

    // The connection drops: the widget says so, reconnects by itself, resumes without doubling anything, and
    // what is written next still arrives. A fresh message sent after the reconnection is stored after the
    // resume's replay: once it shows, the thread holds exactly one message more, each sequence number once.
    let before = thread_seqs(&customer).await.len();
    let state = customer
        .execute(
            "window.dispatchEvent(new Event('offline')); return document.getElementById('conn').className;",
            vec![],
        )
        .await
        .unwrap();
    assert!(state.as_str().unwrap_or_default().contains("is-offline"), "{state}");
    wait_css(&customer, "#conn.is-online").await;
    type_and_enter(&customer, "#input", "网络刚才断了一下").await;
    wait_text(&customer, "#thread .lbw-msg.mine[data-seq] .lbw-body", "网络刚才断了一下").await;
    assert_eq!(thread_seqs(&customer).await.len(), before + 1, "the resume doubled or dropped messages");
    wait_text(&agent, "#thread .cc-msg[data-seq] .msg-body", "网络刚才断了一下").await;
    // The console runs the same client (chat-client.js): it too drops, comes back and doubles nothing.
    let agent_before = thread_seqs(&agent).await.len();
    let state = agent
        .execute(
            "window.dispatchEvent(new Event('offline')); return document.getElementById('conn').className;",
            vec![],
        )
        .await
        .unwrap();
    assert!(state.as_str().unwrap_or_default().contains("is-offline"), "{state}");
    wait_css(&agent, "#conn.is-online").await;
    type_and_enter(&agent, "#input", "网络恢复了，我们继续").await;
    wait_text(&agent, "#thread .cc-msg.from-agent[data-seq]:not(.is-pending) .msg-body", "网络恢复了").await;
    assert_eq!(thread_seqs(&agent).await.len(), agent_before + 1, "the console's resume doubled or dropped messages");
    wait_text(&customer, ".lbw-msg.agent .lbw-body", "网络恢复了").await;

    // Past chats list this one by its case number.
    wait_css(&customer, "#btn-history:not([hidden])").await.click().await.unwrap();
    let listed = wait_text(&customer, "#history-list .lbw-hist", "LB-").await;
    assert!(listed.contains("进行中"), "{listed}");
    wait_css(&customer, "#history-back").await.click().await.unwrap();
    wait_css(&customer, "#view-chat:not([hidden])").await;

    // With the window closed, a reply shows as a badge on the launcher.
    customer.enter_parent_frame().await.unwrap();
    wait_css(&customer, "#lifebuoy-launcher").await.click().await.unwrap();
    type_and_enter(&agent, "#input", "请问还有其他问题吗？").await;
    wait_text(&customer, ".lifebuoy-badge", "1").await;
    shot(&customer, "chat-05-launcher-unread").await;

    // The agent turns the chat into a ticket, then ends it; the customer rates it.
    wait_css(&agent, "#btn-ticket").await.click().await.unwrap();
    let made = wait_text(&agent, "#notice a", "LB-").await;
    assert!(made.contains("已创建工单"), "{made}");
    let href = agent.find(Locator::Css("#notice a")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("/console/tickets/"), "{href}");
    wait_css(&agent, "#btn-end").await.click().await.unwrap();
    agent.accept_alert().await.expect("confirm ending the chat");
    wait_text(&agent, "#thread .event", "会话已结束").await;
    open_widget(&customer).await;
    wait_css(&customer, "#rate:not([hidden])").await;
    wait_css(&customer, ".lbw-star:nth-child(5)").await.click().await.unwrap();
    customer.find(Locator::Css("#rate-form textarea")).await.unwrap().send_keys("回复很快，谢谢").await.unwrap();
    wait_css(&customer, "#rate-form button[type=submit]:not([disabled])").await.click().await.unwrap();
    wait_css(&customer, "#rated:not([hidden])").await;
    assert!(customer.find(Locator::Css("#btn-offline")).await.unwrap().attr("hidden").await.unwrap().is_some());
    customer.enter_parent_frame().await.unwrap();
    shot(&customer, "chat-06-widget-rated-zh-Hans").await;
    // The ended chat opens again from the past chats, read-only.
    wait_css(&customer, "#lifebuoy-chat iframe").await.enter_frame().await.unwrap();
    wait_css(&customer, "#btn-history").await.click().await.unwrap();
    wait_text(&customer, "#history-list button.lbw-hist", "已结束").await;
    // The support history holds every channel: the ticket made from the chat is there too, opening in the help
    // center; the channel filter keeps it alone.
    let ticket_row = wait_text(&customer, "#history-list a.lbw-hist", "工单").await;
    assert!(ticket_row.contains("LB-"), "{ticket_row}");
    customer.enter_parent_frame().await.unwrap();
    shot(&customer, "chat-06b-widget-history-zh-Hans").await;
    wait_css(&customer, "#lifebuoy-chat iframe").await.enter_frame().await.unwrap();
    wait_css(&customer, "#history-filter select").await.select_by_value("ticket").await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !customer.find_all(Locator::Css("#history-list button.lbw-hist")).await.unwrap().is_empty() {
        if std::time::Instant::now() >= deadline {
            let dbg = customer.execute("return document.querySelector('#history-filter select').value + ' | ' + document.getElementById('history-list').innerText", vec![]).await.unwrap();
            panic!("the channel filter still lists the chat: {dbg}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_css(&customer, "#history-list a.lbw-hist").await;
    wait_css(&customer, "#history-filter select").await.select_by_value("").await.unwrap();
    wait_css(&customer, "#history-list button.lbw-hist").await.click().await.unwrap();
    wait_css(&customer, "#past-bar:not([hidden])").await;
    wait_text(&customer, ".lbw-msg.agent .lbw-body", "请问还有其他问题吗").await;
    assert!(customer.find(Locator::Css("#composer")).await.unwrap().attr("hidden").await.unwrap().is_some());
    customer.enter_parent_frame().await.unwrap();

    // An English-speaking customer gets the widget in English.
    let alex = driver.session("en-US").await;
    alex.goto(&app.url("/demo/exchange?as=U10003")).await.unwrap();
    open_widget(&alex).await;
    type_and_enter(&alex, "#input", "How do I reset 2FA?").await;
    wait_css(&alex, ".lbw-msg.mine .lbw-tick.is-sent, .lbw-msg.mine .lbw-tick.is-read").await;
    let title = alex.find(Locator::Css(".lbw-title")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "Live support");
    // The bot's answer, in English, before the picture is taken.
    let answer = wait_text(&alex, ".lbw-msg.bot:not(.lbw-greeting) .lbw-body", "/help/en/").await;
    assert!(answer.contains("2FA"), "{answer}");
    alex.enter_parent_frame().await.unwrap();
    shot(&alex, "chat-04b-widget-en").await;

    shot(&agent, "chat-07-console-ended-zh-Hans").await;
    // Availability is the agent's to set, and it is kept.
    assert_ne!(app.store.presence(&agent_id).await.unwrap().status, "away");
    agent.find(Locator::Css("#presence")).await.unwrap().select_by_value("away").await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.store.presence(&agent_id).await.unwrap().status != "away" {
        assert!(std::time::Instant::now() < deadline, "the agent's choice of \"away\" was not stored in 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.refresh().await.unwrap();
    wait_css(&agent, "#conn.is-online").await;
    let status = agent.find(Locator::Css("#presence")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(status.as_deref(), Some("away"));

    // A visitor on a phone: the window fills the screen, the pre-chat form starts a session, and with nobody
    // online the message form becomes a ticket with a case number.
    let phone = driver.session("en-US").await;
    phone.set_window_size(390, 844).await.unwrap();
    phone.goto(&app.url("/demo/exchange?as=visitor")).await.unwrap();
    wait_css(&phone, "#lifebuoy-launcher").await.click().await.unwrap();
    wait_css(&phone, "#lifebuoy-chat iframe").await.enter_frame().await.unwrap();
    wait_css(&phone, "#prechat input[name=email]").await.send_keys("visitor@example.com").await.unwrap();
    phone.find(Locator::Css("#prechat select[name=topic]")).await.unwrap().select_by_value("deposit").await.unwrap();
    phone.enter_parent_frame().await.unwrap();
    shot(&phone, "chat-08-widget-phone-prechat-en").await;
    wait_css(&phone, "#lifebuoy-chat iframe").await.enter_frame().await.unwrap();
    phone.find(Locator::Css("#prechat button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&phone, "#conn.is-online").await;
    wait_css(&phone, "#btn-offline:not([hidden])").await.click().await.unwrap();
    wait_css(&phone, "#offline-form textarea[name=body]")
        .await
        .send_keys("My USDT deposit has not arrived after 2 hours.")
        .await
        .unwrap();
    phone.find(Locator::Css("#offline-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let done = wait_text(&phone, ".lbw-done", "LB-").await;
    assert!(done.contains("ticket number"), "{done}");
    phone.enter_parent_frame().await.unwrap();
    shot(&phone, "chat-09-widget-phone-offline-ticket-en").await;

    customer.close().await.unwrap();
    agent.close().await.unwrap();
    alex.close().await.unwrap();
    phone.close().await.unwrap();
    app.cleanup().await;
}

async fn chat_pages_framing_and_loader(app: &TestApp) {
    let get = |p: &str| app.http.get(app.url(p)).send();

    let js = get("/widget.js").await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    let body = js.text().await.unwrap();
    assert!(body.contains("/chat/widget") && body.contains("postMessage"), "the loader opens the chat window");

    // The chat window may be framed by any site: no X-Frame-Options, `frame-ancestors *`.
    let w = get("/chat/widget?lang=zh-Hant").await.unwrap();
    assert_eq!(w.status(), 200);
    assert!(w.headers().get("x-frame-options").is_none(), "{:?}", w.headers());
    let csp = w.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    let html = w.text().await.unwrap();
    assert!(html.contains("線上客服") && html.contains("轉真人客服"), "the window speaks Traditional Chinese");
    assert!(html.contains(r#"<script type="application/json" id="lb-strings">"#));

    // Every other page keeps refusing to be framed.
    for p in ["/portal", "/console/login", "/demo", "/demo/exchange", "/static/chat.css"] {
        let r = get(p).await.unwrap();
        assert_eq!(r.headers().get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{p}");
        let csp = r.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_string());
        assert!(csp.is_some_and(|c| c.contains("frame-ancestors 'none'")), "{p}");
    }

    // The demo exchange embeds the loader with a signed identity token; a visitor gets none.
    let page = get("/demo/exchange?as=U10002").await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<script src="/widget.js" data-lang="zh-Hant" data-identity-token=""#), "{page}");
    let page = get("/demo/exchange?as=visitor").await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<script src="/widget.js""#) && !page.contains("data-identity-token"));
    assert!(get("/demo").await.unwrap().text().await.unwrap().contains(r#"href="/demo/exchange""#));

    // The chat console is for agents.
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anon.get(app.url("/console/chats")).send().await.unwrap();
    assert!(r.status().is_redirection());
}
on_both_backends!(chat_pages_framing_and_loader_on, chat_pages_framing_and_loader, demo);

/// The customer's chat window and the agents' console share one WebSocket client (`/static/chat-client.js`):
/// both pages load it before their own script, it is served as JavaScript, and neither page script opens a
/// socket of its own.
async fn chat_pages_share_one_chat_client(app: &TestApp) {
    app.agent("client.agent@x.dev", "A2049", Role::AgentL1, &["support"]).await;
    let agent = app.agent_client("client.agent@x.dev").await;
    const CLIENT: &str = r#"<script src="/static/chat-client.js" defer></script>"#;

    let widget = app.http.get(app.url("/chat/widget?lang=en")).send().await.unwrap().text().await.unwrap();
    let console = agent.get(app.url("/console/chats")).send().await.unwrap();
    assert_eq!(console.status(), 200);
    let console = console.text().await.unwrap();
    for (html, own) in [(&widget, "/static/chat-widget.js"), (&console, "/static/console-chat.js")] {
        let client = html.find(CLIENT).unwrap_or_else(|| panic!("{own}'s page does not load chat-client.js:\n{html}"));
        let page = html.find(&format!(r#"<script src="{own}" defer></script>"#)).expect("the page's own script");
        assert!(client < page, "chat-client.js must come before {own}");
    }

    let r = app.http.get(app.url("/static/chat-client.js")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/javascript; charset=utf-8");
    let client = r.text().await.unwrap();
    assert!(client.contains("window.LifebuoyChat") && client.contains("new WebSocket("), "{client}");
    for own in ["/static/chat-widget.js", "/static/console-chat.js"] {
        let js = app.http.get(app.url(own)).send().await.unwrap().text().await.unwrap();
        assert!(js.contains("LifebuoyChat.connect("), "{own} does not use the shared client");
        assert!(!js.contains("new WebSocket("), "{own} opens a socket of its own");
    }
}
on_both_backends!(chat_pages_share_one_chat_client_on, chat_pages_share_one_chat_client, demo);
