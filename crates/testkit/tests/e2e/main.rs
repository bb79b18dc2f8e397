//! Every integration test of Lifebuoy in one binary (one link): the API on SQLite and PostgreSQL, the pages,
//! and the browser story in real headless Chromium.

mod access;
mod analytics;
mod appeals_browser;
mod browser;
mod chat;
mod chat_browser;
mod helpcenter;
mod jobs;
mod kb;
mod mail;
mod mail_transport;
mod matrix;
mod notify;
mod pages;
mod privacy;
mod privacy_browser;
mod records;
mod records_browser;
mod security;
mod sla_browser;
mod ticket_search;
mod tickets;
mod trust;
mod trust_browser;
