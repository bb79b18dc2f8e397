//! Lifebuoy's HTTP layer: the REST API (`/api/v1`), the customer portal (`/portal`) and the agent console
//! (`/console`), all server-rendered from templates embedded in the binary. Handlers check who may see what,
//! call the store, and answer; no business rule lives only here.

pub mod api;
pub mod auth;
pub mod charts;
pub mod chat;
pub mod error;
pub mod i18n;
pub mod pages;

pub use lifebuoy_app::{knowledge, mail, ticket_search};
pub mod security;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use lifebuoy_app::App;
use lifebuoy_store::{FileStore, Store};
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings the web layer needs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Demo mode: a page that signs in as demo customers, and guest codes shown on screen.
    pub demo: bool,
    /// Mark cookies `Secure` (behind HTTPS). Implied by an `https://` [`WebConfig::public_url`].
    pub secure_cookies: bool,
    /// The exchange's identity-token secret.
    pub identity_secret: Option<String>,
    /// SMTP relay (`smtp://host:port`) and sender address; without them mails go to the log.
    pub smtp: Option<(String, String)>,
    /// PEM certificates trusted, besides the system's roots, by the outgoing SMTP relay connection (a private
    /// relay with its own CA).
    pub tls_ca: Option<Vec<u8>>,
    /// The address customers write to (`--support-address`): mail to it becomes cases, replies come from it.
    pub support_address: Option<String>,
    /// Where people reach this desk (`https://support.example.com`): over https, cookies are `Secure` and
    /// responses carry `Strict-Transport-Security`.
    pub public_url: Option<String>,
    /// Identity tokens must carry this `iss`, when set.
    pub identity_issuer: Option<String>,
    /// Identity tokens must carry this `aud`, when set.
    pub identity_audience: Option<String>,
    /// The longest an identity token may live (`exp - iat`, or `exp - now` without `iat`); default 24 h.
    pub identity_max_lifetime_s: Option<i64>,
    /// Requests per minute and client address on the limited endpoints ([`security::class_of`]); default
    /// [`security::DEFAULT_RATE_LIMIT`], 0 turns the limits off.
    pub rate_limit_per_minute: Option<u32>,
    /// Client addresses never rate-limited (a load generator on the same machine, say).
    pub rate_limit_exempt: security::NetList,
    /// Proxies whose `X-Forwarded-For` names the client; without them the socket peer is the client.
    pub trusted_proxies: security::NetList,
    /// Addresses that may read `/metrics` without signing in (a Prometheus server); admins and integration
    /// tokens always may.
    pub metrics_allow: security::NetList,
    /// Fail a page whose template prints a variable its handler did not give, instead of printing nothing
    /// (the test suite turns this on, so that a missing variable is a failing test, not a blank on the page).
    pub strict_templates: bool,
    /// The exchange's freeze endpoint ("my account may be stolen"), and the secret its calls are signed with.
    pub freeze: Option<lifebuoy_app::trust::emergency::FreezeEndpoint>,
}

impl WebConfig {
    /// Whether the desk is reached over HTTPS: `Secure` cookies and HSTS.
    pub fn https(&self) -> bool {
        self.secure_cookies
            || self.public_url.as_deref().is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
    }
}

/// Everything a handler can reach: the application core ([`App`], reached through `Deref`: `state.store`,
/// `state.hub`...) and what only the web needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub identity: auth::IdentityVerifier,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub config: Arc<WebConfig>,
    /// Customers seen by identity token, keyed by the exchange's user id: spares a database read per request.
    /// With the anti-phishing code the token carried.
    pub customers: Arc<std::sync::Mutex<std::collections::HashMap<String, (lifebuoy_store::Customer, Option<String>)>>>,
    /// Per-address request limits ([`security::rate_limit`]).
    pub limits: Arc<security::RateLimits>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(store: Store, files: FileStore, config: WebConfig) -> Self {
        let mailer = match &config.smtp {
            Some((url, from)) => mail::Mailer::smtp_trusting(url, from, config.tls_ca.as_deref()).unwrap_or_else(|e| {
                tracing::error!(error = %e, "SMTP is misconfigured; mails go to the log");
                mail::Mailer::default()
            }),
            None => mail::Mailer::default(),
        };
        let mailer = match &config.support_address {
            Some(a) => mailer.clone().with_support_address(a).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the support address is misconfigured");
                mailer
            }),
            None => mailer,
        };
        let mut app = App::new(store, files, mailer);
        app.public_url = config.public_url.clone();
        app.freeze = config.freeze.clone();
        AppState {
            app,
            identity: auth::IdentityVerifier::new(config.identity_secret.as_deref()).with_rules(
                config.identity_issuer.as_deref(),
                config.identity_audience.as_deref(),
                config.identity_max_lifetime_s.unwrap_or(auth::IDENTITY_MAX_LIFETIME_S),
            ),
            templates: Arc::new(pages::templates_with(if config.strict_templates {
                minijinja::UndefinedBehavior::SemiStrict
            } else {
                minijinja::UndefinedBehavior::Chainable
            })),
            limits: Arc::new(security::RateLimits::new(
                config.rate_limit_per_minute.unwrap_or(security::DEFAULT_RATE_LIMIT),
            )),
            config: Arc::new(config),
            customers: Default::default(),
        }
    }

    /// Signs communication records with the node's key kept in `dir` (created there on first start).
    pub fn with_signing_key_in(mut self, dir: &std::path::Path) -> std::io::Result<Self> {
        self.app = self.app.with_signing_key_in(dir)?;
        Ok(self)
    }

    /// Keeps the ticket and knowledge-base indexes on disk across restarts, in directories of this node's own
    /// under `root` (call before [`App::load_kb`] and [`App::load_tickets`]).
    pub fn with_indexes_in(mut self, root: &std::path::Path) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        self.app = self.app.with_ticket_index_in(root)?.with_kb_index_in(root)?;
        Ok(self)
    }

    /// Loads articles straight into the index, bypassing the database (benchmarks of the engine alone).
    pub fn with_kb(mut self, articles: &[lifebuoy_search::ArticleDoc]) -> Result<Self, lifebuoy_search::SearchError> {
        self.app = self.app.with_kb(articles)?;
        Ok(self)
    }
}

/// The whole application. Serve it with connection info (`into_make_service_with_connect_info::<SocketAddr>()`)
/// so that limits apply per client address.
pub fn app(state: AppState) -> Router {
    let https = state.config.https();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/.well-known/lifebuoy-signing-keys", get(api::records::signing_keys))
        .nest("/api/v1", api::router())
        .route("/ws/chat", get(chat::ws::customer_ws))
        .route("/ws/console", get(chat::ws::agent_ws))
        .merge(pages::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::rate_limit))
        .layer(DefaultBodyLimit::max(api::attachments::MAX_ATTACHMENT_BYTES * 11 / 10 + 64 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(axum::middleware::map_response(deny_framing))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
        ));
    let router = if https {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    };
    router.with_state(state)
}

/// `X-Frame-Options: DENY` on every page but those whose own CSP lets other sites frame them (the chat widget's
/// window, `frame-ancestors *`): an old browser honouring only `X-Frame-Options` would otherwise refuse it.
async fn deny_framing(mut r: axum::response::Response) -> axum::response::Response {
    let framable = r
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|csp| csp.contains("frame-ancestors *"));
    if !framable && !r.headers().contains_key(header::X_FRAME_OPTIONS) {
        r.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    r
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "storage unavailable"),
    }
}

/// `GET /metrics`: Prometheus text for operators: memory and live-chat connections of this node. For admins,
/// integration tokens and the addresses in `--metrics-allow` only.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    security::ClientIp(ip): security::ClientIp,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let allowed = ip.is_some_and(|ip| state.config.metrics_allow.contains(ip))
        || match auth::resolve(&state, &headers).await {
            Ok(Some(c)) => match &c.principal {
                lifebuoy_store::Principal::Agent(a) => matches!(a.role, lifebuoy_domain::Role::Admin),
                lifebuoy_store::Principal::Integration { .. } => true,
                lifebuoy_store::Principal::Customer(_) => false,
            },
            _ => false,
        };
    if !allowed {
        return error::ApiError::forbidden("metrics are for admins, integration tokens and --metrics-allow addresses")
            .into_response();
    }
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0);
    let mut body = format!(
        "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}\n\
         # TYPE lifebuoy_chat_connections gauge\nlifebuoy_chat_connections {}\n\
         # TYPE lifebuoy_chat_topics gauge\nlifebuoy_chat_topics {}\n",
        state.hub.connections(),
        state.hub.topic_count()
    );
    // Durable jobs (the whole deployment's, from the database): per state, and the backlog.
    if let Ok(j) = state.store.job_counts().await {
        let oldest_s = j.oldest_due_at.map(|t| (lifebuoy_store::now_ms() - t).max(0) as f64 / 1000.0).unwrap_or(0.0);
        body.push_str(&format!(
            "# TYPE lifebuoy_jobs gauge\nlifebuoy_jobs{{state=\"queued\"}} {}\nlifebuoy_jobs{{state=\"running\"}} {}\n\
             lifebuoy_jobs{{state=\"failed\"}} {}\nlifebuoy_jobs{{state=\"dead\"}} {}\n\
             # TYPE lifebuoy_jobs_due gauge\nlifebuoy_jobs_due {}\n\
             # TYPE lifebuoy_jobs_oldest_due_seconds gauge\nlifebuoy_jobs_oldest_due_seconds {oldest_s:.3}\n",
            j.queued, j.running, j.failed, j.dead, j.due
        ));
    }
    // This node's ticket index: serving or being built, how far behind the change log, rebuild progress.
    let (ready, behind, done, total) = match state.tickets.state() {
        lifebuoy_app::ticket_search::IndexState::Ready => (1, 0, 0, 0),
        lifebuoy_app::ticket_search::IndexState::CatchingUp { behind } => (1, behind, 0, 0),
        lifebuoy_app::ticket_search::IndexState::Building { done, total } => (0, 0, done, total),
    };
    body.push_str(&format!(
        "# TYPE lifebuoy_ticket_index_ready gauge\nlifebuoy_ticket_index_ready {ready}\n\
         # TYPE lifebuoy_ticket_index_behind gauge\nlifebuoy_ticket_index_behind {behind}\n\
         # TYPE lifebuoy_ticket_index_build_done gauge\nlifebuoy_ticket_index_build_done {done}\n\
         # TYPE lifebuoy_ticket_index_build_total gauge\nlifebuoy_ticket_index_build_total {total}\n\
         # TYPE lifebuoy_ticket_index_docs gauge\nlifebuoy_ticket_index_docs {}\n\
         # TYPE lifebuoy_ticket_index_commits_total counter\nlifebuoy_ticket_index_commits_total {}\n\
         # TYPE lifebuoy_ticket_index_rebuilds_total counter\nlifebuoy_ticket_index_rebuilds_total {}\n\
         # TYPE lifebuoy_kb_index_rebuilds_total counter\nlifebuoy_kb_index_rebuilds_total {}\n",
        state.tickets.index().num_docs(),
        state.tickets.commits(),
        state.tickets.rebuilds(),
        state.kb_sync.rebuilds()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The document as served: compact (the file is indented for people; a third of its bytes are spaces).
static OPENAPI_COMPACT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    serde_json::from_str::<serde_json::Value>(api::OPENAPI)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| api::OPENAPI.to_string())
});

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_COMPACT.as_str())
}
