//! The authorisation matrix (issue 9, "keep them closed"): every route of the router × every role × own and
//! foreign ids, and every WebSocket frame type × every role that may open the socket. The route list is read
//! from the router's own source (`crates/web/src`), and the frame types from the frame handlers, so a route or
//! frame added without a row here fails the test.
//!
//! Each cell is one request. It is *allowed* when the answer is anything but a refusal of who asks (`401`,
//! `403`, `404`, a redirect to a sign-in page, or a JSON error coded `unauthorized`, `forbidden`, `not_found`,
//! `csrf`); a `400` or `409` from a valid caller is allowed (the use case ran and said no). Besides the
//! expected verdict, every answer is searched for what the role may not see: customer A's case and chat
//! (marker words in subject and messages) and their internal notes.

use lifebuoy_domain::Role;
use lifebuoy_testkit::{Backend, TestApp, WsClient, identity_token, spawn_app_configured};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

// Roles, as bits.
const ANON: u16 = 1;
const VISITOR: u16 = 1 << 1;
const GUEST: u16 = 1 << 2;
const CUST_A: u16 = 1 << 3;
const CUST_B: u16 = 1 << 4;
/// An L1 agent of another department (finance).
const OUT: u16 = 1 << 5;
/// An L1 agent of the case's department (support), who does not hold it.
const IN: u16 = 1 << 6;
/// The L1 support agent the case and chat are assigned to.
const ASSIGNEE: u16 = 1 << 7;
const L2: u16 = 1 << 8;
const SUP: u16 = 1 << 9;
const ADMIN: u16 = 1 << 10;
const TOKEN: u16 = 1 << 11;

const ROLES: [(u16, &str); 12] = [
    (ANON, "anonymous"),
    (VISITOR, "visitor"),
    (GUEST, "guest"),
    (CUST_A, "customer A"),
    (CUST_B, "customer B"),
    (OUT, "agent of another department"),
    (IN, "agent of the department"),
    (ASSIGNEE, "assignee"),
    (L2, "L2 agent"),
    (SUP, "supervisor"),
    (ADMIN, "admin"),
    (TOKEN, "integration token"),
];

const ALL: u16 = (1 << 12) - 1;
/// Open to anyone, and the answer is not about who asks (a sign-in form, a redirect home, a public page, a
/// wrong guest code): not judged allowed or refused, but still searched for leaks, and never a 5xx.
const PUBLIC: u16 = 1 << 15;
const SIGNED_IN: u16 = ALL & !ANON;
const CUSTOMERS: u16 = VISITOR | GUEST | CUST_A | CUST_B;
const AGENTS: u16 = OUT | IN | ASSIGNEE | L2 | SUP | ADMIN;
const STAFF: u16 = AGENTS | TOKEN;
/// Who may see customer A's support case: the department, supervisors, admins, the exchange.
const SEES_CASE: u16 = IN | ASSIGNEE | L2 | SUP | ADMIN | TOKEN;
/// Who may act on A's case as its owner or as staff who see it.
const CASE: u16 = CUST_A | SEES_CASE;
/// Supervisors and admins among agents (they act on any case, whoever holds it).
const OVERSEERS: u16 = SUP | ADMIN;
const ACCOUNTS: u16 = ADMIN | TOKEN;
/// Who speaks publicly in a held chat or case: its holder and those who oversee.
const HOLDER: u16 = ASSIGNEE | OVERSEERS;

/// Marker words planted in customer A's case and chat, searched for in every answer.
const CASE_WORD: &str = "mxcasezq";
const NOTE_WORD: &str = "mxnotezq";
const CHAT_WORD: &str = "mxchatzq";
const CHAT_NOTE_WORD: &str = "mxchnotezq";

#[derive(Clone, Copy)]
enum Body {
    None,
    /// JSON: for customers and, when `staff` is given, another body for staff.
    Json(&'static str, Option<&'static str>),
    Form(&'static [(&'static str, &'static str)]),
    Multipart(&'static [(&'static str, &'static str)]),
}

struct Row {
    /// As the router has it: `METHOD /path/{param}`.
    route: &'static str,
    /// The request's path, with fixtures: `{ticket}` `{ticket2}` `{att}` `{victim}` `{article}` `{synonym}`
    /// `{job}` `{chat}` `{slug}` `{category}` `{n}`.
    path: &'static str,
    body: Body,
    allowed: u16,
    /// A fresh case for every cell (the request changes it).
    fresh: bool,
}

const fn r(route: &'static str, path: &'static str, body: Body, allowed: u16) -> Row {
    Row { route, path, body, allowed, fresh: false }
}

const fn fresh(route: &'static str, path: &'static str, body: Body, allowed: u16) -> Row {
    Row { route, path, body, allowed, fresh: true }
}

use Body::{Form, Json, Multipart, None as NoBody};

const CREATE_CUSTOMER: &str = r#"{"subject":"matrix {n}","body":"a case","category":"kyc"}"#;
const CREATE_STAFF: &str =
    r#"{"subject":"matrix {n}","body":"a case","category":"kyc","customer":{"external_id":"matrix-{n}"}}"#;

fn rows() -> Vec<Row> {
    vec![
        // --- The API
        r("POST /api/v1/tickets", "/api/v1/tickets", Json(CREATE_CUSTOMER, Some(CREATE_STAFF)), SIGNED_IN),
        r("GET /api/v1/tickets", "/api/v1/tickets", NoBody, SIGNED_IN),
        r("GET /api/v1/tickets/{id}", "/api/v1/tickets/{ticket}", NoBody, CASE),
        fresh(
            "PATCH /api/v1/tickets/{id}",
            "/api/v1/tickets/{ticket}",
            Json(r#"{"priority":"high"}"#, None),
            SEES_CASE,
        ),
        fresh(
            "POST /api/v1/tickets/{id}/messages",
            "/api/v1/tickets/{ticket}/messages",
            Json(r#"{"body":"more"}"#, None),
            CASE,
        ),
        fresh(
            "POST /api/v1/tickets/{id}/status",
            "/api/v1/tickets/{ticket}/status",
            Json(r#"{"status":"solved"}"#, None),
            CASE,
        ),
        fresh(
            "POST /api/v1/tickets/{id}/assign",
            "/api/v1/tickets/{ticket}/assign",
            Json(r#"{"assignee_id":"{assignee}"}"#, None),
            SEES_CASE,
        ),
        fresh(
            "POST /api/v1/tickets/{id}/transfer",
            "/api/v1/tickets/{ticket}/transfer",
            Json(r#"{"department":"tech","reason":"chain"}"#, None),
            SEES_CASE,
        ),
        fresh(
            "POST /api/v1/tickets/{id}/escalate",
            "/api/v1/tickets/{ticket}/escalate",
            Json(r#"{"reason":"needs L2"}"#, None),
            SEES_CASE,
        ),
        fresh(
            "POST /api/v1/tickets/{id}/merge",
            "/api/v1/tickets/{ticket}/merge",
            Json(r#"{"into":"{ticket2}"}"#, None),
            SEES_CASE,
        ),
        r("POST /api/v1/attachments", "/api/v1/attachments", Multipart(&[]), SIGNED_IN),
        r("GET /api/v1/attachments/{id}", "/api/v1/attachments/{att}", NoBody, CASE),
        r("GET /api/v1/me", "/api/v1/me", NoBody, SIGNED_IN),
        r("GET /api/v1/departments", "/api/v1/departments", NoBody, SIGNED_IN),
        r("GET /api/v1/agents", "/api/v1/agents", NoBody, STAFF),
        r(
            "POST /api/v1/agents",
            "/api/v1/agents",
            Json(
                r#"{"email":"new{n}@matrix.dev","display_name":"New","agent_no":"N{n}","role":"agent_l1","departments":["support"],"languages":["en"],"password":"a long enough password"}"#,
                None,
            ),
            ACCOUNTS,
        ),
        r("POST /api/v1/agents/{id}/unlock", "/api/v1/agents/{victim}/unlock", NoBody, ACCOUNTS),
        r("POST /api/v1/agents/{id}/deactivate", "/api/v1/agents/{victim}/deactivate", NoBody, ACCOUNTS),
        r("POST /api/v1/agents/{id}/activate", "/api/v1/agents/{victim}/activate", NoBody, ACCOUNTS),
        // A wrong new password: the use case runs (400) for agents, refuses the others.
        r(
            "POST /api/v1/me/password",
            "/api/v1/me/password",
            Json(r#"{"current_password":"x","new_password":"short"}"#, None),
            AGENTS,
        ),
        r("POST /api/v1/guest/code", "/api/v1/guest/code", Json(r#"{"email":"code{n}@matrix.dev"}"#, None), PUBLIC),
        // No code was asked for this address: "invalid_code" for everyone (not a refusal of the caller).
        r(
            "POST /api/v1/guest/verify",
            "/api/v1/guest/verify",
            Json(r#"{"email":"none{n}@matrix.dev","code":"12345678"}"#, None),
            PUBLIC,
        ),
        r("GET /api/v1/kb/search", "/api/v1/kb/search?q=withdrawal", NoBody, PUBLIC),
        r("GET /api/v1/kb/articles", "/api/v1/kb/articles", NoBody, STAFF),
        r(
            "POST /api/v1/kb/articles",
            "/api/v1/kb/articles",
            Json(
                r#"{"slug":"matrix-{n}","category":"account","status":"draft","translations":[{"lang":"en","title":"Matrix {n}","body":"Body"}]}"#,
                None,
            ),
            OVERSEERS,
        ),
        r("GET /api/v1/kb/articles/{id}", "/api/v1/kb/articles/{article}", NoBody, STAFF),
        r(
            "PUT /api/v1/kb/articles/{id}",
            "/api/v1/kb/articles/{article}",
            Json(
                r#"{"slug":"{slug}","category":"{category}","status":"published","translations":[{"lang":"en","title":"Matrix","body":"Body"}]}"#,
                None,
            ),
            OVERSEERS,
        ),
        r("GET /api/v1/kb/articles/{id}/versions", "/api/v1/kb/articles/{article}/versions", NoBody, STAFF),
        r(
            "POST /api/v1/answers",
            "/api/v1/answers",
            Json(r#"{"q":"withdrawal not arrived","lang":"en"}"#, None),
            PUBLIC,
        ),
        r(
            "POST /api/v1/chat/session",
            "/api/v1/chat/session",
            Json(r#"{"lang":"en","email":"v{n}@matrix.dev"}"#, None),
            PUBLIC,
        ),
        r(
            "POST /api/v1/chat/offline",
            "/api/v1/chat/offline",
            Json(r#"{"email":"off{n}@matrix.dev","body":"hello"}"#, None),
            CUSTOMERS,
        ),
        r("GET /api/v1/chats/{id}/messages", "/api/v1/chats/{chat}/messages", NoBody, CASE),
        // A customer's own inbox; the integration names the customer (without `?customer=`: 422, the use case ran).
        r("GET /api/v1/notifications", "/api/v1/notifications", NoBody, CUSTOMERS | TOKEN),
        // A's case: A and whoever sees the case; everyone else is told it does not exist.
        r("GET /api/v1/records/export", "/api/v1/records/export?conversation={ticket}", NoBody, CASE),
        // A customer's own history; staff and the integration are refused (403: staff look customers up in the console).
        r("GET /api/v1/records/history", "/api/v1/records/history", NoBody, CUSTOMERS),
        r("GET /.well-known/lifebuoy-signing-keys", "/.well-known/lifebuoy-signing-keys", NoBody, PUBLIC),
        // Trust and safety: anyone checks and reports; staff read the registry; admins and the exchange edit it
        // (removing an id that is not listed is no error, so the cell shows who may, not what was there).
        r("GET /api/v1/verify", "/api/v1/verify?value=matrix-lookalike.example", NoBody, PUBLIC),
        r(
            "POST /api/v1/verify/report",
            "/api/v1/verify/report",
            Json(r#"{"value":"https://matrix{n}-lookalike.example/login"}"#, None),
            PUBLIC,
        ),
        r("GET /api/v1/trust/channels", "/api/v1/trust/channels", NoBody, STAFF),
        r(
            "POST /api/v1/trust/channels",
            "/api/v1/trust/channels",
            Json(r#"{"kind":"domain","value":"matrix{n}.example.com","label":"Matrix"}"#, None),
            ACCOUNTS,
        ),
        r("DELETE /api/v1/trust/channels/{id}", "/api/v1/trust/channels/not-listed", NoBody, ACCOUNTS),
        // "My account may be stolen": a customer's own; seen by the customer and those who see the risk
        // department's case; confirmed only by its customer with a fresh sign-in of theirs (again: 409).
        r("POST /api/v1/trust/emergency", "/api/v1/trust/emergency", Json("{}", None), CUSTOMERS),
        r(
            "GET /api/v1/trust/emergency/{id}",
            "/api/v1/trust/emergency/{emergency}",
            NoBody,
            CUST_A | OVERSEERS | TOKEN,
        ),
        r(
            "POST /api/v1/trust/emergency/{id}/confirm",
            "/api/v1/trust/emergency/{emergency}/confirm",
            Json(r#"{"token":"{fresh_a}"}"#, None),
            CUST_A,
        ),
        // Step-up: staff who see A's case ask; A completes it with a fresh sign-in (again: 409).
        r(
            "POST /api/v1/trust/step-up",
            "/api/v1/trust/step-up",
            Json(r#"{"conversation_id":"{ticket}","action":"2fa_reset"}"#, None),
            SEES_CASE,
        ),
        r(
            "POST /api/v1/trust/step-up/{id}/complete",
            "/api/v1/trust/step-up/{step_up}/complete",
            Json(r#"{"token":"{fresh_a}"}"#, None),
            CUST_A,
        ),
        // C2C orders and appeals (issue 14): the exchange registers orders and reports their events; an order
        // ({order}: customer A buys, its appeal {appeal} opened by A, in the risk department) is seen by its two
        // parties and staff who see the risk department's cases; its chat takes the parties and agents; only
        // the parties appeal (A again: 409, one at a time); only arbiters (none here) work appeals, and only
        // the party who opened it withdraws it. Webhooks are the admins' and the exchange's.
        r(
            "POST /api/v1/c2c/orders",
            "/api/v1/c2c/orders",
            Json(
                r#"{"id":"mx-{n}","buyer":"mxb{n}","seller":"mxs{n}","asset":"USDT","amount":"1","fiat_amount":"7","fiat_currency":"CNY","payment_method":"bank"}"#,
                None,
            ),
            TOKEN,
        ),
        r("GET /api/v1/c2c/orders/{id}", "/api/v1/c2c/orders/{order}", NoBody, CUST_A | OVERSEERS | TOKEN),
        r(
            "POST /api/v1/c2c/orders/{id}/events",
            "/api/v1/c2c/orders/{order}/events",
            Json(r#"{"event":"paid"}"#, None),
            TOKEN,
        ),
        r(
            "POST /api/v1/c2c/orders/{id}/messages",
            "/api/v1/c2c/orders/{order}/messages",
            Json(r#"{"body":"matrix {n}"}"#, None),
            CUST_A | OVERSEERS,
        ),
        r(
            "POST /api/v1/c2c/orders/{id}/appeal",
            "/api/v1/c2c/orders/{order}/appeal",
            Json(r#"{"reason":"other","body":"matrix {n}"}"#, None),
            CUST_A,
        ),
        r("GET /api/v1/c2c/four-eyes", "/api/v1/c2c/four-eyes", NoBody, STAFF),
        r(
            "PUT /api/v1/c2c/four-eyes/{currency}",
            "/api/v1/c2c/four-eyes/CNY",
            Json(r#"{"above":"50000"}"#, None),
            ACCOUNTS,
        ),
        r("GET /api/v1/appeals", "/api/v1/appeals", NoBody, OVERSEERS | TOKEN),
        r("GET /api/v1/appeals/{id}", "/api/v1/appeals/{appeal}", NoBody, OVERSEERS | TOKEN),
        r("POST /api/v1/appeals/{id}/take", "/api/v1/appeals/{appeal}/take", NoBody, 0),
        r(
            "POST /api/v1/appeals/{id}/evidence",
            "/api/v1/appeals/{appeal}/evidence",
            Json(r#"{"party":"seller","note":"statement"}"#, None),
            0,
        ),
        r(
            "POST /api/v1/appeals/{id}/decide",
            "/api/v1/appeals/{appeal}/decide",
            Json(r#"{"decision":"cancel","rationale":"matrix"}"#, None),
            0,
        ),
        r(
            "POST /api/v1/appeals/{id}/approve",
            "/api/v1/appeals/{appeal}/approve",
            Json(r#"{"approve":true}"#, None),
            0,
        ),
        r("POST /api/v1/appeals/{id}/close", "/api/v1/appeals/{appeal}/close", NoBody, 0),
        r("POST /api/v1/appeals/{id}/withdraw", "/api/v1/appeals/{appeal_b}/withdraw", NoBody, CUST_A),
        r(
            "PUT /api/v1/agents/{id}/arbiter",
            "/api/v1/agents/{victim}/arbiter",
            Json(r#"{"granted":false}"#, None),
            ADMIN,
        ),
        r(
            "POST /api/v1/webhooks",
            "/api/v1/webhooks",
            Json(r#"{"url":"http://127.0.0.1:9/hook","events":["appeal.closed"],"secret":"matrix-secret-0000"}"#, None),
            ACCOUNTS,
        ),
        r("GET /api/v1/webhooks", "/api/v1/webhooks", NoBody, ACCOUNTS),
        r("DELETE /api/v1/webhooks/{id}", "/api/v1/webhooks/{webhook}", NoBody, ACCOUNTS),
        r("GET /api/v1/webhooks/deliveries", "/api/v1/webhooks/deliveries", NoBody, ACCOUNTS),
        r(
            "POST /api/v1/webhooks/deliveries/{id}/replay",
            "/api/v1/webhooks/deliveries/{delivery}/replay",
            NoBody,
            ACCOUNTS,
        ),
        // The customer's exchange account beside a case: agents who see the case (the look is audited); the
        // lookup's source is the admins' and the exchange's; only the exchange pushes its users' profiles.
        r(
            "GET /api/v1/conversations/{id}/account",
            "/api/v1/conversations/{ticket}/account",
            NoBody,
            SEES_CASE & AGENTS,
        ),
        r("GET /api/v1/customer-context", "/api/v1/customer-context", NoBody, ACCOUNTS),
        r(
            "PUT /api/v1/customer-context",
            "/api/v1/customer-context",
            Json(r#"{"url":"http://127.0.0.1:9/ctx","secret":"matrix-secret-0000","timeout_ms":200}"#, None),
            ACCOUNTS,
        ),
        r("DELETE /api/v1/customer-context", "/api/v1/customer-context", NoBody, ACCOUNTS),
        // Ticket routing: staff read the mode; admins and the exchange change it.
        r("GET /api/v1/ticket-routing", "/api/v1/ticket-routing", NoBody, STAFF),
        r("PUT /api/v1/ticket-routing", "/api/v1/ticket-routing", Json(r#"{"mode":"off"}"#, None), ACCOUNTS),
        // SLA policies: staff read them; admins and the exchange write them (switched off here: no case moves).
        r("GET /api/v1/sla-policies", "/api/v1/sla-policies", NoBody, STAFF),
        r(
            "PUT /api/v1/sla-policies/{id}",
            "/api/v1/sla-policies/matrix-{n}",
            Json(r#"{"name":"matrix {n}","first_response_min":30,"resolution_min":60,"active":false}"#, None),
            ACCOUNTS,
        ),
        r(
            "PUT /api/v1/exchange-users/{user_id}/profile",
            "/api/v1/exchange-users/mx-user-{n}/profile",
            Json(r#"{"vip_tier":"VIP1","flags":["matrix"]}"#, None),
            TOKEN,
        ),
        // Announcements: anyone reads the live ones; overseers and the exchange publish and withdraw; staff read
        // them all; agents link cases (one outside their departments is refused as input: 422) and answer them.
        r("GET /api/v1/announcements", "/api/v1/announcements?lang=en", NoBody, PUBLIC),
        r(
            "POST /api/v1/announcements",
            "/api/v1/announcements",
            Json(
                r#"{"title":{"en":"matrix {n}"},"body":{"en":"matrix"},"starts_at":"2099-01-01T00:00:00Z","ends_at":"2099-01-02T00:00:00Z"}"#,
                None,
            ),
            OVERSEERS | TOKEN,
        ),
        r("GET /api/v1/announcements/all", "/api/v1/announcements/all", NoBody, STAFF),
        r("GET /api/v1/announcements/{id}", "/api/v1/announcements/{announcement}", NoBody, STAFF),
        r(
            "POST /api/v1/announcements/{id}/cases",
            "/api/v1/announcements/{announcement}/cases",
            Json(r#"{"cases":["{ticket}"]}"#, None),
            AGENTS,
        ),
        r(
            "POST /api/v1/announcements/{id}/answer",
            "/api/v1/announcements/{announcement}/answer",
            Json(r#"{"body":"matrix answer {n}"}"#, None),
            AGENTS,
        ),
        r("DELETE /api/v1/announcements/{id}", "/api/v1/announcements/{announcement}", NoBody, OVERSEERS | TOKEN),
        // Retention and privacy: holds, deletion and restoration are the overseers' and the exchange's (a fresh
        // case for each: restoring one that is not deleted is a 409, the use case ran); retention is set by
        // admins and the exchange, read by overseers; customers file and read their own data requests, which
        // overseers and the exchange list, complete and refuse ({request}: customer A's request for a copy).
        r(
            "POST /api/v1/records/holds",
            "/api/v1/records/holds",
            Json(r#"{"conversation_id":"{ticket}","reason":"matrix {n}"}"#, None),
            OVERSEERS | TOKEN,
        ),
        r("DELETE /api/v1/records/holds/{id}", "/api/v1/records/holds/{hold}", NoBody, OVERSEERS | TOKEN),
        fresh(
            "DELETE /api/v1/records/conversations/{id}",
            "/api/v1/records/conversations/{ticket}",
            NoBody,
            OVERSEERS | TOKEN,
        ),
        fresh(
            "POST /api/v1/records/conversations/{id}/restore",
            "/api/v1/records/conversations/{ticket}/restore",
            NoBody,
            OVERSEERS | TOKEN,
        ),
        r("GET /api/v1/records/retention", "/api/v1/records/retention", NoBody, OVERSEERS | TOKEN),
        r(
            "PUT /api/v1/records/retention/{channel}",
            "/api/v1/records/retention/email",
            Json(r#"{"keep_days":null}"#, None),
            ADMIN | TOKEN,
        ),
        r("GET /api/v1/records/requests", "/api/v1/records/requests", NoBody, CUSTOMERS | OVERSEERS | TOKEN),
        r("POST /api/v1/records/requests", "/api/v1/records/requests", Json(r#"{"kind":"access"}"#, None), CUSTOMERS),
        r(
            "GET /api/v1/records/requests/{id}",
            "/api/v1/records/requests/{request}",
            NoBody,
            CUST_A | OVERSEERS | TOKEN,
        ),
        r(
            "POST /api/v1/records/requests/{id}/complete",
            "/api/v1/records/requests/{request}/complete",
            NoBody,
            OVERSEERS | TOKEN,
        ),
        r(
            "POST /api/v1/records/requests/{id}/refuse",
            "/api/v1/records/requests/{request}/refuse",
            Json(r#"{"reason":"matrix"}"#, None),
            OVERSEERS | TOKEN,
        ),
        r("POST /api/v1/notifications/read", "/api/v1/notifications/read", Json("{}", None), CUSTOMERS | TOKEN),
        r("GET /api/v1/notifications/preferences", "/api/v1/notifications/preferences", NoBody, CUSTOMERS | TOKEN),
        r(
            "PUT /api/v1/notifications/preferences",
            "/api/v1/notifications/preferences",
            Json(r#"[{"kind":"status_changed","email":true}]"#, None),
            CUSTOMERS | TOKEN,
        ),
        // --- Outside the API
        r("GET /healthz", "/healthz", NoBody, PUBLIC),
        r("GET /metrics", "/metrics", NoBody, ACCOUNTS),
        r("GET /api/openapi.json", "/api/openapi.json", NoBody, PUBLIC),
        r("GET /ws/chat", "/ws/chat", NoBody, PUBLIC),
        r("GET /ws/console", "/ws/console", NoBody, PUBLIC),
        r("GET /", "/", NoBody, PUBLIC),
        r("GET /static/{file}", "/static/app.css", NoBody, PUBLIC),
        r("GET /lang/{code}", "/lang/en?back=/help", NoBody, PUBLIC),
        r("GET /demo", "/demo", NoBody, PUBLIC),
        // Portal
        r("GET /portal", "/portal", NoBody, PUBLIC),
        r("GET /portal/sso", "/portal/sso?token=x", NoBody, PUBLIC),
        r("POST /portal/sso", "/portal/sso", Form(&[("token", "not-a-token")]), PUBLIC),
        r("POST /portal/guest/code", "/portal/guest/code", Form(&[("email", "pcode{n}@matrix.dev")]), PUBLIC),
        r(
            "POST /portal/guest/verify",
            "/portal/guest/verify",
            Form(&[("email", "pnone{n}@matrix.dev"), ("code", "12345678")]),
            PUBLIC,
        ),
        r("GET /portal/tickets/new", "/portal/tickets/new", NoBody, CUSTOMERS),
        r(
            "POST /portal/tickets",
            "/portal/tickets",
            Multipart(&[("subject", "portal {n}"), ("body", "a case"), ("category", "kyc")]),
            CUSTOMERS,
        ),
        r("GET /portal/tickets/{id}", "/portal/tickets/{ticket}", NoBody, CUST_A),
        fresh(
            "POST /portal/tickets/{id}/reply",
            "/portal/tickets/{ticket}/reply",
            Multipart(&[("body", "more")]),
            CUST_A,
        ),
        fresh("POST /portal/tickets/{id}/solved", "/portal/tickets/{ticket}/solved", Form(&[]), CUST_A),
        r("GET /portal/inbox", "/portal/inbox", NoBody, CUSTOMERS),
        r("GET /portal/history", "/portal/history", NoBody, CUSTOMERS),
        r("POST /portal/emergency", "/portal/emergency", Form(&[]), CUSTOMERS),
        r("GET /portal/emergency/{id}", "/portal/emergency/{emergency}", NoBody, CUST_A),
        r(
            "GET /portal/emergency/{id}/confirm",
            "/portal/emergency/{emergency}/confirm?token={fresh_a}",
            NoBody,
            CUST_A,
        ),
        // The order page (issue 14): the order's parties only (A buys {order}); A appeals again: 409, one open at
        // a time; only the opener withdraws ({appeal_b}, perhaps withdrawn already by the API row: 409).
        r("GET /portal/orders/{id}", "/portal/orders/{order}", NoBody, CUST_A),
        fresh(
            "POST /portal/orders/{id}/messages",
            "/portal/orders/{order}/messages",
            Multipart(&[("body", "portal {n}")]),
            CUST_A,
        ),
        r(
            "POST /portal/orders/{id}/appeal",
            "/portal/orders/{order}/appeal",
            Multipart(&[("reason", "other"), ("body", "portal appeal {n}")]),
            CUST_A,
        ),
        r("POST /portal/appeals/{id}/withdraw", "/portal/appeals/{appeal_b}/withdraw", Form(&[]), CUST_A),
        r("GET /portal/privacy", "/portal/privacy", NoBody, CUSTOMERS),
        r("POST /portal/privacy", "/portal/privacy", Form(&[("kind", "access")]), CUSTOMERS),
        r("GET /portal/privacy/{id}", "/portal/privacy/{request}", NoBody, CUST_A),
        r("POST /portal/inbox/read", "/portal/inbox/read", Form(&[]), CUSTOMERS),
        r("GET /portal/inbox/{id}", "/portal/inbox/{notification}", NoBody, CUST_A),
        r("GET /portal/settings/notifications", "/portal/settings/notifications", NoBody, CUSTOMERS),
        r("POST /portal/settings/notifications", "/portal/settings/notifications", Form(&[]), CUSTOMERS),
        // The rating link of a solved case's mail: its notification id is the token, no sign-in.
        r("GET /portal/rate/{id}", "/portal/rate/{notification}?score=5", NoBody, PUBLIC),
        r("POST /portal/rate/{id}", "/portal/rate/{notification}", Form(&[("score", "5")]), PUBLIC),
        // Console
        r("GET /console", "/console", NoBody, AGENTS),
        r("GET /console/login", "/console/login", NoBody, PUBLIC),
        r(
            "POST /console/login",
            "/console/login",
            Form(&[("email", "nobody@matrix.dev"), ("password", "wrong")]),
            PUBLIC,
        ),
        r("GET /console/tickets/{id}", "/console/tickets/{ticket}", NoBody, SEES_CASE & AGENTS),
        fresh(
            "POST /console/tickets/{id}/reply",
            "/console/tickets/{ticket}/reply",
            Multipart(&[("body", "from the console")]),
            SEES_CASE & AGENTS,
        ),
        fresh(
            "POST /console/tickets/{id}/action",
            "/console/tickets/{ticket}/action",
            Form(&[("op", "priority"), ("value", "high"), ("priority", "high")]),
            SEES_CASE & AGENTS,
        ),
        r("GET /console/chats", "/console/chats", NoBody, AGENTS),
        r("GET /console/chats/{id}/context", "/console/chats/{chat}/context", NoBody, SEES_CASE & AGENTS),
        r("GET /console/jobs", "/console/jobs", NoBody, OVERSEERS),
        r("POST /console/jobs/{id}/retry", "/console/jobs/{job}/retry", Form(&[]), OVERSEERS),
        r("GET /console/notifications", "/console/notifications", NoBody, ADMIN),
        r("GET /console/notifications/{kind}/{lang}", "/console/notifications/received/en", NoBody, ADMIN),
        r(
            "POST /console/notifications/{kind}/{lang}",
            "/console/notifications/received/en",
            Form(&[("subject", "Case {{ case_number }}"), ("body", "Hello"), ("action", "preview")]),
            ADMIN,
        ),
        r(
            "POST /console/notifications/{kind}/{lang}/reset",
            "/console/notifications/received/en/reset",
            Form(&[]),
            ADMIN,
        ),
        r("GET /console/mail", "/console/mail", NoBody, ADMIN),
        r("GET /console/trust", "/console/trust?check=matrix.example", NoBody, AGENTS),
        r(
            "POST /console/trust/add",
            "/console/trust/add",
            Form(&[("kind", "domain"), ("value", "matrix{n}.example.org"), ("label", "Matrix")]),
            ADMIN,
        ),
        r("POST /console/trust/remove", "/console/trust/remove", Form(&[("id", "not-listed")]), ADMIN),
        // The dashboards and their tables: overseers. Ticket routing: agents read it, admins change it.
        r("GET /console/analytics", "/console/analytics?days=7", NoBody, OVERSEERS),
        r("GET /console/analytics/{file}", "/console/analytics/categories.csv?days=7", NoBody, OVERSEERS),
        r("GET /console/routing", "/console/routing", NoBody, AGENTS),
        r("POST /console/routing", "/console/routing", Form(&[("mode", "off")]), ADMIN),
        r("POST /console/routing/skills", "/console/routing/skills", Form(&[]), ADMIN),
        r("GET /console/sla", "/console/sla", NoBody, AGENTS),
        // Alerts: each agent their own.
        r("GET /console/alerts", "/console/alerts", NoBody, AGENTS),
        r("GET /console/alerts/count", "/console/alerts/count", NoBody, AGENTS),
        r("POST /console/alerts/read", "/console/alerts/read", Form(&[]), AGENTS),
        r(
            "POST /console/sla/{id}",
            "/console/sla/matrix-{n}",
            Form(&[
                ("name", "matrix {n}"),
                ("first_response_min", "30"),
                ("resolution_min", "60"),
                ("calendar", "always"),
            ]),
            ADMIN,
        ),
        // Announcements in the console: agents read, link and answer; overseers publish and withdraw.
        r("GET /console/announcements", "/console/announcements", NoBody, AGENTS),
        r(
            "POST /console/announcements",
            "/console/announcements",
            Form(&[
                ("title.en", "matrix {n}"),
                ("body.en", "matrix"),
                ("starts", "2099-01-01T00:00"),
                ("ends", "2099-01-02T00:00"),
            ]),
            OVERSEERS,
        ),
        r("GET /console/announcements/{id}", "/console/announcements/{announcement}", NoBody, AGENTS),
        r(
            "POST /console/announcements/{id}/cases",
            "/console/announcements/{announcement}/cases",
            Form(&[("cases", "{ticket}")]),
            AGENTS,
        ),
        r(
            "POST /console/announcements/{id}/answer",
            "/console/announcements/{announcement}/answer",
            Form(&[("body", "matrix answer {n}")]),
            AGENTS,
        ),
        r(
            "POST /console/announcements/{id}/withdraw",
            "/console/announcements/{announcement}/withdraw",
            Form(&[]),
            OVERSEERS,
        ),
        // The exchange beside the console: the account fragment for agents who see the case; the integration
        // page and its forms for admins.
        r("GET /console/cases/{id}/account", "/console/cases/{ticket}/account", NoBody, SEES_CASE & AGENTS),
        r("GET /console/integrations", "/console/integrations", NoBody, ADMIN),
        r(
            "POST /console/integrations/context",
            "/console/integrations/context",
            Form(&[
                ("op", "save"),
                ("url", "http://127.0.0.1:9/ctx"),
                ("secret", "matrix-secret-0000"),
                ("timeout_ms", "200"),
            ]),
            ADMIN,
        ),
        r(
            "POST /console/integrations/webhooks",
            "/console/integrations/webhooks",
            Form(&[("url", "http://127.0.0.1:9/hook"), ("events", "appeal.closed"), ("secret", "matrix-secret-0000")]),
            ADMIN,
        ),
        r(
            "POST /console/integrations/webhooks/{id}/remove",
            "/console/integrations/webhooks/{webhook}/remove",
            Form(&[]),
            ADMIN,
        ),
        r(
            "POST /console/integrations/deliveries/{id}/replay",
            "/console/integrations/deliveries/{delivery}/replay",
            Form(&[]),
            ADMIN,
        ),
        r(
            "POST /console/integrations/four-eyes",
            "/console/integrations/four-eyes",
            Form(&[("currency", "CNY"), ("above", "50000")]),
            ADMIN,
        ),
        // The arbiters' console (issue 14): the queue and the appeal page for overseers (no agent here is an
        // arbiter; the risk department's case is beyond the support and finance agents); notes by staff who see
        // the order; the arbiter's moves by arbiters only.
        r("GET /console/appeals", "/console/appeals", NoBody, OVERSEERS),
        r("GET /console/appeals/{id}", "/console/appeals/{appeal}", NoBody, OVERSEERS),
        r("POST /console/appeals/{id}/take", "/console/appeals/{appeal}/take", Form(&[]), 0),
        r(
            "POST /console/appeals/{id}/evidence",
            "/console/appeals/{appeal}/evidence",
            Form(&[("party", "seller"), ("note", "statement"), ("hours", "24")]),
            0,
        ),
        r(
            "POST /console/appeals/{id}/note",
            "/console/appeals/{appeal}/note",
            Form(&[("body", "note {n}")]),
            OVERSEERS,
        ),
        r(
            "POST /console/appeals/{id}/decide",
            "/console/appeals/{appeal}/decide",
            Form(&[("decision", "cancel"), ("rationale", "matrix")]),
            0,
        ),
        r("POST /console/appeals/{id}/approve", "/console/appeals/{appeal}/approve", Form(&[("approve", "1")]), 0),
        r("POST /console/appeals/{id}/close", "/console/appeals/{appeal}/close", Form(&[]), 0),
        // Records: any agent finds a customer; the customer's page lists only what the agent's scope reaches
        // (the words of A's case stay from agents outside it); the access log is the overseers'.
        r("GET /console/customers", "/console/customers?q=matrix", NoBody, AGENTS),
        r("GET /console/customers/{id}", "/console/customers/{customer_a}", NoBody, AGENTS),
        r("GET /console/audit", "/console/audit", NoBody, OVERSEERS),
        // What agents keep about a customer: any agent (never the customer, never shown to them).
        r(
            "POST /console/customers/{id}/tags",
            "/console/customers/{customer_a}/tags",
            Form(&[("tags", "matrix")]),
            AGENTS,
        ),
        r(
            "POST /console/customers/{id}/notes",
            "/console/customers/{customer_a}/notes",
            Form(&[("body", "matrix note")]),
            AGENTS,
        ),
        r("POST /console/mail/block", "/console/mail/block", Form(&[("pattern", "matrix{n}@example.com")]), ADMIN),
        r("POST /console/mail/unblock", "/console/mail/unblock", Form(&[("pattern", "matrix{n}@example.com")]), ADMIN),
        // Retention and privacy in the console: overseers read and act; only admins set retention.
        r("GET /console/retention", "/console/retention", NoBody, OVERSEERS),
        r("POST /console/retention", "/console/retention", Form(&[("channel", "email"), ("keep_days", "")]), ADMIN),
        r("GET /console/deleted", "/console/deleted", NoBody, OVERSEERS),
        r("GET /console/data-requests", "/console/data-requests", NoBody, OVERSEERS),
        r(
            "POST /console/data-requests/{id}/complete",
            "/console/data-requests/{request}/complete",
            Form(&[]),
            OVERSEERS,
        ),
        r(
            "POST /console/data-requests/{id}/refuse",
            "/console/data-requests/{request}/refuse",
            Form(&[("reason", "matrix")]),
            OVERSEERS,
        ),
        r(
            "POST /console/records/holds",
            "/console/records/holds",
            Form(&[("conversation_id", "{ticket}"), ("reason", "matrix {n}")]),
            OVERSEERS,
        ),
        r("POST /console/records/holds/{id}/release", "/console/records/holds/{hold}/release", Form(&[]), OVERSEERS),
        fresh(
            "POST /console/records/conversations/{id}/delete",
            "/console/records/conversations/{ticket}/delete",
            Form(&[]),
            OVERSEERS,
        ),
        fresh(
            "POST /console/records/conversations/{id}/restore",
            "/console/records/conversations/{ticket}/restore",
            Form(&[]),
            OVERSEERS,
        ),
        // Knowledge base in the console
        r("GET /console/kb", "/console/kb", NoBody, AGENTS),
        r("GET /console/kb/new", "/console/kb/new", NoBody, OVERSEERS),
        r(
            "POST /console/kb/new",
            "/console/kb/new",
            Form(&[
                ("slug", "console-{n}"),
                ("category", "account"),
                ("status", "draft"),
                ("title_en", "Console {n}"),
                ("body_en", "Body"),
            ]),
            OVERSEERS,
        ),
        r("POST /console/kb/preview", "/console/kb/preview", Form(&[("body", "**preview**")]), AGENTS),
        r("GET /console/kb/analytics", "/console/kb/analytics", NoBody, OVERSEERS),
        r("GET /console/kb/suggest", "/console/kb/suggest?q=withdrawal", NoBody, AGENTS),
        r("GET /console/kb/synonyms", "/console/kb/synonyms", NoBody, ADMIN),
        r("POST /console/kb/synonyms", "/console/kb/synonyms", Form(&[("terms", "matrixa{n}, matrixb{n}")]), ADMIN),
        r("POST /console/kb/synonyms/{id}/delete", "/console/kb/synonyms/{synonym}/delete", Form(&[]), ADMIN),
        r("GET /console/kb/categories", "/console/kb/categories", NoBody, OVERSEERS),
        r(
            "POST /console/kb/categories",
            "/console/kb/categories",
            Form(&[("slug", "matrix-{n}"), ("name_zh_hans", "矩阵"), ("name_zh_hant", "矩陣"), ("name_en", "Matrix")]),
            OVERSEERS,
        ),
        r("GET /console/kb/a/{id}", "/console/kb/a/{article}", NoBody, AGENTS),
        r(
            "POST /console/kb/a/{id}",
            "/console/kb/a/{article}",
            Form(&[
                ("slug", "{slug}"),
                ("category", "{category}"),
                ("status", "published"),
                ("title_en", "Matrix"),
                ("body_en", "Body"),
            ]),
            OVERSEERS,
        ),
        r(
            "POST /console/kb/a/{id}/status",
            "/console/kb/a/{article}/status",
            Form(&[("status", "published")]),
            OVERSEERS,
        ),
        r("GET /console/kb/a/{id}/history", "/console/kb/a/{article}/history", NoBody, AGENTS),
        r("POST /console/kb/a/{id}/restore", "/console/kb/a/{article}/restore", Form(&[("v", "1")]), OVERSEERS),
        // Help center and widget
        r("GET /help", "/help", NoBody, PUBLIC),
        // The demo exchange's webhook receiver: unsigned, it refuses everyone (401; 404 outside the demo).
        r("POST /demo/exchange/webhook", "/demo/exchange/webhook", Json("{}", None), PUBLIC),
        r("POST /demo/exchange/customer-context", "/demo/exchange/customer-context", Json("{}", None), PUBLIC),
        r("GET /help/verify", "/help/verify", NoBody, PUBLIC),
        r("GET /help/{lang}/verify", "/help/en/verify", NoBody, PUBLIC),
        r("GET /help/official", "/help/official", NoBody, PUBLIC),
        r("GET /help/{lang}/official", "/help/en/official?value=matrix-lookalike.example", NoBody, PUBLIC),
        r(
            "POST /help/{lang}/official/report",
            "/help/en/official/report",
            Form(&[("value", "matrix{n}-lookalike.example")]),
            PUBLIC,
        ),
        r("GET /trust/words.js", "/trust/words.js", NoBody, PUBLIC),
        r("GET /help/{lang}", "/help/en", NoBody, PUBLIC),
        r("GET /help/{lang}/search", "/help/en/search?q=withdrawal", NoBody, PUBLIC),
        r("GET /help/{lang}/c/{category}", "/help/en/c/{category}", NoBody, PUBLIC),
        r("GET /help/{lang}/{slug}", "/help/en/{slug}", NoBody, PUBLIC),
        r("POST /help/{lang}/{slug}/vote", "/help/en/{slug}/vote", Form(&[("helpful", "yes")]), PUBLIC),
        r("GET /sitemap.xml", "/sitemap.xml", NoBody, PUBLIC),
        r("GET /widget.js", "/widget.js", NoBody, PUBLIC),
        r("GET /chat/widget", "/chat/widget", NoBody, PUBLIC),
        r("GET /demo/exchange", "/demo/exchange", NoBody, PUBLIC),
        r("GET /demo/exchange/reauth", "/demo/exchange/reauth?as=U10001", NoBody, PUBLIC),
        // Last: it ends every principal's session.
        r("POST /logout", "/logout", Form(&[]), PUBLIC),
    ]
}

// ---------------------------------------------------------------------------------------------------------
// The router's route list, read from its source.

/// Every `METHOD /path` the web crate's routers register: each `.route("…", …)` call in `crates/web/src`, with
/// the methods of its method router and the prefix of the `.nest` it is under.
fn routes_in_source() -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let mut files = vec![];
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        // The one nested router: the API under /api/v1 (lib.rs). Any other nest must be taught to this test.
        for (i, _) in src.match_indices(".nest(") {
            let call = &src[i..src[i..].find(')').map(|e| i + e).unwrap()];
            assert!(call.contains("\"/api/v1\", api::router("), "a new nested router in {rel}: teach the matrix");
        }
        assert!(!src.contains(".route_service("), "{rel}: route_service is not read by the matrix; use .route");
        let prefix = if rel == "api/mod.rs" { "/api/v1" } else { "" };
        for (i, _) in src.match_indices(".route(") {
            let rest = &src[i + ".route(".len()..];
            assert!(
                rest.trim_start().starts_with('"'),
                "{rel}: a .route( whose path is not a literal: {}",
                &rest[..40]
            );
            let path = rest.split('"').nth(1).unwrap();
            // The method router: up to the parenthesis that closes `.route(`.
            let (mut depth, mut end) = (1, 0);
            for (j, ch) in rest.char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let methods = &rest[..end];
            let mut found = 0;
            for m in ["get", "post", "put", "patch", "delete"] {
                let bare = methods.contains(&format!(" {m}(")) || methods.contains(&format!("::{m}("));
                if bare || methods.contains(&format!(".{m}(")) || methods.contains(&format!(",{m}(")) {
                    out.insert(format!("{} {prefix}{path}", m.to_uppercase()));
                    found += 1;
                }
            }
            assert!(found > 0, "{rel}: no method read for route {path}: {methods}");
        }
    }
    assert!(out.len() > 60, "the route list was not read: {out:?}");
    out
}

// ---------------------------------------------------------------------------------------------------------
// Who asks.

struct Principal {
    role: u16,
    name: &'static str,
    /// `Authorization` or `Cookie` header.
    header: Option<(&'static str, String)>,
    /// The session's form token, for cookie sessions.
    csrf: String,
    /// The agent's id, for agents.
    agent_id: Option<String>,
}

async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let token = cookie.split_once('=').unwrap().1;
    app.store.session(token).await.unwrap().expect("a live session").csrf
}

struct Fixtures {
    ids: BTreeMap<&'static str, String>,
    people: Vec<Principal>,
    token: String,
    assignee: String,
    a_token: String,
    counter: std::sync::atomic::AtomicU64,
}

impl Fixtures {
    fn n(&self) -> u64 {
        self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn fill(&self, s: &str, n: u64, ticket: &str, ticket2: &str) -> String {
        let mut s = s.replace("{n}", &n.to_string()).replace("{ticket}", ticket).replace("{ticket2}", ticket2);
        s = s.replace("{assignee}", &self.assignee);
        for (k, v) in &self.ids {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn api(app: &TestApp, method: reqwest::Method, path: &str, bearer: &str, body: Value) -> Value {
    let r = client()
        .request(method, app.url(path))
        .header("authorization", format!("Bearer {bearer}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(s.is_success(), "{path}: {s} {v}");
    v
}

/// A case of customer A in support, assigned to the assignee, with an internal note. Returns its id.
async fn case_of_a(app: &TestApp, fx_token: &str, a_token: &str, assignee: &str, assignee_cookie: &str) -> String {
    let t = api(
        app,
        reqwest::Method::POST,
        "/api/v1/tickets",
        a_token,
        json!({"subject": format!("{CASE_WORD} withdrawal"), "body": format!("{CASE_WORD} my coins"), "category": "kyc"}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_string();
    api(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{id}/assign"),
        fx_token,
        json!({"assignee_id": assignee}),
    )
    .await;
    let r = client()
        .post(app.url(&format!("/api/v1/tickets/{id}/messages")))
        .header("cookie", assignee_cookie)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"body": format!("{NOTE_WORD} check the chain"), "internal": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the assignee's note");
    id
}

async fn setup(app: &TestApp) -> (Fixtures, String) {
    let out = app.agent("out@matrix.dev", "F1", Role::AgentL1, &["finance"]).await;
    let inn = app.agent("in@matrix.dev", "P1", Role::AgentL1, &["support"]).await;
    let assignee = app.agent("assignee@matrix.dev", "P2", Role::AgentL1, &["support"]).await;
    let l2 = app.agent("l2@matrix.dev", "P3", Role::AgentL2, &["support"]).await;
    let sup = app.agent("sup@matrix.dev", "S1", Role::Supervisor, &["support"]).await;
    let admin = app.agent("admin@matrix.dev", "A1", Role::Admin, &["support"]).await;
    let victim = app.agent("victim@matrix.dev", "V1", Role::AgentL1, &["support"]).await;
    let token = app.integration_token().await;
    let a_token = identity_token("matrix-alice", "en", 3600);
    let b_token = identity_token("matrix-bob", "en", 3600);

    let mut people = vec![
        Principal { role: ANON, name: "anonymous", header: None, csrf: "x".into(), agent_id: None },
        Principal {
            role: VISITOR,
            name: "visitor",
            header: Some(("authorization", format!("Bearer {}", visitor(app).await))),
            csrf: "x".into(),
            agent_id: None,
        },
    ];
    // A guest, signed in by an emailed code (demo mode shows the code).
    let c = client();
    let v: Value = c
        .post(app.url("/api/v1/guest/code"))
        .json(&json!({"email": "guest@matrix.dev"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = v["demo_code"].as_str().expect("demo code").to_string();
    let r = c
        .post(app.url("/api/v1/guest/verify"))
        .json(&json!({"email": "guest@matrix.dev", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = csrf_of(app, &cookie).await;
    people.push(Principal { role: GUEST, name: "guest", header: Some(("cookie", cookie)), csrf, agent_id: None });
    for (role, name, t) in [(CUST_A, "customer A", &a_token), (CUST_B, "customer B", &b_token)] {
        people.push(Principal {
            role,
            name,
            header: Some(("authorization", format!("Bearer {t}"))),
            csrf: "x".into(),
            agent_id: None,
        });
    }
    let mut assignee_cookie = String::new();
    for (role, name, email, id) in [
        (OUT, "agent of another department", "out@matrix.dev", &out),
        (IN, "agent of the department", "in@matrix.dev", &inn),
        (ASSIGNEE, "assignee", "assignee@matrix.dev", &assignee),
        (L2, "L2 agent", "l2@matrix.dev", &l2),
        (SUP, "supervisor", "sup@matrix.dev", &sup),
        (ADMIN, "admin", "admin@matrix.dev", &admin),
    ] {
        let cookie = app.agent_cookie(email).await;
        if role == ASSIGNEE {
            assignee_cookie = cookie.clone();
        }
        let csrf = csrf_of(app, &cookie).await;
        people.push(Principal { role, name, header: Some(("cookie", cookie)), csrf, agent_id: Some(id.clone()) });
    }
    people.push(Principal {
        role: TOKEN,
        name: "integration token",
        header: Some(("authorization", format!("Bearer {token}"))),
        csrf: "x".into(),
        agent_id: None,
    });
    assert_eq!(people.len(), ROLES.len());

    let mut ids = BTreeMap::new();
    let ticket = case_of_a(app, &token, &a_token, &assignee, &assignee_cookie).await;
    // An attachment of A's, on A's case.
    let part = reqwest::multipart::Part::bytes(lifebuoy_testkit::png_bytes()).file_name("s.png").mime_str("image/png");
    let up: Value = client()
        .post(app.url("/api/v1/attachments"))
        .header("authorization", format!("Bearer {a_token}"))
        .multipart(reqwest::multipart::Form::new().part("file", part.unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let att = up["id"].as_str().expect("attachment id").to_string();
    api(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{ticket}/messages"),
        &a_token,
        json!({"body": "screenshot", "attachment_ids": [att]}),
    )
    .await;
    ids.insert("ticket_shared", ticket);
    ids.insert("att", att);
    ids.insert("victim", victim);
    // A published article of the starter knowledge base.
    let list = api(app, reqwest::Method::GET, "/api/v1/kb/articles", &token, Value::Null).await;
    let first = list["items"].as_array().and_then(|a| a.iter().find(|a| a["status"] == "published")).cloned();
    let first = first.expect("a published article");
    ids.insert("article", first["id"].as_str().unwrap().to_string());
    ids.insert("slug", first["slug"].as_str().unwrap().to_string());
    ids.insert("category", first["category"].as_str().unwrap().to_string());
    let group = app.store.kb_add_synonyms(&["matrixsyn1".into(), "matrixsyn2".into()]).await.expect("synonyms");
    ids.insert("synonym", group.id);
    // A job to retry.
    let job = lifebuoy_store::NewJob::new("matrix.noop", &json!({}));
    app.store.enqueue_job(&job).await.expect("a job");
    ids.insert("job", job.id);
    // A "solved" notification of customer A's, on A's case.
    let shared = ids["ticket_shared"].clone();
    let owner = app.store.conversation(&shared).await.unwrap().expect("A's case").customer_id;
    ids.insert("customer_a", owner.clone());
    let (n, _) = app
        .store
        .put_notification(&lifebuoy_store::NewNotification {
            id: uuid::Uuid::new_v4().to_string(),
            customer_id: owner,
            conversation_id: Some(shared.clone()),
            kind: "solved".into(),
            cause: format!("{shared}:matrix"),
            lang: "en".into(),
            title: "Solved".into(),
            body: "Your case is solved".into(),
            link: None,
            email: Some("none".into()),
        })
        .await
        .expect("a notification");
    ids.insert("notification", n.id);
    // A legal hold on A's case, to release; and A's request for a copy of their data.
    let hold = app.store.place_hold(None, Some(&shared), "matrix", "agent:S1").await.expect("a hold");
    ids.insert("hold", hold.id);
    let customer_a = ids["customer_a"].clone();
    let now = lifebuoy_store::now_ms();
    let request = lifebuoy_store::DataRequest {
        id: uuid::Uuid::new_v4().to_string(),
        customer_id: customer_a,
        kind: "access".into(),
        field: None,
        value: None,
        note: None,
        status: "open".into(),
        filed_at: now,
        due_at: now + 30 * 86_400_000,
        resolved_at: None,
        resolved_by: None,
        outcome: None,
    };
    app.store.file_data_request(&request).await.expect("a data request");
    ids.insert("request", request.id);
    // Trust and safety: A's emergency (its case is the risk department's), a fresh sign-in of A's, and a step-up
    // asked on A's case.
    let e = api(app, reqwest::Method::POST, "/api/v1/trust/emergency", &a_token, json!({})).await;
    ids.insert("emergency", e["emergency"]["id"].as_str().unwrap().to_string());
    let claims = lifebuoy_web::auth::IdentityClaims {
        sub: "matrix-alice".into(),
        email: None,
        name: None,
        lang: Some("en".into()),
        exp: chrono::Utc::now().timestamp() + 3600,
        anti_phishing_code: None,
    };
    let fresh =
        lifebuoy_web::auth::sign_fresh_identity(lifebuoy_testkit::SECRET, &claims, chrono::Utc::now().timestamp());
    ids.insert("fresh_a", fresh);
    let step = lifebuoy_app::trust::emergency::request_step_up(
        &app.app,
        &lifebuoy_app::Actor::system("matrix"),
        &ids["ticket_shared"],
        "unlock",
    )
    .await
    .expect("a step-up");
    ids.insert("step_up", step.id);
    // C2C: two paid orders customer A buys, each appealed by A ({appeal}; {appeal_b} for A to withdraw); a
    // webhook endpoint with one delivery.
    let exchange = lifebuoy_app::Actor::Integration { token_id: "matrix".into(), name: "matrix".into() };
    let alice = lifebuoy_app::Actor::Customer(
        app.store.upsert_exchange_customer("matrix-alice", None, None, Some("en")).await.expect("A"),
    );
    for (key, id) in [("appeal", "matrix-order"), ("appeal_b", "matrix-order-b")] {
        let o: lifebuoy_app::c2c::RegisterOrder = serde_json::from_value(json!({
            "id": id, "buyer": "matrix-alice", "seller": "matrix-seller", "asset": "USDT", "amount": "10",
            "fiat_amount": "72", "fiat_currency": "CNY", "payment_method": "bank_transfer", "state": "paid"
        }))
        .unwrap();
        lifebuoy_app::c2c::register_order(&app.app, &exchange, o).await.expect("an order");
        let input: lifebuoy_app::c2c::OpenAppeal =
            serde_json::from_value(json!({"reason": "paid_not_released", "body": "matrix appeal"})).unwrap();
        let a = lifebuoy_app::c2c::open_appeal(&app.app, &alice, id, input).await.expect("an appeal");
        ids.insert(key, a.id);
    }
    ids.insert("order", "matrix-order".into());
    let ep = app
        .store
        .add_webhook_endpoint("http://127.0.0.1:9/hook", &["appeal.closed".into()], "matrix-secret-0000", None)
        .await
        .expect("an endpoint");
    let d = app.store.put_webhook_delivery(&ep.id, "evt_matrix", "appeal.closed", "{}").await.expect("a delivery");
    ids.insert("webhook", ep.id);
    ids.insert("delivery", d.id);
    // An announcement ({announcement}), live for a day.
    let notice: lifebuoy_app::announcements::Publish = serde_json::from_value(json!({
        "title": {"en": "matrix notice"}, "body": {"en": "matrix"},
        "ends_at": chrono::Utc::now().timestamp_millis() + 86_400_000i64, "topics": ["withdrawal"]
    }))
    .unwrap();
    let an = lifebuoy_app::announcements::publish(&app.app, &exchange, notice).await.expect("an announcement");
    ids.insert("announcement", an.id);
    let fx = Fixtures { ids, people, token, assignee, a_token, counter: Default::default() };
    (fx, assignee_cookie)
}

/// A chat session token, as the widget gets one: `body` carries the exchange's identity token or a visitor's
/// pre-chat form.
async fn chat_session(app: &TestApp, body: Value) -> String {
    let v: Value =
        client().post(app.url("/api/v1/chat/session")).json(&body).send().await.unwrap().json().await.unwrap();
    v["token"].as_str().expect("chat session token").to_string()
}

async fn chat_token(app: &TestApp, identity: &str) -> String {
    chat_session(app, json!({"identity_token": identity, "lang": "en"})).await
}

async fn visitor(app: &TestApp) -> String {
    chat_session(app, json!({"lang": "en", "email": "visitor@matrix.dev"})).await
}

/// Customer A's chat, handed over and routed to the assignee, with an internal note of theirs. Returns its id.
async fn chat_of_a(app: &TestApp, a_token: &str, assignee_cookie: &str) -> String {
    let cid = routed_chat(app, a_token, assignee_cookie, CHAT_WORD).await;
    let mut agent = app.agent_ws(assignee_cookie, json!({})).await;
    agent
        .send(json!({"type": "send", "conversation_id": cid, "client_id": "n1", "body": format!("{CHAT_NOTE_WORD} check"), "internal": true}))
        .await;
    agent.recv_until("note ack", |v| v["type"] == "ack" && v["client_id"] == "n1").await;
    agent.close().await;
    cid
}

/// Whether an answer refuses who asked.
fn refused(status: u16, location: Option<&str>, body: &str) -> bool {
    if matches!(status, 401 | 403 | 404) {
        return true;
    }
    if (300..400).contains(&status) {
        let to = location.unwrap_or("");
        return to.starts_with("/console/login") || to == "/portal" || (to == "/console" && status != 200);
    }
    if let Ok(v) = serde_json::from_str::<Value>(body)
        && let Some(code) = v["error"]["code"].as_str()
    {
        return matches!(code, "unauthorized" | "forbidden" | "not_found" | "csrf");
    }
    false
}

async fn cell(
    app: &TestApp,
    fx: &Fixtures,
    row: &Row,
    who: &Principal,
    ticket: &str,
    ticket2: &str,
) -> (u16, bool, String) {
    let n = fx.n();
    let path = fx.fill(row.path, n, ticket, ticket2);
    let method: reqwest::Method = row.route.split(' ').next().unwrap().parse().unwrap();
    let mut req = client().request(method, app.url(&path)).header("sec-fetch-site", "same-origin");
    if let Some((h, v)) = &who.header {
        req = req.header(*h, v);
    }
    req = match row.body {
        Body::None => req,
        Body::Json(customer, staff) => {
            let b = if who.role & STAFF != 0 { staff.unwrap_or(customer) } else { customer };
            req.header("content-type", "application/json").body(fx.fill(b, n, ticket, ticket2))
        }
        Body::Form(fields) => {
            let mut f: Vec<(String, String)> =
                fields.iter().map(|(k, v)| (k.to_string(), fx.fill(v, n, ticket, ticket2))).collect();
            f.push(("_csrf".into(), who.csrf.clone()));
            req.form(&f)
        }
        Body::Multipart(fields) => {
            let mut f = reqwest::multipart::Form::new().text("_csrf", who.csrf.clone());
            for (k, v) in fields {
                f = f.text(k.to_string(), fx.fill(v, n, ticket, ticket2));
            }
            if fields.is_empty() {
                let part = reqwest::multipart::Part::bytes(lifebuoy_testkit::png_bytes()).file_name("m.png");
                f = f.part("file", part.mime_str("image/png").unwrap());
            }
            req.multipart(f)
        }
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = r.text().await.unwrap_or_default();
    let verdict = !refused(status, location.as_deref(), &body);
    (status, verdict, body)
}

/// What a role may not find in any answer.
fn forbidden_words(role: u16) -> Vec<&'static str> {
    let mut w = vec![];
    if role & CASE == 0 {
        w.extend([CASE_WORD, CHAT_WORD]);
    }
    if role & SEES_CASE == 0 {
        w.extend([NOTE_WORD, CHAT_NOTE_WORD]);
    }
    w
}

#[tokio::test]
async fn every_route_every_role() {
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.demo = true;
        c.rate_limit_per_minute = Some(0);
    })
    .await;
    let (mut fx, assignee_cookie) = setup(&app).await;
    let chat = chat_of_a(&app, &fx.a_token, &assignee_cookie).await;
    fx.ids.insert("chat", chat.clone());
    let shared = fx.ids["ticket_shared"].clone();

    // Every route has a row, and every row a route.
    let table = rows();
    let in_table: BTreeSet<String> = table.iter().map(|r| r.route.to_string()).collect();
    assert_eq!(in_table.len(), table.len(), "a route has two rows");
    let in_source = routes_in_source();
    let missing: Vec<_> = in_source.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_source).collect();
    assert!(missing.is_empty(), "routes without a row in the authorisation matrix: {missing:?}");
    assert!(stale.is_empty(), "rows for routes the router does not have: {stale:?}");

    let mut wrong = vec![];
    let mut cells = 0;
    for row in &table {
        for who in &fx.people {
            let (ticket, ticket2) = if row.fresh {
                let t1 = case_of_a(&app, &fx.token, &fx.a_token, &fx.assignee, &assignee_cookie).await;
                let t2 = case_of_a(&app, &fx.token, &fx.a_token, &fx.assignee, &assignee_cookie).await;
                (t1, t2)
            } else {
                (shared.clone(), shared.clone())
            };
            let (status, allowed, body) = cell(&app, &fx, row, who, &ticket, &ticket2).await;
            cells += 1;
            let expected = row.allowed & who.role != 0;
            if status >= 500 {
                wrong.push(format!("{:<45} {:<28} {status} (a server error)", row.route, who.name));
            } else if row.allowed != PUBLIC && allowed != expected {
                wrong.push(format!(
                    "{:<45} {:<28} {} (expected {})",
                    row.route,
                    who.name,
                    status,
                    if expected { "allowed" } else { "refused" }
                ));
            }
            for w in forbidden_words(who.role) {
                if body.contains(w) {
                    wrong.push(format!("{:<45} {:<28} {status} LEAKS {w}", row.route, who.name));
                }
            }
        }
    }
    assert!(cells >= table.len() * ROLES.len());
    assert!(wrong.is_empty(), "{} of {cells} cells are wrong:\n{}", wrong.len(), wrong.join("\n"));
    let _ = (fx.people.iter().filter_map(|p| p.agent_id.as_ref()).count(), chat);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------------------
// WebSocket frames

/// The frame types a client may send, as `ws.rs` declares them: the variants of `enum {name}` (tagged by
/// `type`, snake_case).
fn frame_types(name: &str) -> BTreeSet<String> {
    let src = include_str!("../../../web/src/chat/ws.rs");
    let start = src.find(&format!("enum {name} {{")).unwrap_or_else(|| panic!("no enum {name} in ws.rs"));
    let body = &src[start..];
    let body = &body[..body.find("\n}").expect("the enum's end")];
    let mut out = BTreeSet::new();
    for line in body.lines().skip(1) {
        // Variants are indented by four spaces; their fields by eight.
        let Some(v) = line.strip_prefix("    ").filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase())) else {
            continue;
        };
        let ident: String = v.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let mut snake = String::new();
        for (i, ch) in ident.chars().enumerate() {
            if ch.is_ascii_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(ch.to_ascii_lowercase());
        }
        out.insert(snake);
    }
    assert!(out.len() >= 5, "the frame types of {name} were not read: {out:?}");
    out
}

/// Sends a frame, then a `ping`; whether an error refusing the caller came back before the `pong`, and the
/// frames that came.
async fn frame_cell(ws: &mut WsClient, frame: Value) -> (bool, Vec<Value>) {
    let from = ws.seen.len();
    ws.send(frame).await;
    ws.send(json!({"type": "ping"})).await;
    ws.recv_until("pong", |v| v["type"] == "pong").await;
    let got: Vec<Value> = ws.seen[from..].to_vec();
    let refused = got.iter().any(|v| {
        v["type"] == "error" && matches!(v["code"].as_str(), Some("forbidden" | "not_found" | "unauthorized"))
    });
    (!refused, got)
}

/// A customer's chat (`identity`: their identity token), handed over and routed to the assignee, who then goes
/// away so that no later chat is routed to them by surprise. Returns its id.
async fn routed_chat(app: &TestApp, identity: &str, assignee_cookie: &str, word: &str) -> String {
    let (mut cust, _) = app.customer_ws(&chat_token(app, identity).await, None).await;
    cust.send(json!({"type": "send", "client_id": "m1", "body": format!("{word} where are my coins")})).await;
    let ack = cust.recv_until("ack", |v| v["type"] == "ack").await;
    let cid = ack["conversation_id"].as_str().unwrap().to_string();
    cust.send(json!({"type": "handover"})).await;
    cust.recv_until("queued", |v| v["type"] == "chat" && v["chat"]["state"] == "queued").await;
    let mut agent = app.agent_ws(assignee_cookie, json!({})).await;
    agent.send(json!({"type": "presence", "status": "online", "capacity": 50})).await;
    agent.recv_until("assigned", |v| v["type"] == "assigned" && v["conversation_id"] == cid.as_str()).await;
    agent.send(json!({"type": "presence", "status": "away"})).await;
    agent.recv_until("away", |v| v["type"] == "presence").await;
    agent.close().await;
    cust.close().await;
    cid
}

#[tokio::test]
async fn every_frame_every_role() {
    let app = spawn_app_configured(Backend::Sqlite, |c| {
        c.demo = true;
        c.rate_limit_per_minute = Some(0);
    })
    .await;
    let (fx, assignee_cookie) = setup(&app).await;
    let chat = chat_of_a(&app, &fx.a_token, &assignee_cookie).await;
    let mut wrong = vec![];

    // Only agents open the console socket.
    let url = format!("ws://{}/ws/console", app.addr);
    for who in &fx.people {
        let mut headers = vec![("origin", app.base.as_str())];
        if let Some((h, v)) = &who.header {
            headers.push((h, v.as_str()));
        }
        let opened = match WsClient::try_connect(&url, &headers).await {
            Err(_) => false,
            Ok(mut ws) => {
                ws.send(json!({"type": "hello", "resume": {}})).await;
                matches!(ws.recv_within(3000).await, Some(v) if v["type"] == "welcome")
            }
        };
        if opened != (who.role & AGENTS != 0) {
            wrong.push(format!("/ws/console {:<28} opened: {opened}", who.name));
        }
    }

    // Agents' frames on customer A's chat, held by the assignee. `true` in the last column: a fresh chat for
    // every cell (the frame changes the chat).
    let console = |t: &'static str, frame: Value, allowed: u16, fresh: bool| (t, frame, allowed, fresh);
    let agent_rows = vec![
        console("open", json!({"type": "open", "conversation_id": "{chat}"}), SEES_CASE, false),
        console(
            "send",
            json!({"type": "send", "conversation_id": "{chat}", "client_id": "{n}", "body": "hello"}),
            HOLDER,
            false,
        ),
        console(
            "send",
            json!({"type": "send", "conversation_id": "{chat}", "client_id": "{n}", "body": "a note", "internal": true}),
            SEES_CASE,
            false,
        ),
        console("typing", json!({"type": "typing", "conversation_id": "{chat}", "on": true}), SEES_CASE, false),
        console(
            "receipt",
            json!({"type": "receipt", "conversation_id": "{chat}", "delivered": 1, "read": 1}),
            SEES_CASE,
            false,
        ),
        console("accept", json!({"type": "accept", "conversation_id": "{chat}"}), SEES_CASE, true),
        console("assign", json!({"type": "assign", "conversation_id": "{chat}", "agent_id": "{in}"}), OVERSEERS, true),
        console(
            "transfer",
            json!({"type": "transfer", "conversation_id": "{chat}", "department": "tech", "note": "chain"}),
            HOLDER,
            true,
        ),
        console("end", json!({"type": "end", "conversation_id": "{chat}"}), HOLDER, true),
        console("to_ticket", json!({"type": "to_ticket", "conversation_id": "{chat}"}), HOLDER, true),
        console("presence", json!({"type": "presence", "status": "away"}), AGENTS, false),
        console("ping", json!({"type": "ping"}), AGENTS, false),
    ];
    let covered: BTreeSet<String> = agent_rows.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(covered, frame_types("AgentFrame"), "console frame types without a row (or rows without a type)");
    let in_id = fx.people.iter().find(|p| p.role == IN).and_then(|p| p.agent_id.clone()).unwrap();
    let mut n = 0;
    for (t, frame, allowed, fresh) in &agent_rows {
        for who in fx.people.iter().filter(|p| p.role & AGENTS != 0) {
            n += 1;
            let cid = if *fresh {
                routed_chat(
                    &app,
                    &identity_token(&format!("matrix-frame-{n}"), "en", 3600),
                    &assignee_cookie,
                    CHAT_WORD,
                )
                .await
            } else {
                chat.clone()
            };
            let text = frame.to_string().replace("{chat}", &cid).replace("{n}", &n.to_string()).replace("{in}", &in_id);
            let cookie = who.header.as_ref().unwrap().1.clone();
            let mut ws = app.agent_ws(&cookie, json!({})).await;
            let (ok, got) = frame_cell(&mut ws, serde_json::from_str(&text).unwrap()).await;
            ws.close().await;
            if ok != (allowed & who.role != 0) {
                wrong.push(format!(
                    "console {t:<10} {:<28} {}: {got:?}",
                    who.name,
                    if ok { "allowed" } else { "refused" }
                ));
            }
            if who.role & SEES_CASE == 0 && got.iter().any(|v| v.to_string().contains(CHAT_WORD)) {
                wrong.push(format!("console {t:<10} {:<28} LEAKS the chat", who.name));
            }
        }
    }

    // Customers' frames: A on their own chat, B on A's. `end` last: it closes A's chat.
    let widget_rows: Vec<(&str, Value, u16)> = vec![
        ("resume", json!({"type": "resume", "conversation_id": "{chat}", "last_seq": 0}), CUST_A),
        ("receipt", json!({"type": "receipt", "conversation_id": "{chat}", "delivered": 1, "read": 1}), CUST_A),
        ("typing", json!({"type": "typing", "on": true}), CUST_A | CUST_B),
        ("send", json!({"type": "send", "client_id": "w{n}", "body": "more"}), CUST_A | CUST_B),
        ("handover", json!({"type": "handover"}), CUST_A | CUST_B),
        ("history", json!({"type": "history"}), CUST_A | CUST_B),
        ("rate", json!({"type": "rate", "conversation_id": "{chat}", "score": 5}), CUST_A),
        ("ping", json!({"type": "ping"}), CUST_A | CUST_B),
        ("end", json!({"type": "end"}), CUST_A | CUST_B),
    ];
    let covered: BTreeSet<String> = widget_rows.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(covered, frame_types("CustomerFrame"), "widget frame types without a row (or rows without a type)");
    for who in fx.people.iter().filter(|p| p.role & (CUST_A | CUST_B) != 0) {
        let token = who.header.as_ref().unwrap().1.trim_start_matches("Bearer ").to_string();
        let (mut ws, _) = app.customer_ws(&chat_token(&app, &token).await, None).await;
        for (t, frame, allowed) in &widget_rows {
            n += 1;
            let text = frame.to_string().replace("{chat}", &chat).replace("{n}", &n.to_string());
            let (ok, got) = frame_cell(&mut ws, serde_json::from_str(&text).unwrap()).await;
            if ok != (allowed & who.role != 0) {
                wrong.push(format!(
                    "widget  {t:<10} {:<28} {}: {got:?}",
                    who.name,
                    if ok { "allowed" } else { "refused" }
                ));
            }
        }
        for w in forbidden_words(who.role) {
            if ws.seen.iter().any(|v| v.to_string().contains(w)) {
                wrong.push(format!("widget {:<28} LEAKS {w}", who.name));
            }
        }
        ws.close().await;
    }
    assert!(wrong.is_empty(), "{} frame cells are wrong:\n{}", wrong.len(), wrong.join("\n"));
    app.cleanup().await;
}
