//! The knowledge base over HTTP, on the starter content: search across scripts, the answer engine's
//! contract, and the article page.

use lifebuoy_testkit::{Backend, spawn_app_with};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_and_articles() {
    let app = spawn_app_with(Backend::Sqlite, true).await;
    let get = |path: String| async move { reqwest::get(path).await.unwrap().json::<Value>().await.unwrap() };

    // Traditional 提幣 finds the Simplified withdrawal articles, and the other way round.
    let r = get(app.url("/api/v1/kb/search?q=%E6%8F%90%E5%B9%A3&lang=zh-Hans")).await;
    let titles: Vec<&str> = r["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert!(titles.iter().any(|t| t.contains("提币")), "{titles:?}");
    assert!(r["items"][0]["snippet"].as_str().unwrap().contains("<mark>"));
    let r = get(app.url("/api/v1/kb/search?q=%E6%8F%90%E5%B8%81&lang=zh-Hant")).await;
    assert!(r["items"].as_array().unwrap().iter().any(|i| i["title"].as_str().unwrap().contains("提幣")), "{r}");

    let ask = |q: &'static str| {
        let url = app.url("/api/v1/answers");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"question": q}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let a = ask("我的提币一直在审核中，要等多久？").await;
    let first = &a["answers"][0];
    assert!(first["title"].as_str().unwrap().contains("提币"), "{a}");
    assert!(
        first["confidence"].as_f64().unwrap() > 0.0 && first["url"].as_str().unwrap().starts_with("/help/zh-Hans/")
    );
    assert_eq!(ask("how do I bake sourdough bread").await["answers"], json!([]));
    let r =
        reqwest::Client::new().post(app.url("/api/v1/answers")).json(&json!({"question": "  "})).send().await.unwrap();
    assert_eq!(r.status(), 422);

    // The answer's link opens a readable article; unknown slugs are 404.
    let page = reqwest::get(app.url(first["url"].as_str().unwrap())).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<h1>"));
    assert_eq!(reqwest::get(app.url("/help/en/no-such-article")).await.unwrap().status(), 404);
    app.cleanup().await;
}

mod database {
    //! Articles in the database: the JSON API and who may use it, the index following every save, internal
    //! articles kept from the public, the help-center pages, votes, analytics, synonyms; and two nodes kept in
    //! step through NATS.

    use lifebuoy_domain::Role;
    use lifebuoy_testkit::{Backend, TestApp, spawn_app_with};
    use serde_json::{Value, json};

    async fn search(app: &TestApp, q: &str, cookie: Option<&str>) -> Vec<String> {
        let mut r = app.http.get(app.url("/api/v1/kb/search")).query(&[("q", q)]);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        let v: Value = r.send().await.unwrap().json().await.unwrap();
        // One slug per article (the API returns each matching language version).
        let mut slugs: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|i| i["slug"].as_str().unwrap().to_string()).collect();
        slugs.dedup();
        slugs
    }

    /// A page's HTML with minijinja's escaped slashes (`&#x2f;`) restored, for plain `contains` checks.
    async fn html(r: reqwest::Response) -> String {
        r.text().await.unwrap().replace("&#x2f;", "/")
    }

    async fn story(app: &TestApp) {
        app.agent("sup@x.dev", "S100", Role::Supervisor, &["support"]).await;
        app.agent("l1@x.dev", "A100", Role::AgentL1, &["support"]).await;
        app.agent("admin@x.dev", "AD1", Role::Admin, &["support"]).await;
        let sup = app.agent_cookie("sup@x.dev").await;
        let l1 = app.agent_cookie("l1@x.dev").await;
        let admin = app.agent_client("admin@x.dev").await;
        let origin = app.base.clone();
        let h = &app.http;

        // Who may read and write articles.
        assert_eq!(h.get(app.url("/api/v1/kb/articles")).send().await.unwrap().status(), 401);
        let customer = format!("Bearer {}", app.customer_token("U1"));
        let r = h.get(app.url("/api/v1/kb/articles")).header("authorization", &customer).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = h.get(app.url("/api/v1/kb/articles?status=published")).header("cookie", &l1).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let all: Value = r.json().await.unwrap();
        assert!(all["items"].as_array().unwrap().len() >= 40, "the starter articles were imported");
        let runbook = json!({"slug": "zebracorn-runbook", "category": "withdrawal", "status": "internal", "translations": [
            {"lang": "en", "title": "Zebracorn withdrawals: manual review runbook", "body": "Check the zebracorn ledger first.", "keywords": ["zebracorn"]},
            {"lang": "zh-Hans", "title": "斑马角提币人工审核手册", "body": "先核对 zebracorn 账本。"}]});
        let post = |cookie: &str, body: &Value| {
            h.post(app.url("/api/v1/kb/articles")).header("cookie", cookie).header("origin", &origin).json(body).send()
        };
        assert_eq!(post(&l1, &runbook).await.unwrap().status(), 403, "L1 agents do not edit");
        let r = post(&sup, &runbook).await.unwrap();
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(created["version"], 1);
        assert_eq!(post(&sup, &runbook).await.unwrap().status(), 409, "slug in use");
        for (field, bad) in [
            ("slug", json!("Bad Slug")),
            ("slug", json!("search")),
            ("category", json!("nope")),
            ("status", json!("live")),
        ] {
            let mut b = runbook.clone();
            b[field] = bad.clone();
            b["slug"] = if field == "slug" { bad } else { json!("fresh-slug") };
            let r = post(&sup, &b).await.unwrap();
            assert_eq!(r.status(), 422, "{field}");
            let e: Value = r.json().await.unwrap();
            assert!(e["error"]["message"].as_str().unwrap().contains(field), "{e}");
        }

        // Internal: found by agents only, never on public pages or in answers.
        assert_eq!(search(app, "zebracorn", Some(&l1)).await, ["zebracorn-runbook"]);
        assert!(search(app, "zebracorn", None).await.is_empty());
        let r = h
            .post(app.url("/api/v1/answers"))
            .json(&json!({"question": "zebracorn ledger withdrawals review"}))
            .send()
            .await
            .unwrap();
        let a: Value = r.json().await.unwrap();
        assert!(!a.to_string().contains("zebracorn-runbook"), "{a}");
        assert_eq!(h.get(app.url("/help/en/zebracorn-runbook")).send().await.unwrap().status(), 404);
        // ...but suggested to agents beside a conversation, marked internal and with no public link.
        let suggest = |cookie: Option<&str>, q: &str| {
            let mut r = h.get(app.url("/console/kb/suggest")).query(&[("q", q), ("lang", "en")]);
            if let Some(c) = cookie {
                r = r.header("cookie", c);
            }
            r.send()
        };
        let s: Value = suggest(Some(&l1), "zebracorn ledger withdrawals review").await.unwrap().json().await.unwrap();
        let first = &s["items"][0];
        assert_eq!(first["slug"], "zebracorn-runbook", "{s}");
        assert_eq!(first["internal"], true);
        assert!(first["public_url"].is_null() && first["url"].as_str().unwrap().starts_with("/console/kb/a/"), "{s}");
        let s: Value = suggest(Some(&l1), "我的提币一直在审核中，要等多久？").await.unwrap().json().await.unwrap();
        let w = s["items"].as_array().unwrap().iter().find(|i| i["slug"] == "withdrawal-delayed").expect("answer");
        assert_eq!(w["internal"], false);
        assert_eq!(w["public_url"], "/help/en/withdrawal-delayed", "the link in the chat's language");
        let r = suggest(None, "zebracorn").await.unwrap();
        assert_eq!(r.url().path(), "/console/login", "no session: sent to sign in");

        // Publishing is a save: a new version, at once in search, on the page and in the sitemap.
        let mut published = runbook.clone();
        published["status"] = json!("published");
        published["expected_version"] = json!(1);
        let put = |body: &Value| {
            h.put(app.url(&format!("/api/v1/kb/articles/{id}")))
                .header("cookie", &sup)
                .header("origin", &origin)
                .json(body)
                .send()
        };
        let r = put(&published).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
        assert_eq!(put(&published).await.unwrap().status(), 409, "a stale editor is refused");
        assert_eq!(search(app, "zebracorn", None).await, ["zebracorn-runbook"]);
        let page = h.get(app.url("/help/en/zebracorn-runbook")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let body = html(page).await;
        assert!(
            body.contains("Zebracorn withdrawals") && body.contains("/help/zh-Hans/zebracorn-runbook"),
            "language switch"
        );
        assert!(body.contains("/help/en/c/funds"), "breadcrumbs reach the parent category");
        let sitemap = h.get(app.url("/sitemap.xml")).send().await.unwrap().text().await.unwrap();
        assert!(sitemap.contains("/help/zh-Hans/zebracorn-runbook") && sitemap.contains("/help/en/withdrawal-delayed"));
        let v: Value = h
            .get(app.url(&format!("/api/v1/kb/articles/{id}/versions")))
            .header("cookie", &l1)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        assert_eq!(v["items"][0]["author_name"], "Agent S100 · S100");

        // Help-center pages.
        let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let root = r.get(app.url("/help")).header("accept-language", "zh-TW").send().await.unwrap();
        assert_eq!(root.headers()["location"], "/help/zh-Hant");
        let home = html(h.get(app.url("/help/zh-Hant")).send().await.unwrap()).await;
        assert!(home.contains("入金與提幣") && home.contains("/help/zh-Hant/search"), "category grid and search box");
        let cat = html(h.get(app.url("/help/zh-Hans/c/funds")).send().await.unwrap()).await;
        assert!(cat.contains("/help/zh-Hans/withdrawal-delayed"));
        let res = html(h.get(app.url("/help/zh-Hans/search?q=提幣沒到帳")).send().await.unwrap()).await;
        assert!(
            res.contains("/help/zh-Hans/withdrawal-delayed") && res.contains("<mark>"),
            "Traditional finds Simplified"
        );
        let filtered = html(h.get(app.url("/help/en/search?q=withdrawal&category=kyc")).send().await.unwrap()).await;
        assert!(!filtered.contains("/help/en/withdrawal-delayed"), "category filter");
        assert_eq!(h.get(app.url("/help/fr")).send().await.unwrap().status(), 404);
        assert_eq!(h.get(app.url("/help/en/c/no-such")).send().await.unwrap().status(), 404);

        // Votes: one per visitor cookie; voting again replaces the vote.
        let vote = |cookie: Option<String>, v: &'static str| {
            let mut q =
                r.post(app.url("/help/en/withdrawal-delayed/vote")).header("origin", &origin).form(&[("helpful", v)]);
            if let Some(c) = cookie {
                q = q.header("cookie", c);
            }
            q.send()
        };
        let first = vote(None, "yes").await.unwrap();
        assert_eq!(first.status(), 303);
        let visitor = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        assert!(visitor.starts_with("lb_visitor="));
        assert_eq!(vote(Some(visitor.clone()), "no").await.unwrap().status(), 303);
        assert_eq!(vote(None, "yes").await.unwrap().status(), 303);
        assert_eq!(vote(None, "maybe").await.unwrap().status(), 422);
        let article = app.store.kb_article_by_slug("withdrawal-delayed").await.unwrap().unwrap();
        let counts = app.store.kb_vote_counts().await.unwrap();
        let c = counts.iter().find(|c| c.article_id == article.id).unwrap();
        assert_eq!((c.helpful, c.unhelpful), (1, 1));
        let voted = html(
            h.get(app.url("/help/en/withdrawal-delayed?voted=1")).header("cookie", &visitor).send().await.unwrap(),
        )
        .await;
        assert!(voted.contains("class=\"chip on\" name=\"helpful\" value=\"no\""), "the page shows the visitor's vote");

        // Deflection: the ticket form's suggestions are recorded.
        let r = h
            .post(app.url("/api/v1/answers"))
            .json(&json!({"question": "我的提币一直在审核中", "form_id": "form-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bad = h
            .post(app.url("/api/v1/answers"))
            .json(&json!({"question": "提币", "form_id": "<script>"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 422);

        // Analytics: searches (logged in the background), votes, deflection; supervisors and admins only.
        let mut page = String::new();
        for _ in 0..50 {
            page = h
                .get(app.url("/console/kb/analytics"))
                .header("cookie", &sup)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if page.contains("提幣沒到帳") && page.contains("form") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(page.contains("提幣沒到帳"), "the help-center search is in the top queries");
        assert!(page.contains("data-slug=\"withdrawal-delayed\""), "votes per article");
        let mut shown = 0;
        for _ in 0..50 {
            shown = app.store.kb_deflection_stats(0).await.unwrap().shown;
            if shown >= 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(shown, 1, "the form that showed suggestions is recorded (in the background)");
        let r = h.get(app.url("/console/kb/analytics")).header("cookie", &l1).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // Categories: supervisors and admins add, rename and move them; the tree cannot loop.
        let r = h.get(app.url("/console/kb/categories")).header("cookie", &l1).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let page = html(h.get(app.url("/console/kb/categories")).header("cookie", &sup).send().await.unwrap()).await;
        assert!(page.contains("入金與提幣"), "{page}");
        let tok = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let nr = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let save = |slug: &'static str, parent: &'static str| {
            nr.post(app.url("/console/kb/categories"))
                .header("cookie", &sup)
                .header("origin", &origin)
                .form(&[
                    ("_csrf", tok.as_str()),
                    ("slug", slug),
                    ("parent", parent),
                    ("name_zh_hans", "质押"),
                    ("name_zh_hant", "質押"),
                    ("name_en", "Staking"),
                    ("position", "45"),
                ])
                .send()
        };
        assert_eq!(save("staking", "trading").await.unwrap().status(), 303);
        let cats = app.store.kb_categories().await.unwrap();
        let st = cats.iter().find(|c| c.slug == "staking").unwrap();
        assert_eq!((st.parent.as_deref(), st.name_zh_hant.as_str(), st.position), (Some("trading"), "質押", 45));
        assert_eq!(save("trading", "trading").await.unwrap().status(), 422, "no loops");

        // Synonyms: admins only; applied to the live index at once.
        let csrf =
            |html: &str| html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let r = h.get(app.url("/console/kb/synonyms")).header("cookie", &sup).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let page = admin.get(app.url("/console/kb/synonyms")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("withdraw"), "seeded from the built-in synonyms");
        assert!(search(app, "quokkafish", None).await.is_empty());
        let r = admin
            .post(app.url("/console/kb/synonyms"))
            .header("origin", &origin)
            .form(&[("_csrf", csrf(&page).as_str()), ("terms", "zebracorn, quokkafish")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(search(app, "quokkafish", None).await, ["zebracorn-runbook"]);
        let g = app
            .store
            .kb_synonyms()
            .await
            .unwrap()
            .into_iter()
            .find(|g| g.terms.contains(&"quokkafish".to_string()))
            .unwrap();
        let r = admin
            .post(app.url(&format!("/console/kb/synonyms/{}/delete", g.id)))
            .header("origin", &origin)
            .form(&[("_csrf", csrf(&page).as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert!(search(app, "quokkafish", None).await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn articles_in_the_database_sqlite() {
        let app = spawn_app_with(Backend::Sqlite, true).await;
        story(&app).await;
        app.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn articles_in_the_database_postgres() {
        let app = spawn_app_with(Backend::Postgres, true).await;
        story(&app).await;
        app.cleanup().await;
    }

    /// Two nodes on one database, joined by NATS: a save on one reaches the other's index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_save_on_one_node_reaches_the_other() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut nats = std::process::Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server");
        let url = format!("nats://127.0.0.1:{port}");
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let app = spawn_app_with(Backend::Sqlite, false).await;
        let node = |s: &lifebuoy_store::Store| {
            lifebuoy_web::AppState::new(
                s.clone(),
                lifebuoy_store::FileStore::new(app.dir.join("files")),
                lifebuoy_web::WebConfig::default(),
            )
        };
        let (a, b) = (node(&app.store), node(&app.store));
        for n in [&a, &b] {
            n.hub.connect_nats(&url).await.unwrap();
            n.load_kb().await.unwrap();
        }
        let author = lifebuoy_store::KbAuthor { id: None, name: "test".into() };
        let input = lifebuoy_store::KbArticleInput {
            slug: "okapi-staking".into(),
            category: "trading".into(),
            status: "published".into(),
            translations: vec![lifebuoy_store::KbTranslation {
                lang: "en".into(),
                title: "Okapi staking rewards".into(),
                body: "Rewards arrive daily.".into(),
                keywords: vec![],
            }],
        };
        let created = a.store.kb_create_article(&input, &author).await.unwrap();
        a.kb_article_changed(&created.id).await.unwrap();
        let found = |n: &lifebuoy_web::AppState| {
            !n.kb.search("okapi", &lifebuoy_search::SearchOpts::default()).unwrap().is_empty()
        };
        assert!(found(&a), "the saving node has it at once");
        let mut ok = false;
        for _ in 0..50 {
            if found(&b) {
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(ok, "the other node re-read the article from the database");
        // Unpublishing travels the same way.
        b.store.kb_set_status(&created.id, "draft", &author).await.unwrap();
        b.kb_article_changed(&created.id).await.unwrap();
        let mut gone = false;
        for _ in 0..50 {
            if !found(&a) {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(gone);
        let _ = nats.kill();
        let _ = nats.wait();
        app.cleanup().await;
    }
}
