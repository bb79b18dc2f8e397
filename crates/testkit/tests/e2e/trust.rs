//! Trust and safety (issue 16) on both backends: the exchange registers its official channels through the API and
//! admins through the console (CSRF-checked, admins only); `GET /api/v1/verify` accepts the officials however
//! they are written, flags real-style look-alikes with the official they imitate and leaves unrelated values
//! "not official" without one; agents' numbers are official while the agent is active; a report opens an urgent
//! case for the risk department. A recovery phrase sent in a ticket (subject, body, reply), a chat message or a
//! mail is stored redacted: not in the API's answers, the database's rows, the ticket search or an export; the
//! conversation carries a `secret_redacted` event the customer and the agents see, and the case the risk team's
//! tag.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{TestApp, on_both_backends};
use serde_json::{Value, json};

const PHRASE: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn verify(app: &TestApp, value: &str) -> Value {
    let (s, v) = call(app.http.get(app.url("/api/v1/verify")).query(&[("value", value)])).await;
    assert_eq!(s, 200, "{value}: {v}");
    v
}

/// The demo exchange's registry, as its backend registers it.
async fn register(app: &TestApp) -> String {
    let token = app.integration_token().await;
    for (kind, value, label) in [
        ("domain", "Demo.Lifebuoy.dev", "Official website"),
        ("email", "Support@demo.lifebuoy.dev", "Support email"),
        ("phone", "+86 400-123-4567", "Support hotline"),
        ("telegram", "https://t.me/LifebuoyDemo", "Official Telegram"),
        ("x", "@LifebuoyDemo", "Official X"),
        ("domain", "okx.com", "Partner exchange"),
        ("domain", "binance.com", "Partner exchange"),
    ] {
        let (s, v) = call(
            app.http
                .post(app.url("/api/v1/trust/channels"))
                .bearer_auth(&token)
                .json(&json!({"kind": kind, "value": value, "label": label})),
        )
        .await;
        assert_eq!(s, 201, "{value}: {v}");
    }
    token
}

async fn official_channels_and_lookalikes(app: &TestApp) {
    let token = register(app).await;
    // Stored in normal form.
    let (_, list) = call(app.http.get(app.url("/api/v1/trust/channels")).bearer_auth(&token)).await;
    let values: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["value"].as_str().unwrap()).collect();
    for v in ["demo.lifebuoy.dev", "support@demo.lifebuoy.dev", "+864001234567", "lifebuoydemo"] {
        assert!(values.contains(&v), "{v} in {values:?}");
    }
    // Customers may neither read nor edit the registry.
    let customer = app.customer_token("trust-cust");
    let (s, _) = call(app.http.get(app.url("/api/v1/trust/channels")).bearer_auth(&customer)).await;
    assert_eq!(s, 403);
    let (s, _) = call(
        app.http
            .post(app.url("/api/v1/trust/channels"))
            .bearer_auth(&customer)
            .json(&json!({"kind": "domain", "value": "evil.example", "label": "x"})),
    )
    .await;
    assert_eq!(s, 403);

    app.agent("trust.a1@x.dev", "A1024", Role::AgentL1, &["support"]).await;
    for (value, kind) in [
        ("demo.lifebuoy.dev", "domain"),
        ("https://WWW.demo.lifebuoy.dev/help/zh-Hans?x=1", "domain"),
        ("help.demo.lifebuoy.dev", "domain"),
        ("SUPPORT@Demo.Lifebuoy.dev", "email"),
        ("+86 400 123 4567", "phone"),
        ("0086-400-123-4567", "phone"),
        ("@lifebuoydemo", "telegram"),
        ("t.me/LifebuoyDemo", "telegram"),
        ("https://x.com/LifebuoyDemo", "x"),
        ("工号 A1024", "agent_no"),
        ("a1024", "agent_no"),
    ] {
        let v = verify(app, value).await;
        assert_eq!(v["official"], true, "{value}: {v}");
        assert_eq!(v["kind"], kind, "{value}: {v}");
        assert!(v["label"].is_string() && v.get("lookalike_of").is_none(), "{value}: {v}");
    }
    // Real-style look-alikes, each named with the official it imitates.
    for (value, of) in [
        ("https://demo-lifebuoy-support.dev/login", "demo.lifebuoy.dev"),
        ("demo-lifebuoy.dev", "demo.lifebuoy.dev"),
        ("demo.lifebouy.dev", "demo.lifebuoy.dev"),
        ("demo.lifebuoy.dev.account-verify.top", "demo.lifebuoy.dev"),
        ("lifebuoy-demo-help.com", "demo.lifebuoy.dev"),
        ("dеmo.lifebuoy.dev", "demo.lifebuoy.dev"), // Cyrillic е
        ("okx-support-help.com", "okx.com"),
        ("https://www.okx-cn.com/", "okx.com"),
        ("0kx.com", "okx.com"),
        ("оkx.com", "okx.com"), // Cyrillic о
        ("oxk.com", "okx.com"),
        ("binnance.com", "binance.com"),
        ("secure-binance.com", "binance.com"),
        ("bіnance.com", "binance.com"), // Ukrainian і
        ("support@demo-lifebuoy.dev", "support@demo.lifebuoy.dev"),
        ("suppport@demo.lifebuoy.dev", "support@demo.lifebuoy.dev"),
        ("@LifebuoyDemo_Support", "@lifebuoydemo"),
        ("t.me/LifebuoyDem0", "@lifebuoydemo"),
    ] {
        let v = verify(app, value).await;
        assert_eq!(v["official"], false, "{value}: {v}");
        assert_eq!(v["lookalike_of"], of, "{value}: {v}");
    }
    // Unrelated values: not official, and no look-alike.
    for value in [
        "google.com",
        "https://github.com/rust-lang/rust",
        "etherscan.io",
        "finance.yahoo.com",
        "alice@gmail.com",
        "+1 415 555 0100",
        "@someone_else",
        "工号 A1025",
    ] {
        let v = verify(app, value).await;
        assert_eq!(v["official"], false, "{value}: {v}");
        assert!(v.get("lookalike_of").is_none(), "{value}: {v}");
    }
    let (s, _) = call(app.http.get(app.url("/api/v1/verify?value="))).await;
    assert_eq!(s, 422);

    // The one-click report: an urgent security case for the risk department, the customer's own.
    let (s, r) = call(
        app.http
            .post(app.url("/api/v1/verify/report"))
            .bearer_auth(&customer)
            .json(&json!({"value": "https://demo-lifebuoy-support.dev/login", "note": "Telegram 上有人发给我的"})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["verdict"]["lookalike_of"], "demo.lifebuoy.dev");
    let case = r["case_number"].as_str().unwrap().to_string();
    let (_, t) = call(app.http.get(app.url(&format!("/api/v1/tickets/{case}"))).bearer_auth(&customer)).await;
    assert_eq!(t["department_id"], "risk", "{t}");
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["category"], "security");
    assert!(t["tags"].as_array().unwrap().contains(&json!("scam-report")), "{t}");
    assert!(t["timeline"][0]["body"].as_str().unwrap().contains("demo.lifebuoy.dev"));
    // Anyone may report (filed as an anonymous report); an official channel is not reported.
    let (s, _) =
        call(app.http.post(app.url("/api/v1/verify/report")).json(&json!({"value": "okx-support-help.com"}))).await;
    assert_eq!(s, 201);
    let (s, v) =
        call(app.http.post(app.url("/api/v1/verify/report")).json(&json!({"value": "demo.lifebuoy.dev"}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("official_channel")));
}
on_both_backends!(official_channels_and_lookalikes_on, official_channels_and_lookalikes);

/// Every text column a message or event can land in, searched straight in the database.
async fn rows_holding(app: &TestApp, needle: &str) -> i64 {
    use sqlx::Connection;
    let q = "SELECT (SELECT COUNT(*) FROM messages WHERE body LIKE $1) + (SELECT COUNT(*) FROM events WHERE data LIKE $1) \
             + (SELECT COUNT(*) FROM conversations WHERE subject LIKE $1)";
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

fn redacted_event(timeline: &Value) -> Option<&Value> {
    timeline.as_array().unwrap().iter().find(|i| i["kind"] == "secret_redacted")
}

async fn secrets_are_redacted_before_storage(app: &TestApp) {
    let customer = app.customer_token("trust-seed");
    let agent = app.agent("trust.sup@x.dev", "S7001", Role::Supervisor, &["support", "risk"]).await;
    let _ = agent;
    // A ticket through the API: the phrase in the body and in the subject.
    let (s, t) = call(app.http.post(app.url("/api/v1/tickets")).bearer_auth(&customer).json(&json!({
        "subject": format!("help {PHRASE}"),
        "body": format!("my recovery words:\n1. {}\nplease check", PHRASE.replace(' ', "  ")),
        "category": "security",
    })))
    .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_string();
    let (_, got) = call(app.http.get(app.url(&format!("/api/v1/tickets/{id}"))).bearer_auth(&customer)).await;
    let text = got.to_string();
    assert!(!text.contains("sausage") && !text.contains("wave  sausage"), "{text}");
    assert!(got["subject"].as_str().unwrap().contains("[hidden: looks like a recovery phrase]"), "{got}");
    assert!(got["timeline"][0]["body"].as_str().unwrap().contains("please check"), "the rest is kept: {got}");
    let ev = redacted_event(&got["timeline"]).expect("the customer is told");
    assert_eq!(ev["data"], json!({"seq": 1, "kinds": ["mnemonic"]}));
    assert!(got["tags"].as_array().unwrap().contains(&json!("secret-redacted")), "{got}");

    // A reply with the Chinese phrase written apart, and a password.
    let zh = "的 一 是 在 不 了 有 和 人 这 中 大 为 上";
    let (s, r) = call(
        app.http
            .post(app.url(&format!("/api/v1/tickets/{id}/messages")))
            .bearer_auth(&customer)
            .json(&json!({"body": format!("助记词：{zh}，登录密码：Abc12345!")})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let (_, got) = call(app.http.get(app.url(&format!("/api/v1/tickets/{id}"))).bearer_auth(&customer)).await;
    let last = got["timeline"].as_array().unwrap().iter().rfind(|i| i["type"] == "message").unwrap().clone();
    let body = last["body"].as_str().unwrap();
    assert!(!body.contains(zh) && !body.contains("Abc12345"), "{body}");
    let kinds: Vec<&Value> =
        got["timeline"].as_array().unwrap().iter().filter(|i| i["kind"] == "secret_redacted").collect();
    assert_eq!(kinds.len(), 2, "{got}");
    assert_eq!(kinds[1]["data"]["kinds"], json!(["mnemonic", "password"]));

    // A chat message over the socket.
    let (_, session) =
        call(app.http.post(app.url("/api/v1/chat/session")).json(&json!({"identity_token": customer, "lang": "en"})))
            .await;
    let (mut ws, _) = app.customer_ws(session["token"].as_str().expect("a chat session"), None).await;
    ws.send(json!({"type": "send", "client_id": "c-seed", "body": format!("seed: {PHRASE}")})).await;
    let ack = ws.recv_until("ack", |v| v["type"] == "ack" && v["client_id"] == "c-seed").await;
    let cid = ack["conversation_id"].as_str().unwrap().to_string();
    let echo = ws.recv_until("own message", |v| v["type"] == "msg" && v["client_id"] == "c-seed").await;
    assert!(!echo.to_string().contains("sausage"), "{echo}");
    ws.recv_until("the notice", |v| v["type"] == "event" && v["kind"] == "secret_redacted").await;
    ws.close().await;

    // A mail.
    let raw = format!(
        "From: Mail Seed <seed@example.com>\r\nTo: support@desk.example\r\nSubject: wallet\r\nMessage-ID: <seed-1@example.com>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello, here are my words {PHRASE} thanks\r\n"
    );
    let got = lifebuoy_app::mail_in::receive(&app.app, raw.as_bytes()).await.unwrap();
    let lifebuoy_app::mail_in::Received::Opened { conversation_id: mail_case, .. } = got else { panic!("{got:?}") };
    let tl = app.store.timeline(&mail_case, true).await.unwrap();
    let tl = serde_json::to_value(&tl).unwrap();
    assert!(!tl.to_string().contains("sausage") && redacted_event(&tl).is_some(), "{tl}");

    // Nowhere in the database, the agents' search or an export.
    assert_eq!(rows_holding(app, "sausage").await, 0);
    assert_eq!(rows_holding(app, "Abc12345").await, 0);
    let sup = app.agent_client("trust.sup@x.dev").await;
    let (_, found) = call(sup.get(app.url("/api/v1/tickets?q=sausage"))).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(0), "{found}");
    let export = app
        .http
        .get(app.url("/api/v1/records/export"))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(export.contains("secret_redacted") && !export.contains("sausage"));
    // The agent sees the flag on the case page, without the secret.
    let page = sup.get(app.url(&format!("/console/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("badge-risk") && !page.contains("sausage"), "the flag shows");
    let _ = cid;
}
on_both_backends!(secrets_are_redacted_before_storage_on, secrets_are_redacted_before_storage);

async fn session(app: &TestApp, id: &str) -> (reqwest::Client, String) {
    let (token, csrf) = app.store.create_session("agent", id, 3_600_000).await.unwrap();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("cookie", format!("lb_session={token}; lb_lang=zh-Hans").parse().unwrap());
    let c = reqwest::Client::builder().default_headers(h).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    (c, csrf)
}

async fn admins_keep_the_registry_in_the_console(app: &TestApp) {
    let admin = app.agent("trust.admin@x.dev", "AD01", Role::Admin, &["support"]).await;
    let l1 = app.agent("trust.l1@x.dev", "L101", Role::AgentL1, &["support"]).await;
    let (console, csrf) = session(app, &admin).await;
    let add = |c: reqwest::Client, csrf: String, value: &'static str| async move {
        c.post(app.url("/console/trust/add"))
            .header("origin", &app.base)
            .form(&[("_csrf", csrf.as_str()), ("kind", "domain"), ("value", value), ("label", "官方网站")])
            .send()
            .await
            .unwrap()
    };
    // Without the form's token: refused.
    let r = add(console.clone(), "wrong".into(), "desk.example.com").await;
    assert_eq!(r.status(), 403);
    let r = add(console.clone(), csrf.clone(), "HTTPS://Desk.Example.com/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(verify(app, "desk.example.com").await["official"], true);
    let bad = add(console.clone(), csrf.clone(), "not a domain").await;
    assert_eq!(bad.headers()["location"], "/console/trust?bad=1");
    let page = console.get(app.url("/console/trust")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("desk.example.com") && page.contains("id=\"add-form\""), "{page}");
    // Agents read it; only admins edit.
    let (agent, agent_csrf) = session(app, &l1).await;
    let page =
        agent.get(app.url("/console/trust?check=desk-example-login.com")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("desk.example.com") && !page.contains("id=\"add-form\""), "{page}");
    assert!(page.contains("id=\"console-verdict\"") && page.contains("仿冒"), "the quick check flags it: {page}");
    let r = add(agent, agent_csrf, "evil.example.com").await;
    assert_eq!(r.status(), 403);
    assert_eq!(verify(app, "evil.example.com").await["official"], false);
    // Removed: no longer official.
    let id = app.store.trust_channels().await.unwrap().into_iter().find(|e| e.value == "desk.example.com").unwrap().id;
    let r = console
        .post(app.url("/console/trust/remove"))
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str()), ("id", id.as_str()), ("value", "desk.example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(verify(app, "desk.example.com").await["official"], false);

    // The public page: the verdict, the look-alike named, the report form; the help center links to it.
    register(app).await;
    let page = app
        .http
        .get(app.url("/help/zh-Hans/official?value=https%3A%2F%2Fdemo-lifebuoy-support.dev%2Flogin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-official=\"false\"") && page.contains("仿冒我们的官方渠道 demo.lifebuoy.dev"),
        "{page}"
    );
    assert!(page.contains("id=\"report-form\""));
    let home = app.http.get(app.url("/help/zh-Hant")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/help/zh-Hant/official") && home.contains("查證官方管道"), "{home}");
}
on_both_backends!(admins_keep_the_registry_in_the_console_on, admins_keep_the_registry_in_the_console);

/// A local HTTP receiver standing for the exchange's freeze endpoint: it checks each call's `Lifebuoy-Signature`
/// over the raw body it received, answers with `status` (the first `fail_first` calls with 503), and keeps what it
/// saw: (signature valid, headers, body).
struct Receiver {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(bool, String, String)>>>,
}

async fn receiver(secret: &'static str, status: u16, fail_first: usize) -> Receiver {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/exchange/freeze", listener.local_addr().unwrap());
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(bool, String, String)>>> = Default::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then the body by its Content-Length.
            let (head, body) = loop {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if rest.len() >= len || n == 0 {
                        break (head.to_string(), rest[..len.min(rest.len())].to_string());
                    }
                }
            };
            let sig = head
                .lines()
                .find_map(|l| l.strip_prefix("Lifebuoy-Signature: ").or_else(|| l.strip_prefix("lifebuoy-signature: ")))
                .unwrap_or("")
                .to_string();
            let now = chrono::Utc::now().timestamp();
            let valid = lifebuoy_app::signing::verify(secret.as_bytes(), &sig, body.as_bytes(), now, 300);
            let n = {
                let mut l = log.lock().unwrap();
                l.push((valid, head.clone(), body.clone()));
                l.len()
            };
            let (code, answer) = if !valid {
                (401, r#"{"error":"bad signature"}"#.to_string())
            } else if n <= fail_first {
                (503, r#"{"error":"busy"}"#.to_string())
            } else {
                (status, r#"{"frozen":true,"reference":"FRZ-20261130-7"}"#.to_string())
            };
            let reply = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    Receiver { url, seen }
}

fn fresh_token(sub: &str, auth_time: i64) -> String {
    lifebuoy_web::auth::sign_fresh_identity(
        lifebuoy_testkit::SECRET,
        &lifebuoy_web::auth::IdentityClaims {
            sub: sub.into(),
            email: Some(format!("{sub}@example.com")),
            name: None,
            lang: Some("zh-CN".into()),
            exp: chrono::Utc::now().timestamp() + 600,
            anti_phishing_code: None,
        },
        auth_time,
    )
}

/// "My account may be stolen": an urgent case for the risk department on top of its queue; a stale or another
/// customer's token does not confirm; a fresh one does, and the job calls the receiver (retrying through a 503)
/// with a valid signature; the answer lands in the case with the next steps, in the customer's language.
async fn emergency_freezes_through_a_signed_call(backend: lifebuoy_testkit::Backend) {
    const SECRET: &str = "freeze-shared-secret";
    let rx = receiver(SECRET, 200, 1).await;
    let url = rx.url.clone();
    let app = lifebuoy_testkit::spawn_app_configured(backend, move |c| {
        c.freeze = Some(lifebuoy_app::trust::emergency::FreezeEndpoint { url, secret: SECRET.into() })
    })
    .await;
    let jobs = app.app.start_jobs().await.unwrap();
    let customer = lifebuoy_testkit::identity_token("trust-stolen", "zh-CN", 3600);
    // Another case first, so "top of the queue" means something.
    call(app.http.post(app.url("/api/v1/tickets")).bearer_auth(&customer).json(&json!({
        "subject": "KYC 审核", "body": "审核多久", "category": "kyc"
    })))
    .await;
    let (s, opened) = call(
        app.http
            .post(app.url("/api/v1/trust/emergency"))
            .bearer_auth(&customer)
            .json(&json!({"note": "收到陌生登录提醒"})),
    )
    .await;
    assert_eq!(s, 201, "{opened}");
    let id = opened["emergency"]["id"].as_str().unwrap().to_string();
    assert_eq!(opened["emergency"]["state"], "awaiting_confirmation");
    let case = opened["case_number"].as_str().unwrap().to_string();
    let sup = app.agent("trust.risk@x.dev", "R7001", Role::Supervisor, &["risk"]).await;
    let _ = sup;
    let risk = app.agent_client("trust.risk@x.dev").await;
    let (_, queue) = call(risk.get(app.url("/api/v1/tickets?department=risk&sort=priority"))).await;
    assert_eq!(queue["items"][0]["case_number"], case.as_str(), "urgent, on top: {queue}");
    assert_eq!(queue["items"][0]["priority"], "urgent");

    // Not confirmed by a stale sign-in, nor by someone else's, nor by a token without auth_time.
    let now = chrono::Utc::now().timestamp();
    let confirm = |token: String| {
        app.http
            .post(app.url(&format!("/api/v1/trust/emergency/{id}/confirm")))
            .bearer_auth(&customer)
            .json(&json!({"token": token}))
    };
    let (s, v) = call(confirm(fresh_token("trust-stolen", now - 3600))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("not_fresh")), "{v}");
    let (s, _) = call(confirm(fresh_token("someone-else", now))).await;
    assert_eq!(s, 403);
    let (s, v) = call(confirm(customer.clone())).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("not_fresh")), "{v}");
    assert!(rx.seen.lock().unwrap().is_empty(), "nothing called before the confirmation");

    let (s, v) = call(confirm(fresh_token("trust-stolen", now - 20))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "confirmed");
    let (s, v) = call(confirm(fresh_token("trust-stolen", now))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("already_done")));

    // The job calls the receiver (its first answer 503: retried after the backoff) and records the answer.
    let mut state = Value::Null;
    for _ in 0..600 {
        let (_, e) = call(app.http.get(app.url(&format!("/api/v1/trust/emergency/{id}"))).bearer_auth(&customer)).await;
        state = e;
        if state["state"] == "frozen" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state["state"], "frozen", "{state}");
    assert_eq!(state["answer_status"], 200);
    assert!(state["answer"].as_str().unwrap().contains("FRZ-20261130-7"));
    let seen = rx.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one 503, then the answer");
    for (valid, head, body) in &seen {
        assert!(valid, "a valid signature: {head}");
        assert!(head.contains(&format!("Idempotency-Key: {id}")), "{head}");
        let b: Value = serde_json::from_str(body).unwrap();
        assert_eq!(b["type"], "account.freeze");
        assert_eq!(b["customer_id"], "trust-stolen");
        assert_eq!(b["case_number"], case.as_str());
    }
    // The case tells the customer, in their language, what happened and what to do next.
    let (_, t) = call(app.http.get(app.url(&format!("/api/v1/tickets/{case}"))).bearer_auth(&customer)).await;
    let tl = t["timeline"].as_array().unwrap();
    assert!(tl.iter().any(|i| i["kind"] == "freeze_requested"), "{t}");
    let answered = tl.iter().find(|i| i["kind"] == "freeze_answered").expect("answer recorded");
    assert_eq!(answered["data"]["frozen"], true);
    let last = tl.iter().rfind(|i| i["type"] == "message").unwrap();
    assert!(last["body"].as_str().unwrap().contains("交易所已冻结您的账户"), "{last}");
    assert_eq!(t["department_id"], "risk");
    jobs.shutdown().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_freezes_through_a_signed_call_on_sqlite() {
    emergency_freezes_through_a_signed_call(lifebuoy_testkit::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_freezes_through_a_signed_call_on_postgres() {
    emergency_freezes_through_a_signed_call(lifebuoy_testkit::Backend::Postgres).await;
}

/// Step-up: the agent asks before a 2FA reset; the customer re-verifies with a fresh sign-in; the conversation
/// records both, and when.
async fn step_up_is_recorded(app: &TestApp) {
    let customer = lifebuoy_testkit::identity_token("trust-step", "en", 3600);
    let (_, t) = call(app.http.post(app.url("/api/v1/tickets")).bearer_auth(&customer).json(&json!({
        "subject": "reset my 2FA", "body": "lost my phone", "category": "security"
    })))
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    app.agent("trust.step@x.dev", "T5001", Role::AgentL1, &["support"]).await;
    let agent = app.agent_client("trust.step@x.dev").await;
    let (s, step) = call(
        agent
            .post(app.url("/api/v1/trust/step-up"))
            .header("origin", &app.base)
            .json(&json!({"conversation_id": id, "action": "2fa_reset"})),
    )
    .await;
    assert_eq!(s, 201, "{step}");
    let step_id = step["id"].as_str().unwrap().to_string();
    // Customers do not ask; a stale sign-in does not complete it.
    let (s, _) = call(
        app.http
            .post(app.url("/api/v1/trust/step-up"))
            .bearer_auth(&customer)
            .json(&json!({"conversation_id": id, "action": "unlock"})),
    )
    .await;
    assert_eq!(s, 403);
    let now = chrono::Utc::now().timestamp();
    let complete = |token: String| {
        app.http
            .post(app.url(&format!("/api/v1/trust/step-up/{step_id}/complete")))
            .bearer_auth(&customer)
            .json(&json!({"token": token}))
    };
    let (s, _) = call(complete(fresh_token("trust-step", now - 1000))).await;
    assert_eq!(s, 401);
    let (s, done) = call(complete(fresh_token("trust-step", now - 5))).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["auth_time"], now - 5);
    let (_, t) = call(app.http.get(app.url(&format!("/api/v1/tickets/{id}"))).bearer_auth(&customer)).await;
    let tl = t["timeline"].as_array().unwrap();
    let asked = tl.iter().find(|i| i["kind"] == "step_up_requested").expect("asked");
    assert_eq!(asked["data"]["action"], "2fa_reset");
    let completed = tl.iter().find(|i| i["kind"] == "step_up_completed").expect("recorded");
    assert_eq!(completed["data"]["auth_time"], now - 5);
    assert!(completed["seq"].as_i64() > asked["seq"].as_i64());
}
on_both_backends!(step_up_is_recorded_on, step_up_is_recorded);
