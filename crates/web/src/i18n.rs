//! UI strings in Simplified Chinese, Traditional Chinese and English, embedded in the binary, and the choice
//! of language for a request: the `lb_lang` cookie (the switcher), then the customer's profile, then
//! `Accept-Language`, then Simplified Chinese.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::CookieJar;
use lifebuoy_domain::Lang;
use std::sync::LazyLock;

pub const LANG_COOKIE: &str = "lb_lang";

/// Each language's strings: one file per part of the product (`i18n/<part>/<lang>.json`, plus the core
/// `i18n/<lang>.json`), merged at their top-level sections, so that parts can be added without touching
/// each other's files.
static DICTS: LazyLock<[serde_json::Value; 3]> = LazyLock::new(|| {
    let parse = |files: &[&str]| {
        let mut merged = serde_json::Map::new();
        for s in files {
            let v: serde_json::Value = serde_json::from_str(s).expect("embedded i18n JSON parses (checked by a test)");
            if let serde_json::Value::Object(m) = v {
                merged.extend(m);
            }
        }
        serde_json::Value::Object(merged)
    };
    macro_rules! lang_files {
        ($lang:literal) => {
            parse(&[
                include_str!(concat!("../i18n/", $lang, ".json")),
                include_str!(concat!("../i18n/kb/", $lang, ".json")),
                include_str!(concat!("../i18n/help/", $lang, ".json")),
                include_str!(concat!("../i18n/chat/", $lang, ".json")),
                include_str!(concat!("../i18n/jobs/", $lang, ".json")),
                include_str!(concat!("../i18n/notify/", $lang, ".json")),
                include_str!(concat!("../i18n/mail/", $lang, ".json")),
                include_str!(concat!("../i18n/records/", $lang, ".json")),
                include_str!(concat!("../i18n/privacy/", $lang, ".json")),
                include_str!(concat!("../i18n/trust/", $lang, ".json")),
                include_str!(concat!("../i18n/c2c/", $lang, ".json")),
                include_str!(concat!("../i18n/account/", $lang, ".json")),
                include_str!(concat!("../i18n/announce/", $lang, ".json")),
                include_str!(concat!("../i18n/sla/", $lang, ".json")),
                include_str!(concat!("../i18n/analytics/", $lang, ".json")),
            ])
        };
    }
    [lang_files!("zh-Hans"), lang_files!("zh-Hant"), lang_files!("en")]
});

/// The strings of a language.
pub fn dict(lang: Lang) -> &'static serde_json::Value {
    match lang {
        Lang::ZhHans => &DICTS[0],
        Lang::ZhHant => &DICTS[1],
        Lang::En => &DICTS[2],
    }
}

/// One string by dotted key, e.g. `status.open`; the key itself when missing.
pub fn t(lang: Lang, key: &str) -> String {
    key.split('.').try_fold(dict(lang), |v, k| v.get(k)).and_then(|v| v.as_str()).unwrap_or(key).to_string()
}

/// The language for a request.
pub fn negotiate(headers: &HeaderMap, profile: Option<&str>) -> Lang {
    let jar = CookieJar::from_headers(headers);
    jar.get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()).ok())
        .or_else(|| profile.and_then(Lang::from_tag))
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::ZhHans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if let Some(m) = v.as_object() {
            for (k, v) in m {
                keys(v, &format!("{prefix}{k}."), out);
            }
        } else {
            out.push(prefix.trim_end_matches('.').to_string());
        }
    }

    #[test]
    fn every_language_has_every_key() {
        let mut all: Vec<Vec<String>> = Lang::ALL
            .iter()
            .map(|l| {
                let mut k = vec![];
                keys(dict(*l), "", &mut k);
                k.sort();
                k
            })
            .collect();
        let en = all.pop().unwrap();
        for other in all {
            assert_eq!(other, en);
        }
        assert!(en.len() > 100);
    }

    #[test]
    fn lookups() {
        assert_eq!(t(Lang::ZhHant, "status.pending"), "待您回覆");
        assert_eq!(t(Lang::En, "no.such.key"), "no.such.key");
    }

    #[test]
    fn negotiation_order() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h, None), Lang::ZhHans);
        h.insert("accept-language", "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(negotiate(&h, None), Lang::En);
        assert_eq!(negotiate(&h, Some("zh-TW")), Lang::ZhHant);
        h.insert("cookie", "lb_lang=zh-Hans".parse().unwrap());
        assert_eq!(negotiate(&h, Some("zh-TW")), Lang::ZhHans);
    }
}
