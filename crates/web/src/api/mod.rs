//! The REST API under `/api/v1`, documented by `GET /api/openapi.json`.

pub mod accounts;
pub mod agents;
pub mod announcements;
pub mod attachments;
pub mod c2c;
pub mod guests;
pub mod kb;
pub mod notifications;
pub mod privacy;
pub mod records;
pub mod routing;
pub mod sla;
pub mod tickets;
pub mod trust;

use crate::AppState;
use axum::Router;
use axum::routing::{delete, get, post, put};

/// The OpenAPI 3 document, kept beside the handlers it describes (a test checks every route is in it).
pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets", post(tickets::create).get(tickets::list))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::update))
        .route("/tickets/{id}/messages", post(tickets::post_message))
        .route("/tickets/{id}/status", post(tickets::set_status))
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/transfer", post(tickets::transfer))
        .route("/tickets/{id}/escalate", post(tickets::escalate))
        .route("/tickets/{id}/merge", post(tickets::merge))
        .route("/attachments", post(attachments::upload))
        .route("/attachments/{id}", get(attachments::download))
        .route("/me", get(tickets::me))
        .route("/departments", get(tickets::departments))
        .route("/agents", get(tickets::agents).post(crate::chat::api::create_agent))
        .route("/agents/{id}/unlock", post(agents::unlock))
        .route("/agents/{id}/deactivate", post(agents::deactivate))
        .route("/agents/{id}/activate", post(agents::activate))
        .route("/me/password", post(agents::change_password))
        .route("/guest/code", post(guests::request_code))
        .route("/guest/verify", post(guests::verify))
        .route("/kb/search", get(kb::search))
        .route("/kb/articles", get(kb::list_articles).post(kb::create_article))
        .route("/kb/articles/{id}", get(kb::get_article).put(kb::update_article))
        .route("/kb/articles/{id}/versions", get(kb::article_versions))
        .route("/answers", post(kb::answers))
        .route("/chat/session", post(crate::chat::api::session))
        .route("/chat/offline", post(crate::chat::api::offline))
        .route("/chats/{id}/messages", get(crate::chat::api::transcript))
        .route("/records/export", get(records::export))
        .route("/records/history", get(records::history))
        .route("/records/holds", post(privacy::place_hold))
        .route("/records/holds/{id}", delete(privacy::release_hold))
        .route("/records/conversations/{id}", delete(privacy::delete_conversation))
        .route("/records/conversations/{id}/restore", post(privacy::restore_conversation))
        .route("/records/retention", get(privacy::retention))
        .route("/records/retention/{channel}", put(privacy::set_retention))
        .route("/records/requests", get(privacy::requests).post(privacy::file_request))
        .route("/records/requests/{id}", get(privacy::request))
        .route("/records/requests/{id}/complete", post(privacy::complete_request))
        .route("/records/requests/{id}/refuse", post(privacy::refuse_request))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::read))
        .route("/notifications/preferences", get(notifications::prefs).put(notifications::set_prefs))
        .route("/verify", get(trust::verify))
        .route("/verify/report", post(trust::report))
        .route("/trust/channels", get(trust::channels).post(trust::add_channel))
        .route("/trust/channels/{id}", delete(trust::remove_channel))
        .route("/trust/emergency", post(trust::open_emergency))
        .route("/trust/emergency/{id}", get(trust::get_emergency))
        .route("/trust/emergency/{id}/confirm", post(trust::confirm_emergency))
        .route("/trust/step-up", post(trust::request_step_up))
        .route("/trust/step-up/{id}/complete", post(trust::complete_step_up))
        .route("/c2c/orders", post(c2c::register_order))
        .route("/c2c/orders/{id}", get(c2c::get_order))
        .route("/c2c/orders/{id}/events", post(c2c::order_event))
        .route("/c2c/orders/{id}/messages", post(c2c::post_message))
        .route("/c2c/orders/{id}/appeal", post(c2c::open_appeal))
        .route("/c2c/four-eyes", get(c2c::four_eyes))
        .route("/c2c/four-eyes/{currency}", put(c2c::set_four_eyes))
        .route("/appeals", get(c2c::queue))
        .route("/appeals/{id}", get(c2c::get_appeal))
        .route("/appeals/{id}/take", post(c2c::take))
        .route("/appeals/{id}/evidence", post(c2c::request_evidence))
        .route("/appeals/{id}/decide", post(c2c::decide))
        .route("/appeals/{id}/approve", post(c2c::approve))
        .route("/appeals/{id}/withdraw", post(c2c::withdraw))
        .route("/appeals/{id}/close", post(c2c::close))
        .route("/agents/{id}/arbiter", put(c2c::set_arbiter))
        .route("/webhooks", post(c2c::register_webhook).get(c2c::webhooks))
        .route("/webhooks/{id}", delete(c2c::remove_webhook))
        .route("/webhooks/deliveries", get(c2c::deliveries))
        .route("/webhooks/deliveries/{id}/replay", post(c2c::replay))
        .route("/conversations/{id}/account", get(accounts::for_case))
        .route("/announcements", get(announcements::live).post(announcements::publish))
        .route("/announcements/all", get(announcements::all))
        .route("/announcements/{id}", get(announcements::one).delete(announcements::withdraw))
        .route("/announcements/{id}/cases", post(announcements::link))
        .route("/announcements/{id}/answer", post(announcements::answer))
        .route("/customer-context", get(accounts::source).put(accounts::set_source).delete(accounts::remove_source))
        .route("/ticket-routing", get(routing::get_mode).put(routing::set_mode))
        .route("/sla-policies", get(sla::list))
        .route("/sla-policies/{id}", put(sla::save))
        .route("/exchange-users/{user_id}/profile", put(accounts::push_profile))
}
