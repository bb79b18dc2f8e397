//! "My account may be stolen" and step-up verification (issue 16).
//!
//! The emergency: the customer presses the button (widget or portal); [`open`] files an urgent security case for
//! the risk department (urgent sorts first in every queue) and an emergency awaiting confirmation. The customer
//! confirms with a fresh identity token from the exchange ([`FreshSignIn`]: its `sub` theirs, its `auth_time`
//! within [`FRESH_S`]); [`confirm`] records it and writes the `trust.freeze` job in the same transaction. The job
//! ([`run_freeze`]) calls the exchange's freeze endpoint, signed like the webhooks ([`crate::signing`]), retried
//! with backoff while the exchange cannot be reached, and records the answer in the case: the event, and a message
//! telling the customer what happened and what to do next.
//!
//! Step-up: an agent asks ([`request_step_up`]) before an account action; the customer re-verifies with a fresh
//! identity token ([`complete_step_up`]); the conversation records both and when.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use crate::{Actor, AppError, AppResult};
use lifebuoy_domain::{Category, ConversationKind, Event, Lang, Priority};
use lifebuoy_store::{Conversation, Emergency, NewTicket, StepUp};
use serde::Deserialize;
use serde_json::json;

/// The job kind of the freeze call.
pub const FREEZE_JOB: &str = "trust.freeze";
/// How recent a fresh sign-in must be (seconds since its `auth_time`).
pub const FRESH_S: i64 = 300;

/// Where the exchange takes freeze calls, and the secret they are signed with.
#[derive(Clone)]
pub struct FreezeEndpoint {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for FreezeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreezeEndpoint").field("url", &self.url).field("secret", &"…").finish()
    }
}

/// A sign-in the exchange vouched for just now: the subject and `auth_time` of a verified identity token.
#[derive(Debug, Clone)]
pub struct FreshSignIn {
    pub sub: String,
    /// Unix seconds.
    pub auth_time: i64,
}

fn now_s() -> i64 {
    lifebuoy_store::now_ms() / 1000
}

/// Checks that a fresh sign-in is the customer's own and recent.
fn check_fresh(customer: &lifebuoy_store::Customer, fresh: &FreshSignIn) -> AppResult<()> {
    if customer.external_id.as_deref() != Some(fresh.sub.as_str()) {
        return Err(AppError::forbidden("the fresh sign-in is another customer's"));
    }
    let age = now_s() - fresh.auth_time;
    if !(-60..=FRESH_S).contains(&age) {
        return Err(AppError::Unauthenticated {
            code: "not_fresh",
            message: format!("sign in on the exchange again: auth_time must be within {FRESH_S} s"),
        });
    }
    Ok(())
}

fn customer_of(actor: &Actor) -> AppResult<&lifebuoy_store::Customer> {
    actor.customer().ok_or_else(|| AppError::forbidden("customers only"))
}

fn lang_of(c: &lifebuoy_store::Customer) -> Lang {
    c.lang.as_deref().and_then(Lang::from_tag).unwrap_or(Lang::ZhHans)
}

/// Opens the emergency: an urgent security case for the risk department and the emergency awaiting the
/// customer's confirmation.
pub async fn open(app: &crate::App, actor: &Actor, note: Option<&str>) -> AppResult<(Emergency, Conversation)> {
    let customer = customer_of(actor)?;
    let lang = lang_of(customer);
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(2000).collect::<String>());
    let note = note.map(|n| super::guard(&n, lang).text);
    let (subject, mut body) = match lang {
        Lang::ZhHans => ("紧急：账户可能被盗", "客户通过“账户可能被盗”紧急入口求助，请立即处理。".to_string()),
        Lang::ZhHant => ("緊急：帳戶可能遭盜用", "客戶透過「帳戶可能遭盜用」緊急入口求助，請立即處理。".to_string()),
        Lang::En => (
            "URGENT: account may be stolen",
            "The customer used the \"my account may be stolen\" emergency button. Act now.".to_string(),
        ),
    };
    if let Some(n) = note {
        body.push_str("\n\n");
        body.push_str(&n);
    }
    let t = NewTicket {
        kind: ConversationKind::Ticket,
        customer_id: customer.id.clone(),
        subject: subject.into(),
        body,
        category: Category::Security,
        priority: Priority::Urgent,
        department: Some("risk".into()),
        lang,
        order_id: None,
        tx_hash: None,
        asset: None,
        amount: None,
        tags: vec!["account-emergency".into()],
        attachment_ids: vec![],
    };
    let (c, _) = app.store.create_ticket(&t, &actor.author(), None).await?;
    let e = app.store.open_emergency(&c.id, &customer.id).await?;
    Ok((e, c))
}

/// An emergency the actor may see: the customer's own, or any for staff.
pub async fn view(app: &crate::App, actor: &Actor, id: &str) -> AppResult<Emergency> {
    let e = app.store.emergency(id).await?.ok_or(AppError::NotFound)?;
    match actor {
        Actor::Customer(c) if c.id == e.customer_id => Ok(e),
        Actor::Customer(_) => Err(AppError::NotFound),
        // Staff: those who see its case (the risk department's, supervisors, admins, the exchange).
        _ => match app.store.conversation(&e.conversation_id).await? {
            Some(c) if actor.scope().permits(&c) => Ok(e),
            _ => Err(AppError::NotFound),
        },
    }
}

/// The customer confirms with a fresh sign-in: recorded on the case, and the freeze call queued (one
/// transaction). Confirming twice is `already_done`.
pub async fn confirm(app: &crate::App, actor: &Actor, id: &str, fresh: &FreshSignIn) -> AppResult<Emergency> {
    let customer = customer_of(actor)?;
    let e = view(app, actor, id).await?;
    check_fresh(customer, fresh)?;
    let job = NewJob::new(FREEZE_JOB, &json!({"emergency": e.id})).key(format!("freeze-{}", e.id));
    let event = Event::FreezeRequested { emergency: e.id.clone(), auth_time: fresh.auth_time };
    let (e, _) = app.store.confirm_emergency(&e.id, fresh.auth_time, &actor.author(), &event, &[job]).await?;
    Ok(e)
}

#[derive(Deserialize)]
struct FreezeJob {
    emergency: String,
}

fn next_steps(lang: Lang, frozen: bool) -> &'static str {
    match (lang, frozen) {
        (Lang::ZhHans, true) => {
            "交易所已冻结您的账户：资金暂时无法转出，可以防止进一步损失。接下来请：1. 在官方 App 中修改登录密码和资金密码；2. 重新绑定二次验证（2FA）；3. 检查提现地址白名单和 API 密钥，删除不认识的；4. 风控专员会在本工单中联系您，核实身份后为您解冻。请勿向任何人提供验证码或助记词。"
        }
        (Lang::ZhHant, true) => {
            "交易所已凍結您的帳戶：資金暫時無法轉出，可防止進一步損失。接下來請：1. 在官方 App 中變更登入密碼和資金密碼；2. 重新綁定雙重驗證（2FA）；3. 檢查提領地址白名單和 API 金鑰，刪除不認得的項目；4. 風控專員會在本案件中與您聯繫，驗證身分後為您解凍。請勿向任何人提供驗證碼或助記詞。"
        }
        (Lang::En, true) => {
            "The exchange has frozen your account: no funds can leave it, which stops further losses. Next: 1. change your login and fund passwords in the official app; 2. set up 2FA again; 3. check your withdrawal whitelist and API keys and delete any you don't recognise; 4. a risk specialist will contact you on this case and unfreeze the account once your identity is confirmed. Never give anyone your codes or recovery phrase."
        }
        (Lang::ZhHans, false) => {
            "自动冻结没有成功，风控团队已收到这个紧急工单，会立即人工处理。在此期间，请尽快在官方 App 中修改登录密码，并移除不认识的登录设备。"
        }
        (Lang::ZhHant, false) => {
            "自動凍結沒有成功，風控團隊已收到這個緊急案件，會立即人工處理。在此期間，請儘快在官方 App 中變更登入密碼，並移除不認得的登入裝置。"
        }
        (Lang::En, false) => {
            "The automatic freeze did not go through. Our risk team has this urgent case and is handling it by hand now. Meanwhile, change your login password in the official app and remove any device you don't recognise."
        }
    }
}

/// The `trust.freeze` job: calls the exchange's freeze endpoint and records its answer in the case.
pub async fn run_freeze(app: &crate::App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: FreezeJob = job.payload_as()?;
    let Some(e) = app.store.emergency(&args.emergency).await? else {
        return Err(JobFailure::permanent("no such emergency"));
    };
    if e.state != "confirmed" {
        return Ok(JobOutcome::done());
    }
    let conv = app.store.conversation(&e.conversation_id).await?.ok_or_else(|| JobFailure::permanent("no case"))?;
    let lang = Lang::parse(&conv.lang).unwrap_or(Lang::ZhHans);
    let customer = app.store.customer(&e.customer_id).await?.ok_or_else(|| JobFailure::permanent("no customer"))?;
    let answer = |frozen: bool, status: Option<i64>, text: String| {
        let event = Event::FreezeAnswered { emergency: e.id.clone(), frozen, status };
        let state = if frozen { "frozen" } else { "failed" };
        let store = app.store.clone();
        let id = e.id.clone();
        async move {
            let text: String = text.chars().take(2000).collect();
            match store.answer_emergency(&id, state, status, &text, &event, next_steps(lang, frozen)).await {
                Ok(_) | Err(lifebuoy_store::StoreError::Conflict(_)) => {
                    Ok(JobOutcome::done().record(json!({"emergency": id, "state": state, "status": status})))
                }
                Err(err) => Err(JobFailure::retry(err)),
            }
        }
    };
    let Some(endpoint) = app.freeze.clone() else {
        return answer(false, None, "no freeze endpoint is configured (--freeze-url)".into()).await;
    };
    let body = json!({
        "type": "account.freeze",
        "emergency_id": e.id,
        "customer_id": customer.external_id,
        "case_number": conv.case_number,
        "confirmed_at": e.confirmed_at,
        "auth_time": e.auth_time,
    })
    .to_string();
    let sig = crate::signing::sign(endpoint.secret.as_bytes(), now_s(), body.as_bytes());
    let headers = [
        ("Content-Type", "application/json"),
        (crate::signing::HEADER, sig.as_str()),
        ("Idempotency-Key", e.id.as_str()),
    ];
    let last = job.attempts >= job.max_attempts;
    match crate::http_out::post(&endpoint.url, &headers, body.as_bytes()).await {
        Ok((status, text)) if (200..300).contains(&status) => answer(true, Some(status as i64), text).await,
        // Refused for good (a 4xx other than a timeout or a rate limit): the risk team takes over.
        Ok((status, text)) if (400..500).contains(&status) && status != 408 && status != 429 => {
            answer(false, Some(status as i64), text).await
        }
        Ok((status, text)) if last => answer(false, Some(status as i64), text).await,
        Err(why) if last => answer(false, None, why).await,
        Ok((status, _)) => Err(JobFailure::retry(format!("the freeze endpoint answered {status}"))),
        Err(why) => Err(JobFailure::retry(format!("the freeze endpoint: {why}"))),
    }
}

/// The account actions an agent may ask a step-up for.
pub const STEP_UP_ACTIONS: [&str; 4] = ["unlock", "2fa_reset", "whitelist_change", "other"];

/// An agent (or the exchange) asks the customer of a conversation they see to re-verify before `action`.
pub async fn request_step_up(
    app: &crate::App,
    actor: &Actor,
    conversation_id: &str,
    action: &str,
) -> AppResult<StepUp> {
    actor.require_staff()?;
    if !STEP_UP_ACTIONS.contains(&action) {
        return Err(AppError::invalid("action", "unlock, 2fa_reset, whitelist_change or other"));
    }
    let c = app.store.conversation(conversation_id).await?.ok_or(AppError::NotFound)?;
    if !actor.scope().permits(&c) {
        return Err(AppError::NotFound);
    }
    let action_owned = action.to_string();
    Ok(app
        .store
        .request_step_up(&c.id, &c.customer_id, action, &actor.author(), move |id| Event::StepUpRequested {
            step_up: id.to_string(),
            action: action_owned,
        })
        .await?)
}

/// The customer completes a step-up with a fresh sign-in; the conversation records it and when.
pub async fn complete_step_up(app: &crate::App, actor: &Actor, id: &str, fresh: &FreshSignIn) -> AppResult<StepUp> {
    let customer = customer_of(actor)?;
    let s = app.store.step_up(id).await?.filter(|s| s.customer_id == customer.id).ok_or(AppError::NotFound)?;
    check_fresh(customer, fresh)?;
    let event = Event::StepUpCompleted { step_up: s.id.clone(), action: s.action.clone(), auth_time: fresh.auth_time };
    Ok(app.store.complete_step_up(&s.id, fresh.auth_time, &actor.author(), &event).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness() {
        let mut c = lifebuoy_store::Customer {
            id: "k1".into(),
            external_id: Some("U1".into()),
            kind: "exchange".into(),
            email: None,
            name: None,
            lang: Some("en".into()),
            created_at: 0,
        };
        let now = now_s();
        assert!(check_fresh(&c, &FreshSignIn { sub: "U1".into(), auth_time: now - 10 }).is_ok());
        let stale = check_fresh(&c, &FreshSignIn { sub: "U1".into(), auth_time: now - FRESH_S - 1 }).unwrap_err();
        assert_eq!(stale.code(), "not_fresh");
        assert_eq!(check_fresh(&c, &FreshSignIn { sub: "U2".into(), auth_time: now }).unwrap_err().code(), "forbidden");
        c.external_id = None;
        assert!(check_fresh(&c, &FreshSignIn { sub: "U1".into(), auth_time: now }).is_err(), "a guest has no sign-in");
    }
}
