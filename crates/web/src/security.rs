//! Who is on the other end of the connection, and how often they may knock: the client's address (the socket
//! peer, or `X-Forwarded-For` from a configured proxy), address lists (`--trusted-proxy`,
//! `--rate-limit-exempt`, `--metrics-allow`), and the per-address request limits on the endpoints that cost
//! the server something for nobody in particular (sessions, sign-in codes, searches that are logged).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests per minute and client address on the limited endpoints, unless configured otherwise.
pub const DEFAULT_RATE_LIMIT: u32 = 60;

/// A list of addresses and networks (`10.0.0.0/8`, `::1`, `192.0.2.7`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetList(Vec<(IpAddr, u8)>);

impl NetList {
    /// Parses a comma-separated list of addresses and CIDR networks. An empty string is an empty list.
    pub fn parse(s: &str) -> Result<NetList, String> {
        let mut out = vec![];
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| format!("{item:?} is not an IP address or network"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?}: the prefix length must be 0 to {max}"))?,
                None => max,
            };
            out.push((ip, bits));
        }
        Ok(NetList(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, bits)| match (canonical(*net), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
            _ => false,
        })
    }
}

/// IPv4 addresses seen on an IPv6 socket (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[whole] & mask == b[whole] & mask
}

/// The client's address: the socket peer, or, when the peer is a configured proxy, the nearest address in
/// `X-Forwarded-For` that is not one of the proxies. `None` when the server runs without connection info.
pub fn client_ip(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = canonical(peer?.ip());
    let proxies = &state.config.trusted_proxies;
    if proxies.is_empty() || !proxies.contains(peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else { break };
        client = ip;
        if !proxies.contains(ip) {
            break;
        }
    }
    Some(client)
}

/// The client's address as an extractor (see [`client_ip`]).
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(ClientIp(client_ip(state, peer, &parts.headers)))
    }
}

impl ClientIp {
    /// A name for per-address counters: the address, or `unknown`.
    pub fn key(&self) -> String {
        self.0.map_or_else(|| "unknown".into(), |ip| ip.to_string())
    }
}

/// What a limited request costs: each class has its own allowance per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Starting a session or asking for/typing a sign-in code (each a row, a mail, a 30-day session).
    Session,
    /// Searches and answers for the anonymous (each one logged).
    Search,
}

/// Which requests are limited. Everything else is not: signed-in work, tickets from the exchange's backend,
/// the WebSockets (which need a session first), pages and files.
pub fn class_of(method: &Method, path: &str) -> Option<Class> {
    match (method.as_str(), path) {
        ("POST", "/api/v1/chat/session" | "/api/v1/guest/code" | "/api/v1/guest/verify")
        | ("POST", "/portal/guest/code" | "/portal/guest/verify")
        | ("GET" | "POST", "/portal/sso") => Some(Class::Session),
        // Reports open cases: limited like sign-ins; checks like searches.
        ("POST", "/api/v1/verify/report") => Some(Class::Session),
        ("POST", p) if p.starts_with("/help/") && p.ends_with("/official/report") => Some(Class::Session),
        ("GET", "/api/v1/verify") => Some(Class::Search),
        ("GET", p) if p.starts_with("/help/") && p.ends_with("/official") => Some(Class::Search),
        ("POST", "/api/v1/answers") | ("GET", "/api/v1/kb/search") => Some(Class::Search),
        ("GET", p) if p.starts_with("/help/") && p.ends_with("/search") => Some(Class::Search),
        _ => None,
    }
}

type Keyed = governor::DefaultKeyedRateLimiter<(Class, IpAddr)>;

/// The per-address request limits of this node (in memory: with several nodes each counts its own share).
pub struct RateLimits {
    limiter: Option<Keyed>,
    checks: AtomicU64,
}

impl RateLimits {
    /// `per_minute` requests per minute and address in each class, in bursts of as many; 0 turns limits off.
    pub fn new(per_minute: u32) -> RateLimits {
        let limiter = NonZeroU32::new(per_minute)
            .map(|n| governor::RateLimiter::dashmap(governor::Quota::per_minute(n).allow_burst(n)));
        RateLimits { limiter, checks: AtomicU64::new(0) }
    }

    /// `Ok` when the request may go on, else how long to wait.
    pub fn check(&self, class: Class, ip: IpAddr) -> Result<(), std::time::Duration> {
        let Some(l) = &self.limiter else { return Ok(()) };
        // Forget addresses whose allowance is whole again, now and then, so the map does not grow without bound.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            l.retain_recent();
            l.shrink_to_fit();
        }
        l.check_key(&(class, canonical(ip)))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// A `429 Too Many Requests` with `Retry-After` (whole seconds, at least 1), code `rate_limited`.
pub fn too_many(retry_after_ms: i64, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
    e.retry_after_s = Some(((retry_after_ms.max(0) + 999) / 1000).max(1));
    e
}

/// The middleware: limits the requests [`class_of`] names, per client address. Signed-in agents and the
/// exchange's backend (integration tokens) are not limited, nor are addresses in `--rate-limit-exempt`.
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(class) = class_of(req.method(), req.uri().path()) else { return next.run(req).await };
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let Some(ip) = client_ip(&state, peer, req.headers()) else {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| tracing::warn!("served without connection info: requests are not limited per address"));
        return next.run(req).await;
    };
    if state.config.rate_limit_exempt.contains(ip) {
        return next.run(req).await;
    }
    let has_credentials = req.headers().contains_key(header::AUTHORIZATION)
        || axum_extra::extract::cookie::CookieJar::from_headers(req.headers())
            .get(crate::auth::SESSION_COOKIE)
            .is_some();
    if has_credentials && matches!(crate::auth::resolve(&state, req.headers()).await, Ok(Some(c)) if c.is_staff()) {
        return next.run(req).await;
    }
    match state.limits.check(class, ip) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::info!(%ip, ?class, "rate limited");
            let e = too_many(
                i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
                "too many requests from your address; try again shortly",
            );
            if req.uri().path().starts_with("/api/") {
                e.into_response()
            } else {
                let lang = crate::i18n::negotiate(req.headers(), None);
                crate::pages::error_page(&state, lang, None, e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_by_prefix() {
        let l = NetList::parse("10.0.0.0/8, 192.0.2.7,::1, 2001:db8::/32").unwrap();
        assert!(l.contains("10.200.1.2".parse().unwrap()));
        assert!(!l.contains("11.0.0.1".parse().unwrap()));
        assert!(l.contains("192.0.2.7".parse().unwrap()));
        assert!(!l.contains("192.0.2.8".parse().unwrap()));
        assert!(l.contains("::1".parse().unwrap()));
        assert!(l.contains("2001:db8:1::5".parse().unwrap()));
        assert!(l.contains("::ffff:10.1.1.1".parse().unwrap()), "IPv4 on an IPv6 socket");
        assert!(NetList::parse("10.0.0.0/33").is_err());
        assert!(NetList::parse("example.com").is_err());
        assert!(NetList::parse("").unwrap().is_empty());
        let odd = NetList::parse("172.16.0.0/12").unwrap();
        assert!(odd.contains("172.31.255.255".parse().unwrap()));
        assert!(!odd.contains("172.32.0.0".parse().unwrap()));
    }

    #[test]
    fn limits_allow_a_burst_then_refuse() {
        let l = RateLimits::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(Class::Session, ip).is_ok());
        }
        let wait = l.check(Class::Session, ip).unwrap_err();
        assert!(wait.as_secs() <= 20, "{wait:?}");
        assert!(l.check(Class::Search, ip).is_ok(), "each class has its own allowance");
        assert!(l.check(Class::Session, "192.0.2.2".parse().unwrap()).is_ok(), "and each address");
        assert!(RateLimits::new(0).check(Class::Session, ip).is_ok(), "0 turns limits off");
    }
}
