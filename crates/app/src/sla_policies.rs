//! SLA policies as admins edit them (issue 13): which cases a policy covers (kinds, categories, priorities,
//! languages, customer tags), its targets (first answer, next answer, resolution), its business calendar (an
//! IANA time zone, working hours per weekday, holidays; or 24/7), and what a breach does (raise the priority,
//! move the case up the tiers). Staff read them; admins (and the exchange's integration) write them.
//!
//! A saved policy applies to the next clock read on every node within [`crate::sla`]'s cache time (10 s);
//! the clocks the lists keep are read again by the `sla.keep` job, which also schedules each case's check at
//! its new deadline, so a shorter target escalates on time.

use crate::jobs::NewJob;
use crate::sla::KEEP_JOB;
use crate::{Actor, App, AppError, AppResult};
use lifebuoy_domain::sla::Zone;
use lifebuoy_domain::{Category, Priority};
use lifebuoy_store::SlaPolicy;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The kinds of conversation a policy may name.
pub const KINDS: &[&str] = &["ticket", "email", "chat"];
pub const LANGS: &[&str] = &["zh-Hans", "zh-Hant", "en"];
pub const BREACH_PRIORITIES: &[&str] = &["keep", "high", "urgent"];
pub const BREACH_TIERS: &[&str] = &["keep", "l2", "supervisor"];
/// The longest target: a year.
const MAX_MIN: i64 = 525_600;

/// A policy as the API and the console show it (lists as lists, the calendar as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub id: String,
    pub position: i64,
    pub name: String,
    pub active: bool,
    pub kinds: Vec<String>,
    pub categories: Vec<String>,
    pub priorities: Vec<String>,
    pub langs: Vec<String>,
    pub customer_tags: Vec<String>,
    pub first_response_min: i64,
    pub next_response_min: Option<i64>,
    pub resolution_min: i64,
    /// `"always"` (24/7) or `{"tz", "days": [7 × [start_min, end_min] or null], "holidays": ["YYYY-MM-DD"]}`.
    pub calendar: Value,
    pub breach_priority: String,
    pub breach_tier: String,
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl From<&SlaPolicy> for PolicyView {
    fn from(p: &SlaPolicy) -> Self {
        let calendar = if p.calendar.trim() == "always" {
            json!("always")
        } else {
            serde_json::from_str(&p.calendar).unwrap_or(json!("always"))
        };
        PolicyView {
            id: p.id.clone(),
            position: p.position,
            name: p.name.clone(),
            active: p.active,
            kinds: list(&p.kinds),
            categories: list(&p.categories),
            priorities: list(&p.priorities),
            langs: list(&p.langs),
            customer_tags: list(&p.customer_tags),
            first_response_min: p.first_response_min,
            next_response_min: p.next_response_min,
            resolution_min: p.resolution_min,
            calendar,
            breach_priority: p.breach_priority.clone(),
            breach_tier: p.breach_tier.clone(),
        }
    }
}

fn yes() -> bool {
    true
}
fn urgent() -> String {
    "urgent".into()
}
fn l2() -> String {
    "l2".into()
}
fn always() -> Value {
    json!("always")
}

/// A policy as written (`PUT /api/v1/sla-policies/{id}`, the console's form).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub name: String,
    /// Where it stands among the policies (the first that matches applies); default: after the others.
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub langs: Vec<String>,
    #[serde(default)]
    pub customer_tags: Vec<String>,
    pub first_response_min: i64,
    #[serde(default)]
    pub next_response_min: Option<i64>,
    pub resolution_min: i64,
    #[serde(default = "always")]
    pub calendar: Value,
    #[serde(default = "urgent")]
    pub breach_priority: String,
    #[serde(default = "l2")]
    pub breach_tier: String,
}

/// Every policy, in the order they are tried (staff).
pub async fn policies(app: &App, actor: &Actor) -> AppResult<Vec<PolicyView>> {
    actor.require_staff()?;
    Ok(app.store.all_sla_policies().await?.iter().map(PolicyView::from).collect())
}

fn one_of(field: &str, v: &[String], allowed: &[&str]) -> AppResult<String> {
    let mut out: Vec<&str> = Vec::new();
    for x in v {
        let x = x.trim();
        let Some(ok) = allowed.iter().find(|a| **a == x) else {
            return Err(AppError::invalid(field, format!("{x:?} is not one of: {}", allowed.join(", "))));
        };
        if !out.contains(ok) {
            out.push(ok);
        }
    }
    Ok(serde_json::to_string(&out).expect("a list of strings"))
}

fn pick(field: &str, v: &str, allowed: &[&str]) -> AppResult<String> {
    match allowed.iter().find(|a| **a == v.trim()) {
        Some(a) => Ok(a.to_string()),
        None => Err(AppError::invalid(field, format!("one of: {}", allowed.join(", ")))),
    }
}

fn minutes(field: &str, v: i64) -> AppResult<i64> {
    if !(1..=MAX_MIN).contains(&v) {
        return Err(AppError::invalid(field, format!("between 1 and {MAX_MIN} minutes")));
    }
    Ok(v)
}

/// The calendar as stored: `always`, or normalised JSON with a known zone, seven days and real dates.
pub fn check_calendar(v: &Value) -> AppResult<String> {
    if v.as_str().map(str::trim) == Some("always") || v.is_null() {
        return Ok("always".into());
    }
    let bad = |m: &str| AppError::invalid("calendar", m.to_string());
    let o = v.as_object().ok_or_else(|| bad("\"always\", or an object with tz, days and holidays"))?;
    if let Some(k) = o.keys().find(|k| !["tz", "days", "holidays"].contains(&k.as_str())) {
        return Err(bad(&format!("unknown field {k:?}")));
    }
    let tz = o.get("tz").and_then(Value::as_str).map(str::trim).unwrap_or_default();
    if Zone::named(tz).is_none() {
        return Err(bad(&format!("{tz:?} is not a time zone of the IANA database (such as Asia/Shanghai)")));
    }
    let days = o.get("days").and_then(Value::as_array).ok_or_else(|| bad("days: seven entries, Monday first"))?;
    if days.len() != 7 {
        return Err(bad("days: seven entries, Monday first"));
    }
    let mut hours: Vec<Option<(u16, u16)>> = Vec::with_capacity(7);
    for d in days {
        if d.is_null() {
            hours.push(None);
            continue;
        }
        let pair: Option<(i64, i64)> = serde_json::from_value(d.clone()).ok();
        match pair {
            Some((s, e)) if (0..1440).contains(&s) && s < e && e <= 1440 => hours.push(Some((s as u16, e as u16))),
            _ => return Err(bad("each working day is [start, end] in minutes after midnight, start before end")),
        }
    }
    if hours.iter().all(Option::is_none) {
        return Err(bad("at least one working day (or \"always\")"));
    }
    let mut holidays: Vec<String> = Vec::new();
    for h in o.get("holidays").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let s = h.as_str().map(str::trim).unwrap_or_default();
        if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() {
            return Err(bad(&format!("holiday {s:?} is not a date (YYYY-MM-DD)")));
        }
        if !holidays.iter().any(|x| x == s) {
            holidays.push(s.to_string());
        }
    }
    if holidays.len() > 400 {
        return Err(bad("at most 400 holidays"));
    }
    holidays.sort();
    Ok(json!({"tz": tz, "days": hours, "holidays": holidays}).to_string())
}

/// Checks and writes a policy (admins, the integration), then has every kept clock read again.
pub async fn save(app: &App, actor: &Actor, id: &str, input: PolicyInput) -> AppResult<PolicyView> {
    let by = crate::privacy::require_admin(actor)?;
    let id = id.trim();
    if id.is_empty() || id.len() > 40 || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(AppError::invalid("id", "1 to 40 characters: a-z, 0-9 and -"));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "1 to 100 characters"));
    }
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let priorities: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
    let tags = lifebuoy_store::clean_tags(&input.customer_tags).map_err(|e| AppError::invalid("customer_tags", e))?;
    let existing = app.store.all_sla_policies().await?;
    let position = match input.position {
        Some(p) if (0..=100_000).contains(&p) => p,
        Some(_) => return Err(AppError::invalid("position", "0 to 100000")),
        None => match existing.iter().find(|p| p.id == id) {
            Some(p) => p.position,
            None => existing.iter().map(|p| p.position).max().unwrap_or(0) + 10,
        },
    };
    let p = SlaPolicy {
        id: id.to_string(),
        position,
        name: name.to_string(),
        kinds: one_of("kinds", &input.kinds, KINDS)?,
        categories: one_of("categories", &input.categories, &categories)?,
        priorities: one_of("priorities", &input.priorities, &priorities)?,
        langs: one_of("langs", &input.langs, LANGS)?,
        customer_tags: serde_json::to_string(&tags).expect("a list of strings"),
        first_response_min: minutes("first_response_min", input.first_response_min)?,
        resolution_min: minutes("resolution_min", input.resolution_min)?,
        next_response_min: input.next_response_min.map(|m| minutes("next_response_min", m)).transpose()?,
        calendar: check_calendar(&input.calendar)?,
        active: input.active,
        breach_priority: pick("breach_priority", &input.breach_priority, BREACH_PRIORITIES)?,
        breach_tier: pick("breach_tier", &input.breach_tier, BREACH_TIERS)?,
    };
    app.store.save_sla_policy(&p, &by).await?;
    app.sla_policies.forget();
    // Every kept clock is read again under the new rules, once every node has them.
    app.store.forget_kept_clocks().await?;
    let now = lifebuoy_store::now_ms();
    let again =
        NewJob::new(KEEP_JOB, &json!({"every_s": null})).at(now + 11_000).key(format!("sla-keep-after-{}-{now}", p.id));
    app.store.enqueue_jobs(&[again]).await?;
    tracing::info!(policy = %p.id, by = %by, "SLA policy saved");
    Ok(PolicyView::from(&p))
}
