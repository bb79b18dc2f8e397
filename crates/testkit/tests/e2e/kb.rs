//! The knowledge base over HTTP, on the starter content: search across scripts, the answer engine's
//! contract, and the article page.

use lifebuoy_testkit::{TestApp, on_both_backends};
use serde_json::{Value, json};

async fn search_answers_and_articles(app: &TestApp) {
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
    let question = "我的提币一直在审核中，要等多久？";
    let a = ask(question).await;
    let first = &a["answers"][0];
    assert!(first["title"].as_str().unwrap().contains("提币"), "{a}");
    assert_eq!(first["url"], "/help/zh-Hans/withdrawal-delayed", "{a}");
    // The API answers what the engine answers over the same articles and synonyms: the same articles in the
    // same order, each with the engine's own confidence.
    let expected = engine_answers(app, question).await;
    assert!(!expected.is_empty(), "the engine answers this question");
    let got: Vec<(String, String, f64)> = a["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (x["slug"].as_str().unwrap().into(), x["lang"].as_str().unwrap().into(), x["confidence"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{a}");
    for ((slug, lang, conf), e) in got.iter().zip(&expected) {
        assert_eq!((slug.as_str(), lang.as_str()), (e.slug.as_str(), e.lang.as_str()), "{a}");
        assert!(
            (conf - f64::from(e.confidence)).abs() < 1e-4,
            "{slug}: the API says {conf}, the engine {}",
            e.confidence
        );
    }
    assert_eq!(ask("how do I bake sourdough bread").await["answers"], json!([]));
    let r =
        reqwest::Client::new().post(app.url("/api/v1/answers")).json(&json!({"question": "  "})).send().await.unwrap();
    assert_eq!(r.status(), 422);

    // The answer's link opens a readable article; unknown slugs are 404.
    let page = reqwest::get(app.url(first["url"].as_str().unwrap())).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<h1>"));
    assert_eq!(reqwest::get(app.url("/help/en/no-such-article")).await.unwrap().status(), 404);
}
on_both_backends!(search_answers_and_articles_on, search_answers_and_articles, demo);

/// What the answer engine says to `question`, over an index built from the app's database the way the server
/// builds its own (the same article documents, the same synonym groups).
async fn engine_answers(app: &lifebuoy_testkit::TestApp, question: &str) -> Vec<lifebuoy_search::Answer> {
    let articles = app.store.kb_articles(&Default::default()).await.unwrap();
    let groups = app.store.kb_synonyms().await.unwrap();
    let text: String = groups.iter().map(|g| g.terms.join(", ") + "\n").collect();
    let index = lifebuoy_search::KbIndex::open_in_ram().unwrap();
    index.set_synonyms(lifebuoy_search::Synonyms::parse(&text));
    for a in &articles {
        for d in lifebuoy_web::knowledge::index_docs(a) {
            index.upsert(&d).unwrap();
        }
    }
    index.commit().unwrap();
    index.answer(question, None).unwrap()
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
        // The category filter: every result of a filtered search is in that category, and there are some; the
        // same search unfiltered does find the withdrawal article the filter keeps out.
        let result_slugs = |page: &str| -> Vec<String> {
            page.split("class=\"result-title\" href=\"")
                .skip(1)
                .map(|r| r.split('"').next().unwrap().rsplit('/').next().unwrap().to_string())
                .collect()
        };
        let unfiltered = html(h.get(app.url("/help/en/search?q=withdrawal")).send().await.unwrap()).await;
        assert!(result_slugs(&unfiltered).contains(&"withdrawal-delayed".to_string()), "{unfiltered}");
        let filtered = html(h.get(app.url("/help/en/search?q=withdrawal&category=kyc")).send().await.unwrap()).await;
        let kept = result_slugs(&filtered);
        assert!(!kept.is_empty(), "a kyc article speaks of withdrawals: {filtered}");
        // In kyc: the category itself or one under it.
        let cats = app.store.kb_categories().await.unwrap();
        let in_kyc = |mut c: Option<String>| {
            while let Some(slug) = c {
                if slug == "kyc" {
                    return true;
                }
                c = cats.iter().find(|k| k.slug == slug).and_then(|k| k.parent.clone());
            }
            false
        };
        for slug in &kept {
            let a = app.store.kb_article_by_slug(slug).await.unwrap().unwrap();
            assert!(in_kyc(Some(a.category.clone())), "{slug} ({}) in a search filtered to kyc", a.category);
        }
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
            if page.contains("提幣沒到帳") {
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
        // ...and the page says so, in the supervisor's language.
        let page = html(h.get(app.url("/console/kb/analytics")).header("cookie", &sup).send().await.unwrap()).await;
        let detail = lifebuoy_web::i18n::t(lifebuoy_domain::Lang::ZhHans, "kb.deflection_detail")
            .replace("{shown}", "1")
            .replace("{filed}", "0");
        assert!(page.contains(&detail), "{detail:?} not on the analytics page:\n{page}");
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

    /// Polls `cond` until it holds (then returns how long that took) or `limit` has passed.
    async fn within(limit: std::time::Duration, cond: impl Fn() -> bool) -> Option<std::time::Duration> {
        let t0 = std::time::Instant::now();
        while !cond() {
            if t0.elapsed() > limit {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Some(t0.elapsed())
    }

    /// Two nodes on one database, joined by NATS (`LIFEBUOY_TEST_NATS`, as the other multi-node tests): a save
    /// on one reaches the other's index. Each node has its own `Store` and its own hub, and neither polls the
    /// database for saves (the fallback that would carry the change in 5 s without NATS), so only NATS can
    /// bring the change across, and it must do so well inside the poller's period.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_save_on_one_node_reaches_the_other() {
        const WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
        let url = std::env::var("LIFEBUOY_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let app = spawn_app_with(Backend::Sqlite, false).await;
        let second_store = lifebuoy_store::Store::open(&lifebuoy_store::StoreOptions::new(format!(
            "sqlite://{}",
            app.dir.join("test.db").display()
        )))
        .await
        .expect("a second store on the same database");
        let node = |s: &lifebuoy_store::Store| {
            lifebuoy_web::AppState::new(
                s.clone(),
                lifebuoy_store::FileStore::new(app.dir.join("files")),
                lifebuoy_web::WebConfig::default(),
            )
        };
        let (a, b) = (node(&app.store), node(&second_store));
        for n in [&a, &b] {
            n.kb_sync.without_polling();
            n.hub.connect_nats(&url).await.unwrap_or_else(|e| panic!("NATS at {url} (set LIFEBUOY_TEST_NATS): {e}"));
            n.load_kb().await.unwrap();
        }
        let found = |n: &lifebuoy_web::AppState| {
            !n.kb.search("okapi", &lifebuoy_search::SearchOpts::default()).unwrap().is_empty()
        };
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
        assert!(!found(&a) && !found(&b), "no okapi before the save");
        let created = a.store.kb_create_article(&input, &author).await.unwrap();
        a.kb_article_changed(&created.id).await.unwrap();
        assert!(found(&a), "the saving node has it at once");
        let took = within(WITHIN, || found(&b)).await;
        assert!(took.is_some(), "the other node did not hear of the save through NATS within {WITHIN:?}");
        // Unpublishing travels the same way, the other way round.
        b.store.kb_set_status(&created.id, "draft", &author).await.unwrap();
        b.kb_article_changed(&created.id).await.unwrap();
        assert!(!found(&b), "the saving node drops it at once");
        let took = within(WITHIN, || !found(&a)).await;
        assert!(took.is_some(), "the unpublish did not reach the first node through NATS within {WITHIN:?}");
        second_store.close().await;
        app.cleanup().await;
    }
}
