//! `lifebuoy`: the one binary. `serve` runs the desk, `migrate` prepares a database, `token create|list|revoke`
//! manage the integration tokens of the exchange's backend, `bench` measures.

mod bench;
mod bench_analytics;
mod bench_appeals;
mod bench_chat;
mod bench_jobs;
mod bench_mail;
mod bench_records;
mod bench_restart;
mod demo;
mod kb;

/// mimalloc instead of glibc malloc: with ten thousand connections served by a few threads, glibc's per-thread
/// arenas keep freed memory resident; mimalloc returns it (measured with `lifebuoy bench chat`, see
/// docs/ARCHITECTURE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lifebuoy_store::{FileStore, Store, StoreOptions};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "lifebuoy", version, about = "A self-hosted customer-support desk for cryptocurrency exchanges")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Where the data lives: shared by every subcommand that touches storage.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data directory: the SQLite database, attachments, search index.
    #[arg(long, env = "LIFEBUOY_DATA", default_value = "./data")]
    data: PathBuf,
    /// Database URL: `postgres://...` for PostgreSQL; default a SQLite file in the data directory.
    #[arg(long, env = "LIFEBUOY_DATABASE_URL")]
    database: Option<String>,
    /// SQLite: `full` fsyncs every commit (default); `normal` only at checkpoints (survives a crashed process,
    /// not a power cut).
    #[arg(long, env = "LIFEBUOY_SQLITE_SYNC", default_value = "full", value_parser = ["full", "normal"])]
    sqlite_sync: String,
}

impl DataArgs {
    fn options(&self) -> StoreOptions {
        let url =
            self.database.clone().unwrap_or_else(|| format!("sqlite://{}", self.data.join("lifebuoy.db").display()));
        let mut o = StoreOptions::new(url);
        o.sqlite_sync_full = self.sqlite_sync == "full";
        o
    }

    pub async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("creating data directory {}", self.data.display()))?;
        Store::open(&self.options()).await.context("opening the database")
    }
}

// Parsed once at start-up: the size of `serve`'s many flags costs nothing worth boxing them for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Run the server.
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Integration tokens for the exchange's backend.
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// The knowledge base: import and export article files, evaluate the answer engine.
    Kb {
        #[command(subcommand)]
        cmd: kb::KbCmd,
    },
    /// Checks a records export (`GET /api/v1/records/export?format=json`) offline: prints "valid", or names the
    /// first entry altered, removed, inserted or reordered and exits 1. Needs no server.
    Verify {
        /// The export file (JSON).
        file: PathBuf,
        /// Trust only this public key (base64url or hex of its 32 bytes, as published at the desk's
        /// /.well-known/lifebuoy-signing-keys); repeat for several. Without it, the keys the export lists are
        /// used and their ids printed, to compare with the published ones. (A base64url key may start with
        /// `-`: it is taken as the value, not as an option.)
        #[arg(long, allow_hyphen_values = true)]
        key: Vec<String>,
    },
    /// The key this node signs communication records with (kept in `<data>/keys`).
    Keys {
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Benchmarks that print their figures, ending with one JSON line.
    Bench {
        #[command(subcommand)]
        cmd: bench::BenchCmd,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Every public key this desk has published, retired ones included (what /.well-known/lifebuoy-signing-keys
    /// serves).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Replace this node's signing key: the old public key stays published, marked retired, so every export it
    /// signed still verifies; its secret is overwritten. Restart the node to sign with the new key.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a token and print it (it is stored hashed and cannot be shown again).
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the tokens (id, name, created, revoked): never their secrets.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token by its id, or every live token of a name: requests with it are refused at once.
    Revoke {
        /// The token's id (from `token list`) or name.
        token: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LIFEBUOY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    data: DataArgs,
    /// Load demo agents, customers and tickets, and print the URL and the demo logins.
    #[arg(long, env = "LIFEBUOY_DEMO")]
    demo: bool,
    /// The secret the exchange signs customer identity tokens with (HS256).
    #[arg(long, env = "LIFEBUOY_IDENTITY_SECRET", hide_env_values = true)]
    identity_secret: Option<String>,
    /// Mark cookies Secure (set when served over HTTPS; implied by an https:// --public-url).
    #[arg(long, env = "LIFEBUOY_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Where people reach the desk, e.g. `https://support.example.com`. Over https, cookies are Secure and
    /// responses carry Strict-Transport-Security.
    #[arg(long, env = "LIFEBUOY_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// Identity tokens must carry this issuer (`iss`).
    #[arg(long, env = "LIFEBUOY_IDENTITY_ISSUER")]
    identity_issuer: Option<String>,
    /// Identity tokens must carry this audience (`aud`).
    #[arg(long, env = "LIFEBUOY_IDENTITY_AUDIENCE")]
    identity_audience: Option<String>,
    /// The longest an identity token may live, in seconds (`exp - iat`; without `iat`, `exp` must be that close).
    #[arg(long, env = "LIFEBUOY_IDENTITY_MAX_LIFETIME", default_value_t = lifebuoy_web::auth::IDENTITY_MAX_LIFETIME_S,
          value_parser = clap::value_parser!(i64).range(60..=30 * 24 * 3600))]
    identity_max_lifetime: i64,
    /// Requests per minute and client address on sign-in, session, guest-code and anonymous search endpoints
    /// (in bursts of as many); 0 turns these limits off.
    #[arg(long, env = "LIFEBUOY_RATE_LIMIT", default_value_t = lifebuoy_web::security::DEFAULT_RATE_LIMIT)]
    rate_limit: u32,
    /// Client addresses or networks never rate-limited, comma-separated (e.g. `127.0.0.1` for a load test).
    #[arg(long, env = "LIFEBUOY_RATE_LIMIT_EXEMPT", value_parser = parse_nets, default_value = "")]
    rate_limit_exempt: lifebuoy_web::security::NetList,
    /// Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client.
    /// Without them the socket peer is the client and X-Forwarded-For is ignored.
    #[arg(long, env = "LIFEBUOY_TRUSTED_PROXY", value_parser = parse_nets, default_value = "")]
    trusted_proxy: lifebuoy_web::security::NetList,
    /// Addresses or networks that may read /metrics without signing in (a Prometheus server), comma-separated.
    #[arg(long, env = "LIFEBUOY_METRICS_ALLOW", value_parser = parse_nets, default_value = "")]
    metrics_allow: lifebuoy_web::security::NetList,
    /// SMTP relay for outgoing mail: `smtp://127.0.0.1:25` (plain, to a local relay),
    /// `smtp://user:pass@host:587?tls=starttls` or `smtps://user:pass@host:465` (user and password URL-encoded);
    /// without it mails are logged.
    #[arg(long, env = "LIFEBUOY_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// PEM certificates to trust, besides the system's roots, on outgoing TLS connections (the SMTP relay, the
    /// IMAP server): for a private mail server with its own CA.
    #[arg(long, env = "LIFEBUOY_TLS_CA")]
    tls_ca: Option<PathBuf>,
    /// Certificate chain (PEM) for STARTTLS on the SMTP listener; with --smtp-tls-key.
    #[arg(long, env = "LIFEBUOY_SMTP_TLS_CERT", requires = "smtp_tls_key")]
    smtp_tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --smtp-tls-cert.
    #[arg(long, env = "LIFEBUOY_SMTP_TLS_KEY", requires = "smtp_tls_cert")]
    smtp_tls_key: Option<PathBuf>,
    /// Take in mail from an IMAP mailbox: `imaps://user:pass@host:993/INBOX`, or
    /// `imap://user:pass@host:143/INBOX?tls=starttls`; `?move=Processed` moves each mail taken in to that
    /// folder instead of only marking it seen, `?poll=N` polls every N seconds where the server has no IDLE.
    #[arg(long = "imap", env = "LIFEBUOY_IMAP_URL", hide_env_values = true)]
    imap: Option<String>,
    /// A folder of knowledge-base articles (Markdown with front matter) to import when the database has none
    /// yet; `--demo` without it imports the starter knowledge base. Afterwards articles live in the database
    /// (edit them in the console, or `lifebuoy kb import`).
    #[arg(long, env = "LIFEBUOY_KB_DIR")]
    kb: Option<PathBuf>,
    /// Listen for mail to the support address over SMTP (e.g. `0.0.0.0:25`, for a domain whose MX points here):
    /// every mail becomes a case, or joins the case it answers.
    #[arg(long, env = "LIFEBUOY_SMTP_LISTEN")]
    smtp_listen: Option<String>,
    /// The address customers write to: replies by mail come from it, and mail from it is never taken in.
    #[arg(long, env = "LIFEBUOY_SUPPORT_ADDRESS")]
    support_address: Option<String>,
    /// The exchange's endpoint that freezes an account when its customer confirms "my account may be stolen"
    /// (POST, JSON, signed `Lifebuoy-Signature: t=…,v1=…` with `--freeze-secret`).
    #[arg(long, env = "LIFEBUOY_FREEZE_URL")]
    freeze_url: Option<String>,
    /// The secret the freeze calls are signed with (shared with the exchange).
    #[arg(long, env = "LIFEBUOY_FREEZE_SECRET", hide_env_values = true)]
    freeze_secret: Option<String>,
    /// Sender address of outgoing mail.
    #[arg(long, env = "LIFEBUOY_MAIL_FROM", default_value = "Lifebuoy Support <support@localhost>")]
    mail_from: String,
    /// NATS server joining several nodes (e.g. `nats://127.0.0.1:4222`): live chat reaches connections on
    /// every node. Without it, notifications stay in this process.
    #[arg(long, env = "LIFEBUOY_NATS_URL")]
    nats: Option<String>,
}

fn parse_nets(s: &str) -> Result<lifebuoy_web::security::NetList, String> {
    lifebuoy_web::security::NetList::parse(s)
}

fn parse_public_url(s: &str) -> Result<String, String> {
    let t = s.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?}: expected http://HOST or https://HOST"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(format!("{s:?}: no host"));
    }
    Ok(t.to_string())
}

#[allow(unsafe_code)] // one allocator option set at start; the SAFETY note says why it holds
fn main() -> anyhow::Result<()> {
    // Give freed memory back to the OS at once instead of after mimalloc's default 10 ms delay per page: at
    // start-up (the demo's index build) that alone kept ~65 MB resident; measured, the cost is not visible
    // in `bench chat`. Option 15 is `mi_option_purge_delay` (mimalloc 2.x).
    // SAFETY: sets a process-wide allocator option; mimalloc allows it at any time.
    unsafe { libmimalloc_sys::mi_option_set(15, 0) };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIFEBUOY_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.cmd {
            Cmd::Serve(a) => serve(a).await,
            Cmd::Migrate { data } => {
                let store = data.open().await?;
                store.close().await;
                println!("database is up to date");
                Ok(())
            }
            Cmd::Token { cmd: TokenCmd::Create { name, data } } => {
                let store = data.open().await?;
                let token = store.create_api_token(&name).await?;
                store.close().await;
                eprintln!("Integration token {name:?} created. It is shown only once; keep it secret.");
                println!("{token}");
                Ok(())
            }
            Cmd::Token { cmd: TokenCmd::List { data } } => {
                let store = data.open().await?;
                let tokens = store.api_tokens().await?;
                store.close().await;
                let when = iso_time;
                println!("{:<36}  {:<24}  {:<20}  revoked", "id", "name", "created");
                for t in &tokens {
                    let revoked = t.revoked_at.map_or_else(|| "-".to_string(), when);
                    println!("{:<36}  {:<24}  {:<20}  {revoked}", t.id, t.name, when(t.created_at));
                }
                eprintln!(
                    "{} token(s), {} live",
                    tokens.len(),
                    tokens.iter().filter(|t| t.revoked_at.is_none()).count()
                );
                Ok(())
            }
            Cmd::Token { cmd: TokenCmd::Revoke { token, data } } => {
                let store = data.open().await?;
                let revoked = store.revoke_api_token(&token).await;
                store.close().await;
                let revoked = revoked?;
                if revoked.is_empty() {
                    anyhow::bail!("no live integration token with id or name {token:?} (see `lifebuoy token list`)");
                }
                for t in &revoked {
                    println!("revoked {} ({})", t.id, t.name);
                }
                Ok(())
            }
            Cmd::Verify { file, key } => verify(&file, &key),
            Cmd::Keys { cmd: KeysCmd::List { data } } => {
                let store = data.open().await?;
                let keys = store.signing_keys().await;
                store.close().await;
                println!("{:<44}  {:<20}  retired", "id", "created");
                for k in keys? {
                    let retired = k.retired_at.map_or_else(|| "-".to_string(), iso_time);
                    println!("{:<44}  {:<20}  {retired}", k.id, iso_time(k.created_at));
                }
                Ok(())
            }
            Cmd::Keys { cmd: KeysCmd::Rotate { data } } => {
                let store = data.open().await?;
                let rotated = lifebuoy_app::records::rotate_signing_key(&store, &data.data.join("keys")).await;
                store.close().await;
                let (old, new) = rotated.map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("retired {}", old.id);
                println!("signing {}", new.id);
                eprintln!("Restart this node to sign with the new key; exports signed before still verify.");
                Ok(())
            }
            Cmd::Bench { cmd } => bench::run(cmd).await,
            Cmd::Kb { cmd } => kb::run(cmd).await,
        }
    })
}

/// Builds the application over an opened store: shared by `serve`, the benches and the tests.
pub fn build_state(
    store: Store,
    data: &std::path::Path,
    demo: bool,
    identity_secret: Option<String>,
    secure_cookies: bool,
    smtp: Option<(String, String)>,
) -> lifebuoy_web::AppState {
    let config = lifebuoy_web::WebConfig { demo, secure_cookies, identity_secret, smtp, ..Default::default() };
    build_state_with(store, data, config)
}

/// [`build_state`] with every setting of the web layer.
pub fn build_state_with(
    store: Store,
    data: &std::path::Path,
    config: lifebuoy_web::WebConfig,
) -> lifebuoy_web::AppState {
    let files = FileStore::new(data.join("files"));
    lifebuoy_web::AppState::new(store, files, config)
}

async fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let store = a.data.open().await?;
    let mut secret = a.identity_secret.clone().filter(|s| !s.is_empty());
    if a.demo && secret.is_none() {
        secret = Some("lifebuoy-demo-identity-secret".into());
        tracing::warn!("demo: no LIFEBUOY_IDENTITY_SECRET set, using a fixed demo secret");
    }
    if secret.is_none() {
        tracing::warn!(
            "LIFEBUOY_IDENTITY_SECRET is not set: customers cannot sign in with the exchange's identity token"
        );
    }
    let listener =
        tokio::net::TcpListener::bind(&a.listen).await.with_context(|| format!("listening on {}", a.listen))?;
    let addr = listener.local_addr()?;
    if a.demo {
        demo::load(&store).await.context("loading demo data")?;
        demo::print_banner(&store, addr).await?;
    }
    let smtp = a.smtp_url.clone().map(|u| (u, a.mail_from.clone()));
    // Mail settings are checked here, before anything starts: a typo must stop the server, not turn mail off.
    let tls_ca = match &a.tls_ca {
        Some(p) => {
            lifebuoy_app::tls::load_certs(p).map_err(anyhow::Error::msg)?;
            Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    if let Some((url, from)) = &smtp {
        lifebuoy_app::mail::Mailer::smtp_trusting(url, from, tls_ca.as_deref())
            .map_err(anyhow::Error::msg)
            .context("--smtp-url")?;
    }
    let imap =
        a.imap.as_deref().map(lifebuoy_app::mail_imap::ImapUrl::parse).transpose().map_err(anyhow::Error::msg)?;
    let smtp_tls = match (&a.smtp_tls_cert, &a.smtp_tls_key) {
        (Some(cert), Some(key)) => {
            Some(lifebuoy_app::tls::server_config(cert, key).map_err(anyhow::Error::msg).context("--smtp-tls-cert")?)
        }
        _ => None,
    };
    let articles = kb::articles_for(a.kb.as_ref(), a.demo)?;
    let config = lifebuoy_web::WebConfig {
        demo: a.demo,
        secure_cookies: a.secure_cookies,
        identity_secret: secret,
        smtp,
        tls_ca: tls_ca.clone(),
        support_address: a.support_address.clone(),
        public_url: a.public_url.clone(),
        identity_issuer: a.identity_issuer.clone(),
        identity_audience: a.identity_audience.clone(),
        identity_max_lifetime_s: Some(a.identity_max_lifetime),
        rate_limit_per_minute: Some(a.rate_limit),
        rate_limit_exempt: a.rate_limit_exempt.clone(),
        trusted_proxies: a.trusted_proxy.clone(),
        metrics_allow: a.metrics_allow.clone(),
        strict_templates: false,
        freeze: match (&a.freeze_url, &a.freeze_secret) {
            (Some(url), Some(secret)) => {
                Some(lifebuoy_app::trust::emergency::FreezeEndpoint { url: url.clone(), secret: secret.clone() })
            }
            (Some(_), None) => anyhow::bail!("--freeze-url needs --freeze-secret (the calls are signed)"),
            _ => None,
        },
    };
    if config.https() {
        tracing::info!("served over https: Secure cookies and Strict-Transport-Security");
    }
    let state = build_state_with(store.clone(), &a.data.data, config)
        .with_indexes_in(&a.data.data.join("index"))
        .map_err(|e| anyhow::anyhow!("opening the search indexes: {e}"))?
        .with_signing_key_in(&a.data.data.join("keys"))
        .context("the records signing key")?;
    // Entries written before records existed get their chain digests (a no-op once done).
    store.chain_legacy_entries().await.context("chaining the timeline entries of an older database")?;
    let imported = state.import_kb_if_empty(&articles).await.context("importing knowledge-base articles")?;
    if imported > 0 {
        tracing::info!(articles = imported, "knowledge base was empty: articles imported");
    }
    let started = std::time::Instant::now();
    let docs = state.load_kb().await.context("indexing the knowledge base")?;
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(documents = docs, ms, "knowledge base indexed from the database");
    if let Some(url) = &a.nats {
        state.hub.connect_nats(url).await.with_context(|| format!("connecting to NATS at {url}"))?;
        tracing::info!(%url, "joined other nodes through NATS");
    }
    // After joining the other nodes, so that their changes during the build are heard. The build runs in the
    // background; until it is done the queue's text search matches subjects as before.
    state.load_tickets();
    if a.demo {
        demo::load_c2c(&state.app, addr).await.context("loading the demo's C2C orders")?;
        demo::load_exchange_context(&state.app, addr).await.context("setting up the demo's account lookup")?;
        demo::load_announcement(&state.app).await.context("publishing the demo's announcement")?;
    }
    tokio::spawn(lifebuoy_web::chat::service::sweep_queue(state.app.clone()));
    let jobs = state.app.start_jobs().await.context("starting the job runner")?;
    if let Some(smtp) = &a.smtp_listen {
        let l = tokio::net::TcpListener::bind(smtp).await.with_context(|| format!("SMTP listener on {smtp}"))?;
        tracing::info!(addr = %l.local_addr()?, starttls = smtp_tls.is_some(), "taking in mail for the support address over SMTP");
        tokio::spawn(lifebuoy_app::mail_in::serve_smtp_tls(state.app.clone(), l, smtp_tls));
    }
    let imap = match imap {
        Some(url) => {
            let extra = match &a.tls_ca {
                Some(p) => lifebuoy_app::tls::load_certs(p).map_err(anyhow::Error::msg)?,
                None => Vec::new(),
            };
            let tls = lifebuoy_app::tls::client_config(&extra).map_err(anyhow::Error::msg)?;
            Some(lifebuoy_app::mail_imap::ImapPoller::start(state.app.clone(), url, tls))
        }
        None => None,
    };
    tracing::info!(%addr, backend = ?store.backend(), "lifebuoy listening");
    let app = lifebuoy_web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    // Stop taking mail from IMAP (after the mail in hand) and claiming jobs, let running ones finish (or give
    // them back), then close the database.
    if let Some(imap) = imap {
        imap.shutdown().await;
    }
    jobs.shutdown().await;
    store.close().await;
    Ok(())
}

/// Unix milliseconds as `2026-05-01T02:00:00Z`.
fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// `lifebuoy verify FILE [--key K]…`: prints "valid" and what was checked, or the first problem and exits 1.
fn verify(file: &std::path::Path, keys: &[String]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let trusted = keys
        .iter()
        .map(|k| {
            lifebuoy_records::PublicKey::parse(k, 0)
                .ok_or_else(|| anyhow::anyhow!("--key {k:?} is not an Ed25519 public key (32 bytes, base64url or hex)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    match lifebuoy_records::verify_json(&text, (!trusted.is_empty()).then_some(trusted.as_slice())) {
        Ok(v) => {
            println!(
                "valid: {} conversations, {} entries, signed with key {}",
                v.conversations,
                v.entries,
                v.key_ids.join(", ")
            );
            if trusted.is_empty() {
                println!(
                    "(checked against the keys the export lists: compare their ids with the issuer's /.well-known/lifebuoy-signing-keys, or pass --key)"
                );
            }
            Ok(())
        }
        Err(t) => {
            println!("NOT VALID: {t}");
            std::process::exit(1);
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
