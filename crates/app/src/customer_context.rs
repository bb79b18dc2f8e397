//! The customer's account beside every case (issue 14, item 6): what the exchange knows of the user behind a
//! case (KYC level, VIP tier, account state, recent deposits and withdrawals, open C2C orders), asked of the
//! exchange when an agent opens the case.
//!
//! The exchange owns its users' accounts; the desk keeps none of the answer. Admins set one source (a URL and a
//! secret, [`set_source`]); a lookup POSTs `{"user_id", "case_number", "agent_no", "requested_at"}` signed like
//! a webhook (`Lifebuoy-Signature: t=…,v1=…` over `TIMESTAMP.BODY`) with a short time limit, and each node keeps
//! an answer for the source's cache time. What the answer omits is not shown; a field of the wrong shape is
//! dropped and named in `ignored` (the schema: `docs/customer-context.md`). An exchange that is slow or down
//! never holds a case page: the agent sees that the account could not be read, and what the exchange pushed
//! earlier ([`push_profile`]: tier and flags, kept by the desk).
//!
//! Looking is logged in the access log like opening the case (who saw whose account, from which case).

use crate::{Actor, App, AppError, AppResult};
use lifebuoy_domain::{ConversationKind, Party, Role};
use lifebuoy_store::{ContextSource, ExchangeUserProfile};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The lookup's time limit unless the admins set one, and its bounds.
pub const DEFAULT_TIMEOUT_MS: i64 = 2_000;
pub const TIMEOUT_MS: std::ops::RangeInclusive<i64> = 200..=10_000;
/// How long a node keeps an answer unless the admins set it, and the bounds (0: ask every time).
pub const DEFAULT_CACHE_S: i64 = 60;
pub const CACHE_S: std::ops::RangeInclusive<i64> = 0..=3_600;
/// Of each list in an answer, how many entries are shown.
pub const LIST_SHOWN: usize = 10;
/// How many users' answers a node keeps at most.
const CACHE_CAP: usize = 10_000;

/// The exchange's account state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Normal,
    Frozen,
    Restricted,
}

/// A deposit or a withdrawal.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transfer {
    pub asset: Option<String>,
    pub amount: Option<String>,
    pub network: Option<String>,
    pub status: Option<String>,
    pub tx_hash: Option<String>,
    /// When (ms since the epoch).
    pub at: Option<i64>,
}

/// One of the user's open C2C orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpenOrder {
    pub id: Option<String>,
    pub side: Option<String>,
    pub asset: Option<String>,
    pub amount: Option<String>,
    pub fiat_amount: Option<String>,
    pub fiat_currency: Option<String>,
    pub state: Option<String>,
}

/// The exchange's answer, as understood: every field may be missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExchangeAccount {
    pub kyc_level: Option<String>,
    pub vip_tier: Option<String>,
    pub account_state: Option<AccountState>,
    pub state_reason: Option<String>,
    pub registered_at: Option<i64>,
    pub deposits: Option<Vec<Transfer>>,
    pub withdrawals: Option<Vec<Transfer>>,
    pub c2c_orders: Option<Vec<OpenOrder>>,
    pub flags: Option<Vec<String>>,
    /// Fields of the answer that were not understood (wrong type, unknown state), for the integrator.
    pub ignored: Vec<String>,
}

/// How the account beside a case was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// The customer has no exchange account (a guest who signed in by email).
    NoExchangeUser,
    /// No source is set.
    NotConfigured,
    /// Asked just now.
    Fresh,
    /// From this node's cache.
    Cached,
    /// The exchange said it does not know the user (404).
    UnknownUser,
    /// No answer, a failure, or an answer that is not a JSON object: see `error`.
    Unreachable,
}

/// The account beside a case, as an agent sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountContext {
    /// The exchange's user id, when the customer has one.
    pub user_id: Option<String>,
    /// For an order's case: whose account this is.
    pub party: Option<Party>,
    pub lookup: Lookup,
    pub error: Option<String>,
    /// When the answer shown was had (ms).
    pub fetched_at: Option<i64>,
    pub account: Option<ExchangeAccount>,
    /// What the exchange pushed (tier and flags), whatever the lookup did.
    pub pushed: Option<ExchangeUserProfile>,
}

/// Each node's answers, per exchange user id.
#[derive(Default)]
pub struct Cache {
    map: Mutex<HashMap<String, (Instant, i64, ExchangeAccount)>>,
}

impl Cache {
    fn get(&self, user_id: &str, max_age: Duration) -> Option<(i64, ExchangeAccount)> {
        let map = self.map.lock().expect("cache lock");
        map.get(user_id).filter(|(when, ..)| when.elapsed() < max_age).map(|(_, at, a)| (*at, a.clone()))
    }
    fn put(&self, user_id: &str, at: i64, a: ExchangeAccount, max_age: Duration) {
        let mut map = self.map.lock().expect("cache lock");
        if map.len() >= CACHE_CAP {
            map.retain(|_, (when, ..)| when.elapsed() < max_age);
            if map.len() >= CACHE_CAP {
                map.clear();
            }
        }
        map.insert(user_id.to_string(), (Instant::now(), at, a));
    }
    fn forget(&self, user_id: &str) {
        self.map.lock().expect("cache lock").remove(user_id);
    }
    fn clear(&self) {
        self.map.lock().expect("cache lock").clear();
    }
}

/// The account of the customer behind a case, for an agent who sees the case. On an order's case `party` picks
/// the buyer's or the seller's (the buyer's unless named); on any other case it must be `None`.
pub async fn for_case(
    app: &App,
    actor: &Actor,
    conversation_id: &str,
    party: Option<Party>,
) -> AppResult<AccountContext> {
    let Some(agent) = actor.agent() else { return Err(AppError::forbidden("agents read a customer's account")) };
    let conv = app.store.conversation(conversation_id).await?.ok_or(AppError::NotFound)?;
    if !actor.scope().permits(&conv) {
        return Err(AppError::NotFound);
    }
    let order = match conv.order_id.as_deref().filter(|_| conv.kind == ConversationKind::Appeal.as_str()) {
        Some(oid) => app.store.order(oid).await?,
        None => None,
    };
    let (user_id, customer_id, party) = match order {
        Some(o) => {
            let p = party.unwrap_or(Party::Buyer);
            let x = match p {
                Party::Buyer => o.buyer,
                Party::Seller => o.seller,
            };
            let cid = app.store.exchange_customer(&x).await?.map(|c| c.id);
            (Some(x), cid, Some(p))
        }
        None => {
            if party.is_some() {
                return Err(AppError::invalid("party", "only an order's case has a buyer and a seller"));
            }
            let c = app.store.customer(&conv.customer_id).await?;
            (c.and_then(|c| c.external_id), Some(conv.customer_id.clone()), None)
        }
    };
    crate::records::audit(app, actor, "account", customer_id.as_deref(), Some(&conv.id), "console.account").await?;
    let Some(user_id) = user_id else {
        return Ok(AccountContext {
            user_id: None,
            party,
            lookup: Lookup::NoExchangeUser,
            error: None,
            fetched_at: None,
            account: None,
            pushed: None,
        });
    };
    let pushed = app.store.exchange_user_profile(&user_id).await?;
    let mut out = AccountContext {
        user_id: Some(user_id.clone()),
        party,
        lookup: Lookup::NotConfigured,
        error: None,
        fetched_at: None,
        account: None,
        pushed,
    };
    let Some(source) = app.store.context_source().await? else { return Ok(out) };
    let max_age = Duration::from_secs(source.cache_s.max(0) as u64);
    if let Some((at, a)) = app.account_cache.get(&user_id, max_age) {
        (out.lookup, out.fetched_at, out.account) = (Lookup::Cached, Some(at), Some(a));
        return Ok(out);
    }
    let body = json!({
        "user_id": user_id,
        "case_number": conv.case_number,
        "agent_no": agent.agent_no,
        "requested_at": lifebuoy_store::now_ms(),
    })
    .to_string();
    match ask(&source, &body).await {
        Ok(Some(a)) => {
            let at = lifebuoy_store::now_ms();
            if source.cache_s > 0 {
                app.account_cache.put(&user_id, at, a.clone(), max_age);
            }
            (out.lookup, out.fetched_at, out.account) = (Lookup::Fresh, Some(at), Some(a));
        }
        Ok(None) => out.lookup = Lookup::UnknownUser,
        Err(e) => {
            tracing::warn!(user = %user_id, error = %e, "the exchange's customer context did not answer");
            (out.lookup, out.error) = (Lookup::Unreachable, Some(e));
        }
    }
    Ok(out)
}

/// One signed lookup: `Ok(None)` when the exchange answers 404.
async fn ask(source: &ContextSource, body: &str) -> Result<Option<ExchangeAccount>, String> {
    let t = lifebuoy_store::now_ms() / 1000;
    let sig = crate::signing::sign(source.secret.as_bytes(), t, body.as_bytes());
    let headers = [("Content-Type", "application/json"), (crate::signing::HEADER, sig.as_str())];
    let limit = Duration::from_millis(source.timeout_ms.clamp(*TIMEOUT_MS.start(), *TIMEOUT_MS.end()) as u64);
    let (status, text) = crate::http_out::post_within(&source.url, &headers, body.as_bytes(), limit).await?;
    match status {
        200..=299 => {}
        404 => return Ok(None),
        s => return Err(format!("the exchange answered {s}")),
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let Value::Object(o) = v else { return Err("the answer is not a JSON object".into()) };
    Ok(Some(parse_account(&o)))
}

/// Reads an answer field by field: a missing field stays `None`, a field of the wrong shape is named in
/// `ignored`; unknown fields are left alone (the exchange may send more than the desk shows).
pub fn parse_account(o: &Map<String, Value>) -> ExchangeAccount {
    let mut ignored = Vec::new();
    let mut a = ExchangeAccount {
        kyc_level: text(o, "kyc_level", "", &mut ignored),
        vip_tier: text(o, "vip_tier", "", &mut ignored),
        state_reason: text(o, "state_reason", "", &mut ignored),
        registered_at: time(o, "registered_at", "", &mut ignored),
        ..Default::default()
    };
    a.account_state = match o.get("account_state") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "normal" => Some(AccountState::Normal),
        Some(Value::String(s)) if s == "frozen" => Some(AccountState::Frozen),
        Some(Value::String(s)) if s == "restricted" => Some(AccountState::Restricted),
        Some(_) => {
            ignored.push("account_state".to_string());
            None
        }
    };
    a.deposits = list(o, "deposits", &mut ignored, transfer);
    a.withdrawals = list(o, "withdrawals", &mut ignored, transfer);
    a.c2c_orders = list(o, "c2c_orders", &mut ignored, |e, at, ig| OpenOrder {
        id: text(e, "id", at, ig),
        side: text(e, "side", at, ig),
        asset: text(e, "asset", at, ig),
        amount: text(e, "amount", at, ig),
        fiat_amount: text(e, "fiat_amount", at, ig),
        fiat_currency: text(e, "fiat_currency", at, ig),
        state: text(e, "state", at, ig),
    });
    a.flags = match o.get("flags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(v)) => {
            Some(v.iter().filter_map(|f| f.as_str()).map(|s| clip(s, 40)).filter(|s| !s.is_empty()).take(20).collect())
        }
        Some(_) => {
            ignored.push("flags".to_string());
            None
        }
    };
    a.ignored = ignored;
    a
}

fn transfer(e: &Map<String, Value>, at: &str, ig: &mut Vec<String>) -> Transfer {
    Transfer {
        asset: text(e, "asset", at, ig),
        amount: text(e, "amount", at, ig),
        network: text(e, "network", at, ig),
        status: text(e, "status", at, ig),
        tx_hash: text(e, "tx_hash", at, ig),
        at: time(e, "at", at, ig),
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect::<String>().trim().to_string()
}

/// A short text: a string, or a number written as one (amounts come both ways).
fn text(o: &Map<String, Value>, field: &str, at: &str, ignored: &mut Vec<String>) -> Option<String> {
    match o.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(clip(s, 200)).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            ignored.push(format!("{at}{field}"));
            None
        }
    }
}

/// A time in ms since the epoch.
fn time(o: &Map<String, Value>, field: &str, at: &str, ignored: &mut Vec<String>) -> Option<i64> {
    match o.get(field) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|t| *t > 0) {
            Some(t) => Some(t),
            None => {
                ignored.push(format!("{at}{field}"));
                None
            }
        },
    }
}

fn list<T>(
    o: &Map<String, Value>,
    field: &str,
    ignored: &mut Vec<String>,
    each: impl Fn(&Map<String, Value>, &str, &mut Vec<String>) -> T,
) -> Option<Vec<T>> {
    match o.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Array(v)) => Some(
            v.iter()
                .take(LIST_SHOWN)
                .enumerate()
                .filter_map(|(i, e)| match e {
                    Value::Object(e) => Some(each(e, &format!("{field}[{i}]."), ignored)),
                    _ => {
                        ignored.push(format!("{field}[{i}]"));
                        None
                    }
                })
                .collect(),
        ),
        Some(_) => {
            ignored.push(field.to_string());
            None
        }
    }
}

fn admin_or_exchange(actor: &Actor) -> AppResult<()> {
    let admin = actor.agent().is_some_and(|a| a.role == Role::Admin);
    if admin || actor.speaks_for_exchange() {
        Ok(())
    } else {
        Err(AppError::forbidden("admins and the exchange's integration set the customer-context source"))
    }
}

/// The source as set (`PUT /api/v1/customer-context`). The secret may be left out to keep the one set before.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    pub url: String,
    pub secret: Option<String>,
    pub timeout_ms: Option<i64>,
    pub cache_s: Option<i64>,
}

/// Sets where the account context comes from (admins, the exchange's integration).
pub async fn set_source(app: &App, actor: &Actor, input: SourceInput) -> AppResult<ContextSource> {
    admin_or_exchange(actor)?;
    let url = url::Url::parse(input.url.trim()).map_err(|e| AppError::invalid("url", e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(AppError::invalid("url", "an http:// or https:// address"));
    }
    let timeout_ms = input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !TIMEOUT_MS.contains(&timeout_ms) {
        return Err(AppError::invalid("timeout_ms", "200 to 10000 milliseconds"));
    }
    let cache_s = input.cache_s.unwrap_or(DEFAULT_CACHE_S);
    if !CACHE_S.contains(&cache_s) {
        return Err(AppError::invalid("cache_s", "0 to 3600 seconds"));
    }
    let secret = match input.secret.filter(|s| !s.is_empty()) {
        Some(s) => {
            if !(16..=200).contains(&s.chars().count()) {
                return Err(AppError::invalid("secret", "16 to 200 characters"));
            }
            s
        }
        None => match app.store.context_source().await? {
            Some(old) => old.secret,
            None => return Err(AppError::invalid("secret", "a secret of 16 to 200 characters signs every lookup")),
        },
    };
    let by = actor.key();
    let s = app.store.set_context_source(Some((url.as_str(), &secret, timeout_ms, cache_s)), Some(&by)).await?;
    app.account_cache.clear();
    s.ok_or_else(|| AppError::Unavailable("the source just set is missing".into()))
}

/// The source, if set (without its secret).
pub async fn source(app: &App, actor: &Actor) -> AppResult<Option<ContextSource>> {
    admin_or_exchange(actor)?;
    Ok(app.store.context_source().await?)
}

/// Stops asking the exchange.
pub async fn remove_source(app: &App, actor: &Actor) -> AppResult<()> {
    admin_or_exchange(actor)?;
    app.store.set_context_source(None, None).await?;
    app.account_cache.clear();
    Ok(())
}

/// What the exchange pushes about one of its users (`PUT /api/v1/exchange-users/{user_id}/profile`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePush {
    pub vip_tier: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
}

/// The exchange tells the desk a user's tier and flags (the exchange's integration only). Replaces what it
/// said before, and drops the nodes' cached lookup of that user on this node.
pub async fn push_profile(app: &App, actor: &Actor, user_id: &str, p: ProfilePush) -> AppResult<ExchangeUserProfile> {
    if !actor.speaks_for_exchange() {
        return Err(AppError::forbidden("only the exchange's integration pushes its users' profiles"));
    }
    let user_id = user_id.trim();
    if user_id.is_empty() || user_id.chars().count() > 128 || user_id.chars().any(char::is_control) {
        return Err(AppError::invalid("user_id", "the exchange's user id: 1 to 128 printable characters"));
    }
    let tier = p.vip_tier.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if tier.is_some_and(|t| t.chars().count() > 40 || t.chars().any(char::is_control)) {
        return Err(AppError::invalid("vip_tier", "up to 40 printable characters"));
    }
    if p.flags.len() > 20 {
        return Err(AppError::invalid("flags", "at most 20 flags"));
    }
    let mut flags: Vec<String> = Vec::new();
    for f in &p.flags {
        let f = f.trim();
        if f.is_empty() || f.chars().count() > 40 || f.chars().any(char::is_control) {
            return Err(AppError::invalid("flags", format!("{f:?}: a flag is 1 to 40 printable characters")));
        }
        if !flags.iter().any(|x| x == f) {
            flags.push(f.to_string());
        }
    }
    let out = app.store.put_exchange_user_profile(user_id, tier, &flags).await?;
    app.account_cache.forget(user_id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_understands_and_names_the_rest() {
        let v: Value = serde_json::from_str(
            r#"{"kyc_level":"L2","vip_tier":3,"account_state":"asleep","registered_at":1700000000000,
                "deposits":[{"asset":"USDT","amount":"100.5","tx_hash":"0xabc","at":1700000000001},"junk"],
                "withdrawals":{"not":"a list"},"flags":["vip",7,""],"extra":"kept out"}"#,
        )
        .unwrap();
        let a = parse_account(v.as_object().unwrap());
        assert_eq!(a.kyc_level.as_deref(), Some("L2"));
        assert_eq!(a.vip_tier.as_deref(), Some("3"));
        assert_eq!(a.account_state, None);
        assert_eq!(a.registered_at, Some(1_700_000_000_000));
        let d = a.deposits.as_ref().unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].asset.as_deref(), d[0].amount.as_deref(), d[0].at),
            (Some("USDT"), Some("100.5"), Some(1_700_000_000_001))
        );
        assert_eq!(d[0].network, None);
        assert_eq!(a.withdrawals, None);
        assert_eq!(a.c2c_orders, None);
        assert_eq!(a.flags, Some(vec!["vip".to_string()]));
        assert_eq!(a.ignored, vec!["account_state", "deposits[1]", "withdrawals"]);
    }

    #[test]
    fn an_empty_answer_shows_nothing() {
        let a = parse_account(&Map::new());
        assert_eq!(a, ExchangeAccount::default());
    }
}
