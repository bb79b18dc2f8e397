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
        &app,
        &alice,
        "/api/v1/tickets",
        json!({"subject": "充值未到账", "body": "我充值的 0.5 BTC 还没到账 <script>alert(1)</script>", "category": "deposit",
               "attachment_ids": [att["id"]]}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    let case = t["case_number"].as_str().unwrap().to_string();
    post(
        &app,
        &integration,
        &format!("/api/v1/tickets/{id}/messages"),
        json!({"body": "您好，我们正在核实這筆充值。"}),
    )
    .await;
    post(
        &app,
        &integration,
        &format!("/api/v1/tickets/{id}/messages"),
        json!({"body": "内部：链上已确认 12 次", "internal": true}),
    )
    .await;
    post(&app, &integration, &format!("/api/v1/tickets/{id}/status"), json!({"status": "pending"})).await;
    post(&app, &alice, &format!("/api/v1/tickets/{id}/messages"), json!({"body": "补充：交易哈希 0xabc123"})).await;
    let t2 = post(
        &app,
        &alice,
        "/api/v1/tickets",
        json!({"subject": "提币地址", "body": "地址填错了怎么办", "category": "withdrawal"}),
    )
    .await;

    // The customer's own export verifies, covers both cases, and withholds the internal note.
    let (s, text) = export(&app, &alice, "format=json").await;
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
    assert_eq!(export(&app, &bob, &format!("conversation={id}")).await.0, 404);
    assert_eq!(export(&app, &bob, &format!("customer={alice_id}")).await.0, 404);
    let (s, bobs) = export(&app, &bob, "format=json").await;
    assert_eq!(s, 200);
    assert!(!bobs.contains(&case), "bob's export holds nothing of alice's");
    // Without a session: refused.
    let r = app.http.get(app.url("/api/v1/records/export")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Staff export on the customer's behalf by the exchange's UID, internal notes included.
    let (s, staff) = export(&app, &integration, "customer=rec-alice&format=json").await;
    assert_eq!(s, 200, "{staff}");
    verify_json(&staff, Some(&published)).expect("the staff export verifies");
    assert!(staff.contains("链上已确认"), "staff see the note");
    let (s, one) = export(&app, &integration, &format!("conversation={}", t2["id"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    assert_eq!(verify_json(&one, None).map(|v| v.conversations), Ok(1));

    // The readable forms.
    let (s, html) = export(&app, &alice, "format=html&lang=zh-Hans").await;
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
    let (s, e) = export(&app, &alice, "format=docx").await;
    assert_eq!(s, 422, "{e}");
    assert!(e.contains("json, html or pdf"), "{e}");
}
on_both_backends!(records_are_signed_evidence_on, records_are_signed_evidence);
