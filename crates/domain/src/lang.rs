//! The three languages Lifebuoy is written in, and how a request's language is chosen.

crate::wire_enum! {
    /// A UI and content language. Chinese is split by script, as customers read it.
    Lang, "lang" { ZhHans = "zh-Hans", ZhHant = "zh-Hant", En = "en" }
}

impl Lang {
    /// Reads a loose language tag as browsers and exchanges send it: `zh-CN`, `zh_TW`, `zh-HK`, `en-US`, `zh`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().replace('_', "-").to_ascii_lowercase();
        if t.is_empty() {
            return None;
        }
        if t.starts_with("zh") {
            let trad = ["hant", "tw", "hk", "mo"].iter().any(|m| t.split('-').skip(1).any(|p| p == *m));
            return Some(if trad { Lang::ZhHant } else { Lang::ZhHans });
        }
        if t.starts_with("en") {
            return Some(Lang::En);
        }
        None
    }

    /// Picks the best supported language from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).unwrap_or(1.0);
            if let Some(l) = Lang::from_tag(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(Lang::from_tag("zh-CN"), Some(Lang::ZhHans));
        assert_eq!(Lang::from_tag("zh_TW"), Some(Lang::ZhHant));
        assert_eq!(Lang::from_tag("zh-Hant-HK"), Some(Lang::ZhHant));
        assert_eq!(Lang::from_tag("zh"), Some(Lang::ZhHans));
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("fr-FR,zh-TW;q=0.8,en;q=0.7"), Some(Lang::ZhHant));
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
