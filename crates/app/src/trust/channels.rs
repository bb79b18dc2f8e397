//! What a customer pastes into "is this official?", read as one channel: a web site or domain, an email
//! address, a phone number, a Telegram / X / Discord / WeChat handle, or an agent number (工号); and whether a
//! value that is not on the registry imitates one that is. Pure: the registry lookup is
//! [`super::verify`]'s.
//!
//! Normalisation: case, surrounding spaces and quotes, `@`, the `t.me/` / `x.com/` / `discord.gg/` forms of a
//! handle, a URL's scheme, user, port, path and `www.`, IDN domains to punycode (`idna`), phone numbers to
//! `+<country code><number>` (spaces, dashes, brackets and a leading `00` dropped; an 11-digit Chinese mobile
//! number without a country code taken as +86).
//!
//! Look-alikes: the UTS #39 confusable skeleton (`unicode-security`: Cyrillic о for o, `rn` for m, 0 for o…),
//! one letter swapped, missing, doubled or changed (Damerau–Levenshtein), and the official name with words added
//! (`okx-support-help.com`, `demo-lifebuoy-support.dev`, `@okx_support_cn`).

use unicode_security::confusable_detection::skeleton;

/// What kind of channel a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Domain,
    Email,
    Phone,
    Telegram,
    X,
    Discord,
    Wechat,
    AgentNo,
    /// A handle whose platform the value did not say (`@okx_support`): compared with every kind of handle.
    Handle,
}

impl ChannelKind {
    /// The kinds a registry entry may have (not [`ChannelKind::Handle`], which is only what a lookup was given).
    pub const REGISTRY: [ChannelKind; 8] = [
        ChannelKind::Domain,
        ChannelKind::Email,
        ChannelKind::Phone,
        ChannelKind::Telegram,
        ChannelKind::X,
        ChannelKind::Discord,
        ChannelKind::Wechat,
        ChannelKind::AgentNo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Domain => "domain",
            ChannelKind::Email => "email",
            ChannelKind::Phone => "phone",
            ChannelKind::Telegram => "telegram",
            ChannelKind::X => "x",
            ChannelKind::Discord => "discord",
            ChannelKind::Wechat => "wechat",
            ChannelKind::AgentNo => "agent_no",
            ChannelKind::Handle => "handle",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::REGISTRY.into_iter().chain([ChannelKind::Handle]).find(|k| k.as_str() == s)
    }

    /// Whether this is a handle on a messaging or social platform.
    pub fn is_handle(self) -> bool {
        matches!(
            self,
            ChannelKind::Telegram | ChannelKind::X | ChannelKind::Discord | ChannelKind::Wechat | ChannelKind::Handle
        )
    }
}

/// A value read as a channel, in its normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub kind: ChannelKind,
    pub value: String,
}

impl Channel {
    fn new(kind: ChannelKind, value: impl Into<String>) -> Self {
        Channel { kind, value: value.into() }
    }
}

const HANDLE_HOSTS: &[(&str, ChannelKind)] = &[
    ("t.me", ChannelKind::Telegram),
    ("telegram.me", ChannelKind::Telegram),
    ("telegram.dog", ChannelKind::Telegram),
    ("x.com", ChannelKind::X),
    ("twitter.com", ChannelKind::X),
    ("mobile.twitter.com", ChannelKind::X),
    ("discord.gg", ChannelKind::Discord),
    ("discord.com", ChannelKind::Discord),
];

const PREFIXES: &[(&str, ChannelKind)] = &[
    ("telegram:", ChannelKind::Telegram),
    ("tg:", ChannelKind::Telegram),
    ("电报:", ChannelKind::Telegram),
    ("電報:", ChannelKind::Telegram),
    ("twitter:", ChannelKind::X),
    ("x:", ChannelKind::X),
    ("推特:", ChannelKind::X),
    ("discord:", ChannelKind::Discord),
    ("wechat:", ChannelKind::Wechat),
    ("weixin:", ChannelKind::Wechat),
    ("微信:", ChannelKind::Wechat),
    ("微信号:", ChannelKind::Wechat),
    ("微信號:", ChannelKind::Wechat),
    ("工号:", ChannelKind::AgentNo),
    ("工號:", ChannelKind::AgentNo),
    ("agent:", ChannelKind::AgentNo),
    ("agent no.", ChannelKind::AgentNo),
    ("agent no:", ChannelKind::AgentNo),
    ("agent no", ChannelKind::AgentNo),
    ("工号", ChannelKind::AgentNo),
    ("工號", ChannelKind::AgentNo),
];

/// A domain in ASCII (punycode for IDN), lower case, without `www.` or a trailing dot; `None` if it is not one.
pub fn domain(input: &str) -> Option<String> {
    let d = input.trim().trim_end_matches('.');
    let ascii = idna::domain_to_ascii(d).ok()?;
    let ascii = ascii.strip_prefix("www.").unwrap_or(&ascii).to_string();
    let labels: Vec<&str> = ascii.split('.').collect();
    let ok = labels.len() >= 2
        && ascii.len() <= 253
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(ascii)
}

fn handle(s: &str) -> Option<String> {
    let h = s.trim().trim_start_matches('@').trim_end_matches('/').to_lowercase();
    let ok = (2..=64).contains(&h.chars().count())
        && h.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '#'));
    ok.then_some(h)
}

fn phone(s: &str) -> Option<String> {
    let t = s.trim();
    if !t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) || t.matches('+').count() > 1 {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    Some(if t.starts_with('+') {
        format!("+{digits}")
    } else if let Some(d) = digits.strip_prefix("00") {
        format!("+{d}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        format!("+86{digits}")
    } else {
        digits
    })
}

/// Reads what a customer pasted as a channel; `None` if it is none of them.
pub fn normalize(input: &str) -> Option<Channel> {
    let s = input.trim().trim_matches(|c: char| "\"'“”‘’「」<>".contains(c)).trim();
    if s.is_empty() || s.len() > 512 {
        return None;
    }
    let lower = s.to_lowercase().replace('：', ":");
    for (p, kind) in PREFIXES {
        if let Some(rest) = lower.strip_prefix(p) {
            let rest = rest.trim();
            return match kind {
                ChannelKind::AgentNo => agent_no(rest).map(|v| Channel::new(*kind, v)),
                _ => handle(rest).map(|v| Channel::new(*kind, v)),
            };
        }
    }
    if let Some(p) = phone(s) {
        return Some(Channel::new(ChannelKind::Phone, p));
    }
    let has_scheme = lower.starts_with("http://") || lower.starts_with("https://");
    if has_scheme || lower.contains('/') {
        let u = url::Url::parse(&if has_scheme { s.to_string() } else { format!("https://{s}") }).ok()?;
        let host = domain(u.host_str()?)?;
        if let Some((_, kind)) = HANDLE_HOSTS.iter().find(|(h, _)| *h == host) {
            let first = u.path_segments().and_then(|mut p| p.find(|x| !x.is_empty() && *x != "invite"));
            if let Some(h) = first.and_then(handle) {
                return Some(Channel::new(*kind, h));
            }
        }
        return Some(Channel::new(ChannelKind::Domain, host));
    }
    if let Some((local, dom)) = s.rsplit_once('@')
        && !local.is_empty()
    {
        let dom = domain(dom)?;
        let e = format!("{}@{dom}", local.to_lowercase());
        return lifebuoy_domain::Email::parse(&e).ok().map(|_| Channel::new(ChannelKind::Email, e));
    }
    if s.starts_with('@') {
        return handle(s).map(|h| Channel::new(ChannelKind::Handle, h));
    }
    if s.contains('.')
        && let Some(d) = domain(s)
    {
        return Some(Channel::new(ChannelKind::Domain, d));
    }
    if let Some(a) = agent_no(s)
        && a.bytes().any(|b| b.is_ascii_digit())
        && a.bytes().any(|b| b.is_ascii_alphabetic())
        && a.len() <= 8
    {
        return Some(Channel::new(ChannelKind::AgentNo, a));
    }
    handle(s).map(|h| Channel::new(ChannelKind::Handle, h))
}

fn agent_no(s: &str) -> Option<String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace() && *c != '#' && *c != '-').collect();
    lifebuoy_domain::AgentNo::parse(&s).ok().map(|a| a.as_str().to_string())
}

/// The normal form of a registry entry of `kind` as an admin typed it.
pub fn normalize_as(kind: ChannelKind, input: &str) -> Option<String> {
    match kind {
        ChannelKind::Domain => match normalize(input)? {
            Channel { kind: ChannelKind::Domain, value } => Some(value),
            _ => None,
        },
        ChannelKind::Email => match normalize(input)? {
            Channel { kind: ChannelKind::Email, value } => Some(value),
            _ => None,
        },
        ChannelKind::Phone => phone(input),
        ChannelKind::AgentNo => agent_no(input),
        _ => match normalize(input) {
            Some(Channel { kind: k, value }) if k == kind || k == ChannelKind::Handle => Some(value),
            _ => handle(input),
        },
    }
}

/// Whether `host` is `official` or a subdomain of it.
pub fn within(host: &str, official: &str) -> bool {
    host == official || host.strip_suffix(official).is_some_and(|rest| rest.ends_with('.'))
}

/// The confusable skeleton of a name in lower case: two names that look alike have the same one.
fn skel(s: &str) -> String {
    let lowered = s.to_lowercase();
    skeleton(&lowered).collect::<String>().to_lowercase()
}

/// The search crate's typo distance (optimal string alignment), stopping early past `max`.
fn distance(a: &str, b: &str, max: usize) -> usize {
    lifebuoy_search::typo_distance(a, b, max)
}

/// Two names that a hurried reader takes for one another: the same skeleton, or (long enough to tell) one
/// letter swapped, missing, doubled or changed.
fn looks_like(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (sa, sb) = (skel(a), skel(b));
    if sa == sb {
        return true;
    }
    let n = sb.chars().count();
    (n >= 5 && distance(&sa, &sb, 1) <= 1) || (n >= 10 && distance(&sa, &sb, 2) <= 2)
}

/// Words in a domain or handle that say nothing of whose it is: top-level domains and generic words.
fn generic(label: &str) -> bool {
    const TLDS: &[&str] = &[
        "com", "net", "org", "io", "co", "dev", "app", "xyz", "top", "info", "cn", "hk", "tw", "uk", "me", "cc", "vip",
        "pro", "site", "online", "www",
    ];
    label.len() <= 2 || TLDS.contains(&label)
}

/// The words of a domain (by labels and hyphens) or a handle (by `_`, `.`, `-`), in their Unicode form.
fn words(s: &str) -> Vec<String> {
    let (u, _) = idna::domain_to_unicode(s);
    u.split(['.', '-', '_']).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// Whether `candidate` (a domain) imitates `official` (a domain): not it and not under it, yet its name looks
/// like the official name or carries the official name's words with others added, or under another ending.
pub fn domain_imitates(candidate: &str, official: &str) -> bool {
    if within(candidate, official) {
        return false;
    }
    let (cu, _) = idna::domain_to_unicode(candidate);
    let (ou, _) = idna::domain_to_unicode(official);
    // The whole name, one letter off or drawn with look-alike characters.
    if looks_like(&cu, &ou) {
        return true;
    }
    // The official name without its ending (`okx`, `demo.lifebuoy`), and its distinctive words.
    let strip_tld = |d: &str| d.rsplit_once('.').map_or(d.to_string(), |(n, _)| n.to_string());
    let (cn, on) = (strip_tld(&cu), strip_tld(&ou));
    if looks_like(&cn, &on) || looks_like(&cn.replace(['.', '-'], ""), &on.replace(['.', '-'], "")) {
        return true;
    }
    // The official brand (the distinctive word before the ending: `okx`, `lifebuoy`) among added words (as
    // written or drawn with look-alike characters).
    let brand = words(official).into_iter().rfind(|w| !generic(w));
    let cw: Vec<String> = words(candidate);
    let brand_present = brand.is_some_and(|b| cw.iter().any(|c| word_matches(c, &b)) && cw.len() > 2);
    // The brand run together with other words (`okxsupport.com`), for brands too long to occur by chance.
    let brand_inside = words(official)
        .into_iter()
        .filter(|w| !generic(w) && w.chars().count() >= 5)
        .any(|b| skel(&cn.replace(['.', '-'], "")).contains(&skel(&b)));
    brand_present || brand_inside
}

/// A word of a candidate standing for an official word: the same, or the same drawn with look-alike characters
/// (not one letter off: `finance` is a word of its own, not `binance`).
fn word_matches(candidate: &str, official: &str) -> bool {
    candidate == official || (official.chars().count() >= 3 && skel(candidate) == skel(official))
}

/// Whether `candidate` (a handle) imitates `official` (a handle): the same once separators go, drawn with
/// look-alike characters, a letter off, or the official handle with words added.
pub fn handle_imitates(candidate: &str, official: &str) -> bool {
    if candidate == official {
        return false;
    }
    let flat = |s: &str| s.replace(['_', '.', '-'], "");
    let (c, o) = (flat(candidate), flat(official));
    if c == o || looks_like(&c, &o) {
        return true;
    }
    o.chars().count() >= 5 && skel(&c).contains(&skel(&o))
}

/// Whether an email address imitates an official one: its domain imitates an official domain, or, on the
/// official domain, its local part is a letter off the official address's.
pub fn email_imitates(candidate: &str, official: &str) -> bool {
    let (Some((cl, cd)), Some((ol, od))) = (candidate.rsplit_once('@'), official.rsplit_once('@')) else {
        return false;
    };
    if candidate == official {
        return false;
    }
    domain_imitates(cd, od) || (cd == od && looks_like(cl, ol))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> (ChannelKind, String) {
        let c = normalize(s).unwrap_or_else(|| panic!("{s:?} reads as a channel"));
        (c.kind, c.value)
    }

    #[test]
    fn normalisation() {
        use ChannelKind::*;
        assert_eq!(n("demo.lifebuoy.dev"), (Domain, "demo.lifebuoy.dev".into()));
        assert_eq!(n(" HTTPS://WWW.Demo.Lifebuoy.dev/login?x=1 "), (Domain, "demo.lifebuoy.dev".into()));
        assert_eq!(n("demo.lifebuoy.dev/help"), (Domain, "demo.lifebuoy.dev".into()));
        assert_eq!(n("https://user@demo.lifebuoy.dev:8443/"), (Domain, "demo.lifebuoy.dev".into()));
        assert_eq!(n("bücher.example"), (Domain, "xn--bcher-kva.example".into()));
        assert_eq!(n("Support@Demo.Lifebuoy.dev"), (Email, "support@demo.lifebuoy.dev".into()));
        assert_eq!(n("https://t.me/LifebuoyDemo"), (Telegram, "lifebuoydemo".into()));
        assert_eq!(n("t.me/LifebuoyDemo"), (Telegram, "lifebuoydemo".into()));
        assert_eq!(n("x.com/LifebuoyDemo"), (X, "lifebuoydemo".into()));
        assert_eq!(n("https://twitter.com/LifebuoyDemo/status/1"), (X, "lifebuoydemo".into()));
        assert_eq!(n("@LifebuoyDemo"), (Handle, "lifebuoydemo".into()));
        assert_eq!(n("微信：LifebuoyDemo"), (Wechat, "lifebuoydemo".into()));
        assert_eq!(n("+86 400-123-4567"), (Phone, "+864001234567".into()));
        assert_eq!(n("0086 400 123 4567"), (Phone, "+864001234567".into()));
        assert_eq!(n("138 0013 8000"), (Phone, "+8613800138000".into()));
        assert_eq!(n("工号 A1024"), (AgentNo, "A1024".into()));
        assert_eq!(n("a1024"), (AgentNo, "A1024".into()));
        assert_eq!(n("Agent No. a-1024"), (AgentNo, "A1024".into()));
        assert!(normalize("").is_none());
        assert!(normalize("   ").is_none());
    }

    const OFFICIAL: &[&str] = &["okx.com", "binance.com", "demo.lifebuoy.dev", "coinbase.com"];

    fn flagged(candidate: &str) -> Option<&'static str> {
        let c = match normalize(candidate)? {
            Channel { kind: ChannelKind::Domain, value } => value,
            other => panic!("{candidate} read as {other:?}"),
        };
        OFFICIAL.iter().copied().find(|o| domain_imitates(&c, o))
    }

    #[test]
    fn real_style_lookalike_domains_are_flagged() {
        let cases = [
            ("okx-support-help.com", "okx.com"),
            ("okx-support.com", "okx.com"),
            ("okx.support", "okx.com"),
            ("www.okx-cn.com", "okx.com"),
            ("0kx.com", "okx.com"),
            ("оkx.com", "okx.com"),                      // Cyrillic о
            ("оkх.com", "okx.com"),                      // Cyrillic о and х: two letters off, one skeleton
            ("bіnаnсe.com", "binance.com"),              // three Cyrillic letters
            ("https://xn--kx-emc.com/login", "okx.com"), // the same, in punycode
            ("oxk.com", "okx.com"),
            ("okx.co", "okx.com"),
            ("binnance.com", "binance.com"),
            ("binanse.com", "binance.com"),
            ("blnance.com", "binance.com"),
            ("bınance.com", "binance.com"), // dotless ı
            ("binance-verify.net", "binance.com"),
            ("secure-binance.com", "binance.com"),
            ("binancesupport.com", "binance.com"),
            ("coinbbase.com", "coinbase.com"),
            ("coinbase-wallet-recovery.io", "coinbase.com"),
            ("https://demo-lifebuoy-support.dev/login", "demo.lifebuoy.dev"),
            ("demo-lifebuoy.dev", "demo.lifebuoy.dev"),
            ("demo.lifebuoy-help.com", "demo.lifebuoy.dev"),
            ("demo.lifebouy.dev", "demo.lifebuoy.dev"),
            ("lifebuoy-demo.com", "demo.lifebuoy.dev"),
            ("demo.lifebuoy.dev.verify-account.com", "demo.lifebuoy.dev"),
        ];
        for (candidate, official) in cases {
            assert_eq!(flagged(candidate), Some(official), "{candidate}");
        }
    }

    #[test]
    fn officials_and_unrelated_domains_are_not_look_alikes() {
        for ok in [
            "okx.com",
            "www.okx.com",
            "help.okx.com",
            "demo.lifebuoy.dev",
            "api.demo.lifebuoy.dev",
            "google.com",
            "github.com",
            "example.org",
            "wikipedia.org",
            "etherscan.io",
            "tronscan.org",
            "box.com",
            "bookxyz.com",
            "coin.dance",
            "finance.yahoo.com",
            "lifehacker.com",
            "stackoverflow.com",
        ] {
            assert_eq!(flagged(ok), None, "{ok}");
        }
    }

    #[test]
    fn lookalike_handles_and_addresses() {
        let official = "lifebuoydemo";
        for h in [
            "lifebuoy_demo",
            "lifebuoydemo_support",
            "lifebuoydem0",
            "lifebuoydmeo",
            "lifebuoy.demo.help",
            "lifebuоydemo",
            "lifebuоydеmо", // three Cyrillic letters
        ] {
            assert!(handle_imitates(h, official), "{h}");
        }
        for h in ["lifebuoydemo", "okx", "someoneelse", "demo"] {
            assert!(!handle_imitates(h, official), "{h}");
        }
        assert!(email_imitates("support@demo-lifebuoy.dev", "support@demo.lifebuoy.dev"));
        assert!(email_imitates("suport@demo.lifebuoy.dev", "support@demo.lifebuoy.dev"));
        assert!(!email_imitates("support@demo.lifebuoy.dev", "support@demo.lifebuoy.dev"));
        assert!(!email_imitates("alice@gmail.com", "support@demo.lifebuoy.dev"));
    }

    #[test]
    fn distances() {
        assert_eq!(distance("okx", "oxk", 3), 1);
        assert_eq!(distance("binance", "binnance", 3), 1);
        assert_eq!(distance("binance", "bnance", 3), 1);
        assert_eq!(distance("abc", "xyz", 3), 3);
        assert!(within("a.okx.com", "okx.com") && !within("aokx.com", "okx.com"));
    }
}
