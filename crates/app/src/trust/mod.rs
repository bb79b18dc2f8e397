//! Trust and safety (issue 16): telling the exchange's real channels from impostors, and keeping secrets out of
//! the desk.
//!
//! - [`verify`]: "is this official?" for a domain or link, an address, a phone number, a handle or an agent
//!   number, read into its normal form ([`channels::normalize`]) and answered from the registry admins keep
//!   ([`put_channel`], [`remove_channel`]) and the desk's own agents; a value that is not official but imitates
//!   one that is names it (`lookalike_of`). [`report`] opens a case for the risk department about it.
//! - [`secrets`]: the secret guard every channel runs before storing what a customer wrote ([`guard`]).

pub mod channels;
pub mod emergency;
pub mod secrets;

use crate::{Actor, AppError, AppResult};
use channels::{Channel, ChannelKind};
use lifebuoy_domain::{Category, ConversationKind, Lang, Priority, Role};
use lifebuoy_store::{Conversation, NewTicket, TrustChannel};
use serde::Serialize;

/// The answer to "is this official?".
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verdict {
    pub official: bool,
    /// What the value was read as (`domain`, `email`, `phone`, `telegram`, `x`, `discord`, `wechat`,
    /// `agent_no`, `handle`).
    pub kind: &'static str,
    /// The value in its normal form.
    pub value: String,
    /// What it is, when official.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The official channel it imitates, when it is a look-alike.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookalike_of: Option<String>,
}

fn show(kind: ChannelKind, value: &str) -> String {
    if kind.is_handle() { format!("@{value}") } else { value.to_string() }
}

/// Checks one value against the registry. Anyone may ask (no actor): the answer names only what the exchange
/// publishes.
pub async fn verify(app: &crate::App, input: &str) -> AppResult<Verdict> {
    let Some(ch) = channels::normalize(input) else {
        return Err(AppError::invalid(
            "value",
            "a web address, an email address, a phone number, a handle or an agent number",
        ));
    };
    let registry = app.store.trust_channels().await?;
    let mut v = judge(&ch, &registry);
    if !v.official
        && ch.kind == ChannelKind::AgentNo
        && let Some((name, _)) = app.store.active_agent_by_no(&ch.value).await?
    {
        v.official = true;
        v.label = Some(name);
    }
    Ok(v)
}

/// The verdict for a normalised value against the registry's entries (pure; agents' numbers aside).
pub fn judge(ch: &Channel, registry: &[TrustChannel]) -> Verdict {
    let of = |k: ChannelKind| registry.iter().filter(move |e| e.kind == k.as_str());
    let official = |e: &TrustChannel, kind: &'static str| Verdict {
        official: true,
        kind,
        value: ch.value.clone(),
        label: Some(e.label.clone()),
        lookalike_of: None,
    };
    let not = |lookalike_of: Option<String>| Verdict {
        official: false,
        kind: ch.kind.as_str(),
        value: ch.value.clone(),
        label: None,
        lookalike_of,
    };
    match ch.kind {
        ChannelKind::Domain => {
            if let Some(e) = of(ChannelKind::Domain).find(|e| channels::within(&ch.value, &e.value)) {
                return official(e, "domain");
            }
            not(of(ChannelKind::Domain)
                .find(|e| channels::domain_imitates(&ch.value, &e.value))
                .map(|e| e.value.clone()))
        }
        ChannelKind::Email => {
            if let Some(e) = of(ChannelKind::Email).find(|e| e.value == ch.value) {
                return official(e, "email");
            }
            let domain = ch.value.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let like = of(ChannelKind::Email)
                .find(|e| channels::email_imitates(&ch.value, &e.value))
                .or_else(|| of(ChannelKind::Domain).find(|e| channels::domain_imitates(domain, &e.value)));
            not(like.map(|e| e.value.clone()))
        }
        ChannelKind::Phone => {
            let digits = |s: &str| s.trim_start_matches('+').to_string();
            let (d, plus) = (digits(&ch.value), ch.value.starts_with('+'));
            // Without a country code, the number matches an official one that ends with it after a 1–3 digit code.
            let matches = |e: &&TrustChannel| {
                let o = digits(&e.value);
                o == d || (!plus && o.len() > d.len() && o.len() - d.len() <= 3 && o.ends_with(&d))
            };
            match of(ChannelKind::Phone).find(matches) {
                Some(e) => official(e, "phone"),
                None => not(None),
            }
        }
        ChannelKind::AgentNo => match of(ChannelKind::AgentNo).find(|e| e.value == ch.value) {
            Some(e) => official(e, "agent_no"),
            None => not(None),
        },
        kind => {
            let handles = registry.iter().filter(|e| ChannelKind::parse(&e.kind).is_some_and(ChannelKind::is_handle));
            let same_platform = |e: &&TrustChannel| kind == ChannelKind::Handle || e.kind == kind.as_str();
            if let Some(e) = handles.clone().find(|e| e.value == ch.value && same_platform(e)) {
                let k = ChannelKind::parse(&e.kind).unwrap_or(kind).as_str();
                return official(e, k);
            }
            // The official name on another platform is someone else's account.
            let like = handles
                .clone()
                .find(|e| e.value == ch.value)
                .or_else(|| handles.clone().find(|e| channels::handle_imitates(&ch.value, &e.value)));
            not(like.map(|e| show(ChannelKind::parse(&e.kind).unwrap_or(kind), &e.value)))
        }
    }
}

/// The tag a case gets when the secret guard hid something from it (the risk team's queue filter).
pub const SECRET_TAG: &str = "secret-redacted";

/// Runs the secret guard over a text about to be stored; what it hid is for [`flag`] once the message is written.
pub fn guard(text: &str, lang: Lang) -> secrets::Redaction {
    secrets::redact(text, lang)
}

/// After a message the guard redacted was written (at `seq` of `conversation_id`): the `secret_redacted` event
/// that tells the customer and flags the conversation for the risk team. Logged with the kinds only.
pub async fn flag(app: &crate::App, conversation_id: &str, seq: i64, kinds: &[secrets::SecretKind]) -> AppResult<()> {
    if kinds.is_empty() {
        return Ok(());
    }
    let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
    tracing::warn!(conversation = conversation_id, seq, kinds = ?kinds, "secret guard: redacted before storage");
    let event = lifebuoy_domain::Event::SecretRedacted { seq, kinds };
    app.store.append_event(conversation_id, &lifebuoy_store::Actor::System, &event).await?;
    Ok(())
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Agent(a) if a.role == Role::Admin && a.active => Ok(()),
        Actor::Integration { .. } => Ok(()),
        _ => Err(AppError::forbidden("admins only")),
    }
}

/// The registry as the public page lists it, for anyone (no sign-in): what customers are told is official.
pub async fn public_channels(app: &crate::App) -> AppResult<Vec<TrustChannel>> {
    Ok(app.store.trust_channels().await?)
}

/// The registry, for the console (every agent may read it: it is what customers are told).
pub async fn channels(app: &crate::App, actor: &Actor) -> AppResult<Vec<TrustChannel>> {
    actor.require_staff()?;
    Ok(app.store.trust_channels().await?)
}

/// Adds an official channel (admins and the exchange's integration), in its normal form; relabels one listed.
pub async fn put_channel(
    app: &crate::App,
    actor: &Actor,
    kind: &str,
    value: &str,
    label: &str,
) -> AppResult<TrustChannel> {
    require_admin(actor)?;
    let kind = ChannelKind::parse(kind)
        .filter(|k| *k != ChannelKind::Handle)
        .ok_or_else(|| AppError::invalid("kind", "domain, email, phone, telegram, x, discord, wechat or agent_no"))?;
    let value = channels::normalize_as(kind, value)
        .ok_or_else(|| AppError::invalid("value", format!("not a {} as written", kind.as_str())))?;
    let label = crate::tickets::text_field("label", label, 200)?;
    let by = actor.agent().map(|a| a.id.as_str());
    Ok(app.store.put_trust_channel(kind.as_str(), &value, &label, by).await?)
}

/// Removes an official channel; whether it was listed.
pub async fn remove_channel(app: &crate::App, actor: &Actor, id: &str) -> AppResult<bool> {
    require_admin(actor)?;
    Ok(app.store.remove_trust_channel(id).await?)
}

/// The customer that reports by people who did not sign in are filed under.
pub const ANONYMOUS_REPORTER: &str = "lifebuoy:anonymous-reports";

/// Reports a channel that is not official: opens a case for the risk department, urgent when it imitates an
/// official one, with what was checked and the verdict. A signed-in customer reports as themselves (and sees the
/// case); anyone else's report is filed under [`ANONYMOUS_REPORTER`]. An official channel is not reported.
pub async fn report(
    app: &crate::App,
    actor: Option<&Actor>,
    input: &str,
    note: Option<&str>,
    lang: Lang,
) -> AppResult<(Verdict, Conversation)> {
    let verdict = verify(app, input).await?;
    if verdict.official {
        return Err(AppError::conflict("official_channel", "this channel is official; there is nothing to report"));
    }
    let customer = match actor {
        Some(Actor::Customer(c)) => c.clone(),
        _ => app.store.upsert_exchange_customer(ANONYMOUS_REPORTER, None, Some("Anonymous reports"), None).await?,
    };
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(2000).collect::<String>());
    let note = note.map(|n| secrets::redact(&n, lang).text);
    let shown = show(ChannelKind::parse(verdict.kind).unwrap_or(ChannelKind::Handle), &verdict.value);
    let (subject, mut body) = match lang {
        Lang::ZhHans => (
            format!("举报可疑渠道：{shown}"),
            format!("客户举报了一个非官方渠道。\n检查的内容：{}\n识别为：{}（{}）", input.trim(), shown, verdict.kind),
        ),
        Lang::ZhHant => (
            format!("檢舉可疑管道：{shown}"),
            format!("客戶檢舉了一個非官方管道。\n檢查的內容：{}\n識別為：{}（{}）", input.trim(), shown, verdict.kind),
        ),
        Lang::En => (
            format!("Suspicious channel reported: {shown}"),
            format!(
                "A customer reported a channel that is not official.\nChecked: {}\nRead as: {} ({})",
                input.trim(),
                shown,
                verdict.kind
            ),
        ),
    };
    if let Some(o) = &verdict.lookalike_of {
        body.push_str(&match lang {
            Lang::ZhHans => format!("\n仿冒的官方渠道：{o}"),
            Lang::ZhHant => format!("\n仿冒的官方管道：{o}"),
            Lang::En => format!("\nImitates the official: {o}"),
        });
    }
    if let Some(n) = note {
        body.push_str("\n\n");
        body.push_str(&n);
    }
    let t = NewTicket {
        kind: ConversationKind::Ticket,
        customer_id: customer.id.clone(),
        subject: subject.chars().take(200).collect(),
        body,
        category: Category::Security,
        priority: if verdict.lookalike_of.is_some() { Priority::Urgent } else { Priority::High },
        department: Some("risk".into()),
        lang,
        order_id: None,
        tx_hash: None,
        asset: None,
        amount: None,
        tags: vec!["scam-report".into()],
        attachment_ids: vec![],
    };
    let author = match actor {
        Some(a @ Actor::Customer(_)) => a.author(),
        _ => lifebuoy_store::Actor::System,
    };
    let (c, _) = app.store.create_ticket(&t, &author, None).await?;
    Ok((verdict, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, value: &str) -> TrustChannel {
        TrustChannel {
            id: format!("{kind}:{value}"),
            kind: kind.into(),
            value: value.into(),
            label: format!("official {kind}"),
            added_by: None,
            created_at: 0,
        }
    }

    fn registry() -> Vec<TrustChannel> {
        vec![
            entry("domain", "demo.lifebuoy.dev"),
            entry("email", "support@demo.lifebuoy.dev"),
            entry("phone", "+864001234567"),
            entry("telegram", "lifebuoydemo"),
            entry("x", "lifebuoydemo"),
            entry("agent_no", "P2001"),
        ]
    }

    fn ask(s: &str) -> Verdict {
        judge(&channels::normalize(s).unwrap(), &registry())
    }

    #[test]
    fn officials_are_recognised_however_written() {
        for (s, kind) in [
            ("demo.lifebuoy.dev", "domain"),
            ("https://Demo.Lifebuoy.dev/help/zh-Hans", "domain"),
            ("www.demo.lifebuoy.dev", "domain"),
            ("SUPPORT@demo.lifebuoy.dev", "email"),
            ("+86 400 123 4567", "phone"),
            ("400-123-4567", "phone"),
            ("@LifebuoyDemo", "telegram"),
            ("https://t.me/lifebuoydemo", "telegram"),
            ("x.com/LifebuoyDemo", "x"),
            ("工号 p2001", "agent_no"),
        ] {
            let v = ask(s);
            assert!(v.official, "{s}: {v:?}");
            assert_eq!(v.kind, kind, "{s}");
            assert!(v.label.is_some() && v.lookalike_of.is_none());
        }
    }

    #[test]
    fn lookalikes_name_what_they_imitate() {
        for (s, of) in [
            ("https://demo-lifebuoy-support.dev/login", "demo.lifebuoy.dev"),
            ("demo.lifebuoy.dev.secure-login.top", "demo.lifebuoy.dev"),
            ("support@demo-lifebuoy.dev", "support@demo.lifebuoy.dev"),
            ("suppport@demo.lifebuoy.dev", "support@demo.lifebuoy.dev"),
            ("@lifebuoydemo_support", "@lifebuoydemo"),
            ("t.me/LifebuoyDem0", "@lifebuoydemo"),
            ("discord:lifebuoydemo", "@lifebuoydemo"),
        ] {
            let v = ask(s);
            assert!(!v.official, "{s}");
            assert_eq!(v.lookalike_of.as_deref(), Some(of), "{s}: {v:?}");
        }
    }

    #[test]
    fn unrelated_values_are_not_official_and_imitate_nothing() {
        for s in [
            "google.com",
            "https://github.com/rust-lang",
            "alice@gmail.com",
            "+1 415 555 0100",
            "@someone",
            "工号 Z9999",
        ] {
            let v = ask(s);
            assert!(!v.official && v.lookalike_of.is_none(), "{s}: {v:?}");
        }
    }
}
