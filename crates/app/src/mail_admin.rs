//! The admins' side of mail in: the sender blocklist (a whole address, or a whole domain written
//! `@example.com`) and the list of mails refused at the door, with why. Only admins: a block refuses a
//! customer's mail for good, so it is an admin's call like the search synonyms are.

use crate::{Actor, AppError, AppResult};
use lifebuoy_store::{BlockedSender, MailRejection, Store};

/// How many refused mails the console lists.
pub const RECENT_REJECTIONS: i64 = 100;

fn require_admin(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Agent(a) if a.role == lifebuoy_domain::Role::Admin && a.active => Ok(()),
        _ => Err(AppError::forbidden("admins only")),
    }
}

/// A blocklist entry as typed: an address (`Someone@Example.com` → `someone@example.com`) or a domain
/// (`@example.com`, also taken as `example.com`), lower case; anything else is `invalid`.
pub fn normalize_pattern(input: &str) -> AppResult<String> {
    let p = input.trim().to_lowercase();
    let domain_ok = |d: &str| {
        !d.is_empty()
            && d.len() <= 253
            && d.contains('.')
            && !d.starts_with('.')
            && !d.ends_with('.')
            && !d.contains("..")
            && d.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
    };
    if let Some(domain) = p.strip_prefix('@') {
        if domain_ok(domain) {
            return Ok(p);
        }
    } else if p.contains('@') {
        if lifebuoy_domain::Email::parse(&p).is_ok() {
            return Ok(p);
        }
    } else if domain_ok(&p) {
        return Ok(format!("@{p}"));
    }
    Err(AppError::invalid("pattern", "an address (someone@example.com) or a domain (@example.com)"))
}

/// Blocks a sender or domain.
pub async fn block(store: &Store, actor: &Actor, pattern: &str, note: Option<&str>) -> AppResult<BlockedSender> {
    require_admin(actor)?;
    let pattern = normalize_pattern(pattern)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(300).collect::<String>());
    let by = actor.agent().map(|a| a.id.as_str());
    Ok(store.block_sender(&pattern, note.as_deref(), by).await?)
}

/// Unblocks a sender or domain; whether it was blocked (unblocking twice is no error: the second click of a
/// double click).
pub async fn unblock(store: &Store, actor: &Actor, pattern: &str) -> AppResult<bool> {
    require_admin(actor)?;
    let pattern = normalize_pattern(pattern)?;
    Ok(store.unblock_sender(&pattern).await?)
}

/// The blocklist and the latest refused mails.
pub async fn overview(store: &Store, actor: &Actor) -> AppResult<(Vec<BlockedSender>, Vec<MailRejection>)> {
    require_admin(actor)?;
    Ok((store.blocked_senders().await?, store.mail_rejections(RECENT_REJECTIONS).await?))
}

#[cfg(test)]
mod tests {
    use super::normalize_pattern;

    #[test]
    fn patterns_are_addresses_or_domains() {
        assert_eq!(normalize_pattern(" Spam@Example.COM ").unwrap(), "spam@example.com");
        assert_eq!(normalize_pattern("@Example.com").unwrap(), "@example.com");
        assert_eq!(normalize_pattern("example.com").unwrap(), "@example.com");
        for bad in ["", "@", "@localhost", "not an address", "a@", "@.com", "@a..b"] {
            assert!(normalize_pattern(bad).is_err(), "{bad:?}");
        }
    }
}
