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
