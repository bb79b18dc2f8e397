//! The search indexes' change log: a reader takes every row once, even a row whose transaction commits after
//! rows written later (PostgreSQL commits out of order), and keeps a position it can restart from.

use lifebuoy_store::{Indexed, LogPos, LogReader, Store, StoreOptions};
use lifebuoy_testkit::{Backend, fresh_store};

async fn read_ids(reader: &mut LogReader, store: &Store) -> Vec<String> {
    let (changes, keep, _more) = reader.read(store, &[Indexed::Ticket], 100).await.unwrap();
    reader.advance(&changes, keep);
    changes.into_iter().map(|c| c.entity_id).collect()
}

#[tokio::test]
async fn a_late_commit_is_read_once_on_postgres() {
    use sqlx::Connection;
    let dir = std::env::temp_dir().join(format!("lifebuoy-log-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (store, name) = fresh_store(Backend::Postgres, &dir).await;
    let admin = lifebuoy_testkit::pg_admin_url();
    let url = format!("{}/{}", admin.rsplit_once('/').unwrap().0, name.clone().unwrap());
    let mut a = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut b = sqlx::PgConnection::connect(&url).await.unwrap();
    let insert = "INSERT INTO index_changes (entity, entity_id, at) VALUES ('ticket', $1, 0)";

    let mut reader = LogReader::starting_at(store.index_log_head().await.unwrap());
    // A takes its sequence number first but commits last.
    sqlx::query("BEGIN").execute(&mut a).await.unwrap();
    sqlx::query(insert).bind("early").execute(&mut a).await.unwrap();
    sqlx::query(insert).bind("late").execute(&mut b).await.unwrap();
    assert_eq!(read_ids(&mut reader, &store).await, vec!["late"]);
    let kept = reader.pos;
    assert_eq!(read_ids(&mut reader, &store).await, Vec::<String>::new(), "a row is taken once");
    sqlx::query("COMMIT").execute(&mut a).await.unwrap();
    assert_eq!(read_ids(&mut reader, &store).await, vec!["early"], "the late commit is still read");
    assert_eq!(read_ids(&mut reader, &store).await, Vec::<String>::new());

    // A node that stopped at the position kept while A was open reads A's row again on restart (and may read
    // `late` again: re-reading is harmless), never misses it.
    let mut restarted = LogReader::starting_at(kept);
    let again = read_ids(&mut restarted, &store).await;
    assert!(again.contains(&"early".to_string()), "{again:?}");
    assert_eq!(store.index_changes_behind(&[Indexed::Ticket], kept, 100).await.unwrap(), again.len() as i64);

    store.close().await;
    let mut admin = sqlx::PgConnection::connect(&admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", name.unwrap())).execute(&mut admin).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn positions_pages_and_the_pruned_floor_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("lifebuoy-log-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let store = Store::open(&StoreOptions::new(url)).await.unwrap();
    let start = store.index_log_head().await.unwrap();
    assert_eq!(start, LogPos::default(), "an empty log");
    let ids: Vec<String> = (0..250).map(|i| format!("t{i:03}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    store.log_index_changes(Indexed::Ticket, &refs).await.unwrap();
    store.log_index_changes(Indexed::Article, &["a1"]).await.unwrap();

    // Pages of 100: three reads, in order, each keeping its last row.
    let mut reader = LogReader::starting_at(start);
    let (first, keep, more) = reader.read(&store, &[Indexed::Ticket], 100).await.unwrap();
    assert!(more && first.len() == 100 && first[0].entity_id == "t000");
    reader.advance(&first, keep);
    assert_eq!(reader.pos, first[99].pos, "on SQLite every row seen is final");
    let rest: Vec<String> = [read_ids(&mut reader, &store).await, read_ids(&mut reader, &store).await].concat();
    assert_eq!(rest.len(), 150);
    assert_eq!(rest.last().map(String::as_str), Some("t249"));
    assert_eq!(store.index_changes_behind(&[Indexed::Ticket], reader.pos, 1000).await.unwrap(), 0);
    assert_eq!(store.index_changes_behind(&[Indexed::Article], start, 1000).await.unwrap(), 1, "by entity");

    // Pruning raises the floor: an index whose position is below it knows it missed rows.
    assert_eq!(store.prune_index_changes(lifebuoy_store::now_ms() + 1).await.unwrap(), 251);
    let info = store.index_log_info().await.unwrap();
    assert!(info.floor > reader.pos, "the floor passed every pruned row, the article's too");
    assert!(!info.epoch.is_empty());
    assert_eq!(store.prune_index_changes(lifebuoy_store::now_ms() + 1).await.unwrap(), 0, "nothing left");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
