//! Background jobs in the console and in /metrics: supervisors see dead jobs and retry them (with the
//! session's form token, same-origin only); other agents are refused. No runner runs in these tests, so a
//! retried job stays queued where the test can see it.

use lifebuoy_domain::Role;
use lifebuoy_store::{JobFailed, NewJob};
use lifebuoy_testkit::{TestApp, on_both_backends};
use serde_json::json;
use std::time::Duration;

/// A dead job: its only attempt failed.
async fn dead_job(app: &TestApp) -> NewJob {
    let j = NewJob::new("mail.send", &json!({"to": "a@example.com"})).max_attempts(1);
    app.store.enqueue_job(&j).await.unwrap();
    let got = app.store.claim_jobs("test-node", &[], 10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 1);
    let out = app
        .store
        .fail_jobs(
            "test-node",
            &[JobFailed { id: j.id.clone(), error: "SMTP relay refused: 550 <bad>".into(), retry_at: None }],
        )
        .await
        .unwrap();
    assert_eq!(out[0].1, "dead");
    j
}

/// A console session made directly in the store, so the test knows its form token; `lang` is the switcher's
/// cookie.
async fn session(app: &TestApp, agent_id: &str, lang: &str) -> (reqwest::Client, String) {
    let (token, csrf) = app.store.create_session("agent", agent_id, 3_600_000).await.unwrap();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("cookie", format!("lb_session={token}; lb_lang={lang}").parse().unwrap());
    let c = reqwest::Client::builder().default_headers(h).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    (c, csrf)
}

/// `/metrics` as an operator's scraper reads it: with an integration token (it is not for the anonymous).
async fn metrics(app: &TestApp) -> String {
    let token = app.integration_token().await;
    let r = app.http.get(app.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn supervisors_see_and_retry_dead_jobs(app: &TestApp) {
    let sup = app.agent("sup@example.com", "S100", Role::Supervisor, &["support"]).await;
    let l1 = app.agent("l1@example.com", "A100", Role::AgentL1, &["support"]).await;
    let j = dead_job(app).await;
    let m = metrics(app).await;
    assert!(m.contains("lifebuoy_jobs{state=\"dead\"} 1\n"), "{m}");
    assert!(m.contains("lifebuoy_jobs{state=\"queued\"} 0\n"), "{m}");
    assert!(m.contains("lifebuoy_jobs_due 0\n"), "{m}");

    // An L1 agent: neither the page nor the retry, even with a valid form token.
    let (agent, agent_csrf) = session(app, &l1, "en").await;
    assert_eq!(agent.get(app.url("/console/jobs")).send().await.unwrap().status(), 403);
    let r = agent
        .post(app.url(&format!("/console/jobs/{}/retry", j.id)))
        .header("origin", &app.base)
        .form(&[("_csrf", agent_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.store.job(&j.id).await.unwrap().unwrap().state, "dead");
    // Signed out: the sign-in page.
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anon.get(app.url("/console/jobs")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/console/login"));

    // The supervisor sees the dead job with its error, in English here.
    let (sv, csrf) = session(app, &sup, "en").await;
    let r = sv.get(app.url("/console/jobs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("data-id=\"{}\"", j.id)), "{html}");
    assert!(html.contains("SMTP relay refused: 550 &lt;bad&gt;"), "the error is shown, escaped");
    assert!(html.contains("mail.send") && html.contains("1 / 1") && html.contains("Retry"));
    let queued = sv.get(app.url("/console/jobs?state=queued")).send().await.unwrap().text().await.unwrap();
    assert!(!queued.contains(&j.id) && queued.contains("id=\"no-jobs\""));
    // In Chinese too.
    let (zh, _) = session(app, &sup, "zh-Hant").await;
    let zh = zh.get(app.url("/console/jobs")).send().await.unwrap().text().await.unwrap();
    assert!(zh.contains("已終止") && zh.contains("重試"));
    assert_eq!(sv.get(app.url("/console/jobs?after=garbage")).send().await.unwrap().status(), 422);

    // A retry needs the form token and the same origin.
    let url = app.url(&format!("/console/jobs/{}/retry", j.id));
    let r = sv.post(&url).header("origin", &app.base).form(&[("_csrf", "wrong")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r =
        sv.post(&url).header("origin", "https://evil.example").form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.store.job(&j.id).await.unwrap().unwrap().state, "dead");
    let r = sv
        .post(&url)
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str()), ("state", "dead")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/console/jobs?state=dead&retried=mail.send");
    let back = app.store.job(&j.id).await.unwrap().unwrap();
    assert_eq!((back.state.as_str(), back.attempts), ("queued", 0));
    let page =
        sv.get(app.url("/console/jobs?state=queued&retried=mail.send")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&j.id) && page.contains("id=\"retried\""));
    // Only failed and dead jobs are retried; an unknown id is a 404.
    let r = sv.post(&url).header("origin", &app.base).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let r = sv
        .post(app.url("/console/jobs/nope/retry"))
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let m = metrics(app).await;
    assert!(
        m.contains("lifebuoy_jobs{state=\"dead\"} 0\n") && m.contains("lifebuoy_jobs{state=\"queued\"} 1\n"),
        "{m}"
    );
    assert!(m.contains("lifebuoy_jobs_due 1\n"), "{m}");
}
on_both_backends!(supervisors_see_and_retry_dead_jobs_on, supervisors_see_and_retry_dead_jobs);
