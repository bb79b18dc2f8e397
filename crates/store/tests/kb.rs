//! The knowledge-base store on SQLite and on PostgreSQL: articles with translations and versions, imports,
//! categories, votes, the search log, deflection and synonyms.

use lifebuoy_store::{Conflict, KbArticleInput, KbAuthor, KbFilter, KbSearchLog, KbTranslation, Store, StoreError};
use lifebuoy_testkit::{Backend, fresh_store, pg_admin_url};

fn tr(lang: &str, title: &str, body: &str, kw: &[&str]) -> KbTranslation {
    KbTranslation {
        lang: lang.into(),
        title: title.into(),
        body: body.into(),
        keywords: kw.iter().map(|s| s.to_string()).collect(),
    }
}

fn article(slug: &str, status: &str) -> KbArticleInput {
    KbArticleInput {
        slug: slug.into(),
        category: "withdrawal".into(),
        status: status.into(),
        translations: vec![
            tr("en", "Withdrawal delayed", "Check the **TxID**.", &["withdraw", "pending"]),
            tr("zh-Hans", "提币未到账", "先查询 TxID。", &["提币", "未到账"]),
        ],
    }
}

fn agent() -> KbAuthor {
    KbAuthor { id: Some("a1".into()), name: "Li Na · A1024".into() }
}

async fn with_store<F, Fut>(f: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = std::env::temp_dir().join(format!("lb-kb-store-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (store, pg) = fresh_store(backend, &dir).await;
        f(store.clone()).await;
        store.close().await;
        if let Some(name) = pg {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_translations_versions() {
    with_store(|s| async move {
        assert!(s.kb_is_empty().await.unwrap());
        let a = s.kb_create_article(&article("withdrawal-delayed", "draft"), &agent()).await.unwrap();
        assert_eq!((a.version, a.status.as_str()), (1, "draft"));
        // Translations come back in the fixed order zh-Hans, zh-Hant, en.
        assert_eq!(a.translations.iter().map(|t| t.lang.as_str()).collect::<Vec<_>>(), ["zh-Hans", "en"]);
        assert_eq!(a.translation("zh-Hans").unwrap().keywords, ["提币", "未到账"]);
        // A slug in use is a conflict; bad input is refused with the field named.
        let e = s.kb_create_article(&article("withdrawal-delayed", "draft"), &agent()).await.unwrap_err();
        assert!(matches!(&e, StoreError::Conflict(Conflict::SlugTaken(s)) if s == "withdrawal-delayed"), "{e}");
        let e = s.kb_create_article(&article("Bad Slug", "draft"), &agent()).await.unwrap_err();
        assert!(e.to_string().contains("slug"), "{e}");

        // Editing adds a translation and a version; a stale editor gets a conflict.
        let mut edit = a.input();
        edit.translations.push(tr("zh-Hant", "提幣未到帳", "先查詢 TxID。", &["提幣"]));
        let b = s.kb_update_article(&a.id, &edit, Some(1), &agent(), "edited").await.unwrap();
        assert_eq!((b.version, b.translations.len()), (2, 3));
        let e = s.kb_update_article(&a.id, &edit, Some(1), &agent(), "edited").await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(Conflict::StaleVersion { yours: 1, saved: 2 })), "{e}");
        // Saving the same content again is not a new version.
        assert_eq!(s.kb_update_article(&a.id, &edit, Some(2), &agent(), "edited").await.unwrap().version, 2);
        let c = s.kb_set_status(&a.id, "published", &agent()).await.unwrap();
        assert_eq!((c.version, c.status.as_str()), (3, "published"));

        let versions = s.kb_versions(&a.id).await.unwrap();
        assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(versions[0].note, "published");
        assert_eq!(versions[2].content.translations.len(), 2, "version 1 is kept as it was saved");
        assert_eq!(versions[1].author_name, "Li Na · A1024");
        assert_eq!(s.kb_version(&a.id, 2).await.unwrap().unwrap().content.status, "draft");

        // Filters.
        s.kb_create_article(&article("internal-runbook", "internal"), &agent()).await.unwrap();
        let published =
            s.kb_articles(&KbFilter { status: Some("published".into()), ..Default::default() }).await.unwrap();
        assert_eq!(published.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(), ["withdrawal-delayed"]);
        let hant = s.kb_articles(&KbFilter { lang: Some("zh-Hant".into()), ..Default::default() }).await.unwrap();
        assert_eq!(hant.len(), 1);
        assert_eq!(s.kb_articles(&KbFilter::default()).await.unwrap().len(), 2);
        assert_eq!(s.kb_article_by_slug("internal-runbook").await.unwrap().unwrap().status, "internal");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_is_idempotent_and_categories_form_a_tree() {
    with_store(|s| async move {
        let mut other = article("new-category-article", "published");
        other.category = "staking".into();
        let docs = vec![article("a-one", "published"), other];
        let author = KbAuthor { id: None, name: "import".into() };
        let r = s.kb_import(&docs, &author).await.unwrap();
        assert_eq!((r.created, r.updated, r.unchanged), (2, 0, 0));
        let r = s.kb_import(&docs, &author).await.unwrap();
        assert_eq!((r.created, r.updated, r.unchanged), (0, 0, 2));
        let mut changed = docs.clone();
        changed[0].translations[0].body.push_str("\nMore.");
        let r = s.kb_import(&changed, &author).await.unwrap();
        assert_eq!((r.created, r.updated, r.unchanged, r.changed_ids.len()), (0, 1, 1, 1));
        // A bad article anywhere stops the import before anything is written.
        let mut bad = changed.clone();
        bad[1].translations[0].title.clear();
        assert!(s.kb_import(&bad, &author).await.is_err());

        let cats = s.kb_categories().await.unwrap();
        let funds = cats.iter().find(|c| c.slug == "withdrawal").unwrap();
        assert_eq!(funds.parent.as_deref(), Some("funds"));
        assert_eq!(funds.name(lifebuoy_domain::Lang::ZhHant), "提幣");
        assert!(cats.iter().any(|c| c.slug == "staking"), "unknown categories are created on import");
        let mut loopy = cats.iter().find(|c| c.slug == "funds").unwrap().clone();
        loopy.parent = Some("withdrawal".into());
        assert!(s.kb_save_category(&loopy).await.is_err(), "no loops in the tree");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_searches_deflection_synonyms() {
    with_store(|s| async move {
        let a = s.kb_create_article(&article("x-article", "published"), &agent()).await.unwrap();
        s.kb_vote(&a.id, "en", "v1", true).await.unwrap();
        s.kb_vote(&a.id, "en", "v1", false).await.unwrap(); // the same visitor changes their mind
        s.kb_vote(&a.id, "zh-Hans", "v2", true).await.unwrap();
        let counts = s.kb_vote_counts().await.unwrap();
        assert_eq!((counts[0].helpful, counts[0].unhelpful), (1, 1));
        assert_eq!(s.kb_vote_of(&a.id, "v1").await.unwrap(), Some(false));
        assert!(matches!(s.kb_vote("nope", "en", "v1", true).await, Err(StoreError::NotFound)));

        for (q, n) in [("提幣", 3), ("提幣", 3), ("sourdough", 0), ("KYC", 2), ("kyc", 2)] {
            let log = KbSearchLog {
                query: q.into(),
                lang: Some("en".into()),
                source: "help".into(),
                results: n,
                top_article: None,
            };
            s.kb_log_search(&log).await.unwrap();
        }
        let top = s.kb_top_queries(0, false, 10).await.unwrap();
        assert_eq!(top.len(), 3);
        assert_eq!(top[0].count, 2);
        let none = s.kb_top_queries(0, true, 10).await.unwrap();
        assert_eq!(none.iter().map(|q| q.query.as_str()).collect::<Vec<_>>(), ["sourdough"]);
        assert_eq!(s.kb_search_totals(0).await.unwrap(), (5, 1));

        s.kb_deflection_shown("f1", None, Some("en"), Some(&a.id)).await.unwrap();
        s.kb_deflection_shown("f1", None, Some("en"), Some(&a.id)).await.unwrap();
        s.kb_deflection_shown("f2", None, Some("en"), None).await.unwrap();
        s.kb_deflection_filed("f2", "t1").await.unwrap();
        s.kb_deflection_filed("f9", "t2").await.unwrap();
        let d = s.kb_deflection_stats(0).await.unwrap();
        assert_eq!((d.shown, d.filed), (2, 1));
        assert_eq!(d.rate(), Some(0.5));

        let seed = vec![vec!["提币".to_string(), "withdraw".to_string()], vec!["a".into(), "b".into()]];
        assert!(s.kb_seed_synonyms(&seed).await.unwrap());
        assert!(!s.kb_seed_synonyms(&seed).await.unwrap(), "seeded once");
        let g = s.kb_add_synonyms(&["质押".into(), "staking".into(), "Staking".into()]).await.unwrap();
        assert_eq!(g.terms, ["质押", "staking"]);
        assert!(s.kb_add_synonyms(&["only-one".into()]).await.is_err());
        let all = s.kb_synonyms().await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].terms, ["提币", "withdraw"]);
        s.kb_delete_synonyms(&all[1].id).await.unwrap();
        assert!(matches!(s.kb_delete_synonyms(&all[1].id).await, Err(StoreError::NotFound)));
        assert_eq!(s.kb_synonyms().await.unwrap().len(), 2);
    })
    .await;
}
