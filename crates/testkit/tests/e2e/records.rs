//! Communication records over the API, on both backends: a customer's export verifies offline and names the
//! entry someone altered or removed; internal notes are withheld from the customer but keep their place in the
//! chain; another customer cannot export them (404); staff export on the customer's behalf by the exchange's
//! UID; the desk publishes the key that signed; the HTML escapes what customers wrote and the PDF holds the
//! Chinese text (read back with `pdftotext`).

use lifebuoy_records::{EntryBody, Export, Tamper, verify_json};
use lifebuoy_testkit::{TestApp, on_both_backends, png_bytes};
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.http.post(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

async fn export(app: &TestApp, token: &str, query: &str) -> (u16, String) {
    let r = app.http.get(app.url(&format!("/api/v1/records/export?{query}"))).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn records_are_signed_evidence(app: &TestApp) {
    let integration = app.integration_token().await;
    let alice = app.customer_token("rec-alice");
    let bob = app.customer_token("rec-bob");

    // A case with a screenshot, a reply, an internal note and a status change; and a second case.
    let part = reqwest::multipart::Part::bytes(png_bytes()).file_name("转账截图.png").mime_str("image/png").unwrap();
    let r = app
        .http
        .post(app.url("/api/v1/attachments"))
        .bearer_auth(&alice)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let att: Value = r.json().await.unwrap();
    let t = post(
        app,
        &alice,
        "/api/v1/tickets",
        json!({"subject": "充值未到账", "body": "我充值的 0.5 BTC 还没到账 <script>alert(1)</script>", "category": "deposit",
               "attachment_ids": [att["id"]]}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    post(app, &integration, &format!("/api/v1/tickets/{id}/messages"), json!({"body": "您好，我们正在核实這筆充值。"}))
        .await;
    post(
        app,
        &integration,
        &format!("/api/v1/tickets/{id}/messages"),
        json!({"body": "内部：链上已确认 12 次", "internal": true}),
    )
    .await;
    post(app, &integration, &format!("/api/v1/tickets/{id}/status"), json!({"status": "pending"})).await;
    post(app, &alice, &format!("/api/v1/tickets/{id}/messages"), json!({"body": "补充：交易哈希 0xabc123"})).await;
    let t2 = post(
        app,
        &alice,
        "/api/v1/tickets",
        json!({"subject": "提币地址", "body": "地址填错了怎么办", "category": "withdrawal"}),
    )
    .await;

    // The customer's own export verifies, covers both cases, and withholds the internal note.
    let (s, text) = export(app, &alice, "format=json").await;
    assert_eq!(s, 200, "{text}");
    let v = verify_json(&text, None).unwrap_or_else(|e| panic!("an untouched export verifies: {e}"));
    assert_eq!((v.conversations, v.entries >= 7), (2, true), "{v:?}");
    assert!(!text.contains("链上已确认"), "a customer never sees an internal note");
    let doc: Export = serde_json::from_str(&text).unwrap();
    let c = doc.conversations.iter().find(|c| c.id == id).expect("the first case");
    assert_eq!(c.case_number.as_deref(), Some(case.as_str()));
    assert!(
        c.entries.iter().any(|e| matches!(&e.body, EntryBody::Withheld { withheld, .. } if withheld == "internal")),
        "the note keeps its place in the chain"
    );
    assert!(text.contains("转账截图.png") && text.contains("\"sha256\""), "the attachment is listed with its SHA-256");

    // The desk publishes the key that signed it.
    let keys: Value =
        app.http.get(app.url("/.well-known/lifebuoy-signing-keys")).send().await.unwrap().json().await.unwrap();
    let published: Vec<lifebuoy_records::PublicKey> = serde_json::from_value(keys["keys"].clone()).unwrap();
    assert!(v.key_ids.iter().all(|k| published.iter().any(|p| &p.id == k)), "{keys}");
    verify_json(&text, Some(&published)).expect("verifies against the published keys");

    // One changed character in the customer's own words is found and named.
    let seq_of = |needle: &str| {
        c.entries
            .iter()
            .find(|e| matches!(&e.body, EntryBody::Shown { content: lifebuoy_records::Content::Message { body, .. }, .. } if body.contains(needle)))
            .map(|e| e.seq)
            .expect("the entry")
    };
    let altered = text.replacen("0xabc123", "0xabc124", 1);
    match verify_json(&altered, Some(&published)) {
        Err(Tamper::Altered { seq, case: k, .. }) => {
            assert_eq!((seq, k.as_deref()), (seq_of("0xabc123"), Some(case.as_str())))
        }
        other => panic!("an altered entry is named: {other:?}"),
    }
    // A removed entry is named.
    let mut removed: Export = doc.clone();
    let conv = removed.conversations.iter_mut().find(|c| c.id == id).unwrap();
    let gone = conv.entries.remove(1).seq;
    match verify_json(&serde_json::to_string(&removed).unwrap(), Some(&published)) {
        Err(Tamper::Removed { seq, .. }) => assert_eq!(seq, gone),
        other => panic!("a removed entry is named: {other:?}"),
    }

    // Another customer: not found, whichever way they ask.
    let alice_id = doc.customer.id.clone();
    assert_eq!(export(app, &bob, &format!("conversation={id}")).await.0, 404);
    assert_eq!(export(app, &bob, &format!("customer={alice_id}")).await.0, 404);
    let (s, bobs) = export(app, &bob, "format=json").await;
    assert_eq!(s, 200);
    assert!(!bobs.contains(&case), "bob's export holds nothing of alice's");
    // Without a session: refused.
    let r = app.http.get(app.url("/api/v1/records/export")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Staff export on the customer's behalf by the exchange's UID, internal notes included.
    let (s, staff) = export(app, &integration, "customer=rec-alice&format=json").await;
    assert_eq!(s, 200, "{staff}");
    verify_json(&staff, Some(&published)).expect("the staff export verifies");
    assert!(staff.contains("链上已确认"), "staff see the note");
    let (s, one) = export(app, &integration, &format!("conversation={}", t2["id"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    assert_eq!(verify_json(&one, None).map(|v| v.conversations), Ok(1));

    // The readable forms.
    let (s, html) = export(app, &alice, "format=html&lang=zh-Hans").await;
    assert_eq!(s, 200);
    assert!(html.contains(&case) && html.contains("&lt;script&gt;") && !html.contains("<script>alert"), "escaped");
    let r = app
        .http
        .get(app.url("/api/v1/records/export?format=pdf&lang=zh-Hant"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let dir = std::env::temp_dir().join(format!("lb-records-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("r.pdf"), &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "r.pdf", "-"])
        .current_dir(&dir)
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout).replace(['\n', ' '], "");
    let _ = std::fs::remove_dir_all(&dir);
    for needle in ["我充值的0.5BTC还没到账", "您好，我们正在核实這筆充值。", "地址填错了怎么办", case.as_str()]
    {
        assert!(text.contains(needle), "the PDF holds {needle:?}: {text}");
    }
    assert!(!text.contains("链上已确认"), "nor does the customer's PDF hold the note");
    // A bad format is a clear error.
    let (s, e) = export(app, &alice, "format=docx").await;
    assert_eq!(s, 422, "{e}");
    assert!(e.contains("json, html or pdf"), "{e}");
}
on_both_backends!(records_are_signed_evidence_on, records_are_signed_evidence);

/// Agents find a customer by tx hash (prefix), order id, case number, UID and email; the customer's page shows
/// every channel's conversations the agent may see; every page, conversation and export staff open is in the
/// hash-chained access log, which only supervisors read.
async fn agents_find_customers_and_every_look_is_logged(app: &TestApp) {
    use lifebuoy_domain::Role;
    let alice = app.customer_token("look-alice");
    let tx = "0x9f2c4e8a1b7d3f5e6a0c2b4d8e1f3a5c7b9d0e2f4a6c8e1b3d5f7a9c0e2b4d6f";
    let t = post(
        app,
        &alice,
        "/api/v1/tickets",
        json!({"subject": "USDT 充值未到账", "body": "链上已确认", "category": "deposit", "tx_hash": tx, "order_id": "ORD-778812"}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    app.agent("look.l1@desk.example", "L101", Role::AgentL1, &["support"]).await;
    app.agent("look.sup@desk.example", "S101", Role::Supervisor, &["support"]).await;
    let l1 = app.agent_client("look.l1@desk.example").await;
    let sup = app.agent_client("look.sup@desk.example").await;
    let page = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let customer_id = app.store.conversation(&id).await.unwrap().unwrap().customer_id;
    for q in [&tx[..12], "ORD-7788", case.as_str(), "look-alice", "LOOK-ALICE@example.com"] {
        let (s, html) = page(&l1, format!("/console/customers?q={}", q.replace('@', "%40"))).await;
        assert_eq!(s, 200, "{q}");
        assert!(html.contains(&format!("/console/customers/{customer_id}")), "{q} finds the customer");
    }
    let (_, html) = page(&l1, "/console/customers?q=0xdeadbeef".into()).await;
    assert!(html.contains("no-customers"), "a hash nobody has finds nobody");

    // The customer's page: the case is there, and opening it is logged; so are a conversation and an export.
    let (s, html) = page(&l1, format!("/console/customers/{customer_id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains(&case) && html.contains("USDT 充值未到账"), "the history lists the case");
    let (s, _) = page(&l1, format!("/console/tickets/{id}")).await;
    assert_eq!(s, 200);
    let (s, _) = page(&l1, format!("/api/v1/records/export?customer={customer_id}&format=html")).await;
    assert_eq!(s, 200);
    let log = app.store.access_log(Some(&customer_id), None, None, 10).await.unwrap();
    let whats: Vec<&str> = log.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(whats, ["export", "conversation", "customer_page"], "newest first: {log:?}");
    assert!(log.iter().all(|r| r.actor_label.contains("L101")), "who: the agent's 工号");
    assert_eq!(app.store.verify_access_log().await.unwrap(), None, "the chain is whole");

    // Only supervisors read the log; it shows the agent's looks.
    let (s, _) = page(&l1, "/console/audit".into()).await;
    assert_eq!(s, 403, "an L1 agent may not read the access log");
    let (s, html) = page(&sup, format!("/console/audit?customer={customer_id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("audit-intact") && html.contains("L101"), "the supervisor sees who looked");
    // A changed row shows.
    sqlx_tamper_access_log(app).await;
    assert!(app.store.verify_access_log().await.unwrap().is_some(), "a changed row breaks the chain");
    let (_, html) = page(&sup, "/console/audit".into()).await;
    assert!(html.contains("audit-broken"), "and the page says so");
    // Customers have no console: they are sent to the sign-in page, never shown the lookup.
    let r = app.http.get(app.url("/console/customers?q=look")).bearer_auth(&alice).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(!html.contains("customer-search") && !html.contains(&customer_id), "a customer sees no lookup");
}
on_both_backends!(agents_find_customers_and_every_look_is_logged_on, agents_find_customers_and_every_look_is_logged);

/// Changes the label of the first access-log row straight in the database, as someone covering their tracks.
async fn sqlx_tamper_access_log(app: &TestApp) {
    use sqlx::Connection;
    let sql = "UPDATE access_log SET actor_label = 'nobody' WHERE seq = 1";
    match app.db_url() {
        u if u.starts_with("postgres") => {
            let mut c = sqlx::PgConnection::connect(&u).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        u => {
            let mut c = sqlx::SqliteConnection::connect(&u).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// The customer's support history lists chats and tickets together, filters by channel, status and date, and
/// searches their own conversations (never another customer's, never an internal note).
async fn customers_find_their_history(app: &TestApp) {
    let integration = app.integration_token().await;
    let carol = app.customer_token("hist-carol");
    let dave = app.customer_token("hist-dave");
    let t1 = post(
        app,
        &carol,
        "/api/v1/tickets",
        json!({"subject": "提现审核太慢", "body": "提现 2 小时还在审核", "category": "withdrawal"}),
    )
    .await;
    let t2 = post(
        app,
        &carol,
        "/api/v1/tickets",
        json!({"subject": "KYC 认证", "body": "护照照片被拒", "category": "account"}),
    )
    .await;
    post(
        app,
        &integration,
        &format!("/api/v1/tickets/{}/messages", t2["id"].as_str().unwrap()),
        json!({"body": "请上传清晰的护照首页 SECRETNOTE", "internal": true}),
    )
    .await;
    post(
        app,
        &integration,
        &format!("/api/v1/tickets/{}/status", t2["id"].as_str().unwrap()),
        json!({"status": "solved"}),
    )
    .await;
    post(
        app,
        &dave,
        "/api/v1/tickets",
        json!({"subject": "提现审核太慢（dave）", "body": "同样的问题", "category": "withdrawal"}),
    )
    .await;
    let get = |q: &str| {
        let url = app.url(&format!("/portal/history{q}"));
        let token = carol.clone();
        async move {
            let r = app.http.get(url).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let case1 = t1["case_number"].as_str().unwrap();
    let case2 = t2["case_number"].as_str().unwrap();
    let (s, html) = get("").await;
    assert_eq!(s, 200);
    assert!(
        html.contains(case1) && html.contains(case2) && !html.contains("（dave）"),
        "both of carol's, none of dave's"
    );
    let (_, html) = get("?status=solved").await;
    assert!(html.contains(case2) && !html.contains(case1), "by status");
    let (_, html) = get("?q=%E5%AE%A1%E6%A0%B8").await; // 审核: in case 1's subject and body
    assert!(html.contains(case1) && !html.contains(case2), "by words");
    let (_, html) = get("?q=SECRETNOTE").await;
    assert!(html.contains("history-empty"), "an internal note is not searched for the customer");
    let (_, html) = get("?channel=chat").await;
    assert!(html.contains("history-empty"), "carol had no chat");
    let (_, html) = get("?from=2000-01-01&to=2000-01-02").await;
    assert!(html.contains("history-empty"), "by date");
    let (s, _) = get("?from=yesterday").await;
    assert_eq!(s, 422, "a malformed date is a clear error");
}
on_both_backends!(customers_find_their_history_on, customers_find_their_history);

/// Deletion, holds and erasure: a legal hold refuses deletion and erasure (and the purge leaves the case); a
/// deleted case leaves the customer's history and can be restored; the purge erases it after its window; the
/// erased case's content is gone from the database while the export made before, and a new one, still verify.
async fn holds_stop_deletion_and_erasure_keeps_the_chain(app: &TestApp) {
    use lifebuoy_app::{Actor, records};
    use lifebuoy_domain::Role;
    let integration = app.integration_token().await;
    let erin = app.customer_token("ret-erin");
    let t = post(app, &erin, "/api/v1/tickets", json!({"subject": "账户被冻结", "body": "我的账户 UID 5566 被冻结了，身份证号 110101199001011234", "category": "account"})).await;
    let id = t["id"].as_str().unwrap().to_string();
    post(app, &integration, &format!("/api/v1/tickets/{id}/messages"), json!({"body": "已提交风控复核"})).await;
    let (_, before) = export(app, &erin, "format=json").await;
    verify_json(&before, None).expect("verifies before");
    let customer_id: Export = serde_json::from_str(&before).unwrap();
    let customer_id = customer_id.customer.id;

    let sup_id = app.agent("ret.sup@desk.example", "S301", Role::Supervisor, &["support"]).await;
    let sup = Actor::Agent(app.store.agent(&sup_id).await.unwrap().expect("the supervisor"));
    let l1_id = app.agent("ret.l1@desk.example", "L301", Role::AgentL1, &["support"]).await;
    let l1 = Actor::Agent(app.store.agent(&l1_id).await.unwrap().expect("the agent"));
    let code = |r: Result<(), lifebuoy_app::AppError>| r.err().map(|e| e.code());

    // Only supervisors delete; a hold on the customer stops deletion, erasure and the purge.
    assert_eq!(code(records::delete_conversation(&app.app, &l1, &id).await), Some("forbidden"));
    let hold = records::place_hold(&app.app, &sup, Some(&customer_id), None, "仲裁进行中").await.unwrap();
    assert_eq!(code(records::delete_conversation(&app.app, &sup, &id).await), Some("legal_hold"));
    assert_eq!(records::erase_conversation(&app.app, &sup, &id).await.err().map(|e| e.code()), Some("legal_hold"));
    records::release_hold(&app.app, &sup, &hold.id).await.unwrap();

    // Deleted: out of the customer's history and exports at once; restorable.
    records::delete_conversation(&app.app, &sup, &id).await.unwrap();
    let (_, html) = export(app, &erin, "format=json").await;
    assert!(!html.contains("账户被冻结"), "a deleted case leaves the export");
    records::restore_conversation(&app.app, &sup, &id).await.unwrap();
    let (_, back) = export(app, &erin, "format=json").await;
    assert!(back.contains("账户被冻结"), "a restored case is back");

    // Deleted again, then held on the conversation: the purge (window 0) leaves it; released: it erases it.
    records::delete_conversation(&app.app, &sup, &id).await.unwrap();
    let hold = records::place_hold(&app.app, &sup, None, Some(&id), "监管调取").await;
    // A hold placed after deletion still stops the purge.
    let hold = hold.expect("a hold on a deleted case");
    // The purge, as the job runner runs it (a recovery window of 0 days: due at once).
    let jobs = app.app.start_jobs().await.unwrap();
    let purge = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            let j = lifebuoy_store::NewJob::new(records::PURGE_JOB, &json!({"recovery_days": 0}));
            store.enqueue_job(&j).await.unwrap();
            for _ in 0..200 {
                if store.job(&j.id).await.unwrap().is_some_and(|j| j.state == "done") {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            panic!("the purge job did not finish: {:?}", store.job(&j.id).await.unwrap());
        }
    };
    purge(app).await;
    assert!(app.store.chain_entries(&id).await.unwrap().iter().all(|e| e.erased.is_none()), "held: not erased");
    records::release_hold(&app.app, &sup, &hold.id).await.unwrap();
    purge(app).await;
    let entries = app.store.chain_entries(&id).await.unwrap();
    assert!(entries.iter().all(|e| e.erased.is_some()), "erased after its window: {entries:?}");
    let m = app.store.timeline(&id, true).await.unwrap();
    let text = format!("{m:?}");
    assert!(!text.contains("110101199001011234") && !text.contains("已提交风控复核"), "the content is gone");
    assert_eq!(code(records::restore_conversation(&app.app, &sup, &id).await), Some("not_restorable"));

    // The export made before still verifies; a staff export of the erased case verifies, its entries withheld.
    verify_json(&before, None).expect("an older export still verifies");
    let (s, after) = export(app, &integration, &format!("conversation={id}")).await;
    assert_eq!(s, 200, "{after}");
    verify_json(&after, None).expect("the erased case's chain still verifies");
    let doc: Export = serde_json::from_str(&after).unwrap();
    assert!(
        doc.conversations[0]
            .entries
            .iter()
            .all(|e| matches!(&e.body, EntryBody::Withheld { withheld, .. } if withheld == "erased")),
        "every entry withheld as erased"
    );
    let old: Export = serde_json::from_str(&before).unwrap();
    let old_c = old.conversations.iter().find(|c| c.id == id).unwrap();
    let digests =
        |c: &lifebuoy_records::ConversationRecord| c.entries.iter().map(|e| e.digest.clone()).collect::<Vec<_>>();
    assert_eq!(digests(old_c), digests(&doc.conversations[0]), "the same chain, entry for entry");
    jobs.shutdown().await;
}
on_both_backends!(holds_stop_deletion_and_erasure_keeps_the_chain_on, holds_stop_deletion_and_erasure_keeps_the_chain);

/// Agents keep tags and notes on a customer from the customer page (a form with its token, from the desk's own
/// origin); both show there and beside the customer's case, and never reach the customer: not in the
/// portal's history, not in the export.
async fn agents_keep_tags_and_notes_on_a_customer(app: &TestApp) {
    use lifebuoy_domain::Role;
    let carol = app.customer_token("note-carol");
    let t = post(
        app,
        &carol,
        "/api/v1/tickets",
        json!({"subject": "OTC 大额入金", "body": "想咨询 OTC", "category": "deposit"}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    let customer_id = app.store.conversation(&id).await.unwrap().unwrap().customer_id;
    let agent = app.agent("note.l1@desk.example", "N101", Role::AgentL1, &["support"]).await;
    let (token, csrf) = app.store.create_session("agent", &agent, 3_600_000).await.unwrap();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("cookie", format!("lb_session={token}; lb_lang=zh-Hans").parse().unwrap());
    let c = reqwest::Client::builder().default_headers(h).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = |path: String, fields: Vec<(&'static str, String)>, origin: &'static str| {
        let (c, url) = (c.clone(), app.url(&path));
        let origin = if origin.is_empty() { app.base.clone() } else { origin.to_string() };
        async move { c.post(url).header("origin", origin).form(&fields).send().await.unwrap().status().as_u16() }
    };
    let tags_url = format!("/console/customers/{customer_id}/tags");
    let notes_url = format!("/console/customers/{customer_id}/notes");
    let note = "大客户，OTC 需先经风控复核 mxkeptnote";
    // Without the form's token, or from another site: refused, nothing kept.
    assert_eq!(form(tags_url.clone(), vec![("_csrf", "wrong".into()), ("tags", "vip".into())], "").await, 403);
    let evil = vec![("_csrf", csrf.clone()), ("body", note.to_string())];
    assert_eq!(form(notes_url.clone(), evil, "https://evil.example").await, 403);
    assert!(app.store.customer_tags(&customer_id).await.unwrap().is_empty());
    assert_eq!(form(tags_url, vec![("_csrf", csrf.clone()), ("tags", "VIP，otc、 vip".into())], "").await, 303);
    assert_eq!(form(notes_url.clone(), vec![("_csrf", csrf.clone()), ("body", note.into())], "").await, 303);
    assert_eq!(form(notes_url, vec![("_csrf", csrf.clone()), ("body", "   ".into())], "").await, 422);

    let page = |path: String| {
        let (c, url) = (c.clone(), app.url(&path));
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(format!("/console/customers/{customer_id}")).await;
    assert!(html.contains("<span class=\"tag\">otc</span><span class=\"tag\">vip</span>"), "{html}");
    assert!(html.contains(note) && html.contains("N101"), "the note and who left it");
    let html = page(format!("/console/tickets/{id}")).await;
    assert!(html.contains("id=\"customer-tags\"") && html.contains(note), "beside the case too");

    // Never the customer's: not in their history, not in their export.
    let r = app.http.get(app.url("/api/v1/records/history")).bearer_auth(&carol).send().await.unwrap();
    assert!(!r.text().await.unwrap().contains("mxkeptnote"));
    let (s, text) = export(app, &carol, "format=json").await;
    assert_eq!(s, 200);
    assert!(!text.contains("mxkeptnote") && !text.contains("\"otc\""), "the export carries no agent's note or tag");
}
on_both_backends!(agents_keep_tags_and_notes_on_a_customer_on, agents_keep_tags_and_notes_on_a_customer);
