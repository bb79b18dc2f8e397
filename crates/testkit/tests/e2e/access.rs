//! Who may see what, and bad input: each a clear 4xx, and nothing written.

use crate::tickets::{get, post, snapshot};
use lifebuoy_domain::Role;
use lifebuoy_testkit::{TestApp, identity_token, on_both_backends};
use serde_json::json;

async fn customers_and_departments_are_walled_off(app: &TestApp) {
    let alice = app.customer_token("alice");
    let bob = app.customer_token("bob");
    let (_, t) =
        post(app, "/api/v1/tickets", &alice, json!({"subject": "KYC", "body": "rejected", "category": "kyc"})).await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    let before = snapshot(app, &id).await;
    assert_eq!(get(app, &format!("/api/v1/tickets/{id}"), &bob).await.0, 404);
    assert_eq!(get(app, &format!("/api/v1/tickets/{case}"), &bob).await.0, 404);
    assert_eq!(post(app, &format!("/api/v1/tickets/{id}/messages"), &bob, json!({"body": "hi"})).await.0, 404);
    assert_eq!(get(app, "/api/v1/tickets", &bob).await.1["items"], json!([]));
    let (s, _) =
        post(app, &format!("/api/v1/tickets/{id}/messages"), &alice, json!({"body": "note?", "internal": true})).await;
    assert_eq!(s, 403, "customers cannot write internal notes");
    assert_eq!(post(app, &format!("/api/v1/tickets/{id}/assign"), &alice, json!({"assignee_id": null})).await.0, 403);
    assert_eq!(snapshot(app, &id).await, before, "refused writes by customers changed the ticket");
    // Positive control: alice's own reply is stored.
    assert_eq!(post(app, &format!("/api/v1/tickets/{id}/messages"), &alice, json!({"body": "more"})).await.0, 201);
    assert_eq!(snapshot(app, &id).await.timeline_len(), before.timeline_len() + 1);

    // Anonymous, forged, expired.
    let r = app.http.get(app.url(&format!("/api/v1/tickets/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let forged = lifebuoy_web::auth::sign_identity(
        "wrong-secret",
        &lifebuoy_web::auth::IdentityClaims {
            sub: "alice".into(),
            email: None,
            name: None,
            lang: None,
            exp: chrono_now() + 600,
            anti_phishing_code: None,
        },
    );
    let (s, e) = get(app, "/api/v1/tickets", &forged).await;
    assert_eq!((s, e["error"]["code"].as_str()), (401, Some("invalid_identity_token")));
    assert_eq!(get(app, "/api/v1/tickets", &identity_token("alice", "en", -600)).await.0, 401);
    assert_eq!(get(app, "/api/v1/tickets", "lbt_not-a-token").await.0, 401);

    // Agents see their departments (and what is assigned to them); supervisors see all.
    app.agent("sup@x.dev", "S1", Role::Supervisor, &["support"]).await;
    app.agent("fin@x.dev", "F1", Role::AgentL1, &["finance"]).await;
    app.agent("sp@x.dev", "P1", Role::AgentL1, &["support"]).await;
    let fin = app.agent_client("fin@x.dev").await;
    let sup = app.agent_client("sup@x.dev").await;
    let sp = app.agent_client("sp@x.dev").await;
    let status =
        |c: reqwest::Client, path: String| async move { c.get(app.url(&path)).send().await.unwrap().status().as_u16() };
    assert_eq!(status(fin.clone(), format!("/api/v1/tickets/{id}")).await, 404, "finance does not see a support case");
    assert_eq!(status(sp.clone(), format!("/api/v1/tickets/{id}")).await, 200);
    assert_eq!(status(sup.clone(), format!("/api/v1/tickets/{id}")).await, 200);
    let list: serde_json::Value = fin.get(app.url("/api/v1/tickets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"], json!([]));
    // After a transfer to finance, the finance agent sees it.
    let token = app.integration_token().await;
    post(app, &format!("/api/v1/tickets/{id}/transfer"), &token, json!({"department": "finance", "reason": "refund"}))
        .await;
    assert_eq!(status(fin, format!("/api/v1/tickets/{id}")).await, 200);
    // A cookie-authenticated write from another site is refused.
    let before = snapshot(app, &id).await;
    let r = sp
        .post(app.url(&format!("/api/v1/tickets/{id}/escalate")))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(snapshot(app, &id).await, before, "the cross-site escalation changed the ticket");
}
on_both_backends!(customers_and_departments_are_walled_off_on, customers_and_departments_are_walled_off);

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn bad_input_is_a_clear_4xx_and_writes_nothing(app: &TestApp) {
    let cust = app.customer_token("carol");
    let raw = |body: &'static str, ct: &'static str| {
        let cust = cust.clone();
        async move {
            let r = app
                .http
                .post(app.url("/api/v1/tickets"))
                .bearer_auth(&cust)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let cases: Vec<(&str, &str, u16, &str)> = vec![
        (r#"{"subject": "#, "application/json", 400, "malformed_json"),
        (r#"{"body":"no subject","category":"withdrawal"}"#, "application/json", 422, "invalid"),
        (r#"{"subject":"s","body":"b","category":"loans"}"#, "application/json", 422, "invalid"),
        (r#"{"subject":"   ","body":"b","category":"kyc"}"#, "application/json", 422, "invalid"),
        (r#"{"subject":"s","body":"b","category":"kyc","surprise":1}"#, "application/json", 422, "invalid"),
        (r#"{"subject":"s","body":"b","category":"kyc"}"#, "text/plain", 415, "unsupported_media_type"),
        (
            r#"{"subject":"s","body":"b","category":"kyc","attachment_ids":["nope"]}"#,
            "application/json",
            422,
            "invalid",
        ),
        // Triage fields are the support team's: a customer who sends them is refused, and nothing is filed.
        (r#"{"subject":"s","body":"b","category":"kyc","department":"risk"}"#, "application/json", 403, "forbidden"),
        (r#"{"subject":"s","body":"b","category":"kyc","priority":"urgent"}"#, "application/json", 403, "forbidden"),
        (r#"{"subject":"s","body":"b","category":"kyc","tags":["vip"]}"#, "application/json", 403, "forbidden"),
    ];
    for (body, ct, status, code) in cases {
        let (s, e) = raw(body, ct).await;
        assert_eq!((s, e["error"]["code"].as_str()), (status, Some(code)), "{body}: {e}");
        assert!(e["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long = "x".repeat(201);
    let (s, _) = post(app, "/api/v1/tickets", &cust, json!({"subject": long, "body": "b", "category": "kyc"})).await;
    assert_eq!(s, 422);
    assert_eq!(get(app, "/api/v1/tickets", &cust).await.1["items"], json!([]), "no rejected create left anything");
    assert_eq!(get(app, "/api/v1/tickets/0000", &cust).await.0, 404);
    let (s, e) = get(app, "/api/v1/tickets?status=bogus", &cust).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid")));
    assert_eq!(get(app, "/api/v1/tickets?cursor=%%%", &cust).await.0, 422);
}
on_both_backends!(bad_input_is_a_clear_4xx_and_writes_nothing_on, bad_input_is_a_clear_4xx_and_writes_nothing);
