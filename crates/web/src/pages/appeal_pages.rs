//! C2C orders and appeals in the browser (issue 14): the arbiters' queue and appeal page in the console
//! (`/console/appeals`, `/console/appeals/{id}` with its action forms), and the order page of the portal
//! (`/portal/orders/{id}`) where the buyer and the seller talk, send proof, appeal and withdraw. The rules are
//! `lifebuoy_app::c2c`; these handlers only turn forms into its calls, and a refusal into the page again with
//! the use case's words.

use super::{Base, error_page, render};
use crate::auth::{Caller, ConsoleAgent, PortalCustomer, check_form_token, check_same_origin};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::c2c::{self, DecideInput, EvidenceRequest, OpenAppeal, OrderMessage, OrderView};
use lifebuoy_domain::{AppealReason, AppealStatus, Decision, Lang, Party};
use lifebuoy_store::{Appeal, now_ms};
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("console_appeals.html", include_str!("../../templates/console_appeals.html")),
    ("console_appeal.html", include_str!("../../templates/console_appeal.html")),
    ("portal_order.html", include_str!("../../templates/portal_order.html")),
    ("c2c_macros.html", include_str!("../../templates/c2c_macros.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/appeals", get(console_queue))
        .route("/console/appeals/{id}", get(console_appeal))
        .route("/console/appeals/{id}/take", post(|s, c, h, p, f| act(Op::Take, s, c, h, p, f)))
        .route("/console/appeals/{id}/evidence", post(|s, c, h, p, f| act(Op::Evidence, s, c, h, p, f)))
        .route("/console/appeals/{id}/note", post(|s, c, h, p, f| act(Op::Note, s, c, h, p, f)))
        .route("/console/appeals/{id}/decide", post(|s, c, h, p, f| act(Op::Decide, s, c, h, p, f)))
        .route("/console/appeals/{id}/approve", post(|s, c, h, p, f| act(Op::Approve, s, c, h, p, f)))
        .route("/console/appeals/{id}/close", post(|s, c, h, p, f| act(Op::Close, s, c, h, p, f)))
        .route("/portal/orders/{id}", get(portal_order))
        .route("/portal/orders/{id}/messages", post(portal_message))
        .route("/portal/orders/{id}/appeal", post(portal_appeal))
        .route("/portal/appeals/{id}/withdraw", post(portal_withdraw))
}

fn console_lang(headers: &HeaderMap, c: &Caller) -> Lang {
    let profile = c.agent().and_then(|a| a.languages.first()).map(|l| l.as_str());
    i18n::negotiate(headers, profile)
}

/// Time left as a clock, `H:MM:SS`, with a minus sign once overdue.
fn clock(left_ms: i64) -> String {
    let s = left_ms.abs() / 1000;
    format!("{}{}:{:02}:{:02}", if left_ms < 0 { "−" } else { "" }, s / 3600, s / 60 % 60, s % 60)
}

/// A refusal shown on the page it came from: the translated message, and the use case's own words when the
/// translation is a general one (who may not, and why).
fn notice(lang: Lang, e: &ApiError) -> minijinja::Value {
    let message = crate::error::translate(lang, e.code, &e.message);
    let detail = (!message.contains(&e.message)).then(|| e.message.clone());
    minijinja::context! { code => e.code, message, detail }
}

/// Names of agents, `name · number`, by id.
async fn agent_names(state: &AppState) -> Result<std::collections::HashMap<String, String>, ApiError> {
    Ok(state
        .store
        .agents()
        .await?
        .into_iter()
        .map(|a| (a.id, format!("{} · {}", a.display_name, a.agent_no)))
        .collect())
}

/// `GET /console/appeals`: the arbiters' queue, least time left first (arbiters, supervisors and admins).
async fn console_queue(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = console_lang(&headers, &c);
    let run = async {
        let items = c2c::queue(&state, &c.actor(), 200).await?;
        Ok::<_, ApiError>((items, agent_names(&state).await?))
    };
    match run.await {
        Ok((items, names)) => {
            let now = now_ms();
            let rows: Vec<minijinja::Value> = items
                .iter()
                .map(|q| {
                    let left = q.appeal.queue_at.map(|t| t - now);
                    minijinja::context! {
                        q, clock => left.map(clock), overdue => left.is_some_and(|l| l < 0),
                        arbiter => q.appeal.arbiter_id.as_ref().and_then(|a| names.get(a)),
                    }
                })
                .collect();
            let base = Base::new(&state, lang, Some(&c), "console", "/console/appeals");
            render(&state, "console_appeals.html", &base, minijinja::context! { rows })
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

/// The appeal page, with an optional refusal to show above the forms.
async fn appeal_page(state: &AppState, c: &Caller, lang: Lang, id: &str, refused: Option<ApiError>) -> Response {
    let run = async {
        let (appeal, view) = c2c::view_appeal(state, &c.actor(), id).await?;
        if let Some(buyer) = &view.buyer_customer_id {
            lifebuoy_app::records::audit(
                state,
                &c.actor(),
                "conversation",
                Some(buyer),
                Some(&appeal.conversation_id),
                "console.appeal",
            )
            .await?;
        }
        let arbiter = c2c::is_arbiter(state, &c.actor()).await?;
        let four_eyes = c2c::needs_four_eyes(state, &view.order).await?;
        Ok::<_, ApiError>((appeal, view, arbiter, four_eyes, agent_names(state).await?))
    };
    let (appeal, view, arbiter, four_eyes, names) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(state, lang, Some(c), e),
    };
    let me = c.agent().map(|a| a.id.clone()).unwrap_or_default();
    let s = appeal.status();
    let can = |to: AppealStatus| arbiter && s.transition(to).is_ok();
    let actions = minijinja::context! {
        take => can(AppealStatus::InReview) && s == AppealStatus::Submitted,
        evidence => can(AppealStatus::AwaitingEvidence),
        decide => can(AppealStatus::Decided),
        approve => arbiter && s == AppealStatus::AwaitingApproval,
        own_proposal => appeal.decided_by.as_deref() == Some(me.as_str()),
        close => can(AppealStatus::Closed),
    };
    let left = appeal.queue_at.map(|t| t - now_ms());
    let base = Base::new(state, lang, Some(c), "console", &format!("/console/appeals/{id}"));
    let status = refused.as_ref().map(|e| e.status);
    let mut r = render(
        state,
        "console_appeal.html",
        &base,
        minijinja::context! {
            appeal, v => view, actions, four_eyes, names, me,
            clock => left.map(clock), overdue => left.is_some_and(|l| l < 0),
            refused => refused.as_ref().map(|e| notice(lang, e)),
            decisions => Decision::ALL.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            parties => Party::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        },
    );
    if let Some(st) = status {
        *r.status_mut() = st;
    }
    r
}

/// `GET /console/appeals/{id}`: the order, the appeal, both parties side by side, and the arbiter's forms.
async fn console_appeal(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = console_lang(&headers, &c);
    appeal_page(&state, &c, lang, &id, None).await
}

#[derive(Clone, Copy)]
enum Op {
    Take,
    Evidence,
    Note,
    Decide,
    Approve,
    Close,
}

#[derive(Deserialize, Default)]
struct ActForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    party: Option<String>,
    note: Option<String>,
    hours: Option<String>,
    body: Option<String>,
    decision: Option<String>,
    rationale: Option<String>,
    approve: Option<String>,
}

/// `POST /console/appeals/{id}/{take|evidence|note|decide|approve|close}`: the use case, then back to the page
/// (or the page again with the refusal).
async fn act(
    op: Op,
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    let lang = console_lang(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f.csrf.as_deref())?;
        let actor = c.actor();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match op {
            Op::Take => {
                c2c::take(&state, &actor, &id).await?;
            }
            Op::Evidence => {
                let hours = match f.hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
                    Some(h) => Some(h.parse::<i64>().map_err(|_| ApiError::invalid("hours", "between 1 and 72"))?),
                    None => None,
                };
                let party = Party::parse(f.party.as_deref().unwrap_or_default())?;
                c2c::request_evidence(&state, &actor, &id, EvidenceRequest { party, note: text(&f.note), hours })
                    .await?;
            }
            Op::Note => {
                let (a, _) = c2c::view_appeal(&state, &actor, &id).await?;
                let m = OrderMessage { body: text(&f.body), attachment_ids: vec![], internal: true };
                c2c::post_message(&state, &actor, &a.order_id, m).await?;
            }
            Op::Decide => {
                let decision = Decision::parse(f.decision.as_deref().unwrap_or_default())?;
                c2c::decide(&state, &actor, &id, DecideInput { decision, rationale: text(&f.rationale) }).await?;
            }
            Op::Approve => {
                c2c::approve(&state, &actor, &id, f.approve.as_deref() == Some("1")).await?;
            }
            Op::Close => {
                c2c::close(&state, &actor, &id).await?;
            }
        }
        Ok::<_, ApiError>(())
    };
    match run.await {
        Ok(()) => Redirect::to(&format!("/console/appeals/{id}#latest")).into_response(),
        // A request the page could not have sent (another site, a stale form): the plain error page.
        Err(e) if matches!(e.code, "csrf" | "not_found") => error_page(&state, lang, Some(&c), e),
        Err(e) => appeal_page(&state, &c, lang, &id, Some(e)).await,
    }
}

/// The order page for its buyer or seller, with an optional refusal to show.
async fn order_page(state: &AppState, c: &Caller, lang: Lang, id: &str, refused: Option<ApiError>) -> Response {
    let view: OrderView = match c2c::view_order(state, &c.actor(), id).await {
        Ok(v) => v,
        Err(e) => return error_page(state, lang, Some(c), e.into()),
    };
    let Some(party) = view.party else { return error_page(state, lang, Some(c), ApiError::not_found()) };
    // The view says whether the party may appeal now, else from when.
    let appeal_block = if view.can_appeal {
        Some("form")
    } else if view.appeal_opens_at.is_some() {
        Some("early")
    } else {
        None
    };
    let latest: Option<&Appeal> = view.appeal.as_ref().or(view.appeals.first());
    let can_withdraw = view
        .appeal
        .as_ref()
        .is_some_and(|a| a.opened_by == party.as_str() && a.status().transition(AppealStatus::Withdrawn).is_ok());
    let me = c.actor().customer().map(|k| k.id.clone()).unwrap_or_default();
    let base = Base::new(state, lang, Some(c), "portal", &format!("/portal/orders/{id}"));
    let status = refused.as_ref().map(|e| e.status);
    let mut r = render(
        state,
        "portal_order.html",
        &base,
        minijinja::context! {
            v => &view, party => party.as_str(), other => party.other().as_str(), me, latest, can_withdraw,
            warning => c2c::warning(lang, &view.order), appeal_block, opens_at => view.appeal_opens_at,
            reasons => AppealReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            refused => refused.as_ref().map(|e| notice(lang, e)),
        },
    );
    if let Some(st) = status {
        *r.status_mut() = st;
    }
    r
}

/// `GET /portal/orders/{id}`: the order for its buyer or seller (anyone else: 404).
async fn portal_order(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    order_page(&state, &c, lang, &id, None).await
}

/// The portal's writes: the use case, then back to the order, or the order again with the refusal.
async fn portal_done(state: &AppState, c: &Caller, lang: Lang, order_id: &str, r: Result<(), ApiError>) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/portal/orders/{order_id}#latest")).into_response(),
        Err(e) if matches!(e.code, "csrf" | "not_found") => error_page(state, lang, Some(c), e),
        Err(e) => order_page(state, c, lang, order_id, Some(e)).await,
    }
}

/// `POST /portal/orders/{id}/messages`: a message in the order chat, with proof files.
async fn portal_message(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        let f = super::portal::read_upload_form(&state, &c, form).await?;
        let m = OrderMessage {
            body: f.fields.get("body").cloned().unwrap_or_default(),
            attachment_ids: f.attachment_ids,
            internal: false,
        };
        c2c::post_message(&state, &c.actor(), &id, m).await?;
        Ok(())
    };
    let r = run.await;
    portal_done(&state, &c, lang, &id, r).await
}

/// `POST /portal/orders/{id}/appeal`: the buyer or the seller appeals, with a statement and files.
async fn portal_appeal(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        let f = super::portal::read_upload_form(&state, &c, form).await?;
        let reason = AppealReason::parse(f.fields.get("reason").map(String::as_str).unwrap_or_default())?;
        let input = OpenAppeal {
            reason,
            body: f.fields.get("body").cloned().unwrap_or_default(),
            attachment_ids: f.attachment_ids,
        };
        c2c::open_appeal(&state, &c.actor(), &id, input).await?;
        Ok(())
    };
    let r = run.await;
    portal_done(&state, &c, lang, &id, r).await
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

/// `POST /portal/appeals/{id}/withdraw`: the party who opened the appeal withdraws it.
async fn portal_withdraw(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f.csrf.as_deref())?;
        Ok::<_, ApiError>(c2c::withdraw(&state, &c.actor(), &id).await?)
    };
    match run.await {
        Ok(a) => Redirect::to(&format!("/portal/orders/{}#appeal", a.order_id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clocks() {
        assert_eq!(super::clock(3_599_000), "0:59:59");
        assert_eq!(super::clock(-65_000), "−0:01:05");
        assert_eq!(super::clock(72 * 3_600_000), "72:00:00");
    }
}
