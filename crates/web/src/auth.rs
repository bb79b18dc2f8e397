//! Who is calling: an agent or a customer by session cookie, a customer by the exchange's signed identity
//! token, or the exchange's backend by an integration token. Plus password hashing and CSRF defences.

use crate::{AppState, error::ApiError};
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, Method, request::Parts};
use axum_extra::extract::cookie::CookieJar;
use lifebuoy_store::{Principal, Scope};
use serde::{Deserialize, Serialize};

pub const SESSION_COOKIE: &str = "lb_session";
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// Failed logins in a row before an account locks, and for how long.
pub const MAX_LOGIN_FAILURES: i64 = 5;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;

/// The claims of the exchange's identity token (HS256, signed with `LIFEBUOY_IDENTITY_SECRET`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityClaims {
    pub sub: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub lang: Option<String>,
    pub exp: i64,
    /// The phrase the customer chose on the exchange against phishing, printed in every mail Lifebuoy sends
    /// them (absent: none set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anti_phishing_code: Option<String>,
}

/// The longest an identity token may live unless configured otherwise: 24 hours.
pub const IDENTITY_MAX_LIFETIME_S: i64 = 24 * 3600;

/// The claims read besides [`IdentityClaims`]: when the token was issued.
#[derive(Deserialize)]
struct Issued {
    #[serde(flatten)]
    claims: IdentityClaims,
    #[serde(default)]
    iat: Option<i64>,
    /// When the customer last signed in on the exchange (OpenID Connect's `auth_time`): step-up verification and
    /// the emergency's confirmation need it recent.
    #[serde(default)]
    auth_time: Option<i64>,
}

/// Verifies identity tokens. Only HS256 is accepted; `exp` and `sub` are required, `nbf` is honoured, `iss`
/// and `aud` are checked when configured, and a token may not live longer than the maximum lifetime.
#[derive(Clone)]
pub struct IdentityVerifier {
    key: Option<jsonwebtoken::DecodingKey>,
    validation: jsonwebtoken::Validation,
    max_lifetime_s: i64,
}

impl IdentityVerifier {
    pub fn new(secret: Option<&str>) -> Self {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        IdentityVerifier {
            key: secret.filter(|s| !s.is_empty()).map(|s| jsonwebtoken::DecodingKey::from_secret(s.as_bytes())),
            validation,
            max_lifetime_s: IDENTITY_MAX_LIFETIME_S,
        }
    }

    /// Requires an issuer (`iss`) and an audience (`aud`) when given, and caps a token's lifetime.
    pub fn with_rules(mut self, issuer: Option<&str>, audience: Option<&str>, max_lifetime_s: i64) -> Self {
        let mut required = vec!["exp", "sub"];
        if let Some(iss) = issuer.map(str::trim).filter(|s| !s.is_empty()) {
            self.validation.set_issuer(&[iss]);
            required.push("iss");
        }
        if let Some(aud) = audience.map(str::trim).filter(|s| !s.is_empty()) {
            self.validation.set_audience(&[aud]);
            self.validation.validate_aud = true;
            required.push("aud");
        }
        self.validation.set_required_spec_claims(&required);
        self.max_lifetime_s = max_lifetime_s;
        self
    }

    pub fn verify(&self, token: &str) -> Result<IdentityClaims, ApiError> {
        self.verify_issued(token).map(|(claims, _)| claims)
    }

    /// Verifies a fresh identity token, as [`IdentityVerifier::verify`] does, and reads its `auth_time`: the
    /// exchange's word that the customer signed in again just now (`None` when the token does not say).
    pub fn verify_fresh(&self, token: &str) -> Result<lifebuoy_app::trust::emergency::FreshSignIn, ApiError> {
        let (claims, auth_time) = self.verify_issued(token)?;
        let auth_time = auth_time.ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "not_fresh", "the token carries no auth_time")
        })?;
        Ok(lifebuoy_app::trust::emergency::FreshSignIn { sub: claims.sub, auth_time })
    }

    fn verify_issued(&self, token: &str) -> Result<(IdentityClaims, Option<i64>), ApiError> {
        let key = self.key.as_ref().ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "identity_not_configured",
                "this server has no LIFEBUOY_IDENTITY_SECRET",
            )
        })?;
        let rejected = |why: String| ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid_identity_token", why);
        let data = jsonwebtoken::decode::<Issued>(token, key, &self.validation)
            .map_err(|e| rejected(format!("identity token rejected: {e}")))?;
        let Issued { claims, iat, auth_time } = data.claims;
        if claims.sub.trim().is_empty() || claims.sub.len() > 128 {
            return Err(rejected("sub must be 1 to 128 characters".into()));
        }
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        let max = self.max_lifetime_s;
        match iat {
            Some(iat) if iat > now + leeway => return Err(rejected("iat is in the future".into())),
            Some(iat) if claims.exp.saturating_sub(iat) > max => {
                return Err(rejected(format!("the token lives longer than {max} s (exp - iat)")));
            }
            None if claims.exp.saturating_sub(now) > max + leeway => {
                return Err(rejected(format!("a token without iat must expire within {max} s")));
            }
            _ => {}
        }
        Ok((claims, auth_time))
    }
}

/// Signs an identity token with `auth_time` (the sign-in it vouches for was just now): the exchange's fresh token
/// for a step-up or an emergency's confirmation, as the demo and the tests sign it.
pub fn sign_fresh_identity(secret: &str, claims: &IdentityClaims, auth_time: i64) -> String {
    let mut v = serde_json::to_value(claims).expect("claims serialise");
    v["auth_time"] = auth_time.into();
    v["iat"] = chrono::Utc::now().timestamp().into();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &v,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// Signs an identity token: used by the demo and by tests, as the exchange's backend would.
pub fn sign_identity(secret: &str, claims: &IdentityClaims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

pub use lifebuoy_app::accounts::{hash_password, hash_password_async, verify_password, verify_password_async};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The session's CSRF token when the caller came by cookie (forms must echo it).
    pub csrf: Option<String>,
}

impl Caller {
    /// A write from a browser session must come from this site; bearer-token callers carry no cookie to forge.
    pub fn same_origin(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.csrf.is_some() { check_same_origin(headers) } else { Ok(()) }
    }

    /// Which conversations this caller may see.
    pub fn scope(&self) -> Scope {
        match &self.principal {
            Principal::Customer(c) => Scope::Customer(c.id.clone()),
            Principal::Agent(a) if a.role.sees_all() => Scope::All,
            Principal::Agent(a) => Scope::Agent { id: a.id.clone(), departments: a.departments.clone() },
            Principal::Integration { .. } => Scope::All,
        }
    }

    /// The caller as the application core's actor.
    pub fn actor(&self) -> lifebuoy_app::Actor {
        lifebuoy_app::Actor::from(&self.principal)
    }

    /// The caller as the timeline records it.
    pub fn author(&self) -> lifebuoy_store::Actor {
        self.actor().author()
    }

    pub fn is_staff(&self) -> bool {
        !matches!(self.principal, Principal::Customer(_))
    }

    pub fn agent(&self) -> Option<&lifebuoy_store::Agent> {
        match &self.principal {
            Principal::Agent(a) => Some(a),
            _ => None,
        }
    }

    /// Refuses customers: for endpoints only agents and the exchange's backend may call.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.is_staff() { Ok(()) } else { Err(ApiError::forbidden("agents only")) }
    }
}

/// Resolves the caller of a request, or `None` when anonymous. A bad bearer token is an error, not anonymous.
pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) {
        let raw = auth.to_str().map_err(|_| ApiError::unauthorized())?;
        let token = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?
            .trim();
        if token.starts_with("lbt_") {
            let (token_id, name) = state.store.api_token(token).await?.ok_or_else(ApiError::unauthorized)?;
            return Ok(Some(Caller { principal: Principal::Integration { token_id, name }, csrf: None }));
        }
        if !token.contains('.') {
            // A chat session token (the widget keeps no cookies in a third-party frame).
            let session = state.store.session(token).await?.ok_or_else(ApiError::unauthorized)?;
            if session.principal_kind != "customer" {
                return Err(ApiError::unauthorized());
            }
            let customer = state.store.customer(&session.principal_id).await?.ok_or_else(ApiError::unauthorized)?;
            return Ok(Some(Caller { principal: Principal::Customer(customer), csrf: None }));
        }
        let claims = state.identity.verify(token)?;
        let customer = customer_from_claims(state, &claims).await?;
        return Ok(Some(Caller { principal: Principal::Customer(customer), csrf: None }));
    }
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    let Some(session) = state.store.session(cookie.value()).await? else { return Ok(None) };
    let principal = match session.principal_kind.as_str() {
        "agent" => match state.store.agent(&session.principal_id).await? {
            Some(a) if a.active => Principal::Agent(a),
            _ => return Ok(None),
        },
        "customer" => match state.store.customer(&session.principal_id).await? {
            Some(c) => Principal::Customer(c),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(Caller { principal, csrf: Some(session.csrf) }))
}

/// The customer behind identity claims, created or updated from them.
pub async fn customer_from_claims(state: &AppState, c: &IdentityClaims) -> Result<lifebuoy_store::Customer, ApiError> {
    let lang = c.lang.as_deref().and_then(lifebuoy_domain::Lang::from_tag).map(|l| l.as_str());
    let sub = c.sub.trim();
    let code = c.anti_phishing_code.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let same = |(k, kc): &(lifebuoy_store::Customer, Option<String>)| {
        k.email.as_deref() == c.email.as_deref()
            && k.name.as_deref() == c.name.as_deref()
            && k.lang.as_deref() == lang
            && kc.as_deref() == code
    };
    if let Some((k, _)) = state.customers.lock().ok().and_then(|m| m.get(sub).cloned()).filter(same) {
        return Ok(k);
    }
    let k = state.store.upsert_exchange_customer(sub, c.email.as_deref(), c.name.as_deref(), lang).await?;
    state.store.set_anti_phishing_code(&k.id, code).await?;
    if let Ok(mut m) = state.customers.lock() {
        // A bounded cache: cleared whole when full, it only saves a read on the next request.
        if m.len() >= 100_000 {
            m.clear();
        }
        m.insert(sub.to_string(), (k.clone(), code.map(str::to_string)));
    }
    Ok(k)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = resolve(state, &parts.headers).await?.ok_or_else(ApiError::unauthorized)?;
        if caller.csrf.is_some() && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            check_same_origin(&parts.headers)?;
        }
        Ok(caller)
    }
}

/// An optional caller, for pages that also show something to the anonymous.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(resolve(state, &parts.headers).await.ok().flatten()))
    }
}

/// Cookie-authenticated writes must come from our own pages: the browser's `Sec-Fetch-Site`, or failing that
/// `Origin`, must not name another site (nor be `null`); requests with neither are not from a browser. Forms
/// also carry the session's token (see [`check_form_token`]).
pub fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return if matches!(site, "same-origin" | "none") { Ok(()) } else { Err(csrf_error()) };
    }
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else { return Ok(()) };
    // `Origin: null` comes from sandboxed frames, `data:` documents and cross-site redirects: never ours.
    let origin = origin.to_str().map_err(|_| csrf_error())?;
    if origin.trim() == "null" {
        return Err(csrf_error());
    }
    if let Some(host) = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host {
            return Err(csrf_error());
        }
    }
    Ok(())
}

/// Compares a form's `_csrf` field with the session's token.
pub fn check_form_token(caller: &Caller, sent: Option<&str>) -> Result<(), ApiError> {
    match (&caller.csrf, sent) {
        (None, _) => Ok(()),
        (Some(expected), Some(got)) if constant_time_eq(expected.as_bytes(), got.as_bytes()) => Ok(()),
        _ => Err(csrf_error()),
    }
}

fn csrf_error() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "csrf",
        "cross-site request refused; reload the page and try again",
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A signed-in customer, for portal pages: others are sent where they belong (agents to the console, the
/// anonymous to the portal's sign-in).
pub struct PortalCustomer(pub Caller);

impl FromRequestParts<AppState> for PortalCustomer {
    type Rejection = axum::response::Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::{IntoResponse, Redirect};
        match resolve(state, &parts.headers).await.ok().flatten() {
            Some(c) if matches!(c.principal, Principal::Customer(_)) => Ok(PortalCustomer(c)),
            Some(_) => Err(Redirect::to("/console").into_response()),
            None => Err(Redirect::to("/portal").into_response()),
        }
    }
}

/// A signed-in agent, for console pages: anyone else is sent to the console's sign-in.
pub struct ConsoleAgent(pub Caller);

impl FromRequestParts<AppState> for ConsoleAgent {
    type Rejection = axum::response::Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::{IntoResponse, Redirect};
        match resolve(state, &parts.headers).await.ok().flatten() {
            Some(c) if matches!(c.principal, Principal::Agent(_)) => Ok(ConsoleAgent(c)),
            _ => Err(Redirect::to("/console/login").into_response()),
        }
    }
}
