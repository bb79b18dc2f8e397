//! The fixes of the outside security review (issue 9): guessing guest codes and passwords, open redirects,
//! login CSRF, `Origin: null`, rate limits, sockets outliving their session, and the hardening around them.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, PASSWORD, SECRET, TestApp, on_both_backends, spawn_app_configured};
use serde_json::{Value, json};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn json_post(app: &TestApp, path: &str, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = app.http.post(app.url(path)).json(&body).send().await.unwrap();
    let (s, h) = (r.status().as_u16(), r.headers().clone());
    (s, r.json().await.unwrap_or(Value::Null), h)
}

fn retry_after(h: &reqwest::header::HeaderMap) -> i64 {
    h.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("a Retry-After header")
}

// ---------------------------------------------------------------------------------------------------------
// Finding 1: guest codes

async fn guest_code_lock_holds_across_new_codes(app: &TestApp) {
    let v = "victim@example.com";
    let (s, r, _) = json_post(app, "/api/v1/guest/code", json!({"email": v})).await;
    assert_eq!(s, 200, "{r}");
    let code = r["demo_code"].as_str().unwrap().to_string();
    assert!(code.len() == 8 && code.chars().all(|c| c.is_ascii_digit()), "8-digit codes: {code}");
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    for i in 1..=4 {
        let (s, e, _) = json_post(app, "/api/v1/guest/verify", json!({"email": v, "code": wrong})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (401, Some("invalid_code")), "wrong code {i}");
    }
    let (s, e, h) = json_post(app, "/api/v1/guest/verify", json!({"email": v, "code": wrong})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (429, Some("locked")), "the fifth wrong code locks: {e}");
    assert!(retry_after(&h) >= 14 * 60, "locked for 15 minutes");
    // Asking for a new code neither unlocks nor resets the count, and the code the guest had no longer works.
    let (s, r, h) = json_post(app, "/api/v1/guest/code", json!({"email": v})).await;
    assert_eq!((s, r["error"]["code"].as_str()), (429, Some("locked")), "{r}");
    assert!(r.get("demo_code").is_none());
    assert!(retry_after(&h) >= 14 * 60);
    for c in [code.as_str(), wrong] {
        let (s, e, _) = json_post(app, "/api/v1/guest/verify", json!({"email": v, "code": c})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (429, Some("locked")), "still locked");
    }
    // Other addresses are not affected.
    let (s, _, _) = json_post(app, "/api/v1/guest/code", json!({"email": "bystander@example.com"})).await;
    assert_eq!(s, 200);

    // Parallel guesses cannot slip past the count: of twelve, at most four are checked and answered "wrong".
    let w = "parallel@example.com";
    let (_, r, _) = json_post(app, "/api/v1/guest/code", json!({"email": w})).await;
    let code = r["demo_code"].as_str().unwrap().to_string();
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    let guesses = (0..12).map(|_| json_post(app, "/api/v1/guest/verify", json!({"email": w, "code": wrong})));
    let statuses: Vec<u16> = futures::future::join_all(guesses).await.into_iter().map(|(s, _, _)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 4, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 8, "{statuses:?}");
    let (s, _, _) = json_post(app, "/api/v1/guest/verify", json!({"email": w, "code": code})).await;
    assert_eq!(s, 429, "the right code after the lock");

    // A second code right after the first waits (back-off), and says for how long.
    let x = "hasty@example.com";
    assert_eq!(json_post(app, "/api/v1/guest/code", json!({"email": x})).await.0, 200);
    let (s, e, h) = json_post(app, "/api/v1/guest/code", json!({"email": x})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (429, Some("rate_limited")), "{e}");
    assert!((1..=30).contains(&retry_after(&h)));
}

async fn guest_lock_demo(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.demo = true).await;
    guest_code_lock_holds_across_new_codes(&app).await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_code_lock_holds_across_new_codes_sqlite() {
    guest_lock_demo(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_code_lock_holds_across_new_codes_postgres() {
    guest_lock_demo(Backend::Postgres).await;
}

#[tokio::test]
async fn guest_codes_are_capped_per_client_address() {
    let app = spawn_app_configured(Backend::Sqlite, |c| c.demo = true).await;
    for i in 0..20 {
        let (s, r, _) = json_post(&app, "/api/v1/guest/code", json!({"email": format!("g{i}@example.com")})).await;
        assert_eq!(s, 200, "code {i}: {r}");
    }
    let (s, e, h) = json_post(&app, "/api/v1/guest/code", json!({"email": "g20@example.com"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (429, Some("rate_limited")), "{e}");
    assert!(retry_after(&h) > 50 * 60, "until the hour is over");
    app.cleanup().await;
}

#[tokio::test]
async fn guest_lockout_is_mailed_to_the_address() {
    let smtp = lifebuoy_testkit::SmtpPeer::start().await;
    let url = smtp.url.clone();
    let app =
        spawn_app_configured(Backend::Sqlite, |c| c.smtp = Some((url, "Support <support@example.com>".into()))).await;
    assert_eq!(json_post(&app, "/api/v1/guest/code", json!({"email": "owner@example.com"})).await.0, 200);
    for _ in 0..5 {
        json_post(&app, "/api/v1/guest/verify", json!({"email": "owner@example.com", "code": "12345678"})).await;
    }
    let mail = smtp.wait_for("Sign-in paused").await;
    assert!(mail.contains("To: owner@example.com"), "{mail}");
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------------------
// Finding 2: console sign-in

fn notice(html: &str) -> String {
    html.split("notice-err\">").nth(1).and_then(|s| s.split('<').next()).unwrap_or_default().to_string()
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, String) {
    let r = no_redirects()
        .post(app.url("/console/login"))
        .header("origin", &app.base)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn parallel_logins_cannot_pass_the_lock(app: &TestApp) {
    app.agent("par@x.dev", "P7", Role::AgentL1, &["support"]).await;
    // Fifteen wrong passwords at once: each attempt is counted before its password is checked, so only five
    // are ever checked and the account locks.
    let burst = futures::future::join_all((0..15).map(|_| login(app, "par@x.dev", "wrong password"))).await;
    assert!(burst.iter().all(|(s, _)| *s == 401), "{:?}", burst.iter().map(|b| b.0).collect::<Vec<_>>());
    let rec = app.store.reserve_login_attempt("nobody-else@x.dev", 5, 1000).await.unwrap();
    assert!(rec.is_none(), "unknown emails reserve nothing");
    let (s, locked) = login(app, "par@x.dev", PASSWORD).await;
    assert_eq!(s, 401, "locked even with the right password");
    // Locked and unknown accounts get the same words (the email is not revealed either way).
    let (s, unknown) = login(app, "no-such-agent@x.dev", PASSWORD).await;
    assert_eq!(s, 401);
    assert_eq!(notice(&locked), notice(&unknown));
    assert!(notice(&locked).contains("15"), "the page says for how long: {}", notice(&locked));

    // An admin unlocks at once; other agents cannot.
    let id = app.store.agents().await.unwrap().into_iter().find(|a| a.email == "par@x.dev").unwrap().id;
    app.agent("boss@x.dev", "B7", Role::Admin, &["support"]).await;
    app.agent("peer@x.dev", "Q7", Role::Supervisor, &["support"]).await;
    let unlock = |cookie: String| {
        let url = app.url(&format!("/api/v1/agents/{id}/unlock"));
        let origin = app.base.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("cookie", cookie)
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(unlock(app.agent_cookie("peer@x.dev").await).await, 403);
    assert_eq!(unlock(app.agent_cookie("boss@x.dev").await).await, 200);
    assert_eq!(login(app, "par@x.dev", PASSWORD).await.0, 303, "unlocked");
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/agents/nope/unlock"))
        .bearer_auth(app.integration_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
on_both_backends!(parallel_logins_cannot_pass_the_lock_on, parallel_logins_cannot_pass_the_lock);

/// The count of failed logins after a burst: exactly the five attempts that were let through.
async fn a_burst_counts_only_what_it_checks(app: &TestApp) {
    app.agent("cnt@x.dev", "C7", Role::AgentL1, &["support"]).await;
    futures::future::join_all((0..12).map(|_| login(app, "cnt@x.dev", "nope nope"))).await;
    let id = app.store.agents().await.unwrap().into_iter().find(|a| a.email == "cnt@x.dev").unwrap().id;
    assert!(app.store.unlock_agent(&id).await.unwrap());
    // After an unlock the count starts from zero: four wrong, then the right one gets in.
    for _ in 0..4 {
        assert_eq!(login(app, "cnt@x.dev", "nope nope").await.0, 401);
    }
    assert_eq!(login(app, "cnt@x.dev", PASSWORD).await.0, 303);
}
on_both_backends!(a_burst_counts_only_what_it_checks_on, a_burst_counts_only_what_it_checks);

/// A lock that has ended is forgotten: the count starts again.
async fn a_lock_that_ended_starts_the_count_again(app: &TestApp) {
    app.agent("exp@x.dev", "E7", Role::AgentL1, &["support"]).await;
    let s = &app.store;
    assert_eq!(s.reserve_login_attempt("exp@x.dev", 2, 300).await.unwrap().unwrap().failed_logins, 1);
    assert_eq!(s.reserve_login_attempt("EXP@x.dev ", 2, 300).await.unwrap().unwrap().failed_logins, 2);
    assert!(s.reserve_login_attempt("exp@x.dev", 2, 300).await.unwrap().is_none(), "locked");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let rec = s.reserve_login_attempt("exp@x.dev", 2, 300).await.unwrap().expect("the lock ended");
    assert_eq!(rec.failed_logins, 1, "the count started again");
    assert_eq!(rec.locked_until, None);
}
on_both_backends!(a_lock_that_ended_starts_the_count_again_on, a_lock_that_ended_starts_the_count_again);

#[tokio::test]
async fn sign_in_failures_are_limited_per_client_address() {
    let app = lifebuoy_testkit::spawn_app(Backend::Sqlite).await;
    app.agent("real@x.dev", "R7", Role::AgentL1, &["support"]).await;
    // Good sign-ins do not count.
    for _ in 0..3 {
        assert_eq!(login(&app, "real@x.dev", PASSWORD).await.0, 303);
    }
    // One guess at each of twenty accounts, then even a right password from that address waits.
    for i in 0..20 {
        assert_eq!(login(&app, &format!("guess{i}@x.dev"), "123456").await.0, 401, "guess {i}");
    }
    let r = no_redirects()
        .post(app.url("/console/login"))
        .form(&[("email", "real@x.dev"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------------------
// Finding 5: open redirect

#[tokio::test]
async fn the_language_switch_follows_only_local_paths() {
    let app = lifebuoy_testkit::spawn_app(Backend::Sqlite).await;
    let c = no_redirects();
    for (back, want) in [
        ("/%09/evil.example", "/"),
        ("/%0a/evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("%5C%5Cevil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/%20/evil.example", "/"),
        ("/portal?x=1", "/portal?x=1"),
        ("/help/zh-Hans", "/help/zh-Hans"),
    ] {
        let r = c.get(app.url(&format!("/lang/en?back={back}"))).send().await.unwrap();
        assert_eq!(r.status(), 303, "{back}");
        assert_eq!(r.headers()["location"], want, "back={back}");
    }
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------------------
// Finding 6: login CSRF through /portal/sso

#[tokio::test]
async fn sso_signs_in_only_by_a_same_origin_post() {
    let app = lifebuoy_testkit::spawn_app(Backend::Sqlite).await;
    let token = app.customer_token("sso-user");
    let c = no_redirects();
    // A GET signs nobody in: it is a page that posts the token back.
    let r = c.get(app.url(&format!("/portal/sso?token={token}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none(), "a GET sets no session");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("action=\"/portal/sso\"") && html.contains("data-auto=\"1\"") && html.contains("/static/sso.js")
    );
    assert!(html.contains("Customer sso-user"), "the page names whom the link signs in");
    // Reached from another site, the page waits for the click.
    let r = c
        .get(app.url(&format!("/portal/sso?token={token}")))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("data-auto=\"0\""));
    // The post from another site is refused; from this site it signs in.
    let form = [("token", token.as_str())];
    let r = c.post(app.url("/portal/sso")).header("sec-fetch-site", "cross-site").form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    let r = c.post(app.url("/portal/sso")).header("sec-fetch-site", "same-origin").form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("lb_session="));
    // A bad token is a clear error on the page.
    let r = c.get(app.url("/portal/sso?token=not.a.token")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let js = c.get(app.url("/static/sso.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("submit()"));
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------------------
// Finding 7: Origin: null

#[tokio::test]
async fn origin_null_is_refused_for_cookie_writes_and_websockets() {
    let app = lifebuoy_testkit::spawn_app(Backend::Sqlite).await;
    app.agent("org@x.dev", "O7", Role::Supervisor, &["support"]).await;
    let cookie = app.agent_cookie("org@x.dev").await;
    let cust = app.customer_token("org-cust");
    let (s, t) =
        crate::tickets::post(&app, "/api/v1/tickets", &cust, json!({"subject": "s", "body": "b", "category": "kyc"}))
            .await;
    assert_eq!(s, 201);
    let id = t["id"].as_str().unwrap();
    let escalate = |origin: Option<String>| {
        let mut rb = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/tickets/{id}/escalate")))
            .header("cookie", &cookie)
            .json(&json!({"reason": "x"}));
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        async move { rb.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(escalate(Some("null".into())).await, 403, "Origin: null");
    let ws = format!("ws://{}/ws/console", app.addr);
    let refused = lifebuoy_testkit::WsClient::try_connect(&ws, &[("cookie", &cookie), ("origin", "null")]).await;
    assert!(refused.is_err(), "a console socket from Origin: null");
    // The same from this origin works.
    let mut ok = lifebuoy_testkit::WsClient::connect(&ws, &[("cookie", &cookie), ("origin", &app.base)]).await;
    ok.send(json!({"type": "hello", "resume": {}})).await;
    ok.recv_type("welcome").await;
    assert_eq!(escalate(Some(app.base.clone())).await, 200);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------------------
// Finding 9: rate limits

#[tokio::test]
async fn anonymous_endpoints_are_limited_per_client_address() {
    let app = spawn_app_configured(Backend::Sqlite, |c| c.rate_limit_per_minute = Some(5)).await;
    let visitor = |i: usize| json!({"email": format!("v{i}@example.com"), "lang": "en"});
    for i in 0..5 {
        assert_eq!(json_post(&app, "/api/v1/chat/session", visitor(i)).await.0, 201, "session {i}");
    }
    let (s, e, h) = json_post(&app, "/api/v1/chat/session", visitor(5)).await;
    assert_eq!((s, e["error"]["code"].as_str()), (429, Some("rate_limited")), "{e}");
    assert!((1..=12).contains(&retry_after(&h)), "one more in 12 s at 5 a minute");
    // A forged X-Forwarded-For changes nothing without a configured proxy.
    let r = app
        .http
        .post(app.url("/api/v1/chat/session"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&visitor(6))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Searches have their own allowance.
    for i in 0..5 {
        let (s, _, _) = json_post(&app, "/api/v1/answers", json!({"question": "提币没到账"})).await;
        assert_eq!(s, 200, "answer {i}");
    }
    assert_eq!(json_post(&app, "/api/v1/answers", json!({"question": "提币没到账"})).await.0, 429);
    let r = app.http.get(app.url("/help/en/search?q=deposit")).send().await.unwrap();
    assert_eq!(r.status(), 429, "the help center's search page too");
    assert!(r.text().await.unwrap().contains("rate_limited"));
    // The exchange's backend and signed-in agents are not limited.
    let token = app.integration_token().await;
    let r = app
        .http
        .post(app.url("/api/v1/answers"))
        .bearer_auth(&token)
        .json(&json!({"question": "提币"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.agent("lim@x.dev", "L8", Role::AgentL1, &["support"]).await;
    let cookie = app.agent_cookie("lim@x.dev").await;
    let r =
        app.http.post(app.url("/api/v1/chat/session")).header("cookie", cookie).json(&visitor(7)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    // A bad credential is no way around the limit.
    let r = app
        .http
        .post(app.url("/api/v1/chat/session"))
        .bearer_auth("lbt_forged")
        .json(&visitor(8))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    app.cleanup().await;
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.rate_limit_per_minute = Some(2);
        c.trusted_proxies = lifebuoy_web::security::NetList::parse("127.0.0.1").unwrap();
    })
    .await;
    let ask = |xff: &'static str| {
        let rb =
            app.http.post(app.url("/api/v1/answers")).header("x-forwarded-for", xff).json(&json!({"question": "提币"}));
        async move { rb.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(ask("203.0.113.1").await, 200);
    assert_eq!(ask("203.0.113.1").await, 200);
    assert_eq!(ask("203.0.113.1").await, 429);
    assert_eq!(ask("203.0.113.2").await, 200, "another client behind the proxy");
    // The client cannot pick its address: the proxy appends the real one, which is what counts.
    assert_eq!(ask("192.0.2.99, 203.0.113.1").await, 429);
    app.cleanup().await;
}

async fn visitor_sessions_are_short_until_the_visitor_writes(app: &TestApp) {
    let token = app.visitor_token("brief@example.com", "en").await;
    let now = chrono::Utc::now().timestamp_millis();
    let first = app.store.session(&token).await.unwrap().unwrap().expires_at;
    assert!(first - now <= 2 * 3600 * 1000 && first - now > 3500 * 1000, "two hours: {}", first - now);
    let (mut ws, _) = app.customer_ws(&token, None).await;
    ws.send(json!({"type": "send", "client_id": "w1", "body": "hello"})).await;
    ws.recv_type("ack").await;
    // Written beside the message (not before it): it lands within moments of the ack.
    let mut later = 0;
    for _ in 0..100 {
        later = app.store.session(&token).await.unwrap().unwrap().expires_at;
        if later - now > 29 * 24 * 3600 * 1000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(later - now > 29 * 24 * 3600 * 1000, "thirty days once they wrote: {}", later - now);
    // Customers of the exchange get the long session at once.
    let r = app
        .http
        .post(app.url("/api/v1/chat/session"))
        .json(&json!({"identity_token": app.customer_token("known")}))
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    let exp = app.store.session(t["token"].as_str().unwrap()).await.unwrap().unwrap().expires_at;
    assert!(exp - now > 29 * 24 * 3600 * 1000);
    ws.close().await;
}
on_both_backends!(
    visitor_sessions_are_short_until_the_visitor_writes_on,
    visitor_sessions_are_short_until_the_visitor_writes
);

// ---------------------------------------------------------------------------------------------------------
// Finding 10: sockets outliving their session

async fn logout_closes_the_console_socket(app: &TestApp) {
    app.agent("bye@x.dev", "Y7", Role::AgentL1, &["support"]).await;
    app.agent("stay@x.dev", "Z7", Role::AgentL1, &["support"]).await;
    let cookie = app.agent_cookie("bye@x.dev").await;
    let other_device = app.agent_cookie("bye@x.dev").await;
    let mut ws = app.agent_ws(&cookie, json!({})).await;
    let mut other = app.agent_ws(&other_device, json!({})).await;
    let mut colleague = app.agent_ws(&app.agent_cookie("stay@x.dev").await, json!({})).await;
    let r = no_redirects()
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let ended = ws.recv_until("the session-ended error", |v| v["type"] == "error").await;
    assert_eq!(ended["code"], "unauthorized");
    assert!(ws.recv_within(3000).await.is_none(), "the socket is closed");
    // The same agent's other session, and other agents, carry on.
    other.send(json!({"type": "ping"})).await;
    other.recv_type("pong").await;
    colleague.send(json!({"type": "ping"})).await;
    colleague.recv_type("pong").await;
}
on_both_backends!(logout_closes_the_console_socket_on, logout_closes_the_console_socket);

async fn api_as(app: &TestApp, path: &str, auth: (&str, &str), body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .header(auth.0, auth.1)
        .header("origin", &app.base)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn deactivation_ends_every_session_and_socket(app: &TestApp) {
    let gone = app.agent("leaver@x.dev", "L7", Role::AgentL1, &["support"]).await;
    let admin = app.agent("root@x.dev", "A7", Role::Admin, &["support"]).await;
    app.agent("peer@x.dev", "P7", Role::Supervisor, &["support"]).await;
    let (laptop, phone) = (app.agent_cookie("leaver@x.dev").await, app.agent_cookie("leaver@x.dev").await);
    let mut ws1 = app.agent_ws(&laptop, json!({})).await;
    let mut ws2 = app.agent_ws(&phone, json!({})).await;
    let admin_cookie = app.agent_cookie("root@x.dev").await;
    // Only admins (and the exchange's token) manage accounts; an admin cannot lock themselves out.
    let sup = app.agent_cookie("peer@x.dev").await;
    let (s, _) = api_as(app, &format!("/api/v1/agents/{gone}/deactivate"), ("cookie", &sup), json!({})).await;
    assert_eq!(s, 403, "a supervisor is not an admin");
    let (s, e) = api_as(app, &format!("/api/v1/agents/{admin}/deactivate"), ("cookie", &admin_cookie), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("own_account")), "{e}");
    let (s, _) = api_as(app, "/api/v1/agents/no-such-agent/deactivate", ("cookie", &admin_cookie), json!({})).await;
    assert_eq!(s, 404);

    let (s, r) = api_as(app, &format!("/api/v1/agents/{gone}/deactivate"), ("cookie", &admin_cookie), json!({})).await;
    assert_eq!((s, &r["active"]), (200, &json!(false)), "{r}");
    for ws in [&mut ws1, &mut ws2] {
        let ended = ws.recv_until("the session-ended error", |v| v["type"] == "error").await;
        assert_eq!(ended["code"], "unauthorized");
        assert!(ws.recv_within(3000).await.is_none(), "the socket is closed");
    }
    let r = no_redirects().get(app.url("/api/v1/me")).header("cookie", &laptop).send().await.unwrap();
    assert_eq!(r.status(), 401, "the session ended");
    assert_eq!(login(app, "leaver@x.dev", PASSWORD).await.0, 401, "a deactivated agent cannot sign in");
    // Reactivated, they sign in again (with no session brought back).
    let (s, _) = api_as(app, &format!("/api/v1/agents/{gone}/activate"), ("cookie", &admin_cookie), json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(login(app, "leaver@x.dev", PASSWORD).await.0, 303);
}
on_both_backends!(deactivation_ends_every_session_and_socket_on, deactivation_ends_every_session_and_socket);

async fn a_new_password_ends_the_other_sessions(app: &TestApp) {
    app.agent("mover@x.dev", "M7", Role::AgentL1, &["support"]).await;
    let (here, elsewhere) = (app.agent_cookie("mover@x.dev").await, app.agent_cookie("mover@x.dev").await);
    let mut ws_here = app.agent_ws(&here, json!({})).await;
    let mut ws_elsewhere = app.agent_ws(&elsewhere, json!({})).await;
    let new = "a much longer passphrase 2026";
    let body = |cur: &str, new: &str| json!({"current_password": cur, "new_password": new});
    let (s, e) = api_as(app, "/api/v1/me/password", ("cookie", &here), body("wrong password", new)).await;
    assert_eq!((s, e["error"]["code"].as_str()), (403, Some("forbidden")), "the current password must be right: {e}");
    let (s, e) = api_as(app, "/api/v1/me/password", ("cookie", &here), body(PASSWORD, "short")).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid")), "{e}");
    let customer = format!("Bearer {}", app.customer_token("pw"));
    let (s, _) = api_as(app, "/api/v1/me/password", ("authorization", &customer), body(PASSWORD, new)).await;
    assert_eq!(s, 403, "customers have no password here");

    let (s, r) = api_as(app, "/api/v1/me/password", ("cookie", &here), body(PASSWORD, new)).await;
    assert_eq!((s, &r["changed"]), (200, &json!(true)), "{r}");
    let ended = ws_elsewhere.recv_until("the session-ended error", |v| v["type"] == "error").await;
    assert_eq!(ended["code"], "unauthorized");
    // The session that changed it carries on; the old password no longer signs in, the new one does.
    ws_here.send(json!({"type": "ping"})).await;
    ws_here.recv_type("pong").await;
    let me =
        |c: String| async move { no_redirects().get(app.url("/api/v1/me")).header("cookie", c).send().await.unwrap() };
    assert_eq!(me(here.clone()).await.status(), 200);
    assert_eq!(me(elsewhere.clone()).await.status(), 401);
    assert_eq!(login(app, "mover@x.dev", PASSWORD).await.0, 401);
    assert_eq!(login(app, "mover@x.dev", new).await.0, 303);
}
on_both_backends!(a_new_password_ends_the_other_sessions_on, a_new_password_ends_the_other_sessions);

// ---------------------------------------------------------------------------------------------------------
// Finding 11: hardening

#[tokio::test]
async fn metrics_are_for_admins_tokens_and_allowed_addresses() {
    let app = lifebuoy_testkit::spawn_app(Backend::Sqlite).await;
    let status = |auth: Option<(&'static str, String)>| {
        let mut rb = app.http.get(app.url("/metrics"));
        if let Some((k, v)) = auth {
            rb = rb.header(k, v);
        }
        async move { rb.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(None).await, 403, "anonymous");
    app.agent("adm@x.dev", "A8", Role::Admin, &["support"]).await;
    app.agent("sup8@x.dev", "S8", Role::Supervisor, &["support"]).await;
    assert_eq!(status(Some(("cookie", app.agent_cookie("adm@x.dev").await))).await, 200);
    assert_eq!(status(Some(("cookie", app.agent_cookie("sup8@x.dev").await))).await, 403);
    assert_eq!(status(Some(("authorization", format!("Bearer {}", app.integration_token().await)))).await, 200);
    assert_eq!(status(Some(("authorization", format!("Bearer {}", app.customer_token("m"))))).await, 403);
    app.cleanup().await;
    let open = spawn_app_configured(Backend::Sqlite, |c| {
        c.metrics_allow = lifebuoy_web::security::NetList::parse("127.0.0.0/8").unwrap();
    })
    .await;
    let r = open.http.get(open.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("lifebuoy_chat_connections"));
    open.cleanup().await;
}

#[tokio::test]
async fn an_https_public_url_means_secure_cookies_and_hsts() {
    for (url, https) in
        [(Some("https://support.example.com"), true), (Some("http://localhost:8080"), false), (None, false)]
    {
        let app = spawn_app_configured(Backend::Sqlite, |c| c.public_url = url.map(str::to_string)).await;
        app.agent("sec@x.dev", "H7", Role::AgentL1, &["support"]).await;
        let r = no_redirects()
            .post(app.url("/console/login"))
            .header("origin", &app.base)
            .form(&[("email", "sec@x.dev"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert_eq!(cookie.contains("; Secure"), https, "{url:?}: {cookie}");
        let page = app.http.get(app.url("/portal")).send().await.unwrap();
        let hsts = page.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(hsts.is_some(), https, "{url:?}");
        if let Some(h) = hsts {
            assert!(h.contains("max-age=31536000"));
        }
        app.cleanup().await;
    }
}

async fn integration_tokens_are_listed_and_revoked(app: &TestApp) {
    let token = app.store.create_api_token("exchange-backend").await.unwrap();
    let keep = app.store.create_api_token("other").await.unwrap();
    assert_eq!(crate::tickets::get(app, "/api/v1/tickets", &token).await.0, 200);
    let list = app.store.api_tokens().await.unwrap();
    assert_eq!(list.len(), 2);
    let t = list.iter().find(|t| t.name == "exchange-backend").unwrap();
    assert!(t.revoked_at.is_none());
    let revoked = app.store.revoke_api_token("exchange-backend").await.unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].id, t.id);
    assert_eq!(crate::tickets::get(app, "/api/v1/tickets", &token).await.0, 401, "refused at once");
    assert_eq!(crate::tickets::get(app, "/api/v1/tickets", &keep).await.0, 200, "the other still works");
    assert!(app.store.api_tokens().await.unwrap().iter().find(|x| x.id == t.id).unwrap().revoked_at.is_some());
    assert!(app.store.revoke_api_token(&t.id).await.unwrap().is_empty(), "already revoked");
    assert!(app.store.revoke_api_token("  ").await.is_err(), "a name is needed");
}
on_both_backends!(integration_tokens_are_listed_and_revoked_on, integration_tokens_are_listed_and_revoked);

fn sign(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn identity_tokens_honour_issuer_audience_nbf_and_lifetime() {
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.identity_issuer = Some("https://exchange.example".into());
        c.identity_audience = Some("lifebuoy".into());
    })
    .await;
    let n = now_s();
    let ok = json!({"sub": "u1", "iss": "https://exchange.example", "aud": "lifebuoy", "iat": n, "exp": n + 600});
    let with = |patch: Value| {
        let mut c = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        sign(c)
    };
    let a = &app;
    let status = |t: String| async move { crate::tickets::get(a, "/api/v1/tickets", &t).await.0 };
    assert_eq!(status(sign(ok.clone())).await, 200);
    assert_eq!(status(with(json!({"iss": null}))).await, 401, "no issuer");
    assert_eq!(status(with(json!({"iss": "https://evil.example"}))).await, 401, "another issuer");
    assert_eq!(status(with(json!({"aud": null}))).await, 401, "no audience");
    assert_eq!(status(with(json!({"aud": "someone-else"}))).await, 401, "another audience");
    assert_eq!(status(with(json!({"nbf": n + 600}))).await, 401, "not valid yet");
    assert_eq!(status(with(json!({"nbf": n - 5}))).await, 200);
    assert_eq!(status(with(json!({"exp": n + 25 * 3600}))).await, 401, "lives longer than 24 h");
    assert_eq!(status(with(json!({"iat": n - 23 * 3600, "exp": n + 600}))).await, 200, "23 h 10 min");
    assert_eq!(status(with(json!({"iat": n + 3600}))).await, 401, "issued in the future");
    assert_eq!(status(with(json!({"iat": null, "exp": n + 3600}))).await, 200, "no iat, expires within 24 h");
    assert_eq!(status(with(json!({"iat": null, "exp": n + 48 * 3600}))).await, 401, "no iat, expires in 48 h");
    app.cleanup().await;
    // Without configured issuer and audience, tokens that carry them still work.
    let plain = lifebuoy_testkit::spawn_app(Backend::Sqlite).await;
    let t = sign(json!({"sub": "u2", "iss": "x", "aud": "y", "exp": n + 600}));
    assert_eq!(crate::tickets::get(&plain, "/api/v1/tickets", &t).await.0, 200);
    plain.cleanup().await;
}
