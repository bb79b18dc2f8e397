//! SLA policies in the console (issue 13): `/console/sla` lists the policies in the order they are tried, with
//! their conditions, targets, calendar and breach rule; admins edit each one and add new ones. The rules are
//! `lifebuoy_app::sla_policies`'.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use lifebuoy_app::sla_policies::{self, BREACH_PRIORITIES, BREACH_TIERS, KINDS, LANGS, PolicyInput};
use lifebuoy_app::{AppError, AppResult};
use lifebuoy_domain::{Category, Priority};
use serde::Deserialize;
use serde_json::{Value, json};

pub const TEMPLATES: &[(&str, &str)] = &[("console_sla.html", include_str!("../../templates/console_sla.html"))];

pub fn router() -> Router<AppState> {
    Router::new().route("/console/sla", get(page)).route("/console/sla/{id}", post(save))
}

#[derive(Deserialize, Default)]
struct Notice {
    done: Option<String>,
    bad: Option<String>,
}

/// Time zones offered in the form (any IANA name may be typed).
const ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];

fn hhmm(min: i64) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

/// `GET /console/sla` (staff; admins edit).
async fn page(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    match sla_policies::policies(&state, &c.actor()).await {
        Ok(policies) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console/sla");
            // The form's view of each calendar: 24/7, or a zone with seven days as HH:MM.
            let forms: Vec<Value> = policies
                .iter()
                .map(|p| {
                    let always = p.calendar.as_str() == Some("always");
                    let days: Vec<Value> = (0..7)
                        .map(|i| match p.calendar["days"].get(i).and_then(|d| d.as_array()) {
                            Some(d) => json!({"on": true, "start": hhmm(d[0].as_i64().unwrap_or(540)),
                                "end": hhmm(d[1].as_i64().unwrap_or(1080))}),
                            // A 24/7 policy offers office hours Monday to Friday should it change.
                            None => json!({"on": always && i < 5, "start": "09:00", "end": "18:00"}),
                        })
                        .collect();
                    let holidays: Vec<&str> = p.calendar["holidays"]
                        .as_array()
                        .map(|h| h.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    json!({"always": always, "tz": p.calendar["tz"].as_str().unwrap_or("Asia/Shanghai"),
                        "days": days, "holidays": holidays.join("\n"), "tags": p.customer_tags.join(", ")})
                })
                .collect();
            let new_form = json!({"always": true, "tz": "Asia/Shanghai", "holidays": "", "tags": "",
                "days": (0..7).map(|i| json!({"on": i < 5, "start": "09:00", "end": "18:00"})).collect::<Vec<_>>()});
            let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            let priorities: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
            let bad: Option<String> = n.bad.map(|b| b.chars().take(300).collect());
            render(
                &state,
                "console_sla.html",
                &base,
                minijinja::context! {
                    policies, forms, new_form, categories, priorities, kinds => KINDS, langs => LANGS,
                    breach_priorities => BREACH_PRIORITIES, breach_tiers => BREACH_TIERS, zones => ZONES,
                    done => n.done.is_some(), bad
                },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

/// The form's fields as the API's body.
fn input_of(form: &[(String, String)]) -> AppResult<(Option<String>, PolicyInput)> {
    let one = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
    let many = |k: &str| form.iter().filter(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).collect::<Vec<_>>();
    let int = |k: &str| -> AppResult<Option<i64>> {
        match one(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| AppError::invalid(k, "a whole number of minutes")),
        }
    };
    let minute = |k: &str, v: &str| -> AppResult<i64> {
        let (h, m) = v.split_once(':').ok_or_else(|| AppError::invalid(k, "a time such as 09:00"))?;
        match (h.parse::<i64>(), m.parse::<i64>()) {
            (Ok(h), Ok(m)) if (0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440 => Ok(h * 60 + m),
            _ => Err(AppError::invalid(k, "a time such as 09:00")),
        }
    };
    let calendar = if one("calendar").as_deref() == Some("always") {
        json!("always")
    } else {
        let mut days = Vec::new();
        for i in 0..7 {
            if one(&format!("d{i}_on")).is_some() {
                let s = minute("calendar", &one(&format!("d{i}_start")).unwrap_or_default())?;
                let e = minute("calendar", &one(&format!("d{i}_end")).unwrap_or_default())?;
                days.push(json!([s, e]));
            } else {
                days.push(Value::Null);
            }
        }
        let holidays: Vec<String> = one("holidays")
            .unwrap_or_default()
            .split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect();
        json!({"tz": one("tz").unwrap_or_default(), "days": days, "holidays": holidays})
    };
    let tags: Vec<String> = one("customer_tags")
        .unwrap_or_default()
        .split([',', '，', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let input = PolicyInput {
        name: one("name").unwrap_or_default(),
        position: int("position")?,
        active: one("active").is_some(),
        kinds: many("kinds"),
        categories: many("categories"),
        priorities: many("priorities"),
        langs: many("langs"),
        customer_tags: tags,
        first_response_min: int("first_response_min")?
            .ok_or_else(|| AppError::invalid("first_response_min", "how many minutes to the first answer"))?,
        next_response_min: int("next_response_min")?,
        resolution_min: int("resolution_min")?
            .ok_or_else(|| AppError::invalid("resolution_min", "how many minutes to the resolution"))?,
        calendar,
        breach_priority: one("breach_priority").unwrap_or_else(|| "urgent".into()),
        breach_tier: one("breach_tier").unwrap_or_else(|| "l2".into()),
    };
    Ok((one("_csrf"), input))
}

/// `POST /console/sla/{id}` (admins): saves the policy (`new` takes the id from the form).
async fn save(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        let (csrf, input) = input_of(&form)?;
        check_form_token(&c, csrf.as_deref())?;
        let id = if id == "new" {
            form.iter().find(|(n, _)| n == "id").map(|(_, v)| v.trim().to_string()).unwrap_or_default()
        } else {
            id
        };
        let p = sla_policies::save(&state, &c.actor(), &id, input).await?;
        Ok::<_, ApiError>(format!("done={}", super::enc(&p.id)))
    };
    super::after_form(&state, lang, &c, run.await, "/console/sla", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn the_form_becomes_the_api_body() {
        let (_, p) = input_of(&f(&[
            ("name", " VIP withdrawals "),
            ("kinds", "ticket"),
            ("kinds", "email"),
            ("categories", "withdrawal"),
            ("customer_tags", "vip，whale"),
            ("first_response_min", "10"),
            ("resolution_min", "240"),
            ("calendar", "hours"),
            ("tz", "Asia/Singapore"),
            ("d0_on", "on"),
            ("d0_start", "09:00"),
            ("d0_end", "18:30"),
            ("holidays", "2026-12-25\n2027-01-01"),
            ("active", "on"),
        ]))
        .unwrap();
        assert_eq!((p.name.as_str(), p.kinds.len(), p.customer_tags.len()), ("VIP withdrawals", 2, 2));
        assert_eq!(p.calendar["days"][0], json!([540, 1110]));
        assert!(p.calendar["days"][1].is_null(), "an unticked day is a day off");
        assert_eq!(p.calendar["holidays"], json!(["2026-12-25", "2027-01-01"]));
        assert!(p.active);
        let bad = input_of(&f(&[("name", "x"), ("first_response_min", "ten"), ("resolution_min", "1")]));
        assert!(bad.is_err(), "minutes are numbers");
        let bad = input_of(&f(&[
            ("name", "x"),
            ("first_response_min", "1"),
            ("resolution_min", "1"),
            ("calendar", "hours"),
            ("d0_on", "on"),
            ("d0_start", "25:00"),
            ("d0_end", "26:00"),
        ]));
        assert!(bad.is_err(), "hours of a day");
    }
}
