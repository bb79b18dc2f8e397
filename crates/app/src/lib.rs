//! Lifebuoy's application core: every use case (tickets, live chat with its bot and routing, the knowledge
//! base, ticket search, notifications) as a function that takes an [`Actor`](actor::Actor) — a customer, an
//! agent with role and departments, the exchange's integration, or a system job — instead of an HTTP caller.
//! Each use case checks its rules itself and answers with an [`AppError`](error::AppError) carrying a stable
//! code. The web crate maps those to HTTP statuses and the WebSocket handlers to frame codes; nothing here
//! knows of HTTP.

pub mod jobs;
