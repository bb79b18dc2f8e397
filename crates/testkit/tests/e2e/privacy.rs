//! Retention and privacy on both backends: admins set each channel's retention (agents and supervisors may
//! not), and the purge erases a solved case past it but neither an open nor a held one, and logs what it did; a
//! conversation deleted through the API leaves the agents' queue, ticket list and search and comes back when
//! restored; customers ask for their data, a correction and erasure, see the due dates, and nobody else sees
//! their requests; supervisors carry them out (the field changed; erased content gone from the database while an
//! export made before still verifies), and a hold on the customer refuses erasure.

use lifebuoy_domain::Role;
use lifebuoy_records::verify_json;
use lifebuoy_testkit::{TestApp, on_both_backends};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

/// A request with a bearer token or a signed-in client; answers the status and the body as JSON (or Null).
async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, v) = call(app.http.post(app.url(path)).bearer_auth(token).json(&body)).await;
    assert!((200..300).contains(&s), "{path}: {s} {v}");
    v
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Runs one SQL statement straight on the database (to age a case, say).
async fn sql(app: &TestApp, statement: &str) {
    use sqlx::Connection;
    match app.db_url() {
        u if u.starts_with("postgres") => {
            let mut c = sqlx::PgConnection::connect(&u).await.unwrap();
            sqlx::query(statement).execute(&mut c).await.unwrap();
        }
        u => {
            let mut c = sqlx::SqliteConnection::connect(&u).await.unwrap();
            sqlx::query(statement).execute(&mut c).await.unwrap();
        }
    }
}

/// Runs the purge job once, as the job runner does, and waits for it.
async fn run_purge(app: &TestApp) {
    let j = lifebuoy_store::NewJob::new(lifebuoy_app::records::PURGE_JOB, &json!({"recovery_days": 30}));
    app.store.enqueue_job(&j).await.unwrap();
    for _ in 0..400 {
        if app.store.job(&j.id).await.unwrap().is_some_and(|j| j.state == "done") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the purge job did not finish: {:?}", app.store.job(&j.id).await.unwrap());
}

async fn erased(app: &TestApp, id: &str) -> bool {
    let entries = app.store.chain_entries(id).await.unwrap();
    !entries.is_empty() && entries.iter().all(|e| e.erased.is_some())
}

async fn staff(app: &TestApp) -> (reqwest::Client, reqwest::Client, reqwest::Client) {
    app.agent("pv.l1@desk.example", "L501", Role::AgentL1, &["support"]).await;
    app.agent("pv.sup@desk.example", "S501", Role::Supervisor, &["support"]).await;
    app.agent("pv.admin@desk.example", "A501", Role::Admin, &["support"]).await;
    (
        app.agent_client("pv.l1@desk.example").await,
        app.agent_client("pv.sup@desk.example").await,
        app.agent_client("pv.admin@desk.example").await,
    )
}

async fn retention_is_set_by_admins_and_purges_what_is_due(app: &TestApp) {
    let (l1, sup, admin) = staff(app).await;
    let integration = app.integration_token().await;
    let put = |c: &reqwest::Client, channel: &str, body: Value| {
        c.put(app.url(&format!("/api/v1/records/retention/{channel}"))).json(&body)
    };
    // Only admins set retention; an unknown channel and a senseless number of days are refused.
    assert_eq!(call(put(&l1, "ticket", json!({"keep_days": 30}))).await.0, 403, "an L1 agent may not");
    assert_eq!(call(put(&sup, "ticket", json!({"keep_days": 30}))).await.0, 403, "a supervisor may not");
    assert_eq!(call(put(&admin, "sms", json!({"keep_days": 30}))).await.0, 422, "an unknown channel");
    assert_eq!(call(put(&admin, "ticket", json!({"keep_days": 0}))).await.0, 422, "zero days");
    let (s, v) = call(put(&admin, "ticket", json!({"keep_days": 30}))).await;
    assert_eq!((s, v["keep_days"].as_i64()), (200, Some(30)), "{v}");
    let (s, v) = call(sup.get(app.url("/api/v1/records/retention"))).await;
    assert_eq!(s, 200, "supervisors read it");
    let ticket = v["policies"].as_array().unwrap().iter().find(|p| p["channel"] == "ticket").cloned().unwrap();
    assert_eq!((ticket["keep_days"].as_i64(), ticket["updated_by"].as_str()), (Some(30), Some("agent:A501")));
    assert_eq!(call(l1.get(app.url("/api/v1/records/retention"))).await.0, 403);
    assert_eq!(page(&l1, app, "/console/retention").await.0, 403, "nor the page");
    // The admins' form, with the session's token.
    let cookie = app.agent_cookie("pv.admin@desk.example").await;
    let csrf = app.store.session(cookie.split_once('=').unwrap().1).await.unwrap().unwrap().csrf;
    let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = |csrf: &str| {
        r.post(app.url("/console/retention")).header("cookie", &cookie).form(&[
            ("_csrf", csrf),
            ("channel", "chat"),
            ("keep_days", "90"),
        ])
    };
    assert_eq!(call(form("forged")).await.0, 403, "a form without the session's token is refused");
    assert_eq!(call(form(&csrf)).await.0, 303);
    let (_, html) = page(&sup, app, "/console/retention").await;
    assert!(html.contains("retention-policies") && html.contains("90"), "the chat policy shows");

    // Three cases: solved, open, and solved but held; all last active 40 days ago.
    let k = app.customer_token("pv-kim");
    let mk = |subject: &'static str| {
        let k = k.clone();
        async move {
            let t = post(
                app,
                &k,
                "/api/v1/tickets",
                json!({"subject": subject, "body": format!("{subject} PVSECRET"), "category": "deposit"}),
            )
            .await;
            t["id"].as_str().unwrap().to_string()
        }
    };
    let (solved, open, held) = (mk("已解决的旧工单").await, mk("处理中的旧工单").await, mk("仲裁中的旧工单").await);
    for id in [&solved, &held] {
        post(app, &integration, &format!("/api/v1/tickets/{id}/status"), json!({"status": "solved"})).await;
    }
    post(app, &integration, "/api/v1/records/holds", json!({"conversation_id": held, "reason": "仲裁进行中"})).await;
    let old = lifebuoy_store::now_ms() - 40 * DAY_MS;
    sql(app, &format!("UPDATE conversations SET updated_at = {old} WHERE id IN ('{solved}', '{open}', '{held}')"))
        .await;
    // And a solved case active yesterday: within its retention.
    let recent = mk("昨天解决的工单").await;
    post(app, &integration, &format!("/api/v1/tickets/{recent}/status"), json!({"status": "solved"})).await;

    let jobs = app.app.start_jobs().await.unwrap();
    run_purge(app).await;
    assert!(erased(app, &solved).await, "the solved case past its retention is erased");
    assert!(!erased(app, &open).await, "an open case is never purged");
    assert!(!erased(app, &held).await, "a held case is skipped");
    assert!(!erased(app, &recent).await, "a case within its retention stays");
    let text = format!("{:?}", app.store.timeline(&solved, true).await.unwrap());
    assert!(!text.contains("PVSECRET"), "the erased case's words are gone from the database");

    // The log says what it erased and what a hold kept, under which rule.
    let log = app.store.purge_log(10).await.unwrap();
    let runs: Vec<_> = log.iter().filter(|l| l.rule == "retention:ticket:30d").collect();
    let run = runs.iter().find(|l| l.erased > 0).expect("the retention rule is logged");
    assert_eq!((run.erased, run.held), (1, 1), "{run:?}");
    assert!(run.erased_ids.contains(&solved) && run.held_ids.contains(&held), "{run:?}");
    assert!(runs.iter().all(|l| !l.erased_ids.contains(&open) && !l.erased_ids.contains(&recent)), "{runs:?}");
    let (s, html) = page(&sup, app, "/console/retention").await;
    assert_eq!(s, 200);
    assert!(html.contains("purge-log") && html.contains("retention:ticket:30d") && html.contains(&held), "shown");
    // Erased by retention, the case also leaves the lists.
    let (_, list) = call(sup.get(app.url("/api/v1/tickets?status=solved"))).await;
    assert!(!list.to_string().contains(&solved) && list.to_string().contains(&held), "{list}");
    jobs.shutdown().await;
}
on_both_backends!(
    retention_is_set_by_admins_and_purges_what_is_due_on,
    retention_is_set_by_admins_and_purges_what_is_due
);

async fn deleted_cases_leave_the_queue_until_restored(app: &TestApp) {
    let (l1, sup, _) = staff(app).await;
    let k = app.customer_token("pv-lee");
    let t = post(
        app,
        &k,
        "/api/v1/tickets",
        json!({"subject": "提币被卡住 zebraword", "body": "提币两天了还没到", "category": "withdrawal"}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    let sees = |c: reqwest::Client, path: &'static str| {
        let (url, id) = (app.url(path), id.clone());
        async move {
            let (s, v) = call(c.get(url)).await;
            assert_eq!(s, 200, "{path}: {v}");
            v.to_string().contains(&id)
        }
    };
    let queue_has = |c: reqwest::Client| {
        let (url, case) = (app.url("/console"), case.clone());
        async move { c.get(url).send().await.unwrap().text().await.unwrap().contains(&case) }
    };
    assert!(sees(l1.clone(), "/api/v1/tickets").await && sees(l1.clone(), "/api/v1/tickets?q=zebraword").await);
    assert!(queue_has(l1.clone()).await, "in the agent's queue");

    // An agent may not delete; a supervisor does, and the case leaves every list at once.
    let del = |c: &reqwest::Client| c.delete(app.url(&format!("/api/v1/records/conversations/{id}")));
    assert_eq!(call(del(&l1)).await.0, 403);
    assert_eq!(
        call(app.http.delete(app.url(&format!("/api/v1/records/conversations/{id}"))).bearer_auth(&k)).await.0,
        403
    );
    assert_eq!(call(del(&sup)).await.0, 204);
    assert!(!sees(l1.clone(), "/api/v1/tickets").await, "not in the agent's ticket list");
    assert!(!sees(l1.clone(), "/api/v1/tickets?q=zebraword").await, "not in search results");
    assert!(!sees(sup.clone(), "/api/v1/tickets?status=new").await, "not in the supervisor's either");
    assert!(!queue_has(l1.clone()).await, "not in the console queue");
    let (_, mine) = call(app.http.get(app.url("/api/v1/tickets")).bearer_auth(&k)).await;
    assert!(!mine.to_string().contains(&id), "nor in the customer's list");
    let own = || app.http.get(app.url(&format!("/api/v1/tickets/{id}"))).bearer_auth(&k);
    assert_eq!(call(own()).await.0, 404, "nor can the customer open it");
    // The supervisors' list shows it with its purge date and a restore button; the case page says so.
    let (s, html) = page(&sup, app, "/console/deleted").await;
    assert_eq!(s, 200);
    assert!(html.contains(&case) && html.contains(&format!("/console/records/conversations/{id}/restore")));
    let (_, html) = page(&sup, app, &format!("/console/tickets/{id}")).await;
    assert!(html.contains("case-deleted") && html.contains("restore-case"), "the case page offers a restore");
    assert_eq!(page(&l1, app, "/console/deleted").await.0, 403);

    // Restored: back everywhere; restoring again is a conflict.
    let restore = |c: &reqwest::Client| c.post(app.url(&format!("/api/v1/records/conversations/{id}/restore")));
    assert_eq!(call(restore(&l1)).await.0, 403);
    assert_eq!(call(restore(&sup)).await.0, 204);
    assert!(sees(l1.clone(), "/api/v1/tickets").await && sees(l1.clone(), "/api/v1/tickets?q=zebraword").await);
    assert!(queue_has(l1.clone()).await, "back in the queue");
    assert_eq!(call(own()).await.0, 200, "the customer has it back");
    assert_eq!(call(restore(&sup)).await.0, 409);

    // A hold stops deletion until it is released; releasing twice is harmless, an unknown hold is not found.
    let (s, h) =
        call(sup.post(app.url("/api/v1/records/holds")).json(&json!({"conversation_id": id, "reason": "监管调取"})))
            .await;
    assert_eq!(s, 201, "{h}");
    let hold = h["id"].as_str().unwrap().to_string();
    let (_, html) = page(&sup, app, &format!("/console/tickets/{id}")).await;
    assert!(html.contains("legal-holds") && html.contains("监管调取"), "the case page shows the hold");
    let (s, e) = call(del(&sup)).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("legal_hold")));
    let release = |c: &reqwest::Client, h: &str| c.delete(app.url(&format!("/api/v1/records/holds/{h}")));
    assert_eq!(call(release(&l1, &hold)).await.0, 403);
    let (s, v) = call(release(&sup, &hold)).await;
    assert_eq!((s, v["released_by"].as_str()), (200, Some("agent:S501")));
    assert_eq!(call(release(&sup, &hold)).await.0, 200);
    assert_eq!(call(release(&sup, "no-such-hold")).await.0, 404);
    assert_eq!(call(del(&sup)).await.0, 204, "released: deletable");
}
on_both_backends!(deleted_cases_leave_the_queue_until_restored_on, deleted_cases_leave_the_queue_until_restored);

async fn customers_ask_for_their_data(app: &TestApp) {
    let (l1, sup, _) = staff(app).await;
    let integration = app.integration_token().await;
    let mia = app.customer_token("pv-mia");
    let noa = app.customer_token("pv-noa");
    let t = post(
        app,
        &mia,
        "/api/v1/tickets",
        json!({"subject": "账户被盗", "body": "我的身份证号 110101199202021234，请冻结账户", "category": "account"}),
    )
    .await;
    let case = t["id"].as_str().unwrap().to_string();
    post(app, &integration, &format!("/api/v1/tickets/{case}/messages"), json!({"body": "已为您冻结账户 MIAREPLY"}))
        .await;
    let r = app.http.get(app.url("/api/v1/records/export?format=json")).bearer_auth(&mia).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let before = r.text().await.unwrap();
    verify_json(&before, None).expect("the export verifies");
    let customer = app.store.conversation(&case).await.unwrap().unwrap().customer_id;

    // Mia files each kind; each is due 30 days after filing. Refusals: a second open request of a kind, a
    // kind or field that does not exist, an agent filing.
    let file = |body: Value| app.http.post(app.url("/api/v1/records/requests")).bearer_auth(&mia).json(&body);
    let mut ids = std::collections::BTreeMap::new();
    for body in [
        json!({"kind": "access"}),
        json!({"kind": "correction", "field": "name", "value": "王米娅", "note": "护照上的名字"}),
        json!({"kind": "erasure"}),
    ] {
        let (s, r) = call(file(body)).await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["status"], "open");
        assert_eq!(r["due_at"].as_i64().unwrap() - r["filed_at"].as_i64().unwrap(), 30 * DAY_MS);
        ids.insert(r["kind"].as_str().unwrap().to_string(), r["id"].as_str().unwrap().to_string());
    }
    let (s, e) = call(file(json!({"kind": "access"}))).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("request_open")));
    assert_eq!(call(file(json!({"kind": "forget_me"}))).await.0, 422);
    assert_eq!(call(file(json!({"kind": "correction", "field": "external_id", "value": "x"}))).await.0, 422);
    assert_eq!(call(l1.post(app.url("/api/v1/records/requests")).json(&json!({"kind": "access"}))).await.0, 403);

    // Mia sees them with their due dates; Noa sees none of them, and is told they do not exist.
    let (s, mine) = call(app.http.get(app.url("/api/v1/records/requests")).bearer_auth(&mia)).await;
    assert_eq!((s, mine["items"].as_array().map(Vec::len)), (200, Some(3)));
    let (_, html) = call(app.http.get(app.url("/portal/privacy")).bearer_auth(&mia)).await;
    let html = html.as_str().unwrap_or_default().to_string();
    let due = mine["items"][0]["due_at"].as_i64().unwrap();
    let due_text = chrono::DateTime::from_timestamp_millis(due).unwrap().format("%Y-%m-%d %H:%M UTC").to_string();
    assert!(html.contains("my-requests") && html.contains(&due_text), "the portal shows the due date");
    for id in ids.values() {
        assert_eq!(
            call(app.http.get(app.url(&format!("/api/v1/records/requests/{id}"))).bearer_auth(&noa)).await.0,
            404
        );
        assert_eq!(call(app.http.get(app.url(&format!("/portal/privacy/{id}"))).bearer_auth(&noa)).await.0, 404);
        assert_eq!(call(app.http.get(app.url(&format!("/portal/privacy/{id}"))).bearer_auth(&mia)).await.0, 200);
    }
    let (_, theirs) = call(app.http.get(app.url("/api/v1/records/requests")).bearer_auth(&noa)).await;
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0), "{theirs}");
    assert_eq!(call(l1.get(app.url("/api/v1/records/requests"))).await.0, 403, "an L1 agent lists none");

    // Supervisors see the open ones with due dates; an overdue one is marked.
    sql(app, &format!("UPDATE data_requests SET due_at = {} WHERE id = '{}'", due - 40 * DAY_MS, ids["access"])).await;
    let (s, html) = page(&sup, app, "/console/data-requests").await;
    assert_eq!(s, 200);
    assert!(html.contains("open-requests") && html.contains("王米娅") && html.contains("overdue-mark"), "{html}");
    assert_eq!(page(&l1, app, "/console/data-requests").await.0, 403);

    // The correction: the field changes, and who did it is recorded.
    let complete = |id: &str| sup.post(app.url(&format!("/api/v1/records/requests/{id}/complete")));
    assert_eq!(
        call(l1.post(app.url(&format!("/api/v1/records/requests/{}/complete", ids["correction"])))).await.0,
        403
    );
    let (s, r) = call(complete(&ids["correction"])).await;
    assert_eq!((s, r["status"].as_str(), r["resolved_by"].as_str()), (200, Some("done"), Some("agent:S501")), "{r}");
    assert_eq!(app.store.customer(&customer).await.unwrap().unwrap().name.as_deref(), Some("王米娅"));
    assert_eq!(call(complete(&ids["correction"])).await.0, 409, "done once");

    // Erasure: refused while a hold covers the customer, with the reason; done once it is released.
    let (_, h) =
        call(sup.post(app.url("/api/v1/records/holds")).json(&json!({"customer_id": customer, "reason": "司法冻结"})))
            .await;
    let (s, e) = call(complete(&ids["erasure"])).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("customer_on_hold")));
    assert!(e["error"]["message"].as_str().unwrap_or("").contains("司法冻结"), "the reason is given: {e}");
    let cookie = app.agent_cookie("pv.sup@desk.example").await;
    let csrf = app.store.session(cookie.split_once('=').unwrap().1).await.unwrap().unwrap().csrf;
    let form = app.http.post(app.url(&format!("/console/data-requests/{}/complete", ids["erasure"])));
    let r = form.header("cookie", &cookie).header("accept-language", "zh-CN").form(&[("_csrf", csrf.as_str())]);
    let (s, html) = call(r).await;
    let html = html.as_str().unwrap_or_default().to_string();
    assert_eq!(s, 409);
    assert!(html.contains("法律保留") && html.contains("司法冻结"), "the console says why, in Chinese: {html}");
    assert!(!erased(app, &case).await, "nothing erased under the hold");
    let (_, html) = page(&sup, app, &format!("/console/customers/{customer}")).await;
    assert!(html.contains("hold-list") && html.contains("司法冻结"), "the customer's page shows the hold");
    call(sup.delete(app.url(&format!("/api/v1/records/holds/{}", h["id"].as_str().unwrap())))).await;
    // What agents kept about her is her data too.
    let noter = app.agent("noter@desk.example", "N900", lifebuoy_domain::Role::AgentL1, &["support"]).await;
    app.store.set_customer_tags(&customer, &["vip".into()], "agent:N900").await.unwrap();
    app.store.add_customer_note(&customer, &noter, "证件 110101199202021234 已核对").await.unwrap();
    let (s, r) = call(complete(&ids["erasure"])).await;
    assert_eq!((s, r["status"].as_str()), (200, Some("done")), "{r}");
    assert!(erased(app, &case).await, "every conversation erased");
    let text = format!("{:?}", app.store.timeline(&case, true).await.unwrap());
    assert!(!text.contains("110101199202021234") && !text.contains("MIAREPLY"), "the content is gone: {text}");
    let k = app.store.customer(&customer).await.unwrap().unwrap();
    assert_eq!((k.name, k.email), (None, None), "the profile's personal fields are blanked");
    assert!(app.store.customer_tags(&customer).await.unwrap().is_empty(), "agents' tags on her are gone");
    assert!(app.store.customer_notes(&customer, 10).await.unwrap().is_empty(), "and their notes");
    verify_json(&before, None).expect("the export made before still verifies");
    let r = app.http.get(app.url(&format!("/api/v1/records/export?conversation={case}"))).bearer_auth(&integration);
    let after = r.send().await.unwrap().text().await.unwrap();
    verify_json(&after, None).expect("and so does a new one, its entries withheld as erased");
    assert!(!after.contains("110101199202021234"));

    // The access request is done too; Mia is told of each in her inbox, and the access log notes them all.
    call(complete(&ids["access"])).await;
    let (_, inbox) = call(app.http.get(app.url("/api/v1/notifications")).bearer_auth(&mia)).await;
    let links: Vec<&str> = inbox["items"].as_array().unwrap().iter().filter_map(|n| n["link"].as_str()).collect();
    for id in ids.values() {
        assert!(links.contains(&format!("/portal/privacy/{id}").as_str()), "notified of {id}: {inbox}");
    }
    let (_, html) = call(app.http.get(app.url(&format!("/portal/privacy/{}", ids["access"]))).bearer_auth(&mia)).await;
    assert!(html.as_str().unwrap_or_default().contains("access-downloads"), "the downloads are offered");
    let log = app.store.access_log(Some(&customer), None, None, 50).await.unwrap();
    let whats: Vec<&str> = log.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(whats.iter().filter(|w| **w == "data_request_filed").count(), 3, "{whats:?}");
    assert_eq!(whats.iter().filter(|w| **w == "data_request_done").count(), 3, "{whats:?}");
    assert_eq!(app.store.verify_access_log().await.unwrap(), None);

    // A refusal carries its reason to the customer.
    let (_, r) = call(file(json!({"kind": "access"}))).await;
    let again = r["id"].as_str().unwrap().to_string();
    let refuse = sup
        .post(app.url(&format!("/api/v1/records/requests/{again}/refuse")))
        .json(&json!({"reason": "请先完成身份验证"}));
    assert_eq!(call(refuse).await.0, 200);
    let (_, html) = call(app.http.get(app.url(&format!("/portal/privacy/{again}"))).bearer_auth(&mia)).await;
    assert!(html.as_str().unwrap_or_default().contains("请先完成身份验证"));
}
on_both_backends!(customers_ask_for_their_data_on, customers_ask_for_their_data);
