//! The supervisors' dashboards over HTTP (issue 13): the charts carry the seeded numbers in their SVG, every
//! table downloads as CSV, and only supervisors and admins get in.

use lifebuoy_app::analytics;
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage};
use lifebuoy_app::{Actor, App};
use lifebuoy_domain::{Role, Status};
use lifebuoy_testkit::{TestApp, on_both_backends};
use serde_json::json;

async fn seed(app: &App, agent: &Actor) {
    let alice =
        Actor::Customer(app.store.upsert_exchange_customer("dash-alice", None, None, Some("zh-Hans")).await.unwrap());
    for (subject, category, answered) in [
        ("USDT 提币未到账", "withdrawal", Some(Status::Solved)),
        ("BTC 提币审核中", "withdrawal", Some(Status::Open)),
        ("ETH 提币失败", "withdrawal", None),
        ("修改昵称", "account", None),
    ] {
        let t: CreateTicket =
            serde_json::from_value(json!({"subject": subject, "body": "请帮忙查一下", "category": category})).unwrap();
        let (c, _) = tickets::create(app, &alice, t, None).await.unwrap();
        if let Some(status) = answered {
            let m = NewMessage {
                body: "正在为您核实。".into(),
                internal: false,
                attachment_ids: vec![],
                status: Some(status),
            };
            tickets::reply(app, agent, &c, m, None).await.unwrap();
        }
    }
    while !analytics::fold(app).await.unwrap().caught_up {}
}

async fn dashboards_show_the_seeded_numbers(t: &TestApp) {
    let boss = t.agent("boss@x.dev", "S31", Role::Supervisor, &["support"]).await;
    t.agent("l1@x.dev", "A31", Role::AgentL1, &["support"]).await;
    let boss = Actor::Agent(t.store.agent(&boss).await.unwrap().unwrap());
    seed(&t.app, &boss).await;

    let c = t.agent_client("boss@x.dev").await;
    let r = c.get(t.url("/console/analytics?days=7")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    // Summary: four new cases, two answered; one solved within its 30 minutes.
    let stat =
        |id: &str| html.split(&format!("id=\"stat-{id}\"")).nth(1).unwrap().split("</div>").next().unwrap().to_string();
    assert!(stat("opened").contains(">4<"), "{}", stat("opened"));
    assert!(stat("sla").contains("100%"), "{}", stat("sla"));
    // Each chart draws the numbers: three withdrawals and one account question by category; two answers
    // under five minutes; the open cases at the end of today (four opened, one solved).
    let panel = |id: &str| {
        html.split(&format!("id=\"panel-{id}\"")).nth(1).unwrap().split("</section>").next().unwrap().to_string()
    };
    let cats = panel("categories");
    assert!(cats.contains("<svg") && cats.contains(r#"data-label="提币" data-series="" data-value="3""#), "{cats}");
    assert!(cats.contains(r#"data-label="账户" data-series="" data-value="1""#), "{cats}");
    let frt = panel("first_response");
    assert!(frt.contains(r#"data-value="2""#), "{frt}");
    let backlog = panel("backlog");
    assert!(backlog.contains(r#"data-value="3""#), "{backlog}");
    let sla = panel("sla_departments");
    assert!(sla.contains(r#"data-value="100""#), "{sla}");

    // A table as CSV, with the page's filters.
    let r = c.get(t.url("/console/analytics/categories.csv?days=7")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.lines().any(|l| l == "提币,3,1"), "{csv}");
    // Filtered to live chats: nothing.
    let html = c.get(t.url("/console/analytics?days=7&kind=chat")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains(r#"data-value="3""#));
    assert_eq!(c.get(t.url("/console/analytics/nothing.csv")).send().await.unwrap().status(), 404);
    assert_eq!(c.get(t.url("/console/analytics?from=someday")).send().await.unwrap().status(), 422);

    // Agents do not read the dashboards.
    let l1 = t.agent_client("l1@x.dev").await;
    assert_eq!(l1.get(t.url("/console/analytics")).send().await.unwrap().status(), 403);
    assert_eq!(l1.get(t.url("/console/analytics/categories.csv")).send().await.unwrap().status(), 403);
}
on_both_backends!(dashboards_show_the_seeded_numbers_on, dashboards_show_the_seeded_numbers);

async fn admins_choose_how_tickets_are_routed(t: &TestApp) {
    t.agent("adm@x.dev", "ADM9", Role::Admin, &["support"]).await;
    t.agent("l1r@x.dev", "A39", Role::AgentL1, &["support"]).await;
    let token = t.integration_token().await;
    let r = t
        .http
        .put(t.url("/api/v1/ticket-routing"))
        .bearer_auth(&token)
        .json(&json!({"mode": "round_robin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bad = t
        .http
        .put(t.url("/api/v1/ticket-routing"))
        .bearer_auth(&token)
        .json(&json!({"mode": "random"}))
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error(), "{}", bad.status());
    assert_eq!(t.store.ticket_routing().await.unwrap().as_str(), "round_robin", "a refused mode changes nothing");

    // The console: every agent sees the mode; only admins change it.
    let admin = t.agent_client("adm@x.dev").await;
    let html = admin.get(t.url("/console/routing")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"value="round_robin" checked"#), "{html}");
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = admin
        .post(t.url("/console/routing"))
        .form(&[("_csrf", csrf.as_str()), ("mode", "least_loaded")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(t.store.ticket_routing().await.unwrap().as_str(), "least_loaded");
    let l1 = t.agent_client("l1r@x.dev").await;
    let html = l1.get(t.url("/console/routing")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("disabled"));
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = l1.post(t.url("/console/routing")).form(&[("_csrf", csrf.as_str()), ("mode", "off")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(t.store.ticket_routing().await.unwrap().as_str(), "least_loaded");

    // Skills: the admin ticks withdrawals and deposits for A39; an agent may not; a page shows them ticked.
    let l1_id = t.store.agents().await.unwrap().into_iter().find(|a| a.agent_no.as_str() == "A39").unwrap().id;
    let html = admin.get(t.url("/console/routing")).send().await.unwrap().text().await.unwrap();
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (w, d) = (format!("{l1_id}:withdrawal"), format!("{l1_id}:deposit"));
    let form = [("_csrf", csrf.as_str()), ("agent", l1_id.as_str()), ("skill", w.as_str()), ("skill", d.as_str())];
    let r = admin.post(t.url("/console/routing/skills")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let skills = t.store.agent_skills().await.unwrap();
    let mine = &skills.iter().find(|(id, _)| id == &l1_id).unwrap().1;
    assert_eq!(mine, &vec!["withdrawal".to_string(), "deposit".to_string()]);
    let html = l1.get(t.url("/console/routing")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!(r#"value="{w}" aria-label"#)), "the skill is on the page");
    let ticked: Vec<&str> = html
        .split(r#"name="skill""#)
        .skip(1)
        .map(|p| p.split('>').next().unwrap())
        .filter(|p| p.contains(" checked"))
        .collect();
    assert_eq!(ticked.len(), 2, "two skills ticked: {ticked:?}");
    assert!(ticked.iter().all(|p| p.contains("disabled")), "read-only for an agent");
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let form = [("_csrf", csrf.as_str()), ("agent", l1_id.as_str())];
    let r = l1.post(t.url("/console/routing/skills")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(t.store.agent_skills().await.unwrap().iter().find(|(id, _)| id == &l1_id).unwrap().1.len(), 2);
}
on_both_backends!(admins_choose_how_tickets_are_routed_on, admins_choose_how_tickets_are_routed);
