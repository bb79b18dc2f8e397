//! `lifebuoy token create|list|revoke` on a real database: a revoked token is refused at once, and the list
//! shows tokens without their secrets.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifebuoy"))
        .args(args)
        .env("LIFEBUOY_LOG", "warn")
        .env_remove("LIFEBUOY_DATABASE_URL")
        .output()
        .expect("run lifebuoy")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "lifebuoy {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_revoked() {
    let dir = std::env::temp_dir().join(format!("lb-token-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.display().to_string();
    let secret = ok(&["token", "create", "--name", "exchange-backend", "--data", &data]).trim().to_string();
    assert!(secret.starts_with("lbt_"), "{secret}");
    ok(&["token", "create", "--name", "reporting", "--data", &data]);

    let list = ok(&["token", "list", "--data", &data]);
    assert!(list.contains("exchange-backend") && list.contains("reporting"), "{list}");
    assert!(!list.contains(&secret), "the list never shows a secret");
    let row = list.lines().find(|l| l.contains("exchange-backend")).unwrap();
    assert!(row.trim_end().ends_with('-'), "not revoked yet: {row}");

    let out = ok(&["token", "revoke", "exchange-backend", "--data", &data]);
    assert!(out.starts_with("revoked "), "{out}");
    let list = ok(&["token", "list", "--data", &data]);
    let row = list.lines().find(|l| l.contains("exchange-backend")).unwrap();
    assert!(!row.trim_end().ends_with('-'), "revoked, with its time: {row}");
    // The revoked token no longer authenticates; the other one still does.
    let store = lifebuoy_store::Store::open(&lifebuoy_store::StoreOptions::new(format!(
        "sqlite://{}",
        dir.join("lifebuoy.db").display()
    )))
    .await
    .unwrap();
    assert!(store.api_token(&secret).await.unwrap().is_none());
    assert_eq!(store.api_tokens().await.unwrap().iter().filter(|t| t.revoked_at.is_none()).count(), 1);
    store.close().await;

    // Revoking what is not there is a clear error.
    let out = run(&["token", "revoke", "exchange-backend", "--data", &data]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no live integration token"), "{out:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
