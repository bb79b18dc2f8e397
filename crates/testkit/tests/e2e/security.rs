//! The fixes of the outside security review (issue 9): guessing guest codes and passwords, open redirects,
//! login CSRF, `Origin: null`, rate limits, sockets outliving their session, and the hardening around them.

use lifebuoy_domain::Role;
use lifebuoy_testkit::Backend;
use serde_json::json;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
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
