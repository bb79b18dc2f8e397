//! Supervisors' dashboards (issue 13): `/console/analytics` shows every chart of
//! `lifebuoy_app::analytics::dashboard` as server-drawn SVG ([`crate::charts`]) with its numbers in a table,
//! and `/console/analytics/{table}.csv` downloads any of those tables. Who may see them, and the numbers, are
//! the core's; this module only lays them out in the reader's language.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::ConsoleAgent;
use crate::charts::{self, Series, Unit};
use crate::i18n;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lifebuoy_app::analytics::{self, DashQuery, Dashboard};
use lifebuoy_domain::{Category, Lang};
use lifebuoy_store::analytics::metric;
use lifebuoy_store::{Metrics, now_ms};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TEMPLATES: &[(&str, &str)] =
    &[("console_analytics.html", include_str!("../../templates/console_analytics.html"))];

pub fn router() -> Router<AppState> {
    Router::new().route("/console/analytics", get(page)).route("/console/analytics/{file}", get(csv))
}

const KINDS: [&str; 4] = ["ticket", "chat", "email", "appeal"];
const DAY_MS: i64 = 86_400_000;

/// The page's filters, as the form sends them (empty fields mean "all").
#[derive(Deserialize, Default, Debug)]
struct Filters {
    days: Option<String>,
    from: Option<String>,
    to: Option<String>,
    kind: Option<String>,
    department: Option<String>,
    category: Option<String>,
    agent: Option<String>,
    tz: Option<String>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn day_of(s: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis().div_euclid(DAY_MS))
}

fn date_of(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

impl Filters {
    /// The query, or the reason the form's values do not make one.
    fn query(&self) -> Result<DashQuery, lifebuoy_app::AppError> {
        let days = some(&self.days).map(|d| d.parse::<i64>()).transpose();
        let days = days.map_err(|_| lifebuoy_app::AppError::invalid("days", "a number of days"))?.unwrap_or(30);
        let mut q = DashQuery::last_days(days.clamp(1, analytics::MAX_DAYS), now_ms());
        if let Some(from) = some(&self.from) {
            q.from_day = day_of(&from).ok_or_else(|| lifebuoy_app::AppError::invalid("from", "a date (YYYY-MM-DD)"))?;
        }
        if let Some(to) = some(&self.to) {
            q.to_day = day_of(&to).ok_or_else(|| lifebuoy_app::AppError::invalid("to", "a date (YYYY-MM-DD)"))? + 1;
        }
        q.kind = some(&self.kind);
        q.department = some(&self.department);
        q.category = some(&self.category);
        q.agent = some(&self.agent);
        let tz = some(&self.tz).map(|t| t.parse::<i64>()).transpose();
        q.offset_hours = tz.map_err(|_| lifebuoy_app::AppError::invalid("tz", "hours from UTC"))?.unwrap_or(8);
        Ok(q)
    }
}

/// One chart with its numbers.
#[derive(Serialize, Debug)]
struct Panel {
    id: &'static str,
    title: String,
    svg: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    note: Option<String>,
    wide: bool,
}

/// Names for the dashboard's keys in the reader's language.
struct Names {
    lang: Lang,
    departments: BTreeMap<String, String>,
    agents: BTreeMap<String, String>,
}

impl Names {
    fn t(&self, key: &str) -> String {
        i18n::t(self.lang, &format!("analytics.{key}"))
    }
    fn kind(&self, k: &str) -> String {
        self.t(&format!("kinds.{k}"))
    }
    fn category(&self, c: &str) -> String {
        i18n::t(self.lang, &format!("category.{c}"))
    }
    fn department(&self, d: &str) -> String {
        self.departments.get(d).cloned().unwrap_or_else(|| d.to_string())
    }
    fn agent(&self, a: &str) -> String {
        if a.is_empty() { self.t("no_agent") } else { self.agents.get(a).cloned().unwrap_or_else(|| a.to_string()) }
    }
    fn list(&self, key: &str) -> Vec<String> {
        i18n::dict(self.lang)
            .get("analytics")
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

fn m(ms: &Metrics, name: &str) -> i64 {
    ms[metric(name)]
}

/// `part` of `whole` in percent, one decimal; `None` of nothing.
fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

fn pct_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p}%")).unwrap_or_else(|| "—".into())
}

fn avg_score(ms: &Metrics) -> Option<f64> {
    let n = m(ms, "csat_n");
    (n > 0).then(|| (m(ms, "csat_sum") as f64 * 100.0 / n as f64).round() / 100.0)
}

fn minutes(ms: i64) -> String {
    charts::format_value(ms as f64 / 60_000.0, Unit::Minutes)
}

/// A bucket as a table writes it: the date, or the month (`2026-11`).
fn bucket_text(d: &Dashboard, day: i64) -> String {
    let text = date_of(day);
    if d.monthly { text.get(..7).unwrap_or_default().to_string() } else { text }
}

fn short_date(day: i64) -> String {
    date_of(day).get(5..).unwrap_or_default().to_string()
}

/// SLA compliance rows: (label, met, breached), those with an outcome, best first.
fn sla_panel(id: &'static str, n: &Names, by: &[(String, Metrics)], label: impl Fn(&str) -> String) -> Panel {
    let mut rows: Vec<(String, i64, i64)> = by
        .iter()
        .map(|(k, ms)| (label(k), m(ms, "sla_met"), m(ms, "sla_breached")))
        .filter(|(_, met, br)| met + br > 0)
        .collect();
    rows.sort_by(|a, b| {
        let (pa, pb) = (pct(a.1, a.1 + a.2).unwrap_or(0.0), pct(b.1, b.1 + b.2).unwrap_or(0.0));
        pb.total_cmp(&pa).then_with(|| a.0.cmp(&b.0))
    });
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let values: Vec<f64> = rows.iter().map(|r| pct(r.1, r.1 + r.2).unwrap_or(0.0)).collect();
    let notes: Vec<String> = rows.iter().map(|r| format!("n={}", r.1 + r.2)).collect();
    let title = n.t(&format!("panel.{id}"));
    Panel {
        id,
        svg: charts::hbars(&title, &labels, &values, &notes, Unit::Percent, Some(100.0)),
        columns: vec![
            n.t(if id == "sla_agents" { "col.agent" } else { "col.department" }),
            n.t("col.met"),
            n.t("col.breached"),
            n.t("col.compliance"),
        ],
        rows: rows
            .iter()
            .map(|(l, met, br)| vec![l.clone(), met.to_string(), br.to_string(), pct_text(pct(*met, met + br))])
            .collect(),
        title,
        note: None,
        wide: false,
    }
}

fn csat_panel(id: &'static str, n: &Names, by: &[(String, Metrics)], label: impl Fn(&str) -> String) -> Panel {
    let mut rows: Vec<(String, Metrics)> =
        by.iter().filter(|(_, ms)| m(ms, "csat_n") > 0).map(|(k, ms)| (label(k), *ms)).collect();
    rows.sort_by(|a, b| avg_score(&b.1).unwrap_or(0.0).total_cmp(&avg_score(&a.1).unwrap_or(0.0)));
    let title = n.t(&format!("panel.{id}"));
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let values: Vec<f64> = rows.iter().map(|r| avg_score(&r.1).unwrap_or(0.0)).collect();
    let notes: Vec<String> = rows.iter().map(|r| format!("n={}", m(&r.1, "csat_n"))).collect();
    Panel {
        id,
        svg: charts::hbars(&title, &labels, &values, &notes, Unit::Score, Some(5.0)),
        columns: vec![
            n.t(if id == "csat_agents" { "col.agent" } else { "col.department" }),
            n.t("col.ratings"),
            n.t("col.avg_score"),
            n.t("col.satisfied"),
        ],
        rows: rows
            .iter()
            .map(|(l, ms)| {
                vec![
                    l.clone(),
                    m(ms, "csat_n").to_string(),
                    avg_score(ms).map(|v| format!("{v:.2}")).unwrap_or_default(),
                    pct_text(pct(m(ms, "csat_good"), m(ms, "csat_n"))),
                ]
            })
            .collect(),
        title,
        note: None,
        wide: false,
    }
}

fn histogram(id: &'static str, n: &Names, d: &Dashboard, prefix: &str, count: &str, sum: &str) -> Panel {
    let labels = n.list(if prefix == "frt" { "frt_buckets" } else { "res_buckets" });
    let values: Vec<f64> = (0..labels.len()).map(|i| m(&d.totals, &format!("{prefix}_b{i}")) as f64).collect();
    let title = n.t(&format!("panel.{id}"));
    let total = m(&d.totals, count);
    let note = (total > 0).then(|| n.t("average").replace("{v}", &minutes(m(&d.totals, sum) / total)));
    Panel {
        id,
        svg: charts::bars(
            &title,
            &labels,
            &[Series { name: n.t("col.count"), values: values.clone() }],
            Unit::Count,
            false,
        ),
        columns: vec![n.t("col.bucket"), n.t("col.count"), n.t("col.share")],
        rows: labels
            .iter()
            .zip(&values)
            .map(|(l, v)| vec![l.clone(), (*v as i64).to_string(), pct_text(pct(*v as i64, total))])
            .collect(),
        title,
        note,
        wide: false,
    }
}

/// Every panel of a dashboard, in page order.
fn panels(d: &Dashboard, n: &Names) -> Vec<Panel> {
    let mut out = Vec::new();
    let day_labels: Vec<String> =
        d.days.iter().map(|day| if d.monthly { bucket_text(d, *day) } else { short_date(*day) }).collect();

    // Volume per day by channel.
    let title = n.t("panel.volume");
    let series: Vec<Series> = d
        .volume
        .iter()
        .map(|(k, v)| Series { name: n.kind(k), values: v.iter().map(|x| *x as f64).collect() })
        .collect();
    let mut columns = vec![n.t("col.date")];
    columns.extend(d.volume.iter().map(|(k, _)| n.kind(k)));
    columns.push(n.t("col.total"));
    let rows = d
        .days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let mut r = vec![bucket_text(d, *day)];
            r.extend(d.volume.iter().map(|(_, v)| v[i].to_string()));
            r.push(d.volume.iter().map(|(_, v)| v[i]).sum::<i64>().to_string());
            r
        })
        .collect();
    out.push(Panel {
        id: "volume",
        svg: charts::bars_wide(&title, &day_labels, &series, Unit::Count, true),
        title,
        columns,
        rows,
        note: None,
        wide: true,
    });

    // By category.
    let title = n.t("panel.categories");
    let mut cats: Vec<&(String, Metrics)> = d.by_category.iter().filter(|(_, ms)| m(ms, "opened") > 0).collect();
    cats.sort_by_key(|(_, ms)| std::cmp::Reverse(m(ms, "opened")));
    let labels: Vec<String> = cats.iter().map(|(c, _)| n.category(c)).collect();
    let values: Vec<f64> = cats.iter().map(|(_, ms)| m(ms, "opened") as f64).collect();
    out.push(Panel {
        id: "categories",
        svg: charts::hbars(&title, &labels, &values, &vec![String::new(); labels.len()], Unit::Count, None),
        title,
        columns: vec![n.t("col.category"), n.t("col.opened"), n.t("col.resolved")],
        rows: cats
            .iter()
            .map(|(c, ms)| vec![n.category(c), m(ms, "opened").to_string(), m(ms, "resolved").to_string()])
            .collect(),
        note: None,
        wide: false,
    });

    // By hour of day.
    let title = n.t("panel.hours");
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let values: Vec<f64> = d.by_hour.iter().map(|v| *v as f64).collect();
    let tz = d.query.offset_hours;
    out.push(Panel {
        id: "hours",
        svg: charts::bars(&title, &hours, &[Series { name: n.t("col.opened"), values }], Unit::Count, false),
        title,
        columns: vec![n.t("col.hour"), n.t("col.opened")],
        rows: hours.iter().zip(d.by_hour).map(|(h, v)| vec![format!("{h}:00"), v.to_string()]).collect(),
        note: Some(format!("UTC{}{}", if tz < 0 { "−" } else { "+" }, tz.abs())),
        wide: false,
    });

    out.push(histogram("first_response", n, d, "frt", "responded", "frt_ms"));
    out.push(histogram("resolution", n, d, "res", "resolved", "res_ms"));
    out.push(sla_panel("sla_departments", n, &d.by_department, |k| n.department(k)));
    out.push(sla_panel("sla_agents", n, &d.by_agent, |k| n.agent(k)));
    out.push(csat_panel("csat_agents", n, &d.by_agent, |k| n.agent(k)));
    out.push(csat_panel("csat_departments", n, &d.by_department, |k| n.department(k)));

    // Backlog.
    let title = n.t("panel.backlog");
    let values: Vec<f64> = d.backlog.iter().map(|v| *v as f64).collect();
    out.push(Panel {
        id: "backlog",
        svg: charts::lines_wide(&title, &day_labels, &[Series { name: n.t("col.open"), values }], Unit::Count),
        title,
        columns: vec![n.t("col.date"), n.t("col.opened"), n.t("col.resolved"), n.t("col.open")],
        rows: d
            .days
            .iter()
            .zip(&d.by_day)
            .zip(&d.backlog)
            .map(|((day, ms), open)| {
                vec![bucket_text(d, *day), m(ms, "opened").to_string(), m(ms, "resolved").to_string(), open.to_string()]
            })
            .collect(),
        note: None,
        wide: true,
    });

    // The bot.
    let title = n.t("panel.bot");
    let solved: Vec<f64> = d.by_day.iter().map(|ms| m(ms, "bot_solved") as f64).collect();
    let handed: Vec<f64> = d.by_day.iter().map(|ms| (m(ms, "bot_chats") - m(ms, "bot_solved")).max(0) as f64).collect();
    out.push(Panel {
        id: "bot",
        svg: charts::bars_wide(
            &title,
            &day_labels,
            &[Series { name: n.t("series_bot"), values: solved }, Series { name: n.t("series_agent"), values: handed }],
            Unit::Count,
            true,
        ),
        title,
        columns: vec![n.t("col.date"), n.t("col.chats"), n.t("col.bot_alone"), n.t("col.share")],
        rows: d
            .days
            .iter()
            .zip(&d.by_day)
            .map(|(day, ms)| {
                let (c, s) = (m(ms, "bot_chats"), m(ms, "bot_solved"));
                vec![bucket_text(d, *day), c.to_string(), s.to_string(), pct_text(pct(s, c))]
            })
            .collect(),
        note: None,
        wide: true,
    });

    // Articles.
    let title = n.t("panel.articles");
    let labels: Vec<String> = d.articles.iter().map(|a| a.title.clone()).collect();
    let values: Vec<f64> = d.articles.iter().map(|a| pct(a.helpful, a.helpful + a.unhelpful).unwrap_or(0.0)).collect();
    let notes: Vec<String> = d.articles.iter().map(|a| format!("n={}", a.helpful + a.unhelpful)).collect();
    out.push(Panel {
        id: "articles",
        svg: charts::hbars(&title, &labels, &values, &notes, Unit::Percent, Some(100.0)),
        title,
        columns: vec![n.t("col.article"), n.t("col.helpful"), n.t("col.unhelpful"), n.t("col.share")],
        rows: d
            .articles
            .iter()
            .map(|a| {
                vec![
                    a.title.clone(),
                    a.helpful.to_string(),
                    a.unhelpful.to_string(),
                    pct_text(pct(a.helpful, a.helpful + a.unhelpful)),
                ]
            })
            .collect(),
        note: None,
        wide: false,
    });

    // Now.
    let title = n.t("panel.live");
    let mut note = n.t("queued").replace("{n}", &d.live.queued_chats.to_string());
    note.push_str(" · ");
    note.push_str(&if d.live.agents.is_empty() {
        n.t("nobody_online")
    } else {
        n.t("online").replace("{n}", &d.live.agents.len().to_string())
    });
    let labels: Vec<String> = d.live.agents.iter().map(|a| a.name.clone()).collect();
    let values: Vec<f64> = d.live.agents.iter().map(|a| a.chats as f64).collect();
    let notes: Vec<String> = d.live.agents.iter().map(|a| format!("/ {}", a.capacity)).collect();
    let cap = d.live.agents.iter().map(|a| a.capacity).max().unwrap_or(1).max(1) as f64;
    out.push(Panel {
        id: "live",
        svg: charts::hbars(&title, &labels, &values, &notes, Unit::Count, Some(cap)),
        title,
        columns: vec![n.t("col.agent"), n.t("col.chat_load"), n.t("col.open_cases")],
        rows: d
            .live
            .agents
            .iter()
            .map(|a| vec![a.name.clone(), format!("{} / {}", a.chats, a.capacity), a.cases.to_string()])
            .collect(),
        note: Some(note),
        wide: false,
    });
    out
}

/// The summary cards: (id, label, value, detail).
fn stats(d: &Dashboard, n: &Names) -> Vec<(&'static str, String, String, String)> {
    let t = &d.totals;
    let responded = m(t, "responded");
    let (met, br) = (m(t, "sla_met"), m(t, "sla_breached"));
    let (chats, solved) = (m(t, "bot_chats"), m(t, "bot_solved"));
    vec![
        (
            "opened",
            n.t("stat.opened"),
            charts::format_value(m(t, "opened") as f64, Unit::Count),
            n.t("stat_sub.resolved").replace("{n}", &m(t, "resolved").to_string()),
        ),
        (
            "avg_first",
            n.t("stat.avg_first"),
            if responded > 0 { minutes(m(t, "frt_ms") / responded) } else { "—".into() },
            n.t("stat_sub.responded").replace("{n}", &responded.to_string()),
        ),
        (
            "sla",
            n.t("stat.sla"),
            pct_text(pct(met, met + br)),
            n.t("stat_sub.sla").replace("{met}", &met.to_string()).replace("{breached}", &br.to_string()),
        ),
        (
            "csat",
            n.t("stat.csat"),
            avg_score(t).map(|v| format!("{v:.2} / 5")).unwrap_or_else(|| "—".into()),
            n.t("stat_sub.csat").replace("{n}", &m(t, "csat_n").to_string()).replace(
                "{good}",
                &pct(m(t, "csat_good"), m(t, "csat_n")).map(|p| p.to_string()).unwrap_or_else(|| "—".into()),
            ),
        ),
        (
            "deflection",
            n.t("stat.deflection"),
            pct_text(pct(solved, chats)),
            n.t("stat_sub.deflection").replace("{solved}", &solved.to_string()).replace("{chats}", &chats.to_string()),
        ),
    ]
}

async fn names(state: &AppState, lang: Lang, d: &Dashboard) -> Result<Names, lifebuoy_app::AppError> {
    let departments = state
        .store
        .departments()
        .await?
        .into_iter()
        .map(|d| {
            let name = match lang {
                Lang::ZhHans => d.name_zh_hans,
                Lang::ZhHant => d.name_zh_hant,
                Lang::En => d.name_en,
            };
            (d.id, name)
        })
        .collect();
    let agents = d.agents.iter().map(|a| (a.id.clone(), format!("{} · {}", a.display_name, a.agent_no))).collect();
    Ok(Names { lang, departments, agents })
}

/// The dashboard for the form's filters, and the names its keys are shown by.
async fn load(
    state: &AppState,
    c: &crate::auth::Caller,
    lang: Lang,
    f: &Filters,
) -> Result<(Dashboard, Names), lifebuoy_app::AppError> {
    let d = analytics::dashboard(state, &c.actor(), f.query()?, lang.as_str()).await?;
    let n = names(state, lang, &d).await?;
    Ok((d, n))
}

/// `GET /console/analytics` (supervisors and admins).
async fn page(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let (d, n) = match load(&state, &c, lang, &f).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let base = Base::new(&state, lang, Some(&c), "console", "/console/analytics");
    let query = [
        ("from", date_of(d.query.from_day)),
        ("to", date_of(d.query.to_day - 1)),
        ("kind", d.query.kind.clone().unwrap_or_default()),
        ("department", d.query.department.clone().unwrap_or_default()),
        ("category", d.query.category.clone().unwrap_or_default()),
        ("agent", d.query.agent.clone().unwrap_or_default()),
        ("tz", d.query.offset_hours.to_string()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", super::enc(v)))
    .collect::<Vec<_>>()
    .join("&");
    let kinds: Vec<(&str, String)> = KINDS.iter().map(|k| (*k, n.kind(k))).collect();
    let categories: Vec<(&str, String)> = Category::ALL.iter().map(|c| (c.as_str(), n.category(c.as_str()))).collect();
    let days = some(&f.days).and_then(|d| d.parse::<i64>().ok()).filter(|_| some(&f.from).is_none());
    render(
        &state,
        "console_analytics.html",
        &base,
        minijinja::context! {
            panels => panels(&d, &n),
            stats => stats(&d, &n),
            from => date_of(d.query.from_day),
            to => date_of(d.query.to_day - 1),
            days => days.unwrap_or(if some(&f.from).is_some() { 0 } else { 30 }),
            kind => d.query.kind, department => d.query.department, category => d.query.category,
            agent => d.query.agent, tz => d.query.offset_hours,
            kinds, categories,
            departments => n.departments.iter().collect::<Vec<_>>(),
            agents => n.agents.iter().collect::<Vec<_>>(),
            folded_at => d.folded_at,
            query,
        },
    )
}

/// A CSV cell: quoted when it must be, and text a spreadsheet would run as a formula made inert.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '@', '\t', '\r'])
        || (s.starts_with('-') && !s[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// `GET /console/analytics/{table}.csv`: one panel's table, with the page's filters.
async fn csv(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(f): Query<Filters>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let Some(id) = file.strip_suffix(".csv") else {
        return error_page(&state, lang, Some(&c), lifebuoy_app::AppError::NotFound.into());
    };
    let (d, n) = match load(&state, &c, lang, &f).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let Some(p) = panels(&d, &n).into_iter().find(|p| p.id == id) else {
        return error_page(&state, lang, Some(&c), lifebuoy_app::AppError::NotFound.into());
    };
    // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
    let mut out = String::from("\u{feff}");
    for row in std::iter::once(&p.columns).chain(&p.rows) {
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let name = format!("lifebuoy-{id}-{}-{}.csv", date_of(d.query.from_day), date_of(d.query.to_day - 1));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_made_inert() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-12"), "-12", "a negative number stays a number");
        assert_eq!(cell("-x"), "'-x");
    }

    #[test]
    fn filters_make_a_range_of_whole_days() {
        let f = Filters { from: Some("2026-11-01".into()), to: Some("2026-11-30".into()), ..Default::default() };
        let q = f.query().unwrap();
        assert_eq!((q.to_day - q.from_day, date_of(q.from_day), q.offset_hours), (30, "2026-11-01".into(), 8));
        let bad = Filters { from: Some("yesterday".into()), ..Default::default() };
        assert!(bad.query().is_err());
    }
}
