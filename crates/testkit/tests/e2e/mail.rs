//! The email channel against real peers: mail sent with Python's smtplib into the SMTP listener becomes a case;
//! the agent's reply leaves through the job runner to a real SMTP server (aiosmtpd), threaded to the customer's
//! mail, in the case's language; the customer's answer to that reply joins the same case; the same mail twice is
//! stored once; an auto-reply opens nothing.

use lifebuoy_testkit::{SmtpPeer, TestApp, spawn_app_configured};
use serde_json::{Value, json};

const SUPPORT: &str = "support@desk.example";

/// Sends one mail to the listener with Python's smtplib (a real SMTP client), headers as given.
fn send_mail(port: u16, headers: &[(&str, &str)], body: &str) {
    let script = r#"
import json, smtplib, sys
from email.message import EmailMessage
port, headers, body = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
m = EmailMessage()
for k, v in headers:
    m[k] = v
m.set_content(body)
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.send_message(m)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, &port.to_string(), &serde_json::to_string(headers).unwrap(), body])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "smtplib failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// The mails aiosmtpd printed, each parsed back (decoded subject, body and headers).
fn mails(sink: &SmtpPeer) -> Vec<String> {
    let all = sink.received();
    all.split("---------- MESSAGE FOLLOWS ----------")
        .skip(1)
        // Only whole mails: the peer prints a mail line by line, and a read can land in the middle of one.
        .filter_map(|m| m.split_once("------------ END MESSAGE ------------").map(|(m, _)| m))
        .map(|m| {
            // aiosmtpd may print the envelope's options first (`mail options: [...]`): not part of the message.
            m.trim_start_matches(['\r', '\n'])
                .lines()
                .skip_while(|l| l.starts_with("mail options:") || l.starts_with("rcpt options:"))
                .collect::<Vec<_>>()
                .join("\r\n")
        })
        .collect()
}

async fn tickets(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.http.get(app.url("/api/v1/tickets")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["items"].as_array().cloned().unwrap_or_default()
}

async fn wait_ticket(app: &TestApp, token: &str, needle: &str) -> Value {
    for _ in 0..100 {
        if let Some(t) =
            tickets(app, token).await.into_iter().find(|t| t["subject"].as_str().unwrap_or("").contains(needle))
        {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no case with {needle:?} in its subject");
}

async fn timeline_len(app: &TestApp, id: &str) -> usize {
    app.store.timeline(id, true).await.unwrap().len()
}

async fn a_mail_becomes_a_case_and_the_reply_goes_out_threaded(backend: lifebuoy_testkit::Backend) {
    let sink = SmtpPeer::start().await;
    let url = sink.url.clone();
    let app = spawn_app_configured(backend, |c| {
        c.smtp = Some((url, format!("Lifebuoy Support <{SUPPORT}>")));
        c.support_address = Some(SUPPORT.into());
    })
    .await;
    let jobs = app.app.start_jobs().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(lifebuoy_app::mail_in::serve_smtp(app.app.clone(), listener));
    let token = app.store.create_api_token("mail-test").await.unwrap();

    // A customer's mail, in Chinese, becomes a case of kind `email` with the mail's subject and text.
    let first = [
        ("From", "张三 <Zhang.San@example.com>"),
        ("To", SUPPORT),
        ("Subject", "账户被冻结 account frozen ref-7731"),
        ("Message-ID", "<ref-7731@example.com>"),
    ];
    let task = tokio::task::spawn_blocking(move || send_mail(port, &first, "我的账户昨天突然被冻结了，请帮忙看看。"));
    task.await.unwrap();
    let t = wait_ticket(&app, &token, "ref-7731").await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    assert_eq!((t["kind"].as_str(), t["lang"].as_str()), (Some("email"), Some("zh-Hans")), "{t}");
    let items = app.store.timeline(&id, true).await.unwrap();
    assert!(format!("{items:?}").contains("我的账户昨天突然被冻结了"), "the mail's text is the first message");
    let customer = app.store.conversation(&id).await.unwrap().unwrap().customer_id;
    let who = app.store.customer(&customer).await.unwrap().unwrap();
    assert_eq!((who.email.as_deref(), who.name.as_deref()), (Some("zhang.san@example.com"), Some("张三")));

    // The same mail again (a sending server retrying) is stored once.
    tokio::task::spawn_blocking(move || send_mail(port, &first, "我的账户昨天突然被冻结了，请帮忙看看。"))
        .await
        .unwrap();
    let before = timeline_len(&app, &id).await;
    assert_eq!(before, 1, "a resent mail adds nothing");
    assert_eq!(
        tickets(&app, &token).await.iter().filter(|t| t["subject"].as_str().unwrap_or("").contains("ref-7731")).count(),
        1
    );

    // The agent's reply (here through the API, as the exchange's backend may) leaves by mail, threaded.
    let r = app
        .http
        .post(app.url(&format!("/api/v1/tickets/{id}/messages")))
        .bearer_auth(&token)
        .json(&json!({"body": "您好，我们已为您解冻。"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // Two mails reach the customer: the acknowledgment of the case (a notification) and the reply.
    for _ in 0..200 {
        if mails(&sink).len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = mails(&sink);
    assert_eq!(out.len(), 2, "the acknowledgment and one mail for one reply: {out:?}");
    let parsed: Vec<_> =
        out.iter().map(|m| mail_parser::MessageParser::default().parse(m.as_bytes()).expect("parses")).collect();
    let ack = parsed
        .iter()
        .find(|m| m.subject().unwrap_or_default().contains("我们已收到您的工单"))
        .expect("an acknowledgment");
    assert_eq!(ack.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    assert_eq!(ack.in_reply_to().as_text(), Some("ref-7731@example.com"), "the acknowledgment is in the thread");
    let m = parsed.iter().find(|m| m.subject().unwrap_or_default().starts_with("Re: ")).expect("the reply");
    let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string();
    assert_eq!(to, "zhang.san@example.com");
    assert_eq!(m.from().and_then(|a| a.first()).and_then(|a| a.address()), Some(SUPPORT));
    assert_eq!(m.in_reply_to().as_text(), Some("ref-7731@example.com"), "In-Reply-To names the customer's mail");
    assert!(format!("{:?}", m.references()).contains("ref-7731@example.com"), "References carry the thread");
    let subject = m.subject().unwrap_or_default();
    assert!(subject.starts_with("Re: 账户被冻结") && subject.contains(&case), "subject: {subject}");
    let text = m.body_text(0).unwrap_or_default().to_string();
    assert!(text.contains("您好，我们已为您解冻。") && text.contains(&format!("工单编号：{case}")), "body: {text}");
    assert!(text.contains("绝不会向您索要"), "the reminder of what support never asks for, in Chinese: {text}");
    let reply_id = m.message_id().unwrap().to_string();

    // The customer answers that reply from their mail client: it joins the same case (no new one).
    let answer = [
        ("From", "Zhang.San@example.com"),
        ("To", SUPPORT),
        ("Subject", "Re: 账户被冻结"),
        ("Message-ID", "<ref-7731-2@example.com>"),
    ];
    let in_reply_to = format!("<{reply_id}>");
    tokio::task::spawn_blocking(move || {
        let mut h = answer.to_vec();
        h.push(("In-Reply-To", in_reply_to.as_str()));
        send_mail(port, &h, "谢谢，已经可以登录了。")
    })
    .await
    .unwrap();
    let mut joined = false;
    for _ in 0..100 {
        if format!("{:?}", app.store.timeline(&id, true).await.unwrap()).contains("谢谢，已经可以登录了") {
            joined = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(joined, "the answer joins the case it answers");
    assert_eq!(tickets(&app, &token).await.iter().filter(|t| t["kind"] == "email").count(), 1);

    // An auto-reply and a mail from the support address itself open nothing, and are noted with why.
    let auto = [
        ("From", "someone@example.com"),
        ("To", SUPPORT),
        ("Subject", "Out of office auto-7731"),
        ("Message-ID", "<auto-7731@example.com>"),
        ("Auto-Submitted", "auto-replied"),
    ];
    tokio::task::spawn_blocking(move || send_mail(port, &auto, "I am away.")).await.unwrap();
    let own =
        [("From", SUPPORT), ("To", SUPPORT), ("Subject", "loop-7731"), ("Message-ID", "<loop-7731@desk.example>")];
    tokio::task::spawn_blocking(move || send_mail(port, &own, "loop")).await.unwrap();
    let rejected = app.store.mail_rejections(10).await.unwrap();
    let reasons: Vec<&str> = rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("Auto-Submitted")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("support address")), "{reasons:?}");
    assert!(
        !tickets(&app, &token).await.iter().any(|t| {
            let s = t["subject"].as_str().unwrap_or("");
            s.contains("auto-7731") || s.contains("loop-7731")
        }),
        "no case from an auto-reply or a loop"
    );
    // Nothing more was mailed: the acknowledgment and one reply.
    assert_eq!(mails(&sink).len(), 2);
    jobs.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_becomes_a_case_and_the_reply_goes_out_threaded_sqlite() {
    a_mail_becomes_a_case_and_the_reply_goes_out_threaded(lifebuoy_testkit::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_becomes_a_case_and_the_reply_goes_out_threaded_postgres() {
    a_mail_becomes_a_case_and_the_reply_goes_out_threaded(lifebuoy_testkit::Backend::Postgres).await;
}

/// Sends one mail with smtplib and says how the listener answered the data: `250`, or the refusal's code and
/// text (`550 5.7.1 ...`). `html` adds an HTML alternative.
fn send_mail_answer(port: u16, headers: &[(&str, &str)], body: &str, html: Option<&str>) -> String {
    let script = r#"
import json, smtplib, sys
from email.message import EmailMessage
port, headers, body, html = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
m = EmailMessage()
for k, v in headers:
    m[k] = v
m.set_content(body)
if html:
    m.add_alternative(html, subtype="html")
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.send_message(m)
    print("250")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, &port.to_string(), &serde_json::to_string(headers).unwrap(), body, html.unwrap_or("")])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "smtplib failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn session(app: &TestApp, kind: &str, id: &str, lang: &str) -> (reqwest::Client, String) {
    let (token, csrf) = app.store.create_session(kind, id, 3_600_000).await.unwrap();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("cookie", format!("lb_session={token}; lb_lang={lang}").parse().unwrap());
    let c = reqwest::Client::builder().default_headers(h).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    (c, csrf)
}

/// Admins block a domain on `/console/mail`; its mail is refused with 550 5.7.1 and listed there with why; a
/// sender over the hourly limit hears 451 4.7.1; an HTML mail is shown sanitised, its quote folded, to the agent
/// and the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_senders_rate_limits_and_html_mail_over_smtp() {
    let app =
        spawn_app_configured(lifebuoy_testkit::Backend::Sqlite, |c| c.support_address = Some(SUPPORT.into())).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(lifebuoy_app::mail_in::serve_smtp(app.app.clone(), listener));
    let admin = app.agent("admin@desk.example", "A001", lifebuoy_domain::Role::Admin, &["support"]).await;
    let sup = app.agent("sup@desk.example", "S001", lifebuoy_domain::Role::Supervisor, &["support"]).await;
    let (console, csrf) = session(&app, "agent", &admin, "zh-Hans").await;

    // Only admins have the page.
    let (sv, sv_csrf) = session(&app, "agent", &sup, "en").await;
    assert_eq!(sv.get(app.url("/console/mail")).send().await.unwrap().status(), 403);
    let r = sv
        .post(app.url("/console/mail/block"))
        .header("origin", &app.base)
        .form(&[("_csrf", sv_csrf.as_str()), ("pattern", "@spam.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let page = console.get(app.url("/console/mail")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("收件管理") && page.contains("id=\"no-blocked\""), "{page}");
    assert!(page.contains("href=\"/console/mail\""), "admins find it in the menu");

    let r = console
        .post(app.url("/console/mail/block"))
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str()), ("pattern", "@Spam.Example"), ("note", "钓鱼邮件")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let bad = console
        .post(app.url("/console/mail/block"))
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str()), ("pattern", "not a domain")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.headers()["location"], "/console/mail?bad=1");

    let spam =
        [("From", "win@spam.example"), ("To", SUPPORT), ("Subject", "prize"), ("Message-ID", "<prize-1@spam.example>")];
    let answer = tokio::task::spawn_blocking(move || send_mail_answer(port, &spam, "click", None)).await.unwrap();
    assert!(answer.starts_with("550 5.7.1"), "{answer}");
    let page = console.get(app.url("/console/mail")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<code>@spam.example</code>") && page.contains("钓鱼邮件"), "{page}");
    // The reason in the admin's language, not the English kept for logs.
    assert!(page.contains("win@spam.example") && page.contains("发件人已被屏蔽（@spam.example）"), "{page}");
    assert!(!page.contains("blocked sender (@spam.example)"), "{page}");
    assert!(page.contains("已拒收（550）"), "{page}");

    // Over the hourly limit of new cases: 451, the sending server tries again later.
    for i in 0..lifebuoy_app::mail_in::NEW_CASES_PER_HOUR {
        let raw =
            format!("From: busy@example.org\r\nSubject: n{i}\r\nMessage-ID: <busy-{i}@example.org>\r\n\r\nhi\r\n");
        lifebuoy_app::mail_in::receive(&app.app, raw.as_bytes()).await.unwrap();
    }
    let busy = [
        ("From", "busy@example.org"),
        ("To", SUPPORT),
        ("Subject", "one more"),
        ("Message-ID", "<busy-x@example.org>"),
    ];
    let answer = tokio::task::spawn_blocking(move || send_mail_answer(port, &busy, "hi", None)).await.unwrap();
    assert!(answer.starts_with("451 4.7.1"), "{answer}");
    let page = console.get(app.url("/console/mail")).send().await.unwrap().text().await.unwrap();
    let limit = format!("同一发件人一小时内新建超过 {} 个工单", lifebuoy_app::mail_in::NEW_CASES_PER_HOUR);
    assert!(page.contains(&limit), "{page}");

    // An HTML mail: shown sanitised, the quote folded, in the console and in the portal.
    let html = r#"<div>My <b>deposit</b> html-5501 is missing.<script>alert(1)</script><img src="https://tracker.example/o.gif"></div>
<div class="gmail_quote">On Mon, Support wrote:<blockquote>old-answer-5501</blockquote></div>"#;
    let hm = [
        ("From", "html@example.org"),
        ("To", SUPPORT),
        ("Subject", "html-5501"),
        ("Message-ID", "<html-5501@example.org>"),
    ];
    let answer = tokio::task::spawn_blocking(move || {
        send_mail_answer(
            port,
            &hm,
            "My deposit html-5501 is missing.\n\nOn Mon, Support wrote:\n> old-answer-5501",
            Some(html),
        )
    })
    .await
    .unwrap();
    assert_eq!(answer, "250");
    let token = app.store.create_api_token("mail-html").await.unwrap();
    let t = wait_ticket(&app, &token, "html-5501").await;
    let id = t["id"].as_str().unwrap();
    let view = console.get(app.url(&format!("/console/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(view.contains("My <b>deposit</b> html-5501 is missing."), "{view}");
    assert!(view.contains("<details class=\"quoted\"><summary>显示引用的内容</summary>"), "{view}");
    assert!(!view.contains("alert(1)") && !view.contains("tracker.example"), "{view}");
    let customer = app.store.conversation(id).await.unwrap().unwrap().customer_id;
    let (portal, _) = session(&app, "customer", &customer, "en").await;
    let view = portal.get(app.url(&format!("/portal/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(view.contains("My <b>deposit</b> html-5501 is missing."), "{view}");
    assert!(view.contains("<summary>Show quoted text</summary>") && view.contains("old-answer-5501"), "{view}");
    let (hant, _) = session(&app, "agent", &admin, "zh-Hant").await;
    let view = hant.get(app.url(&format!("/console/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(view.contains("<summary>顯示引用的內容</summary>"), "{view}");
}
