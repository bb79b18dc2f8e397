//! The public help center: home with categories and search, category pages, article pages with votes and
//! related articles, `sitemap.xml`; and the knowledge-base pages for agents (editor, analytics).

use crate::AppState;
use axum::Router;

/// Templates of the help-center pages (registered with the others in [`super::templates`]).
pub const TEMPLATES: &[(&str, &str)] = &[];

/// Files served under `/static/` by these pages: (name, body, content type).
pub const STATIC: &[(&str, &str, &str)] = &[];

pub fn router() -> Router<AppState> {
    Router::new()
}
