//! Alerts for staff (issue 13): a case whose SLA clock is about to run out warns its agent and its
//! department's supervisors before the breach, and tells them again when it ran out. Each alert shows in the
//! console (`/console/alerts`, with a count in the navigation) and is mailed to the agent.
//!
//! Raising is idempotent: one alert per agent and cause (`sla_warning:{case}:{deadline}`), so the `sla.check`
//! job that raises it may run twice. The mail goes out from the `alerts.mail` job, which mails every alert not
//! marked mailed and marks each after the relay took it: a crash between the two sends that one mail again,
//! never none.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use crate::{App, AppResult};
use lettre::Message;
use lettre::message::header::ContentType;
use lifebuoy_domain::{Lang, Role};
use lifebuoy_store::{Agent, Conversation, NewAlert, StaffAlert};
use serde_json::json;

pub const MAIL_JOB: &str = "alerts.mail";
/// Alerts mailed per run (the next run goes on).
const MAIL_BATCH: i64 = 50;

/// Who hears about a case's clock: its agent, and the supervisors of its department (every supervisor when
/// none has that department).
pub fn recipients<'a>(agents: &'a [Agent], c: &Conversation) -> Vec<&'a Agent> {
    let active = |a: &&Agent| a.active;
    let sups: Vec<&Agent> = agents.iter().filter(active).filter(|a| a.role == Role::Supervisor).collect();
    let of_dept: Vec<&Agent> = sups.iter().copied().filter(|a| a.departments.contains(&c.department_id)).collect();
    let mut out: Vec<&Agent> = Vec::new();
    if let Some(holder) = c.assignee_id.as_deref().and_then(|id| agents.iter().filter(active).find(|a| a.id == id)) {
        out.push(holder);
    }
    for s in if of_dept.is_empty() { sups } else { of_dept } {
        if !out.iter().any(|a| a.id == s.id) {
            out.push(s);
        }
    }
    out
}

/// Raises an SLA alert (`sla_warning` or `sla_breached`) about a case, for its deadline `due_at`. Returns how
/// many agents were newly alerted.
pub async fn raise_sla(app: &App, c: &Conversation, kind: &str, due_at: i64) -> AppResult<u64> {
    let agents = app.store.agents().await?;
    let cause = format!("{kind}:{}:{due_at}", c.id);
    let data = json!({"case_number": c.case_number, "subject": c.subject, "due_at": due_at,
        "priority": c.priority, "department": c.department_id})
    .to_string();
    let alerts: Vec<NewAlert> = recipients(&agents, c)
        .into_iter()
        .map(|a| NewAlert {
            agent_id: a.id.clone(),
            kind: kind.to_string(),
            cause: cause.clone(),
            conversation_id: Some(c.id.clone()),
            data: data.clone(),
        })
        .collect();
    let added = app.store.add_staff_alerts(&alerts).await?;
    // Always asked for: a run before this one may have written the alerts and stopped before asking.
    if !alerts.is_empty() {
        app.store.enqueue_jobs(&[NewJob::new(MAIL_JOB, &json!({})).key(format!("alerts-mail-{cause}"))]).await?;
    }
    Ok(added)
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// An alert's mail in the agent's first language: (subject, body).
pub fn mail_text(app: &App, a: &StaffAlert, lang: Lang) -> (String, String) {
    let d: serde_json::Value = serde_json::from_str(&a.data).unwrap_or_default();
    let case = d["case_number"].as_str().unwrap_or("?");
    let subject = d["subject"].as_str().unwrap_or_default();
    let due = when(d["due_at"].as_i64().unwrap_or_default());
    let link = match &a.conversation_id {
        Some(id) => format!("{}/console/tickets/{id}", app.public_url()),
        None => format!("{}/console/alerts", app.public_url()),
    };
    let breached = a.kind == "sla_breached";
    match (lang, breached) {
        (Lang::ZhHans, false) => (
            format!("【时效提醒】{case} 将于 {due} 超时"),
            format!("工单 {case}「{subject}」的服务时限快到了：请在 {due} 前回复或处理。\n\n打开工单：{link}\n"),
        ),
        (Lang::ZhHans, true) => (
            format!("【已超时】{case} 已超过服务时限"),
            format!("工单 {case}「{subject}」已于 {due} 超过服务时限，已按规则升级。\n\n打开工单：{link}\n"),
        ),
        (Lang::ZhHant, false) => (
            format!("【時效提醒】{case} 將於 {due} 逾時"),
            format!("工單 {case}「{subject}」的服務時限快到了：請在 {due} 前回覆或處理。\n\n開啟工單：{link}\n"),
        ),
        (Lang::ZhHant, true) => (
            format!("【已逾時】{case} 已超過服務時限"),
            format!("工單 {case}「{subject}」已於 {due} 超過服務時限，已依規則升級。\n\n開啟工單：{link}\n"),
        ),
        (Lang::En, false) => (
            format!("[SLA warning] {case} is due {due}"),
            format!(
                "Case {case} \"{subject}\" is close to its service deadline: answer or act before {due}.\n\nOpen the case: {link}\n"
            ),
        ),
        (Lang::En, true) => (
            format!("[SLA breached] {case} is overdue"),
            format!(
                "Case {case} \"{subject}\" ran past its service deadline at {due} and was escalated by the rules.\n\nOpen the case: {link}\n"
            ),
        ),
    }
}

/// The `alerts.mail` job: mails the alerts not mailed yet.
pub async fn run_mail(app: &App, _job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let batch = app.store.unmailed_staff_alerts(MAIL_BATCH).await?;
    let from = app.mailer.reply_from();
    let mut sent = 0;
    for a in &batch {
        let Some(agent) = app.store.agent(&a.agent_id).await?.filter(|g| g.active) else {
            app.store.staff_alert_mailed(&a.id).await?;
            continue;
        };
        let lang = agent.languages.first().copied().unwrap_or(Lang::ZhHans);
        let (subject, body) = mail_text(app, a, lang);
        let to = agent.email.parse().map_err(|e| JobFailure::permanent(format!("agent address: {e}")))?;
        let from = from.clone().unwrap_or_else(|| "Lifebuoy <support@lifebuoy.localhost>".parse().expect("an address"));
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| JobFailure::permanent(format!("alert mail: {e}")))?;
        app.mailer.send_now(msg).await.map_err(JobFailure::retry)?;
        app.store.staff_alert_mailed(&a.id).await?;
        sent += 1;
    }
    let mut out = JobOutcome::done().record(json!({"mailed": sent}));
    if batch.len() as i64 == MAIL_BATCH {
        out = out.then(NewJob::new(MAIL_JOB, &json!({})).key(format!("alerts-mail-more-{}", lifebuoy_store::now_ms())));
    }
    Ok(out)
}

/// The signed-in agent's latest alerts, newest first.
pub async fn mine(app: &App, actor: &crate::Actor) -> AppResult<Vec<StaffAlert>> {
    let a = actor.agent().ok_or_else(|| crate::AppError::forbidden("alerts are for agents"))?;
    Ok(app.store.staff_alerts(&a.id, 100).await?)
}

/// How many of the signed-in agent's alerts are unread.
pub async fn unread(app: &App, actor: &crate::Actor) -> AppResult<i64> {
    let a = actor.agent().ok_or_else(|| crate::AppError::forbidden("alerts are for agents"))?;
    Ok(app.store.unread_staff_alerts(&a.id).await?)
}

/// Marks the signed-in agent's alerts read.
pub async fn mark_read(app: &App, actor: &crate::Actor) -> AppResult<()> {
    let a = actor.agent().ok_or_else(|| crate::AppError::forbidden("alerts are for agents"))?;
    Ok(app.store.read_staff_alerts(&a.id).await?)
}
