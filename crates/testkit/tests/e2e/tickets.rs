//! The ticket lifecycle through the REST API, on both backends.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{TestApp, on_both_backends, png_bytes};
use serde_json::{Value, json};

pub async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = app.http.post(app.url(path)).bearer_auth(token).json(&body).send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

pub async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let r = app.http.get(app.url(path)).bearer_auth(token).send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// What a refused request must leave as it was: a ticket's status, tier, department and assignee, and the
/// length of its timeline (internal notes included), read from the database.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    status: String,
    tier: String,
    department: String,
    assignee: Option<String>,
    timeline: usize,
}

impl Snapshot {
    pub fn timeline_len(&self) -> usize {
        self.timeline
    }
}

pub async fn snapshot(app: &TestApp, id: &str) -> Snapshot {
    let c = app.store.conversation(id).await.unwrap().expect("the ticket");
    Snapshot {
        status: c.status,
        tier: c.tier,
        department: c.department_id,
        assignee: c.assignee_id,
        timeline: app.store.timeline(id, true).await.unwrap().len(),
    }
}

fn new_ticket() -> Value {
    json!({"subject": "提币三小时未到账", "body": "USDT TRC20 withdrawal pending, tx 0xabc", "category": "withdrawal", "tx_hash": "0xabc"})
}

async fn lifecycle_from_new_to_follow_up(app: &TestApp) {
    let cust = app.customer_token("u-life");
    let token = app.integration_token().await;
    let agent = app.agent("l1@x.dev", "A100", Role::AgentL1, &["support"]).await;

    let (s, t) = post(app, "/api/v1/tickets", &cust, new_ticket()).await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap();
    assert!(case.starts_with("LB-") && case.len() >= 14, "{case}");
    assert_eq!(
        (t["status"].as_str(), t["department_id"].as_str(), t["tier"].as_str()),
        (Some("new"), Some("support"), Some("l1"))
    );

    // The case number works as an id.
    let (s, by_case) = get(app, &format!("/api/v1/tickets/{case}"), &cust).await;
    assert_eq!((s, by_case["id"].as_str()), (200, Some(id.as_str())));

    // An internal note from the backend; the customer never sees it.
    let (s, _) = post(
        app,
        &format!("/api/v1/tickets/{id}/messages"),
        &token,
        json!({"body": "VIP, check chain", "internal": true}),
    )
    .await;
    assert_eq!(s, 201);
    let (_, seen) = get(app, &format!("/api/v1/tickets/{id}"), &cust).await;
    let bodies: Vec<&str> = seen["timeline"].as_array().unwrap().iter().filter_map(|i| i["body"].as_str()).collect();
    assert_eq!(bodies, vec!["USDT TRC20 withdrawal pending, tx 0xabc"]);
    let (_, staff) = get(app, &format!("/api/v1/tickets/{id}"), &token).await;
    assert!(staff["timeline"].as_array().unwrap().iter().any(|i| i["body"] == "VIP, check chain"));

    // Assign to the agent, reply with a status: new -> open by the reply, then pending.
    let (s, a) = post(app, &format!("/api/v1/tickets/{id}/assign"), &token, json!({"assignee_id": agent})).await;
    assert_eq!((s, a["assignee_id"].as_str()), (200, Some(agent.as_str())));
    let (s, r) = post(
        app,
        &format!("/api/v1/tickets/{id}/messages"),
        &token,
        json!({"body": "请提供钱包截图", "status": "pending"}),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let (_, t) = get(app, &format!("/api/v1/tickets/{id}"), &cust).await;
    assert_eq!(t["status"], "pending");

    // The customer's reply reopens it; "my problem is solved"; a reply reopens a solved case.
    post(app, &format!("/api/v1/tickets/{id}/messages"), &cust, json!({"body": "截图见附件"})).await;
    let (_, t) = get(app, &format!("/api/v1/tickets/{id}"), &cust).await;
    assert_eq!(t["status"], "open");
    let (s, t) = post(app, &format!("/api/v1/tickets/{id}/status"), &cust, json!({"status": "solved"})).await;
    assert_eq!((s, t["status"].as_str()), (200, Some("solved")));
    let before = snapshot(app, &id).await;
    let (s, _) = post(app, &format!("/api/v1/tickets/{id}/status"), &cust, json!({"status": "closed"})).await;
    assert_eq!(s, 403, "customers cannot close");
    assert_eq!(snapshot(app, &id).await, before, "a refused close changes nothing");
    post(app, &format!("/api/v1/tickets/{id}/messages"), &cust, json!({"body": "又没到账了"})).await;
    let (_, t) = get(app, &format!("/api/v1/tickets/{id}"), &cust).await;
    assert_eq!(t["status"], "open");

    // Illegal moves are refused and change nothing.
    let before = snapshot(app, &id).await;
    let (s, e) = post(app, &format!("/api/v1/tickets/{id}/status"), &token, json!({"status": "new"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("illegal_status_change")));
    assert_eq!(snapshot(app, &id).await, before, "an illegal move changes nothing");

    // Solve, close; closed is final: the customer's reply opens a linked follow-up.
    post(app, &format!("/api/v1/tickets/{id}/status"), &token, json!({"status": "solved"})).await;
    let (s, t) = post(app, &format!("/api/v1/tickets/{id}/status"), &token, json!({"status": "closed"})).await;
    assert_eq!((s, t["status"].as_str()), (200, Some("closed")));
    let before = snapshot(app, &id).await;
    let (s, _) = post(app, &format!("/api/v1/tickets/{id}/messages"), &token, json!({"body": "too late"})).await;
    assert_eq!(s, 409, "agents cannot write on a closed case");
    assert_eq!(snapshot(app, &id).await, before, "the refused reply is not stored");
    let (s, out) = post(app, &format!("/api/v1/tickets/{id}/messages"), &cust, json!({"body": "still missing!"})).await;
    assert_eq!((s, out["outcome"].as_str()), (201, Some("follow_up")), "{out}");
    assert_eq!(out["conversation"]["follow_up_of"].as_str(), Some(id.as_str()));
    assert_ne!(out["conversation"]["case_number"], json!(case));

    // Every change is on the timeline with who did it.
    let (_, t) = get(app, &format!("/api/v1/tickets/{id}"), &token).await;
    let kinds: Vec<&str> = t["timeline"].as_array().unwrap().iter().filter_map(|i| i["kind"].as_str()).collect();
    for k in ["assigned", "status_changed", "follow_up_opened"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let seqs: Vec<i64> = t["timeline"].as_array().unwrap().iter().map(|i| i["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "one gapless sequence: {seqs:?}");
}
on_both_backends!(lifecycle_from_new_to_follow_up_on, lifecycle_from_new_to_follow_up);

async fn transfer_escalate_merge(app: &TestApp) {
    let cust = app.customer_token("u-esc");
    let token = app.integration_token().await;
    let (_, a) = post(app, "/api/v1/tickets", &cust, new_ticket()).await;
    let (_, b) = post(app, "/api/v1/tickets", &cust, new_ticket()).await;
    let (a, b) = (a["id"].as_str().unwrap().to_string(), b["id"].as_str().unwrap().to_string());

    let before = snapshot(app, &a).await;
    let (s, _) =
        post(app, &format!("/api/v1/tickets/{a}/transfer"), &token, json!({"department": "finance", "reason": ""}))
            .await;
    assert_eq!(s, 422, "a transfer needs a reason");
    let (s, _) =
        post(app, &format!("/api/v1/tickets/{a}/transfer"), &token, json!({"department": "nowhere", "reason": "x"}))
            .await;
    assert_eq!(s, 422, "unknown department");
    assert_eq!(snapshot(app, &a).await, before, "refused transfers change nothing");
    let (s, t) = post(
        app,
        &format!("/api/v1/tickets/{a}/transfer"),
        &token,
        json!({"department": "finance", "reason": "refund check"}),
    )
    .await;
    assert_eq!((s, t["department_id"].as_str()), (200, Some("finance")));

    for want in ["l2", "supervisor"] {
        let (s, t) =
            post(app, &format!("/api/v1/tickets/{a}/escalate"), &token, json!({"reason": "customer lost funds"})).await;
        assert_eq!((s, t["tier"].as_str()), (200, Some(want)));
    }
    let before = snapshot(app, &a).await;
    assert_eq!((before.department.as_str(), before.tier.as_str()), ("finance", "supervisor"));
    let (s, _) = post(app, &format!("/api/v1/tickets/{a}/escalate"), &token, json!({"reason": "again"})).await;
    assert_eq!(s, 409, "nothing above supervisor");
    assert_eq!(snapshot(app, &a).await, before, "a refused escalation changes nothing");

    let case_a = get(app, &format!("/api/v1/tickets/{a}"), &token).await.1["case_number"].as_str().unwrap().to_string();
    let (s, t) = post(app, &format!("/api/v1/tickets/{b}/merge"), &token, json!({"into": case_a})).await;
    assert_eq!((s, t["id"].as_str()), (200, Some(a.as_str())), "{t}");
    let (_, merged) = get(app, &format!("/api/v1/tickets/{b}"), &cust).await;
    assert_eq!((merged["status"].as_str(), merged["merged_into"].as_str()), (Some("closed"), Some(a.as_str())));
    // A customer replying to the merged duplicate lands on the surviving case.
    let (s, out) = post(app, &format!("/api/v1/tickets/{b}/messages"), &cust, json!({"body": "any news?"})).await;
    assert_eq!((s, out["conversation"]["id"].as_str()), (201, Some(a.as_str())), "{out}");

    // Another customer's case cannot be merged in.
    let other = app.customer_token("u-other");
    let (_, c) = post(app, "/api/v1/tickets", &other, new_ticket()).await;
    let c = c["id"].as_str().unwrap().to_string();
    let (before_a, before_c) = (snapshot(app, &a).await, snapshot(app, &c).await);
    let (s, _) = post(app, &format!("/api/v1/tickets/{c}/merge"), &token, json!({"into": a})).await;
    assert_eq!(s, 422);
    assert_eq!(
        (snapshot(app, &a).await, snapshot(app, &c).await),
        (before_a, before_c),
        "a refused merge changes nothing"
    );

    // Fields and tags, with an event.
    let r = app
        .http
        .patch(app.url(&format!("/api/v1/tickets/{a}")))
        .bearer_auth(&token)
        .json(&json!({"priority": "urgent", "tags": ["VIP", "vip", "trc20"], "order_id": "O-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (t["priority"].as_str(), t["tags"].clone(), t["order_id"].as_str()),
        (Some("urgent"), json!(["trc20", "vip"]), Some("O-1"))
    );
}
on_both_backends!(transfer_escalate_merge_on, transfer_escalate_merge);

async fn idempotent_creates_and_pagination(app: &TestApp) {
    let cust = app.customer_token("u-idem");
    let send = |key: &'static str, body: Value| {
        let cust = cust.clone();
        async move {
            let r = app
                .http
                .post(app.url("/api/v1/tickets"))
                .bearer_auth(&cust)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Ten concurrent retries of one request make one ticket.
    let results = futures::future::join_all((0..10).map(|_| send("k1", new_ticket()))).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, 201, "{v}");
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    let (s, e) = send("k1", json!({"subject": "different", "body": "b", "category": "kyc"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("idempotency_key_reused")), "same key, other body");

    for i in 0..7 {
        post(app, "/api/v1/tickets", &cust, json!({"subject": format!("t{i}"), "body": "b", "category": "other"}))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let (s, page) = get(app, &format!("/api/v1/tickets?limit=3{q}"), &cust).await;
        assert_eq!(s, 200, "{page}");
        for it in page["items"].as_array().unwrap() {
            seen.push(it["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (8, 8), "every ticket once across pages");
}
on_both_backends!(idempotent_creates_and_pagination_on, idempotent_creates_and_pagination);

async fn attachments_checked_by_content(app: &TestApp) {
    let cust = app.customer_token("u-att");
    let upload = |name: &'static str, ct: &'static str, bytes: Vec<u8>| {
        let cust = cust.clone();
        async move {
            let part = reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str(ct).unwrap();
            let r = app
                .http
                .post(app.url("/api/v1/attachments"))
                .bearer_auth(&cust)
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, a) = upload("shot.png", "image/png", png_bytes()).await;
    assert_eq!(s, 201, "{a}");
    let (s, e) = upload("shot.pdf", "application/pdf", png_bytes()).await;
    assert_eq!((s, e["error"]["code"].as_str()), (415, Some("mislabelled_file")));
    let (s, e) = upload("evil.png", "image/png", b"<script>alert(1)</script>".to_vec()).await;
    assert_eq!((s, e["error"]["code"].as_str()), (415, Some("unsupported_file_type")));
    let mut big = png_bytes();
    big.resize(11 * 1024 * 1024, 0);
    let (s, e) = upload("big.png", "image/png", big).await;
    assert_eq!(s, 413, "{e}");

    let mut t = new_ticket();
    t["attachment_ids"] = json!([a["id"]]);
    let (s, t) = post(app, "/api/v1/tickets", &cust, t).await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_str().unwrap();
    let (_, full) = get(app, &format!("/api/v1/tickets/{id}"), &cust).await;
    let att = &full["timeline"].as_array().unwrap().iter().find(|i| i["type"] == "message").unwrap()["attachments"][0];
    assert_eq!(att["content_type"], "image/png");
    // The owner and staff download it; another customer gets 404.
    let path = format!("/api/v1/attachments/{}", att["id"].as_str().unwrap());
    let r = app.http.get(app.url(&path)).bearer_auth(&cust).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), png_bytes());
    let r = app.http.get(app.url(&path)).bearer_auth(app.customer_token("u-stranger")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // An attachment can be linked once, and only by its uploader.
    let mut again = new_ticket();
    again["attachment_ids"] = json!([a["id"]]);
    let (s, _) = post(app, "/api/v1/tickets", &app.customer_token("u-stranger"), again.clone()).await;
    assert_eq!(s, 422);
    let (s, _) = post(app, "/api/v1/tickets", &cust, again).await;
    assert_eq!(s, 422);
    // Content-addressed: the same bytes uploaded again are a new attachment on the same file (one file on
    // disk), and that attachment serves the bytes once linked.
    let (s, again) = upload("again.png", "image/png", png_bytes()).await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(again["sha256"], a["sha256"], "the same digest: {again} {a}");
    assert!(again["sha256"].as_str().is_some_and(|d| d.len() == 64), "{again}");
    assert_ne!(again["id"], a["id"], "a new attachment");
    let files: usize = walk(&app.dir.join("files"));
    assert_eq!(files, 1);
    let mut t2 = new_ticket();
    t2["attachment_ids"] = json!([again["id"]]);
    let (s, t2) = post(app, "/api/v1/tickets", &cust, t2).await;
    assert_eq!(s, 201, "{t2}");
    let staff = app.integration_token().await;
    let r = app
        .http
        .get(app.url(&format!("/api/v1/attachments/{}", again["id"].as_str().unwrap())))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "staff download the deduplicated attachment");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png_bytes());
}
on_both_backends!(attachments_checked_by_content_on, attachments_checked_by_content);

fn walk(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

/// Many creates land in one group commit (SQLite); a bad one among them fails alone.
async fn concurrent_creates_fail_alone(app: &TestApp) {
    let cust = app.customer_token("u-batch");
    let futs = (0..40).map(|i| {
        let cust = cust.clone();
        async move {
            let mut body = json!({"subject": format!("batch {i}"), "body": "b", "category": "deposit"});
            if i % 4 == 0 {
                body["attachment_ids"] = json!(["not-an-attachment"]);
            }
            post(app, "/api/v1/tickets", &cust, body).await.0
        }
    });
    let statuses = futures::future::join_all(futs).await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 30, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 10, "{statuses:?}");
    let (_, page) = get(app, "/api/v1/tickets?limit=100", &cust).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 30);
    let cases: std::collections::HashSet<&str> = items.iter().map(|t| t["case_number"].as_str().unwrap()).collect();
    assert_eq!(cases.len(), 30, "case numbers are unique");
    assert!(
        items
            .iter()
            .all(|t| t["subject"].as_str().unwrap().split(' ').nth(1).unwrap().parse::<u32>().unwrap() % 4 != 0)
    );
}
on_both_backends!(concurrent_creates_fail_alone_on, concurrent_creates_fail_alone);
