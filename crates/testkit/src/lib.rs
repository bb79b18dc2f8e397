//! Test helpers shared by every integration test: `spawn_app` starts the real application on `127.0.0.1:0`
//! over a fresh database (a temporary SQLite file, or a new PostgreSQL database named by a uuid), and helpers
//! sign identity tokens and sign agents in, as the exchange and a browser would.

use lifebuoy_domain::{AgentNo, Lang, Role};
use lifebuoy_store::{FileStore, NewAgent, Store, StoreOptions};
use std::path::PathBuf;

pub const SECRET: &str = "testkit-identity-secret";
pub const PASSWORD: &str = "correct horse battery staple";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on: `LIFEBUOY_TEST_PG`, default the local server.
pub fn pg_admin_url() -> String {
    std::env::var("LIFEBUOY_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub store: Store,
    pub dir: PathBuf,
    pub backend: Backend,
    pub http: reqwest::Client,
    /// The application core behind the server (to start its job runner or SMTP listener in a test).
    pub app: lifebuoy_app::App,
    pg_db: Option<String>,
}

/// Opens a fresh store on a backend; returns it with the PostgreSQL database name to drop, if any.
pub async fn fresh_store(backend: Backend, dir: &std::path::Path) -> (Store, Option<String>) {
    match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.join("test.db").display());
            (Store::open(&StoreOptions::new(url)).await.expect("open sqlite"), None)
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = pg_admin_url();
            let name = format!("lb_test_{}", uuid::Uuid::new_v4().simple());
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin} is needed for the PostgreSQL half of the tests: {e}")
            });
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
            let mut opts = StoreOptions::new(format!("{base}/{name}"));
            opts.max_connections = 5;
            (Store::open(&opts).await.expect("open postgres"), Some(name))
        }
    }
}

/// Runs `f` once per backend, each time over a fresh store, with the database's URL (for a test that also
/// connects directly); then closes the store and drops the database and its directory.
pub async fn on_backends<F, Fut>(backends: &[Backend], f: F)
where
    F: Fn(Store, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for &backend in backends {
        let dir = std::env::temp_dir().join(format!("lifebuoy-store-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (store, pg) = fresh_store(backend, &dir).await;
        let url = match &pg {
            Some(name) => format!("{}/{name}", pg_admin_url().rsplit_once('/').map_or("", |(b, _)| b)),
            None => format!("sqlite://{}", dir.join("test.db").display()),
        };
        f(store.clone(), url).await;
        store.close().await;
        if let Some(name) = pg {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&pg_admin_url()).await.expect("connect to drop");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.expect("drop");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Both backends, for [`on_backends`].
pub const BOTH_BACKENDS: &[Backend] = &[Backend::Sqlite, Backend::Postgres];

/// Starts the application over a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, false).await
}

/// Starts the application, optionally in demo mode.
pub async fn spawn_app_with(backend: Backend, demo: bool) -> TestApp {
    spawn_app_full(backend, demo, None).await
}

/// Starts the application with every option: demo mode and an SMTP relay `(url, from)`.
pub async fn spawn_app_full(backend: Backend, demo: bool, smtp: Option<(String, String)>) -> TestApp {
    spawn_app_configured(backend, |c| {
        c.demo = demo;
        c.smtp = smtp;
    })
    .await
}

/// Starts the application with its web settings adjusted by `configure` (the identity secret is [`SECRET`]).
pub async fn spawn_app_configured(backend: Backend, configure: impl FnOnce(&mut lifebuoy_web::WebConfig)) -> TestApp {
    let mut config = lifebuoy_web::WebConfig {
        demo: false,
        secure_cookies: false,
        identity_secret: Some(SECRET.into()),
        smtp: None,
        // A template that prints a variable its page did not give fails the request (and so the test).
        strict_templates: true,
        ..Default::default()
    };
    configure(&mut config);
    let demo = config.demo;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("LIFEBUOY_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let dir = std::env::temp_dir().join(format!("lifebuoy-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (store, pg_db) = fresh_store(backend, &dir).await;
    let state = lifebuoy_web::AppState::new(store.clone(), FileStore::new(dir.join("files")), config)
        .with_indexes_in(&dir.join("index"))
        .expect("open the search indexes");
    // As `serve` does: demo mode imports the repository's starter knowledge base into the empty database, then
    // the index is built from the database.
    if demo {
        state.import_kb_if_empty(&starter_kb()).await.expect("import the starter knowledge base");
    }
    state.load_kb().await.expect("index the knowledge base");
    // As `serve` does, but waiting for the first build, so that tests search the index from their first request.
    state.load_tickets();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !state.tickets.is_ready() {
        assert!(std::time::Instant::now() < deadline, "the ticket index was not built in 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let core = state.app.clone();
    let app = lifebuoy_web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        store,
        dir,
        backend,
        http: reqwest::Client::new(),
        app: core,
        pg_db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The database's URL, for a test that reaches past the application (to tamper with a row, say).
    pub fn db_url(&self) -> String {
        match &self.pg_db {
            Some(name) => format!("{}/{name}", pg_admin_url().rsplit_once('/').map_or("", |(b, _)| b)),
            None => format!("sqlite://{}", self.dir.join("test.db").display()),
        }
    }

    /// An identity token for an exchange user, as the exchange's backend would sign it.
    pub fn customer_token(&self, sub: &str) -> String {
        identity_token(sub, "en", 3600)
    }

    /// Creates an agent with a password of [`PASSWORD`]; returns the agent id.
    pub async fn agent(&self, email: &str, no: &str, role: Role, departments: &[&str]) -> String {
        self.store
            .create_agent(&NewAgent {
                email: email.into(),
                display_name: format!("Agent {no}"),
                agent_no: AgentNo::parse(no).expect("agent no"),
                role,
                languages: vec![Lang::ZhHans, Lang::En],
                departments: departments.iter().map(|d| d.to_string()).collect(),
                password_hash: lifebuoy_web::auth::hash_password(PASSWORD),
            })
            .await
            .expect("create agent")
            .id
    }

    /// A browser-like client (cookie jar) signed in to the console as `email`.
    pub async fn agent_client(&self, email: &str) -> reqwest::Client {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let r = c
            .post(self.url("/console/login"))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "login of {email} should redirect");
        c
    }

    /// The session cookie (`name=value`) of an agent signed in to the console as `email`.
    pub async fn agent_cookie(&self, email: &str) -> String {
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let r = c
            .post(self.url("/console/login"))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "login of {email} should redirect");
        let set = r.headers().get("set-cookie").expect("session cookie").to_str().expect("ascii").to_string();
        set.split(';').next().expect("cookie").to_string()
    }

    /// A chat session token for a widget visitor (pre-chat form).
    pub async fn visitor_token(&self, email: &str, lang: &str) -> String {
        let r = self
            .http
            .post(self.url("/api/v1/chat/session"))
            .json(&serde_json::json!({"email": email, "lang": lang}))
            .send()
            .await
            .expect("chat session");
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = r.json().await.expect("json");
        v["token"].as_str().expect("token").to_string()
    }

    /// A chat connection as a customer: `hello` sent, `welcome` received (returned).
    pub async fn customer_ws(&self, token: &str, resume: Option<(&str, i64)>) -> (WsClient, serde_json::Value) {
        let mut ws = WsClient::connect(&format!("ws://{}/ws/chat", self.addr), &[]).await;
        let mut hello = serde_json::json!({"type": "hello", "token": token});
        if let Some((cid, seq)) = resume {
            hello["conversation_id"] = cid.into();
            hello["last_seq"] = seq.into();
        }
        ws.send(hello).await;
        let welcome = ws.recv_type("welcome").await;
        (ws, welcome)
    }

    /// A console connection as an agent: `hello` sent with `resume`; returns the client after `welcome`.
    pub async fn agent_ws(&self, cookie: &str, resume: serde_json::Value) -> WsClient {
        let origin = self.base.clone();
        let mut ws =
            WsClient::connect(&format!("ws://{}/ws/console", self.addr), &[("cookie", cookie), ("origin", &origin)])
                .await;
        ws.send(serde_json::json!({"type": "hello", "resume": resume})).await;
        ws.recv_type("welcome").await;
        ws
    }

    /// An integration token for the exchange's backend.
    pub async fn integration_token(&self) -> String {
        self.store.create_api_token("tests").await.expect("token")
    }

    /// Drops the PostgreSQL database (and removes the temp dir). Best effort.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some(name) = self.pg_db {
            use sqlx::Connection;
            if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Signs an identity token with the test secret.
pub fn identity_token(sub: &str, lang: &str, ttl_s: i64) -> String {
    lifebuoy_web::auth::sign_identity(
        SECRET,
        &lifebuoy_web::auth::IdentityClaims {
            sub: sub.into(),
            email: Some(format!("{sub}@example.com")),
            name: Some(format!("Customer {sub}")),
            lang: Some(lang.into()),
            exp: chrono::Utc::now().timestamp() + ttl_s,
            anti_phishing_code: None,
        },
    )
}

/// A tiny valid PNG (1×1), for upload tests.
pub fn png_bytes() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF,
        0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

/// Runs one async test, `async fn $test(app: &TestApp)`, against SQLite and against PostgreSQL; with `demo`, on
/// an app in demo mode (the starter knowledge base imported).
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $test:ident, demo) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app_with($crate::Backend::Sqlite, true).await;
                super::$test(&app).await;
                app.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::spawn_app_with($crate::Backend::Postgres, true).await;
                super::$test(&app).await;
                app.cleanup().await;
            }
        }
    };
    ($name:ident, $test:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app($crate::Backend::Sqlite).await;
                super::$test(&app).await;
                app.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::spawn_app($crate::Backend::Postgres).await;
                super::$test(&app).await;
                app.cleanup().await;
            }
        }
    };
}

/// A chromedriver process for browser tests, killed on drop.
pub struct ChromeDriver {
    child: std::process::Child,
    pub url: String,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChromeDriver {
    /// Starts `chromedriver` (`LIFEBUOY_CHROMEDRIVER`, default `/usr/bin/chromedriver`) on a free port.
    #[allow(clippy::zombie_processes)] // only a failing test leaves the child behind, and it ends with the test
    pub async fn start() -> ChromeDriver {
        let bin = std::env::var("LIFEBUOY_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let child = std::process::Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("browser tests need {bin} (Debian: apt-get install chromium chromium-driver; the test script installs it): {e}"));
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return ChromeDriver { child, url };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start on port {port}");
    }

    /// A new headless Chromium session with its own profile.
    pub async fn session(&self, lang: &str) -> fantoccini::Client {
        let profile = std::env::temp_dir().join(format!("lb-chrome-{}", uuid::Uuid::new_v4().simple()));
        let mut caps = serde_json::Map::new();
        let bin = std::env::var("LIFEBUOY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,900", format!("--lang={lang}"), format!("--user-data-dir={}", profile.display())],
                "prefs": {"intl.accept_languages": lang}
            }),
        );
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

/// Where browser tests put their screenshots: `target/screenshots` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

/// A real SMTP server (Python's aiosmtpd) on a free port, printing every mail it receives; killed on drop.
pub struct SmtpPeer {
    child: std::process::Child,
    pub url: String,
    out: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How an [`SmtpPeer`] wants its clients to protect and identify themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerTls {
    /// STARTTLS required before anything else, then AUTH required (a submission port, 587).
    StartTls,
    /// TLS from the first byte, then AUTH required (465).
    Implicit,
}

/// aiosmtpd as a submission server: TLS (STARTTLS or implicit) and AUTH with one user and password, printing
/// every mail as the debugging handler does.
const SECURE_SMTP_PEER: &str = r#"
import ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Debugging
from aiosmtpd.smtp import AuthResult, LoginPassword
port, mode, cert, key, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
    print("AUTH %s %s" % (mechanism, "ok" if ok else "refused"), flush=True)
    # handled=False: aiosmtpd answers 535 itself (by default it leaves the answer to the authenticator).
    return AuthResult(success=ok, handled=False)
common = dict(hostname="127.0.0.1", port=port, authenticator=auth, auth_required=True)
if mode == "starttls":
    c = Controller(Debugging(sys.stdout), tls_context=ctx, require_starttls=True, auth_require_tls=True, **common)
else:
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; this whole connection is TLS.
    c = Controller(Debugging(sys.stdout), ssl_context=ctx, auth_require_tls=False, **common)
c.start()
print("READY", flush=True)
while True:
    time.sleep(3600)
"#;

impl SmtpPeer {
    /// Starts `python3 -m aiosmtpd` (installed by the test script) with its debugging handler.
    pub async fn start() -> SmtpPeer {
        Self::start_on(free_port()).await
    }

    /// [`SmtpPeer::start`] on a given port (a test that first needs the port to be closed).
    pub async fn start_on(port: u16) -> SmtpPeer {
        let child = std::process::Command::new("python3")
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Debugging",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd; the test script does)");
        Self::watch(child, port, format!("smtp://127.0.0.1:{port}")).await
    }

    /// aiosmtpd requiring TLS (`tls`) with the certificate of `certs`, then AUTH as `user`/`password`. Its
    /// `url` carries no credentials and no TLS parameter; the test writes the URL it means to try.
    pub async fn start_secure(tls: PeerTls, certs: &TestCerts, user: &str, password: &str) -> SmtpPeer {
        let port = free_port();
        let mode = if tls == PeerTls::StartTls { "starttls" } else { "implicit" };
        let child = std::process::Command::new("python3")
            .args(["-u", "-c", SECURE_SMTP_PEER, &port.to_string(), mode])
            .arg(&certs.cert)
            .arg(&certs.key)
            .args([user, password])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd; the test script does)");
        let peer = Self::watch(child, port, format!("smtp://127.0.0.1:{port}")).await;
        for _ in 0..100 {
            if peer.received().contains("READY") {
                return peer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the secure aiosmtpd did not start: {}", peer.received());
    }

    #[allow(clippy::zombie_processes)] // only a failing test leaves the child behind, and it ends with the test
    async fn watch(mut child: std::process::Child, port: u16, url: String) -> SmtpPeer {
        use std::io::Read;
        let mut stdout = child.stdout.take().expect("stdout");
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return SmtpPeer { child, url, out };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    /// Everything received so far, as aiosmtpd's debugging handler printed it.
    pub fn received(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits until the received mail contains `needle`; returns everything received so far.
    pub async fn wait_for(&self, needle: &str) -> String {
        for _ in 0..100 {
            let s = self.out.lock().unwrap().clone();
            if s.contains(needle) {
                return s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail containing {needle:?} arrived; got: {}", self.out.lock().unwrap());
    }
}

/// A free TCP port on 127.0.0.1 (closed again; a test binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

/// A throw-away certificate authority and a server certificate it signed for `localhost` and `127.0.0.1`
/// (PEM files in a directory of their own), made with the `openssl` command. Clients are given `ca` to trust.
pub struct TestCerts {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCerts {
    pub fn generate() -> TestCerts {
        let dir = std::env::temp_dir().join(format!("lb-certs-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cert dir");
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl (apt-get install openssl; the test script does)");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        std::fs::write(
            dir.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .expect("ext file");
        run(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Lifebuoy Test CA"]
            .iter()
            .copied()
            .chain(["-keyout", "ca.key", "-out", "ca.pem"])
            .collect::<Vec<_>>());
        run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ]);
        TestCerts { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem"), dir }
    }
}

impl Drop for TestCerts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real IMAP server: Dovecot, started by the test on a free port of 127.0.0.1 with a configuration of its own
/// in a temporary directory (mail in Maildir there, one user `desk` with password [`Dovecot::PASSWORD`]), and
/// with STARTTLS and an imaps port when given certificates. Stopped on drop.
///
/// Dovecot's master may run as any user. Run as root (as on CI), it will not run its login processes as
/// root, so they run as `dovenull` and the mail as `nobody`; run as anyone else, everything runs as that user.
pub struct Dovecot {
    child: std::process::Child,
    pub dir: PathBuf,
    /// The plain (and STARTTLS) port.
    pub port: u16,
    /// The implicit-TLS port, with certificates.
    pub tls_port: Option<u16>,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Dovecot {
    pub const USER: &'static str = "desk";
    pub const PASSWORD: &'static str = "dove-secret";

    #[allow(clippy::zombie_processes)] // only a failing test leaves the child behind, and it ends with the test
    pub async fn start(certs: Option<&TestCerts>) -> Dovecot {
        let dir = std::env::temp_dir().join(format!("lb-dovecot-{}", uuid::Uuid::new_v4().simple()));
        for d in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.join(d)).expect("dovecot dirs");
        }
        let uid = String::from_utf8(std::process::Command::new("id").arg("-u").output().expect("id -u").stdout)
            .expect("uid")
            .trim()
            .to_string();
        let user = String::from_utf8(std::process::Command::new("id").arg("-un").output().expect("id -un").stdout)
            .expect("user")
            .trim()
            .to_string();
        let gid = String::from_utf8(std::process::Command::new("id").arg("-g").output().expect("id -g").stdout)
            .expect("gid")
            .trim()
            .to_string();
        let (login_user, internal_user, mail_uid, mail_gid) = if uid == "0" {
            // The mail directory must be writable by the mail user.
            let _ = std::process::Command::new("chmod").arg("0777").arg(dir.join("mail")).status();
            ("dovenull".to_string(), "dovecot".to_string(), "65534".to_string(), "65534".to_string())
        } else {
            (user.clone(), user.clone(), uid.clone(), gid.clone())
        };
        let port = free_port();
        let tls_port = certs.map(|_| free_port());
        let ssl = match certs {
            Some(c) => format!("ssl = yes\nssl_cert = <{}\nssl_key = <{}\n", c.cert.display(), c.key.display()),
            None => "ssl = no\n".to_string(),
        };
        let d = dir.display();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap\n\
             listen = 127.0.0.1\n{ssl}disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             mail_location = maildir:{d}/mail/%u\ndefault_login_user = {login_user}\n\
             default_internal_user = {internal_user}\ndefault_internal_group = {internal_user}\n\
             first_valid_uid = 1\n\
             passdb {{\n  driver = static\n  args = password={pw}\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_uid} gid={mail_gid} home={d}/mail/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls}\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            pw = Self::PASSWORD,
            tls = tls_port.unwrap_or(0),
        );
        std::fs::write(dir.join("dovecot.conf"), conf).expect("dovecot.conf");
        let child = std::process::Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dovecot (apt-get install dovecot-imapd; the test script does)");
        let dovecot = Dovecot { child, dir, port, tls_port };
        for _ in 0..150 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return dovecot;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("dovecot did not start on port {port}: {}", dovecot.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// Runs Python's imaplib against the server as the desk's user: `script` sees `m`, logged in (plain port),
    /// and prints what the test reads back.
    pub fn imaplib(&self, script: &str) -> String {
        let prelude = format!(
            "import imaplib, sys\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login('{}', '{}')\n",
            self.port,
            Self::USER,
            Self::PASSWORD
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &format!("{prelude}{script}\nm.logout()\n")])
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "imaplib: {}\n{}", String::from_utf8_lossy(&out.stderr), self.log());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Delivers a raw mail into a mailbox (IMAP APPEND, no flags: unseen).
    pub fn append(&self, mailbox: &str, raw: &str) {
        let raw = serde_json::to_string(raw).expect("json");
        self.imaplib(&format!(
            "m.create('{mailbox}')\nr = m.append('{mailbox}', None, None, {raw}.encode())\nassert r[0] == 'OK', r"
        ));
    }

    /// The flags of every mail in a mailbox, by Message-ID.
    pub fn flags(&self, mailbox: &str) -> Vec<(String, String)> {
        let script = r#"
typ, _ = m.select(MAILBOX)
found = m.search(None, 'ALL')[1] if typ == 'OK' else [b'']
if found[0]:
    typ, data = m.fetch(b','.join(found[0].split()).decode(), '(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')
    for part in data:
        if isinstance(part, tuple):
            flags = part[0].decode().split('FLAGS (')[1].split(')')[0]
            print(flags + '|' + part[1].decode().split(':', 1)[1].strip())
"#;
        let out = self.imaplib(&script.replace("MAILBOX", &format!("'{mailbox}'")));
        out.lines().filter_map(|l| l.split_once('|')).map(|(f, id)| (id.trim().to_string(), f.to_string())).collect()
    }
}

/// A customer's first chat message in English about a deposit, for the support department (tests that need a
/// chat and do not care how it opened), with the client id given.
pub fn deposit_chat(customer_id: &str, body: &str, client_id: Option<&str>) -> lifebuoy_store::NewChat {
    lifebuoy_store::NewChat {
        customer_id: customer_id.to_string(),
        lang: lifebuoy_domain::Lang::En,
        department: "support".into(),
        category: lifebuoy_domain::Category::Deposit,
        topic: None,
        body: body.into(),
        client_id: client_id.map(str::to_string),
        attachment_ids: vec![],
    }
}

/// The starter knowledge base in the repository (`kb/articles`).
pub fn starter_kb() -> Vec<lifebuoy_search::ArticleDoc> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/articles");
    lifebuoy_search::kbfiles::load_dir(&dir).expect("the starter knowledge base parses")
}

/// A WebSocket test client speaking JSON frames.
pub struct WsClient {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// Every frame received so far, in order.
    pub seen: Vec<serde_json::Value>,
}

impl WsClient {
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> WsClient {
        Self::try_connect(url, headers).await.expect("websocket connects")
    }

    pub async fn try_connect(
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request()?;
        for (k, v) in headers {
            req.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("header"),
                v.parse().expect("header value"),
            );
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(WsClient { ws, seen: vec![] })
    }

    pub async fn send(&mut self, v: serde_json::Value) {
        use futures::SinkExt;
        self.ws.send(tokio_tungstenite::tungstenite::Message::Text(v.to_string().into())).await.expect("send frame");
    }

    /// The next frame, or `None` after `ms` milliseconds of silence.
    pub async fn recv_within(&mut self, ms: u64) -> Option<serde_json::Value> {
        use futures::StreamExt;
        loop {
            let m = tokio::time::timeout(std::time::Duration::from_millis(ms), self.ws.next()).await.ok()??;
            if let Ok(tokio_tungstenite::tungstenite::Message::Text(t)) = m {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).expect("frame is JSON");
                self.seen.push(v.clone());
                return Some(v);
            }
        }
    }

    /// Waits (up to 10 s) for a frame matching `pred`; panics with the frames seen otherwise.
    pub async fn recv_until(&mut self, what: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Some(v) = self.recv_within(500).await
                && pred(&v)
            {
                return v;
            }
        }
        panic!("no frame {what} within 10 s; seen: {:#?}", self.seen);
    }

    /// Waits for a frame of a type.
    pub async fn recv_type(&mut self, t: &str) -> serde_json::Value {
        self.recv_until(t, |v| v["type"] == t).await
    }

    /// Collects frames until `ms` milliseconds pass without one.
    pub async fn drain(&mut self, ms: u64) -> Vec<serde_json::Value> {
        let mut out = vec![];
        while let Some(v) = self.recv_within(ms).await {
            out.push(v);
        }
        out
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// An application core over a fresh store in a temporary directory, for tests of the use cases (no HTTP
/// server); the directory goes when it is dropped.
pub struct AppFixture {
    pub app: lifebuoy_app::App,
    /// The temporary directory (the database, files, keys a test keeps).
    pub dir: PathBuf,
}

impl Drop for AppFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// [`AppFixture`] on a backend.
pub async fn app_fixture(backend: Backend) -> AppFixture {
    let dir = std::env::temp_dir().join(format!("lifebuoy-app-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (store, _pg) = fresh_store(backend, &dir).await;
    let app = lifebuoy_app::App::new(store, FileStore::new(dir.join("files")), Default::default());
    AppFixture { app, dir }
}

/// An agent with this 工号, role and departments (email `<no>@desk.example`, reads Simplified Chinese).
pub async fn test_agent(app: &lifebuoy_app::App, no: &str, role: Role, departments: &[&str]) -> lifebuoy_store::Agent {
    app.store
        .create_agent(&NewAgent {
            email: format!("{}@desk.example", no.to_lowercase()),
            display_name: format!("Agent {no}"),
            agent_no: AgentNo::parse(no).unwrap(),
            role,
            languages: vec![Lang::ZhHans],
            departments: departments.iter().map(|d| d.to_string()).collect(),
            password_hash: "x".into(),
        })
        .await
        .unwrap()
}

/// The exchange's integration, as an actor.
pub fn exchange_actor() -> lifebuoy_app::Actor {
    lifebuoy_app::Actor::Integration { token_id: "tok-1".into(), name: "exchange".into() }
}

/// One request an [`HttpPeer`] took.
#[derive(Debug, Clone)]
pub struct PeerRequest {
    /// The request line and headers.
    pub head: String,
    pub body: Vec<u8>,
    /// Whether its `Lifebuoy-Signature` holds for the peer's secret (made within five minutes).
    pub signed: bool,
    /// The status the peer answered.
    pub status: u16,
}

impl PeerRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A real local HTTP/1.1 server standing for the exchange where the desk calls it (webhooks, the customer
/// context lookup): it keeps every request, checks its signature against `secret`, and answers what `answer`
/// says for the n-th request (from 1) and its body: a status and a body.
pub struct HttpPeer {
    pub url: String,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<PeerRequest>>>,
}

impl HttpPeer {
    pub async fn start(
        secret: &'static str,
        answer: impl Fn(usize, &[u8]) -> (u16, String) + Send + Sync + 'static,
    ) -> HttpPeer {
        Self::start_with(secret, std::time::Duration::ZERO, answer).await
    }

    /// [`HttpPeer::start`], answering each request only after `delay` (an exchange that is slow).
    pub async fn start_with(
        secret: &'static str,
        delay: std::time::Duration,
        answer: impl Fn(usize, &[u8]) -> (u16, String) + Send + Sync + 'static,
    ) -> HttpPeer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen: std::sync::Arc<std::sync::Mutex<Vec<PeerRequest>>> = Default::default();
        let keep = seen.clone();
        let answer = std::sync::Arc::new(answer);
        tokio::spawn(async move {
            let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            loop {
                let Ok((mut s, _)) = listener.accept().await else { return };
                let (keep, answer, n) = (keep.clone(), answer.clone(), n.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // The head, then the body by Content-Length.
                    let (head, body) = loop {
                        let k = match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => k,
                        };
                        buf.extend_from_slice(&chunk[..k]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..p]).to_string();
                            let len: usize = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .and_then(|v| v.trim().parse().ok())
                                })
                                .unwrap_or(0);
                            while buf.len() < p + 4 + len {
                                match s.read(&mut chunk).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                                }
                            }
                            break (head, buf[p + 4..p + 4 + len].to_vec());
                        }
                    };
                    let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    let sig = head
                        .lines()
                        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("lifebuoy-signature")))
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default();
                    let now = lifebuoy_store::now_ms() / 1000;
                    let signed = lifebuoy_app::signing::verify(secret.as_bytes(), &sig, &body, now, 300);
                    let (status, text) = answer(i, &body);
                    tokio::time::sleep(delay).await;
                    keep.lock().unwrap().push(PeerRequest { head, body, signed, status });
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        HttpPeer { url, seen }
    }

    /// The requests taken so far.
    pub fn requests(&self) -> Vec<PeerRequest> {
        self.seen.lock().unwrap().clone()
    }
}
