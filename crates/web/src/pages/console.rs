//! The agent console: sign in (argon2, lockout after repeated failures per account and per client address),
//! the queue with filters and sorting, and the ticket view with reply, note, assign, transfer, escalate, merge
//! and status. Keyboard shortcuts come from `static/app.js`.

use super::{Base, error_page, render, start_session};
use crate::api::tickets::{self, ListQuery, NewMessage, StaffAction, UpdateBody};
use crate::auth::{
    Caller, ConsoleAgent, LOCKOUT_MS, MAX_LOGIN_FAILURES, MaybeCaller, check_form_token, check_same_origin,
    verify_password_async,
};
use crate::error::ApiError;
use crate::{AppState, i18n};
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_domain::{Category, Priority, Status};
use lifebuoy_store::now_ms;
use serde::Deserialize;

static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::auth::hash_password("not a password"));

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(queue))
        .route("/console/login", get(login_form).post(login))
        .route("/console/tickets/{id}", get(show))
        .route("/console/tickets/{id}/reply", post(reply))
        .route("/console/tickets/{id}/action", post(action))
}

fn lang_of(headers: &HeaderMap, caller: Option<&Caller>) -> lifebuoy_domain::Lang {
    let profile = caller.and_then(|c| c.agent()).and_then(|a| a.languages.first()).map(|l| l.as_str());
    i18n::negotiate(headers, profile)
}

async fn login_form(State(state): State<AppState>, MaybeCaller(caller): MaybeCaller, headers: HeaderMap) -> Response {
    if caller.as_ref().is_some_and(|c| c.agent().is_some()) {
        return Redirect::to("/console").into_response();
    }
    let lang = i18n::negotiate(&headers, None);
    let base = Base::new(&state, lang, None, "console", "/console/login");
    render(&state, "console_login.html", &base, minijinja::context! { email => "" })
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

/// Failed sign-ins one client address may make per [`ADDRESS_WINDOW_MS`], whatever the accounts: one address
/// cannot spread guesses over many agents. Good sign-ins give theirs back.
pub const ADDRESS_MAX_FAILURES: i64 = 20;
pub const ADDRESS_WINDOW_MS: i64 = 15 * 60 * 1000;

async fn login(
    State(state): State<AppState>,
    client: crate::security::ClientIp,
    headers: HeaderMap,
    Form(f): Form<Login>,
) -> Response {
    let lang = i18n::negotiate(&headers, None);
    if let Err(e) = check_same_origin(&headers) {
        return error_page(&state, lang, None, e);
    }
    // Wrong password, unknown email, locked or deactivated account: one answer, so it reveals no agent email.
    let fail = |email: &str| {
        let base = Base::new(&state, lang, None, "console", "/console/login");
        let mut r = render(
            &state,
            "console_login.html",
            &base,
            minijinja::context! { error => i18n::t(lang, "console.bad_login"), email },
        );
        *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        r
    };
    // Both counts are taken before the password is checked, each in one statement, so parallel attempts
    // cannot all be checked before any is counted.
    let bucket = format!("login:{}", client.key());
    match state.store.throttle_take(&bucket, ADDRESS_MAX_FAILURES, ADDRESS_WINDOW_MS).await {
        Ok(Ok(())) => {}
        Ok(Err(t)) => {
            let e = crate::security::too_many(
                t.retry_at - now_ms(),
                i18n::t(lang, "console.address_locked")
                    .replace("{minutes}", &((t.retry_at - now_ms()).max(0) / 60_000 + 1).to_string()),
            );
            return error_page(&state, lang, None, e);
        }
        Err(e) => return error_page(&state, lang, None, e.into()),
    }
    let rec = match state.store.reserve_login_attempt(&f.email, MAX_LOGIN_FAILURES, LOCKOUT_MS).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, lang, None, e.into()),
    };
    let Some(rec) = rec else {
        // Unknown or locked: spend the same time as a real check, so response times reveal neither.
        verify_password_async(f.password.clone(), DUMMY_HASH.clone()).await;
        return fail(&f.email);
    };
    // The hash is checked for deactivated agents too: an early answer would tell, by its speed, which
    // addresses belong to agents who left.
    let password_ok = verify_password_async(f.password.clone(), rec.password_hash.clone()).await;
    if !rec.agent.active || !password_ok {
        if rec.failed_logins >= MAX_LOGIN_FAILURES {
            tracing::warn!(agent = %rec.agent.id, "console sign-in locked after failed attempts");
        }
        return fail(&f.email);
    }
    if let Err(e) = state.store.record_login_success(&rec.agent.id).await {
        return error_page(&state, lang, None, e.into());
    }
    if let Err(e) = state.store.throttle_give_back(&bucket).await {
        tracing::warn!(error = %e, "could not give back a good sign-in's count");
    }
    match start_session(&state, "agent", &rec.agent.id).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response(),
        Err(e) => error_page(&state, lang, None, e),
    }
}

async fn queue(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = lang_of(&headers, Some(&c));
    let mut q = q;
    if q.status.is_none() {
        q.status = Some("active".into());
    }
    // The working queue comes most urgent first: the case whose clock runs out soonest on top.
    if q.sort.as_deref().is_none_or(str::is_empty) && q.status.as_deref() == Some("active") {
        q.sort = Some("due".into());
    }
    let run = async {
        let (f, sort, cursor) = q.filter(&c)?;
        let page = state.list_conversations(&c.scope(), &f, sort, cursor.as_ref(), 50).await?;
        let agents = state.store.agents().await?;
        let departments = state.store.departments().await?;
        let ids: Vec<String> = page.items.iter().map(|t| t.id.clone()).collect();
        let clocks = state.store.sla_clocks(&ids).await?;
        Ok::<_, ApiError>((page, agents, departments, clocks))
    };
    match run.await {
        Ok((page, agents, departments, clocks)) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console");
            let now = lifebuoy_store::now_ms();
            let clocks: std::collections::HashMap<String, minijinja::Value> =
                clocks.iter().map(|k| (k.id.clone(), super::sla_cell(base.t, k, now))).collect();
            let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            let priorities: Vec<&str> = Priority::ALL.iter().map(|s| s.as_str()).collect();
            let categories: Vec<&str> = Category::ALL.iter().map(|s| s.as_str()).collect();
            let dept_names: std::collections::HashMap<String, String> =
                departments.iter().map(|d| (d.id.clone(), d.name(lang).to_string())).collect();
            let agent_names: std::collections::HashMap<String, String> =
                agents.iter().map(|a| (a.id.clone(), format!("{} · {}", a.display_name, a.agent_no))).collect();
            let me = c.agent().map(|a| a.id.clone());
            // A text search says when the index is behind or being rebuilt, instead of quietly missing tickets.
            let search_state =
                q.q.as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map(|_| state.tickets.state())
                    .filter(|s| *s != lifebuoy_app::ticket_search::IndexState::Ready);
            render(
                &state,
                "console_queue.html",
                &base,
                minijinja::context! {
                    page, q => minijinja::context! { status => q.status, department => q.department, assignee => q.assignee, priority => q.priority, category => q.category, q => q.q, sort => q.sort },
                    statuses, priorities, categories, departments, agents, dept_names, agent_names, me, search_state,
                    clocks
                },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

async fn show(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers, Some(&c));
    let run = async {
        let t = tickets::visible(&state, &c, &id).await?;
        lifebuoy_app::records::audit(
            &state,
            &c.actor(),
            "conversation",
            Some(&t.customer_id),
            Some(&t.id),
            "console.ticket",
        )
        .await?;
        let timeline = state.store.timeline(&t.id, true).await?;
        let customer = state.store.customer(&t.customer_id).await?;
        let tags = state.store.tags(&t.id).await?;
        let agents = state.store.agents().await?;
        let departments = state.store.departments().await?;
        let history = state
            .store
            .list_conversations(
                &c.scope(),
                &lifebuoy_store::QueueFilter { customer_id: Some(t.customer_id.clone()), ..Default::default() },
                Default::default(),
                None,
                20,
            )
            .await?;
        let mail = lifebuoy_app::mail_text::thread_views(&state.store, &t, &timeline).await?;
        let kept = lifebuoy_app::customers::kept(&state, &c.actor(), &t.customer_id, 3).await?;
        let retention = lifebuoy_app::privacy::case_retention(&state, &c.actor(), &t.id).await?;
        let sla = lifebuoy_app::sla::view(&state, &t, Some(&timeline)).await?;
        Ok::<_, ApiError>((t, timeline, customer, tags, agents, departments, history, mail, (retention, kept, sla)))
    };
    match run.await {
        Ok((
            t,
            timeline,
            customer,
            tags,
            agents,
            departments,
            history,
            mail,
            (retention, (customer_tags, customer_notes), sla),
        )) => {
            let base = Base::new(&state, lang, Some(&c), "console", &format!("/console/tickets/{id}"));
            let next_statuses: Vec<&str> =
                Status::ALL.iter().filter(|s| t.status().transition(**s).is_ok()).map(|s| s.as_str()).collect();
            let dept_names: std::collections::HashMap<String, String> =
                departments.iter().map(|d| (d.id.clone(), d.name(lang).to_string())).collect();
            let agent_names: std::collections::HashMap<String, String> =
                agents.iter().map(|a| (a.id.clone(), format!("{} · {}", a.display_name, a.agent_no))).collect();
            let priorities: Vec<&str> = Priority::ALL.iter().map(|s| s.as_str()).collect();
            let categories: Vec<&str> = Category::ALL.iter().map(|s| s.as_str()).collect();
            let can_escalate = t.tier().escalated().is_some();
            let me = c.agent().map(|a| a.id.clone());
            render(
                &state,
                "console_ticket.html",
                &base,
                minijinja::context! {
                    t, timeline, mail, customer, tags => tags.join(", "), agents, departments, history => history.items, next_statuses, dept_names, agent_names,
                    priorities, categories, can_escalate, me, closed => t.status() == Status::Closed,
                    customer_tags, customer_notes, sla,
                    holds => retention.holds.clone(), hold_conversation => t.id.clone(), retention, back => format!("/console/tickets/{id}"),
                },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

async fn reply(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    let lang = lang_of(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        let t = tickets::visible(&state, &c, &id).await?;
        let f = super::portal::read_upload_form(&state, &c, form).await?;
        let internal = f.fields.get("internal").is_some_and(|v| v == "1");
        let status = f.fields.get("status").filter(|s| !s.is_empty()).map(|s| Status::parse(s)).transpose()?;
        let m = NewMessage {
            body: f.fields.get("body").cloned().unwrap_or_default(),
            internal,
            attachment_ids: f.attachment_ids,
            status,
        };
        tickets::reply_for(&state, &c, &t, m, None).await?;
        Ok::<_, ApiError>(t)
    };
    match run.await {
        Ok(t) => Redirect::to(&format!("/console/tickets/{}#latest", t.id)).into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    op: String,
    value: Option<String>,
    reason: Option<String>,
    priority: Option<String>,
    category: Option<String>,
    tags: Option<String>,
    order_id: Option<String>,
    tx_hash: Option<String>,
    asset: Option<String>,
    amount: Option<String>,
}

async fn action(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let lang = lang_of(&headers, Some(&c));
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        let t = tickets::visible(&state, &c, &id).await?;
        let value = f.value.clone().unwrap_or_default();
        let reason = f.reason.clone().unwrap_or_default();
        let act = match f.op.as_str() {
            "status" => return tickets::set_status_for(&state, &c, &t, Status::parse(&value)?).await,
            "assign" => StaffAction::Assign(Some(value)),
            "transfer" => StaffAction::Transfer { department: value, reason },
            "escalate" => StaffAction::Escalate { reason },
            "merge" => StaffAction::Merge { into: value },
            "update" => StaffAction::Update(UpdateBody {
                priority: f.priority.as_deref().map(Priority::parse).transpose()?,
                category: f.category.as_deref().map(Category::parse).transpose()?,
                tags: f.tags.as_deref().map(|s| s.split(',').map(str::to_string).collect()),
                order_id: f.order_id.clone(),
                tx_hash: f.tx_hash.clone(),
                asset: f.asset.clone(),
                amount: f.amount.clone(),
            }),
            other => return Err(ApiError::bad_request(format!("unknown action {other:?}"))),
        };
        tickets::staff_action(&state, &c, &t, act).await
    };
    match run.await {
        // After a transfer the case may leave this agent's departments: back to the queue then.
        Ok(t) if c.scope().permits(&t) => Redirect::to(&format!("/console/tickets/{}", t.id)).into_response(),
        Ok(_) => Redirect::to("/console").into_response(),
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}
