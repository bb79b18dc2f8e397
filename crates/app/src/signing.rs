//! Signatures on what the desk sends the exchange (the freeze call of issue 16, the webhooks of issue 14): the
//! header `Lifebuoy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. The receiver
//! recomputes the HMAC over the timestamp and the raw body it received, compares in constant time, and refuses a
//! timestamp too far from its clock (replays).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header's name.
pub const HEADER: &str = "Lifebuoy-Signature";

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The header's value for `body` signed at unix time `t` (seconds).
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body).finalize().into_bytes()))
}

/// Checks a header's value against `body`: a `v1` signature made with `secret` at a time within `tolerance_s`
/// of `now` (unix seconds). Several `v1` values (a secret being rotated) pass if one does.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance_s: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > tolerance_s {
        return false;
    }
    sigs.iter().any(|s| mac(secret, t, body).verify_slice(s).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let h = sign(b"whsec", 1_700_000_000, b"{\"a\":1}");
        // The same as `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec`.
        assert_eq!(h, "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032");
        assert!(verify(b"whsec", &h, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify(b"whsec", &h, b"{\"a\":2}", 1_700_000_010, 300), "another body");
        assert!(!verify(b"other", &h, b"{\"a\":1}", 1_700_000_010, 300), "another secret");
        assert!(!verify(b"whsec", &h, b"{\"a\":1}", 1_700_001_000, 300), "too old");
        assert!(!verify(b"whsec", "v1=00", b"{\"a\":1}", 1_700_000_000, 300), "no time");
    }
}
