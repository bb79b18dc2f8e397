//! The database refuses values the domain cannot read back: the CHECK constraints on PostgreSQL (migration
//! 0008), and on SQLite the triggers on agents and articles (0008) and the CHECK constraints on conversations
//! and chats (0009) hold exactly the wire enums' values, and a raw write of anything else fails on both
//! backends, the store's own writer connection included.

use lifebuoy_domain::{Category, ChatState, ConversationKind, KbStatus, Lang, Priority, Role, Status, Tier};
use lifebuoy_testkit::{BOTH_BACKENDS, on_backends};
use sqlx::Connection;

fn names<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| f(*v).to_string()).collect()
}

/// Every constrained column and the values its enum has.
fn columns() -> Vec<(&'static str, &'static str, Vec<String>)> {
    vec![
        ("conversations", "kind", names(ConversationKind::ALL, ConversationKind::as_str)),
        ("conversations", "status", names(Status::ALL, Status::as_str)),
        ("conversations", "priority", names(Priority::ALL, Priority::as_str)),
        ("conversations", "category", names(Category::ALL, Category::as_str)),
        ("conversations", "tier", names(Tier::ALL, Tier::as_str)),
        ("conversations", "lang", names(Lang::ALL, Lang::as_str)),
        ("agents", "role", names(Role::ALL, Role::as_str)),
        ("chats", "state", names(ChatState::ALL, ChatState::as_str)),
        ("kb_articles", "status", names(KbStatus::ALL, KbStatus::as_str)),
    ]
}

/// The values a migration allows in `table.column`, after the check's name: the list after `column IN (`,
/// or the values of `column = 'a' OR column = 'b' ...` (SQLite's 0009, quotes doubled inside its string).
fn allowed_in(sql: &str, table: &str, column: &str) -> Vec<String> {
    let marker = format!("{table}_{column}_check");
    let at = sql.find(&marker).unwrap_or_else(|| panic!("no check for {table}.{column}"));
    let rest = &sql[at..];
    let ors = format!("CHECK ({column} = ");
    if rest.starts_with(&format!("{marker} {ors}")) {
        let body = &rest[rest.find('(').unwrap() + 1..rest.find(')').unwrap()];
        return body
            .split(" OR ")
            .map(|t| t.trim().strip_prefix(&format!("{column} = ")).unwrap_or(t).trim_matches('\'').to_string())
            .collect();
    }
    let open = rest.find(&format!("{column} IN (")).or_else(|| rest.find(&format!("NEW.{column} NOT IN ("))).unwrap();
    let list = &rest[open..];
    let list = &list[list.find('(').unwrap() + 1..list.find(')').unwrap()];
    list.split(',').map(|v| v.trim().trim_matches('\'').to_string()).collect()
}

#[test]
fn the_checks_hold_exactly_the_enums_values() {
    const SQLITE_0009: &str = include_str!("../migrations/sqlite/0009_checks_in_tables.sql");
    for (backend, sql, tables) in [
        (
            "postgres",
            include_str!("../migrations/postgres/0008_checks.sql"),
            &["conversations", "agents", "chats", "kb_articles"][..],
        ),
        ("sqlite", include_str!("../migrations/sqlite/0008_checks.sql"), &["agents", "kb_articles"][..]),
        ("sqlite", SQLITE_0009, &["conversations", "chats"][..]),
    ] {
        for (table, column, values) in columns().into_iter().filter(|c| tables.contains(&c.0)) {
            assert_eq!(allowed_in(sql, table, column), values, "{backend}: {table}.{column}");
        }
        assert!(!sql.contains("ON conversations") || backend == "postgres", "no trigger on the hot tables");
    }
    // 0009 checks the rows already there against the same lists it then writes into the tables.
    for (table, column, values) in columns().into_iter().filter(|c| ["conversations", "chats"].contains(&c.0)) {
        let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        let check = format!("{column} NOT IN ({})", quoted.join(", "));
        assert!(SQLITE_0009.contains(&check), "0009 checks existing {table}.{column} with {check}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_values_are_refused_by_the_database() {
    on_backends(BOTH_BACKENDS, |store, url| async move {
        // A case and a chat to change.
        let cust = store.upsert_exchange_customer("u-checks", None, None, None).await.unwrap();
        let chat = store
            .start_chat(&lifebuoy_testkit::deposit_chat(&cust.id, "hello", None))
            .await
            .unwrap();
        let cid = chat.conversation.id.clone();
        // Through the store's own writer connection (the one that ran the migrations): a row with a status the
        // domain does not know is refused.
        let mut odd = chat.conversation.clone();
        odd.id = "odd".into();
        odd.case_number = None;
        odd.status = "lost".into();
        assert!(store.bulk_insert_conversations(&[odd.clone()]).await.is_err(), "{url}: the writer refuses 'lost'");
        odd.status = "open".into();
        store.bulk_insert_conversations(&[odd]).await.expect("and takes 'open'");
        // Raw writes, as a careless script or a bad migration would make them.
        let conv_sql = [
            format!("UPDATE conversations SET status = 'lost' WHERE id = '{cid}'"),
            format!("UPDATE conversations SET kind = 'fax' WHERE id = '{cid}'"),
            format!("UPDATE conversations SET lang = 'fr' WHERE id = '{cid}'"),
            format!("UPDATE chats SET state = 'paused' WHERE conversation_id = '{cid}'"),
            format!("UPDATE chats SET state = 'queued' WHERE conversation_id = '{cid}'"),
            format!("UPDATE conversations SET status = 'on_hold', priority = 'urgent', tier = 'l2' WHERE id = '{cid}'"),
        ];
        let bad: [(&str, &str); 6] = [
            (
                "agents",
                "INSERT INTO agents (id, email, display_name, agent_no, role, languages, password_hash, created_at) VALUES ('a', 'a@x.dev', 'A', 'A1', 'root', 'en', 'x', 0)",
            ),
            (
                "agents",
                "INSERT INTO agents (id, email, display_name, agent_no, role, languages, password_hash, created_at) VALUES ('b', 'b@x.dev', 'B', 'B1', 'agent_l1', 'en', 'x', 0)",
            ),
            ("agents", "UPDATE agents SET role = 'superuser' WHERE id = 'b'"),
            (
                "kb_articles",
                "INSERT INTO kb_articles (id, slug, category, status, version, created_at, updated_at) VALUES ('k', 'k', 'withdrawal', 'secret', 1, 0, 0)",
            ),
            (
                "kb_articles",
                "INSERT INTO kb_articles (id, slug, category, status, version, created_at, updated_at) VALUES ('k', 'k', 'withdrawal', 'draft', 1, 0, 0)",
            ),
            ("kb_articles", "UPDATE kb_articles SET status = 'secret' WHERE id = 'k'"),
        ];
        let all: Vec<&str> = bad.iter().map(|(_, q)| *q).chain(conv_sql.iter().map(String::as_str)).collect();
        let mut outcomes = vec![];
        if url.starts_with("sqlite") {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            for q in &all {
                outcomes.push(sqlx::query(q).execute(&mut c).await.is_ok());
            }
        } else {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            for q in &all {
                outcomes.push(sqlx::query(q).execute(&mut c).await.is_ok());
            }
        }
        assert_eq!(
            outcomes,
            [false, true, false, false, true, false, false, false, false, false, true, true],
            "{url}: bad values refused, good rows taken"
        );
    })
    .await;
}
