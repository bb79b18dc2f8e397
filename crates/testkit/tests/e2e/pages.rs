//! The server-rendered pages: login with lockout, CSRF, languages, escaping, OpenAPI.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, PASSWORD, TestApp, on_both_backends};

async fn login_locks_after_repeated_failures(app: &TestApp) {
    app.agent("lock@x.dev", "L1", Role::AgentL1, &["support"]).await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let try_login = |pw: &'static str| {
        let c = c.clone();
        let url = app.url("/console/login");
        async move { c.post(url).form(&[("email", "lock@x.dev"), ("password", pw)]).send().await.unwrap() }
    };
    for _ in 0..5 {
        assert_eq!(try_login("wrong").await.status(), 401);
    }
    let r = try_login(PASSWORD).await;
    assert_eq!(r.status(), 401, "locked even with the right password");
    assert!(r.text().await.unwrap().contains("15"), "the page says for how long");
    let r =
        c.post(app.url("/console/login")).form(&[("email", "nobody@x.dev"), ("password", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
on_both_backends!(login_locks_after_repeated_failures_on, login_locks_after_repeated_failures);

async fn forms_need_the_session_token_and_pages_escape_content(app: &TestApp) {
    app.agent("a@x.dev", "A7", Role::Supervisor, &["support"]).await;
    let cust = app.customer_token("mallory");
    let (s, t) = crate::tickets::post(app, "/api/v1/tickets", &cust, serde_json::json!({"subject": "<script>alert(1)</script>", "body": "<img src=x onerror=alert(2)>", "category": "other"})).await;
    assert_eq!(s, 201);
    let id = t["id"].as_str().unwrap();
    let agent = app.agent_client("a@x.dev").await;
    let html = agent.get(app.url(&format!("/console/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("<script>alert(1)") && html.contains("&lt;script&gt;alert(1)"), "subject escaped");
    assert!(!html.contains("<img src=x") && html.contains("&lt;img src=x"), "body escaped");
    // A form post without the session's token is refused and changes nothing. It asks for another status than
    // the valid post below, so that neither can pass for the other.
    let before = crate::tickets::snapshot(app, id).await;
    let r = agent
        .post(app.url(&format!("/console/tickets/{id}/action")))
        .form(&[("_csrf", "forged"), ("op", "status"), ("value", "pending")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(crate::tickets::snapshot(app, id).await, before, "the forged post changed the ticket");
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = agent
        .post(app.url(&format!("/console/tickets/{id}/action")))
        .form(&[("_csrf", csrf.as_str()), ("op", "status"), ("value", "solved")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let t = app.store.conversation(id).await.unwrap().unwrap();
    assert_eq!(t.status, "solved");
}
on_both_backends!(
    forms_need_the_session_token_and_pages_escape_content_on,
    forms_need_the_session_token_and_pages_escape_content
);

async fn pages_speak_three_languages(app: &TestApp) {
    let get = |lang: &'static str| {
        let url = app.url("/portal");
        async move {
            reqwest::Client::new().get(url).header("accept-language", lang).send().await.unwrap().text().await.unwrap()
        }
    };
    assert!(get("zh-CN").await.contains("请问有什么可以帮您"));
    assert!(get("zh-TW").await.contains("請問有什麼可以幫您"));
    assert!(get("en-US").await.contains("How can we help?"));
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let html = c
        .get(app.url("/lang/zh-Hant?back=/portal"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("請問有什麼可以幫您"), "the switcher's cookie wins over Accept-Language");
}
on_both_backends!(pages_speak_three_languages_on, pages_speak_three_languages);

async fn openapi_documents_every_route(app: &TestApp) {
    let text = reqwest::get(app.url("/api/openapi.json")).await.unwrap().text().await.unwrap();
    // Served compact: integrators' scripts pass it around whole (one shell argument holds at most 128 KiB).
    assert!(text.len() < 128 * 1024, "openapi.json is {} bytes", text.len());
    assert!(!text.contains("\n "), "served compact");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    let src = include_str!("../../../web/src/api/mod.rs");
    for line in src.lines().filter(|l| l.trim_start().starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap();
        assert!(doc["paths"].get(format!("/api/v1{path}")).is_some(), "{path} is not in openapi.json");
    }
}
on_both_backends!(openapi_documents_every_route_on, openapi_documents_every_route);

async fn guests_sign_in_with_an_emailed_code(app: &TestApp) {
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r: serde_json::Value = c
        .post(app.url("/api/v1/guest/code"))
        .json(&serde_json::json!({"email": "Guest@Example.com"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = r["demo_code"].as_str().unwrap().to_string();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let bad = c
        .post(app.url("/api/v1/guest/verify"))
        .json(&serde_json::json!({"email": "Guest@example.com", "code": wrong}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let ok = c
        .post(app.url("/api/v1/guest/verify"))
        .json(&serde_json::json!({"email": "Guest@example.com", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let me: serde_json::Value = c.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["kind"].as_str(), me["customer"]["kind"].as_str()), (Some("customer"), Some("guest")));
    // A code is spent once used.
    let again = reqwest::Client::new()
        .post(app.url("/api/v1/guest/verify"))
        .json(&serde_json::json!({"email": "Guest@example.com", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
}
on_both_backends!(guests_sign_in_with_an_emailed_code_on, guests_sign_in_with_an_emailed_code, demo);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_codes_are_mailed_over_smtp() {
    for backend in lifebuoy_testkit::BOTH_BACKENDS {
        guest_code_mailed_over_smtp_on(*backend).await;
    }
}

async fn guest_code_mailed_over_smtp_on(backend: Backend) {
    let smtp = lifebuoy_testkit::SmtpPeer::start().await;
    let app = lifebuoy_testkit::spawn_app_full(
        backend,
        false,
        Some((smtp.url.clone(), "Support <support@example.com>".into())),
    )
    .await;
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r: serde_json::Value = c
        .post(app.url("/api/v1/guest/code"))
        .json(&serde_json::json!({"email": "li.lei@example.com"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("demo_code").is_none(), "outside demo mode the code only travels by mail");
    let mail = smtp.wait_for("To: li.lei@example.com").await;
    // The subject ends with the code (the trilingual body is base64 on the wire).
    let after = mail.split("Sign-in code:").nth(1).unwrap_or_else(|| panic!("{mail}"));
    let code: String = after.chars().filter(|ch| !ch.is_whitespace()).take(8).collect();
    assert!(code.chars().all(|ch| ch.is_ascii_digit()), "{mail}");
    let ok = c
        .post(app.url("/api/v1/guest/verify"))
        .json(&serde_json::json!({"email": "li.lei@example.com", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the mailed code signs the guest in");
    app.cleanup().await;
}
