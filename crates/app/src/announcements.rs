//! Announcements (官方公告, issue 13): notices supervisors or the exchange publish for a time — maintenance, an
//! incident such as "BTC withdrawals delayed" — in the customers' languages. While one shows, the widget, the
//! help center and the portal carry it, the bot mentions it to a customer who asks about one of its topics, and
//! agents link the cases it explains and answer them all at once.

use crate::tickets::{self, NewMessage};
use crate::{Actor, App, AppError, AppResult};
use lifebuoy_domain::{Category, Event, Lang, Status};
use lifebuoy_store::{Announcement, NewAnnouncement};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a notice is: its colour and its words.
pub const SEVERITIES: &[&str] = &["info", "maintenance", "incident"];
/// How many cases one call links or answers at most.
pub const BATCH: usize = 200;

/// A notice as published (`POST /api/v1/announcements`). Times are RFC 3339 (`2026-11-30T08:00:00Z`) or ms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    pub title: BTreeMap<String, String>,
    pub body: BTreeMap<String, String>,
    pub starts_at: Option<TimeIn>,
    pub ends_at: TimeIn,
    #[serde(default)]
    pub topics: Vec<String>,
    pub severity: Option<String>,
}

/// A time given as RFC 3339 text or as ms since the epoch.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TimeIn {
    Ms(i64),
    Text(String),
}

impl TimeIn {
    fn ms(&self, field: &str) -> AppResult<i64> {
        match self {
            TimeIn::Ms(v) if *v > 0 => Ok(*v),
            TimeIn::Ms(_) => Err(AppError::invalid(field, "a time after 1970")),
            TimeIn::Text(t) => chrono::DateTime::parse_from_rfc3339(t.trim())
                .map(|d| d.timestamp_millis())
                .map_err(|e| AppError::invalid(field, format!("an RFC 3339 time such as 2026-11-30T08:00:00Z: {e}"))),
        }
    }
}

/// A notice as shown: in one language (the reader's, else Simplified Chinese, else English, else any).
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: String,
    pub lang: String,
    pub title: String,
    pub body: String,
    pub topics: Vec<String>,
    pub severity: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    /// `ends_at` in ms, for pages.
    pub ends_at_ms: i64,
}

/// A notice as staff manage it: every language, and whether it shows now.
#[derive(Debug, Clone, Serialize)]
pub struct Managed {
    pub id: String,
    pub title: BTreeMap<String, String>,
    pub body: BTreeMap<String, String>,
    pub topics: Vec<String>,
    pub severity: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub withdrawn_at: Option<i64>,
    /// `scheduled`, `live`, `ended` or `withdrawn`.
    pub state: &'static str,
}

fn texts(json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The text in `lang`, else the fallbacks.
fn pick(t: &BTreeMap<String, String>, lang: Lang) -> (String, String) {
    for l in [lang.as_str(), "zh-Hans", "en", "zh-Hant"] {
        if let Some(v) = t.get(l) {
            return (l.to_string(), v.clone());
        }
    }
    t.iter().next().map(|(l, v)| (l.clone(), v.clone())).unwrap_or_default()
}

fn shown(a: &Announcement, lang: Lang) -> Shown {
    let (l, title) = pick(&texts(&a.title), lang);
    let body = texts(&a.body).get(&l).cloned().unwrap_or_else(|| pick(&texts(&a.body), lang).1);
    Shown {
        id: a.id.clone(),
        lang: l,
        title,
        body,
        topics: serde_json::from_str(&a.topics).unwrap_or_default(),
        severity: a.severity.clone(),
        starts_at: rfc3339(a.starts_at),
        ends_at: rfc3339(a.ends_at),
        ends_at_ms: a.ends_at,
    }
}

fn managed(a: Announcement, now: i64) -> Managed {
    let state = if a.withdrawn_at.is_some() {
        "withdrawn"
    } else if now < a.starts_at {
        "scheduled"
    } else if now < a.ends_at {
        "live"
    } else {
        "ended"
    };
    Managed {
        title: texts(&a.title),
        body: texts(&a.body),
        topics: serde_json::from_str(&a.topics).unwrap_or_default(),
        id: a.id,
        severity: a.severity,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        created_by: a.created_by,
        withdrawn_at: a.withdrawn_at,
        state,
    }
}

/// Supervisors, admins and the exchange's integration publish and withdraw.
fn publisher(actor: &Actor) -> AppResult<String> {
    match actor {
        Actor::Agent(a) if a.role.sees_all() => Ok(format!("agent:{}", a.agent_no)),
        Actor::Integration { name, .. } => Ok(format!("integration:{name}")),
        _ => Err(AppError::forbidden("supervisors, admins and the exchange publish announcements")),
    }
}

fn languages(field: &str, t: &BTreeMap<String, String>, max: usize) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (l, v) in t {
        let lang = Lang::parse(l).map_err(|_| AppError::invalid(field, format!("{l:?}: zh-Hans, zh-Hant or en")))?;
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        if v.chars().count() > max {
            return Err(AppError::invalid(field, format!("{l}: at most {max} characters")));
        }
        out.insert(lang.as_str().to_string(), v.to_string());
    }
    if out.is_empty() {
        return Err(AppError::invalid(field, "write it in at least one language (zh-Hans, zh-Hant, en)"));
    }
    Ok(out)
}

/// Publishes a notice (supervisors, admins, the exchange). It shows from `starts_at` (now if absent) until
/// `ends_at`; the title and the body in the same languages.
pub async fn publish(app: &App, actor: &Actor, p: Publish) -> AppResult<Managed> {
    let by = publisher(actor)?;
    let title = languages("title", &p.title, 120)?;
    let body = languages("body", &p.body, 2_000)?;
    if let Some(l) = title.keys().find(|l| !body.contains_key(*l)) {
        return Err(AppError::invalid("body", format!("the title is in {l} but the body is not")));
    }
    let now = lifebuoy_store::now_ms();
    let starts_at = p.starts_at.as_ref().map(|t| t.ms("starts_at")).transpose()?.unwrap_or(now);
    let ends_at = p.ends_at.ms("ends_at")?;
    if ends_at <= starts_at {
        return Err(AppError::invalid("ends_at", "the end must come after the start"));
    }
    if ends_at <= now {
        return Err(AppError::invalid("ends_at", "the end is already past"));
    }
    if ends_at - starts_at > 90 * 86_400_000 {
        return Err(AppError::invalid("ends_at", "an announcement shows for at most 90 days"));
    }
    let mut topics = Vec::new();
    for t in &p.topics {
        let c = Category::parse(t.trim())?;
        if !topics.contains(&c.as_str()) {
            topics.push(c.as_str());
        }
    }
    let severity = p.severity.as_deref().unwrap_or("info");
    if !SEVERITIES.contains(&severity) {
        return Err(AppError::invalid("severity", "info, maintenance or incident"));
    }
    let a = app
        .store
        .add_announcement(&NewAnnouncement {
            title: serde_json::to_string(&title).expect("strings serialise"),
            body: serde_json::to_string(&body).expect("strings serialise"),
            topics: serde_json::to_string(&topics).expect("strings serialise"),
            severity: severity.into(),
            starts_at,
            ends_at,
            created_by: by,
        })
        .await?;
    Ok(managed(a, now))
}

/// The notices showing now, in `lang` (anyone, signed in or not).
pub async fn live(app: &App, lang: Lang) -> AppResult<Vec<Shown>> {
    let now = lifebuoy_store::now_ms();
    Ok(app.store.live_announcements(now).await?.iter().map(|a| shown(a, lang)).collect())
}

/// Every notice, the latest first (staff).
pub async fn all(app: &App, actor: &Actor) -> AppResult<Vec<Managed>> {
    actor.require_staff()?;
    let now = lifebuoy_store::now_ms();
    Ok(app.store.announcements(200).await?.into_iter().map(|a| managed(a, now)).collect())
}

/// One notice with its linked cases the actor sees (staff).
pub async fn one(app: &App, actor: &Actor, id: &str) -> AppResult<(Managed, Vec<lifebuoy_store::Conversation>)> {
    actor.require_staff()?;
    let a = app.store.announcement(id).await?.ok_or(AppError::NotFound)?;
    let scope = actor.scope();
    let cases = app.store.announcement_cases(id).await?.into_iter().filter(|c| scope.permits(c)).collect();
    Ok((managed(a, lifebuoy_store::now_ms()), cases))
}

/// Takes a notice down now.
pub async fn withdraw(app: &App, actor: &Actor, id: &str) -> AppResult<Managed> {
    let by = publisher(actor)?;
    app.store.announcement(id).await?.ok_or(AppError::NotFound)?;
    app.store.withdraw_announcement(id, &by).await?;
    let a = app.store.announcement(id).await?.ok_or(AppError::NotFound)?;
    Ok(managed(a, lifebuoy_store::now_ms()))
}

/// Links cases (by id or case number) to a notice (agents, each case one they see): each gets an
/// `incident_linked` event the customer sees. Answers how many were newly linked; unknown or unseen cases are
/// named in the error and nothing is linked.
pub async fn link(app: &App, actor: &Actor, id: &str, cases: &[String]) -> AppResult<usize> {
    let Some(agent) = actor.agent() else { return Err(AppError::forbidden("agents link cases")) };
    let a = app.store.announcement(id).await?.ok_or(AppError::NotFound)?;
    if cases.is_empty() || cases.len() > BATCH {
        return Err(AppError::invalid("cases", format!("1 to {BATCH} cases")));
    }
    let scope = actor.scope();
    let mut found = Vec::new();
    for k in cases {
        let k = k.trim();
        let c = match app.store.conversation(k).await? {
            Some(c) => Some(c),
            None => match lifebuoy_domain::CaseNumber::parse(k) {
                Ok(n) => app.store.conversation_by_case(&n).await?,
                Err(_) => None,
            },
        };
        match c.filter(|c| scope.permits(c) && matches!(c.kind.as_str(), "ticket" | "email" | "chat")) {
            Some(c) => found.push(c),
            None => return Err(AppError::invalid("cases", format!("{k}: no such case among yours"))),
        }
    }
    let title = pick(&texts(&a.title), Lang::ZhHans).1;
    let by = format!("agent:{}", agent.agent_no);
    let mut linked = 0;
    for c in found {
        let e = Event::IncidentLinked { announcement: id.to_string(), title: title.clone() };
        if app.store.link_announcement_case(id, &c.id, &by, &actor.author(), &e).await? {
            linked += 1;
        }
    }
    Ok(linked)
}

/// What answering every linked case did.
#[derive(Debug, Clone, Serialize)]
pub struct Answered {
    pub answered: usize,
    /// Closed cases and chats are skipped (a reply would reopen a closed case; a chat is answered live).
    pub skipped: usize,
}

/// Answers every open linked ticket the actor sees with one reply (agents), optionally moving each to a status
/// (e.g. `pending`). Each reply is an ordinary reply: notified, signed into the record.
pub async fn answer_all(app: &App, actor: &Actor, id: &str, body: &str, status: Option<Status>) -> AppResult<Answered> {
    if actor.agent().is_none() {
        return Err(AppError::forbidden("agents answer cases"));
    }
    let (_, cases) = one(app, actor, id).await?;
    if body.trim().is_empty() {
        return Err(AppError::invalid("body", "write the answer"));
    }
    let (mut answered, mut skipped) = (0, 0);
    for c in cases {
        if c.kind == "chat" || c.status() == Status::Closed || c.merged_into.is_some() {
            skipped += 1;
            continue;
        }
        let m = NewMessage { body: body.to_string(), internal: false, attachment_ids: vec![], status };
        tickets::reply(app, actor, &c, m, None).await?;
        answered += 1;
    }
    Ok(Answered { answered, skipped })
}

/// The live notices about `category`, or about everything, for the bot (in the chat's language).
pub async fn about(app: &App, category: Option<Category>, lang: Lang) -> AppResult<Vec<Shown>> {
    Ok(live(app, lang)
        .await?
        .into_iter()
        .filter(|a| a.topics.is_empty() || category.is_some_and(|c| a.topics.iter().any(|t| t == c.as_str())))
        .collect())
}

/// The bot's line for live notices: what it says before its answer.
pub fn bot_line(lang: Lang, found: &[Shown]) -> Option<String> {
    let first = found.first()?;
    let (lead, sep) = match lang {
        Lang::ZhHans | Lang::ZhHant => ("官方公告", "："),
        Lang::En => ("Announcement", ": "),
    };
    Some(format!("📢 {lead}{sep}{}\n{}", first.title, first.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_language_then_the_fallbacks() {
        let t: BTreeMap<String, String> =
            [("en".to_string(), "Delayed".to_string()), ("zh-Hant".to_string(), "延遲".to_string())].into();
        assert_eq!(pick(&t, Lang::ZhHant).1, "延遲");
        assert_eq!(pick(&t, Lang::En).1, "Delayed");
        assert_eq!(pick(&t, Lang::ZhHans), ("en".to_string(), "Delayed".to_string()), "no zh-Hans: English next");
    }

    #[test]
    fn times_come_as_text_or_ms() {
        assert_eq!(TimeIn::Text("2026-11-30T08:00:00Z".into()).ms("t").unwrap(), 1_796_025_600_000);
        assert_eq!(TimeIn::Text("2026-11-30T16:00:00+08:00".into()).ms("t").unwrap(), 1_796_025_600_000);
        assert_eq!(TimeIn::Ms(5).ms("t").unwrap(), 5);
        assert!(TimeIn::Text("tomorrow".into()).ms("t").is_err());
        assert!(TimeIn::Ms(0).ms("t").is_err());
    }
}
