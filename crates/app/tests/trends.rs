//! Trend alerts (issue 13) over a real store (SQLite, then PostgreSQL): a burst of USDT withdrawal cases far
//! above their usual rate alerts the supervisors once, with the latest examples; an ordinary hour does not.

use lifebuoy_app::tickets::{self, CreateTicket};
use lifebuoy_app::{Actor, App, trends};
use lifebuoy_domain::Role;
use lifebuoy_store::{FileStore, Store};
use lifebuoy_testkit::{BOTH_BACKENDS, on_backends, test_agent};
use serde_json::json;

fn ticket(subject: &str, category: &str, asset: &str) -> CreateTicket {
    serde_json::from_value(json!({"subject": subject, "body": "还没到账", "category": category, "asset": asset}))
        .unwrap()
}

/// Moves every case of a category back by `hours` (straight in the database).
async fn backdate(url: &str, category: &str, hours: i64) {
    use sqlx::Connection;
    let sql = "UPDATE conversations SET created_at = created_at - $1 WHERE category = $2";
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).bind(hours * 3_600_000).bind(category).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).bind(hours * 3_600_000).bind(category).execute(&mut c).await.unwrap();
    }
}

async fn burst(store: Store, url: String) {
    let dir = std::env::temp_dir().join(format!("lifebuoy-trends-{}", uuid::Uuid::new_v4().simple()));
    let app = App::new(store, FileStore::new(dir.join("files")), Default::default());
    let sup = test_agent(&app, "S501", Role::Supervisor, &["support"]).await;
    let agent = test_agent(&app, "A501", Role::AgentL1, &["support"]).await;
    let mut people = Vec::new();
    for n in 0..14 {
        people.push(Actor::Customer(
            app.store.upsert_exchange_customer(&format!("trend-{n}"), None, None, Some("zh-Hans")).await.unwrap(),
        ));
    }
    // The usual week: a few deposit questions a day, three days ago.
    for p in &people[..6] {
        tickets::create(&app, p, ticket("充值没到账", "deposit", "BTC"), None).await.unwrap();
    }
    backdate(&url, "deposit", 72).await;
    // This hour: four deposit questions (ordinary), and twelve USDT withdrawals (a burst).
    for p in &people[..4] {
        tickets::create(&app, p, ticket("充值还没到", "deposit", "BTC"), None).await.unwrap();
    }
    assert!(trends::scan(&app, lifebuoy_store::now_ms()).await.unwrap().is_empty(), "four is no incident");
    for (i, p) in people.iter().take(12).enumerate() {
        tickets::create(&app, p, ticket(&format!("USDT 提币卡住了 #{i}"), "withdrawal", "usdt"), None).await.unwrap();
    }
    let found = trends::scan(&app, lifebuoy_store::now_ms()).await.unwrap();
    let got: Vec<(&str, &str, i64)> = found.iter().map(|s| (s.category.as_str(), s.asset.as_str(), s.count)).collect();
    assert_eq!(got, vec![("withdrawal", "USDT", 12)]);

    // The supervisor's alert names the topic and the latest five; the agent gets none.
    let alerts = app.store.staff_alerts(&sup.id, 10).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, "trend");
    let d: serde_json::Value = serde_json::from_str(&alerts[0].data).unwrap();
    assert_eq!(
        (d["category"].as_str(), d["asset"].as_str(), d["count"].as_i64()),
        (Some("withdrawal"), Some("USDT"), Some(12))
    );
    let examples = d["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 5);
    assert!(examples[0]["subject"].as_str().unwrap().contains("#11"), "newest first: {examples:?}");
    assert!(app.store.staff_alerts(&agent.id, 10).await.unwrap().is_empty(), "trends go to supervisors");
    // The next scan, minutes later, does not alert again.
    trends::scan(&app, lifebuoy_store::now_ms()).await.unwrap();
    assert_eq!(app.store.staff_alerts(&sup.id, 10).await.unwrap().len(), 1, "one alert per topic and period");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_burst_alerts_supervisors_once_on_both_backends() {
    on_backends(BOTH_BACKENDS, burst).await;
}
