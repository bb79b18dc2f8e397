//! The secret guard: finds what a customer must never send to anyone, support included (a BIP39 recovery
//! phrase, a private key, an exchange API secret, a password or a 2FA code), and redacts it before the text is
//! stored. Pure: the use cases call [`redact`] on a ticket's subject and body, a reply, a chat message and an
//! inbound mail before they reach the store, so the secret never reaches the timeline, the ticket index, an
//! export or a log line.
//!
//! What counts:
//! - **Recovery phrases**: 12 or more words in a row from the BIP39 English list (case, numbering such as
//!   `1.` / `2)`, commas and extra spaces tolerated), or 12 or more characters of the Simplified or
//!   Traditional Chinese list written apart (spaces, commas, numbering). A run of exactly 12–24 characters
//!   written together counts only when its BIP39 checksum holds: ordinary Chinese is made of the same
//!   characters.
//! - **Private keys**: WIF (base58check, `5…`, `K…`, `L…`), extended private keys (`xprv`, `yprv`, `zprv`,
//!   `tprv`…), and 64 hex digits named as a key (`private key`, `私钥`…): a bare 64-hex string is most often a
//!   transaction hash, which customers are asked for.
//! - **API secrets**, **passwords** and **2FA codes**: a value given after its name (`secret key: …`,
//!   `密码：…`, `验证码 123456`). Support never asks for any of these, so one sent is always unasked for.

use lifebuoy_domain::Lang;
use std::ops::Range;

/// What kind of secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// A BIP39 recovery phrase (助记词).
    Mnemonic,
    /// A private key: WIF, extended (`xprv`…) or 64 hex digits named as a key.
    PrivateKey,
    /// An exchange API secret (or passphrase).
    ApiSecret,
    /// A password.
    Password,
    /// A one-time code from an authenticator or SMS.
    OneTimeCode,
}

impl SecretKind {
    /// Every kind, in the order markers are documented.
    pub const ALL: [SecretKind; 5] = [
        SecretKind::Mnemonic,
        SecretKind::PrivateKey,
        SecretKind::ApiSecret,
        SecretKind::Password,
        SecretKind::OneTimeCode,
    ];

    /// The wire name (the `secret_redacted` event's `kinds`).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Mnemonic => "mnemonic",
            SecretKind::PrivateKey => "private_key",
            SecretKind::ApiSecret => "api_secret",
            SecretKind::Password => "password",
            SecretKind::OneTimeCode => "one_time_code",
        }
    }

    /// Reads a wire name back.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The visible marker that replaces the secret in the stored text, in the conversation's language.
    pub fn marker(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::ZhHans, SecretKind::Mnemonic) => "[已隐藏：疑似助记词]",
            (Lang::ZhHans, SecretKind::PrivateKey) => "[已隐藏：疑似私钥]",
            (Lang::ZhHans, SecretKind::ApiSecret) => "[已隐藏：疑似 API 密钥]",
            (Lang::ZhHans, SecretKind::Password) => "[已隐藏：疑似密码]",
            (Lang::ZhHans, SecretKind::OneTimeCode) => "[已隐藏：疑似验证码]",
            (Lang::ZhHant, SecretKind::Mnemonic) => "[已隱藏：疑似助記詞]",
            (Lang::ZhHant, SecretKind::PrivateKey) => "[已隱藏：疑似私鑰]",
            (Lang::ZhHant, SecretKind::ApiSecret) => "[已隱藏：疑似 API 金鑰]",
            (Lang::ZhHant, SecretKind::Password) => "[已隱藏：疑似密碼]",
            (Lang::ZhHant, SecretKind::OneTimeCode) => "[已隱藏：疑似驗證碼]",
            (Lang::En, SecretKind::Mnemonic) => "[hidden: looks like a recovery phrase]",
            (Lang::En, SecretKind::PrivateKey) => "[hidden: looks like a private key]",
            (Lang::En, SecretKind::ApiSecret) => "[hidden: looks like an API secret]",
            (Lang::En, SecretKind::Password) => "[hidden: looks like a password]",
            (Lang::En, SecretKind::OneTimeCode) => "[hidden: looks like a 2FA code]",
        }
    }
}

/// The BIP39 word lists the browser's guard (`static/secret-guard.js`) needs, as a script defining
/// `window.LifebuoyBip39 = {en, zhs, zht}` (English words joined by spaces; the Chinese lists as strings of their
/// 2048 characters).
pub fn word_lists_js() -> String {
    let list = |l: bip39::Language, sep: &str| l.word_list().join(sep);
    let v = serde_json::json!({
        "en": list(bip39::Language::English, " "),
        "zhs": list(bip39::Language::SimplifiedChinese, ""),
        "zht": list(bip39::Language::TraditionalChinese, ""),
    });
    format!("window.LifebuoyBip39 = {v};\n")
}

/// One secret found: what and where (a byte range of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: SecretKind,
    pub range: Range<usize>,
}

/// A text with its secrets replaced by markers, and the kinds that were found (sorted, once each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub text: String,
    pub kinds: Vec<SecretKind>,
}

impl Redaction {
    /// Whether anything was hidden.
    pub fn found(&self) -> bool {
        !self.kinds.is_empty()
    }
}

/// Replaces every secret in `text` by its marker in `lang`.
pub fn redact(text: &str, lang: Lang) -> Redaction {
    let findings = scan(text);
    if findings.is_empty() {
        return Redaction { text: text.to_string(), kinds: vec![] };
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut kinds = Vec::new();
    for f in &findings {
        out.push_str(&text[at..f.range.start]);
        out.push_str(f.kind.marker(lang));
        at = f.range.end;
        kinds.push(f.kind);
    }
    out.push_str(&text[at..]);
    kinds.sort();
    kinds.dedup();
    Redaction { text: out, kinds }
}

/// Every secret in `text`, in order, not overlapping.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    mnemonics(text, &mut found);
    keys(text, &mut found);
    named_values(text, &mut found);
    found.sort_by_key(|f| (f.range.start, std::cmp::Reverse(f.range.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match out.last_mut() {
            Some(last) if f.range.start < last.range.end => last.range.end = last.range.end.max(f.range.end),
            _ => out.push(f),
        }
    }
    out
}

/// A word of the text: a run of ASCII letters (lower-cased) or one CJK character, with its byte range.
struct Token<'a> {
    range: Range<usize>,
    text: &'a str,
    cjk: bool,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut word: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphabetic() {
            word.get_or_insert(i);
            continue;
        }
        if let Some(s) = word.take() {
            out.push(Token { range: s..i, text: &text[s..i], cjk: false });
        }
        if is_cjk(c) {
            out.push(Token { range: i..i + c.len_utf8(), text: &text[i..i + c.len_utf8()], cjk: true });
        }
    }
    if let Some(s) = word {
        out.push(Token { range: s..text.len(), text: &text[s..], cjk: false });
    }
    out
}

/// Whether the gap between two words of a phrase may hold only what people put between them: spaces,
/// punctuation, numbering (`1.`, `(2)`, `#3`).
fn separator_only(gap: &str) -> bool {
    gap.chars().all(|c| {
        c.is_whitespace() || c.is_ascii_digit() || (c.is_ascii_punctuation()) || "，、。；：．（）".contains(c)
    })
}

/// The three word lists as sets, built once (`Language::find_word` scans the unsorted Chinese lists).
static LISTS: std::sync::LazyLock<[std::collections::HashSet<&'static str>; 3]> = std::sync::LazyLock::new(|| {
    [bip39::Language::English, bip39::Language::SimplifiedChinese, bip39::Language::TraditionalChinese]
        .map(|l| l.word_list().iter().copied().collect())
});

fn in_list(lang: bip39::Language, word: &str) -> bool {
    let i = match lang {
        bip39::Language::SimplifiedChinese => 1,
        bip39::Language::TraditionalChinese => 2,
        _ => 0,
    };
    LISTS[i].contains(word)
}

fn checksum_ok(lang: bip39::Language, words: &[&str]) -> bool {
    matches!(words.len(), 12 | 15 | 18 | 21 | 24)
        && bip39::Mnemonic::parse_in_normalized(lang, &words.join(" ")).is_ok()
}

/// The findings for a run of 12 or more list words: the phrases in it whose checksum holds (so ordinary list
/// words around a phrase, "please check", stay), or the whole run when none does (a phrase with a typo is still
/// a leak).
fn phrases_in(lang: bip39::Language, toks: &[Token<'_>], run: &[usize], found: &mut Vec<Finding>) {
    if run.len() < 12 {
        return;
    }
    let words: Vec<String> = run.iter().map(|&i| toks[i].text.to_lowercase()).collect();
    let mut windows = Vec::new();
    let mut i = 0;
    while i + 12 <= words.len() {
        let fit = [24, 21, 18, 15, 12].into_iter().find(|&n| {
            i + n <= words.len() && checksum_ok(lang, &words[i..i + n].iter().map(String::as_str).collect::<Vec<_>>())
        });
        match fit {
            Some(n) => {
                windows.push((i, i + n - 1));
                i += n;
            }
            None => i += 1,
        }
    }
    if windows.is_empty() {
        windows.push((0, run.len() - 1));
    }
    for (a, b) in windows {
        found.push(Finding { kind: SecretKind::Mnemonic, range: toks[run[a]].range.start..toks[run[b]].range.end });
    }
}

fn mnemonics(text: &str, found: &mut Vec<Finding>) {
    let toks = tokens(text);
    // English: runs of list words with only separators between them.
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, found: &mut Vec<Finding>| {
        phrases_in(bip39::Language::English, &toks, run, found);
        run.clear();
    };
    for (i, t) in toks.iter().enumerate() {
        let lower = t.text.to_ascii_lowercase();
        let word = !t.cjk && in_list(bip39::Language::English, &lower);
        let joined = run.last().is_some_and(|&p| separator_only(&text[toks[p].range.end..t.range.start]));
        if word && (run.is_empty() || joined) {
            run.push(i);
        } else {
            flush(&mut run, found);
            if word {
                run.push(i);
            }
        }
    }
    flush(&mut run, found);
    // Chinese: characters of one list, written apart (≥ 12) or together (exactly 12–24, checksum holding).
    for lang in [bip39::Language::SimplifiedChinese, bip39::Language::TraditionalChinese] {
        let mut spaced: Vec<usize> = Vec::new();
        let mut block: Vec<usize> = Vec::new();
        let end_spaced = |spaced: &mut Vec<usize>, found: &mut Vec<Finding>| {
            phrases_in(lang, &toks, spaced, found);
            spaced.clear();
        };
        // Written together, a clause of list characters passes a 12-word checksum one time in 16: only a block
        // named as a phrase just before it (助记词：…) counts.
        let end_block = |block: &mut Vec<usize>, found: &mut Vec<Finding>| {
            let words: Vec<&str> = block.iter().map(|&i| toks[i].text).collect();
            let named = block.first().is_some_and(|&i| named_before(text, toks[i].range.start, 40, PHRASE_NAMES, &[]));
            if named && words.iter().all(|w| in_list(lang, w)) && checksum_ok(lang, &words) {
                let r = toks[block[0]].range.start..toks[*block.last().expect("a block")].range.end;
                found.push(Finding { kind: SecretKind::Mnemonic, range: r });
            }
            block.clear();
        };
        for (i, t) in toks.iter().enumerate() {
            let prev_gap = i.checked_sub(1).map(|p| &text[toks[p].range.end..t.range.start]);
            // A block is CJK characters with nothing between them.
            if t.cjk && block.last().is_some_and(|&p| p + 1 == i && prev_gap == Some("")) {
                block.push(i);
            } else {
                end_block(&mut block, found);
                if t.cjk {
                    block.push(i);
                }
            }
            let word = t.cjk && in_list(lang, t.text);
            let apart = spaced
                .last()
                .is_some_and(|&p| p + 1 == i && prev_gap.is_some_and(|g| !g.is_empty() && separator_only(g)));
            if word && (spaced.is_empty() || apart) {
                spaced.push(i);
            } else {
                end_spaced(&mut spaced, found);
                if word {
                    spaced.push(i);
                }
            }
        }
        end_block(&mut block, found);
        end_spaced(&mut spaced, found);
    }
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Base58 decoding with the 4-byte double-SHA-256 check; the payload without it.
fn base58check(s: &str) -> Option<Vec<u8>> {
    use sha2::{Digest, Sha256};
    let mut bytes: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = BASE58.iter().position(|&b| b == c)? as u32;
        for b in bytes.iter_mut().rev() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&b| b == b'1').count();
    let mut full = vec![0u8; zeros];
    full.extend(bytes);
    if full.len() < 5 {
        return None;
    }
    let (payload, check) = full.split_at(full.len() - 4);
    let d = Sha256::digest(Sha256::digest(payload));
    (d[..4] == *check).then(|| payload.to_vec())
}

/// Runs of ASCII letters and digits (with an optional `0x`), with their byte ranges.
fn alnum_runs(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        Some((s..i, &text[s..i]))
    })
}

/// Whether one of `names` (lower-case) ends within `window` bytes before `at`, with no `stop` word after it.
fn named_before(text: &str, at: usize, window: usize, names: &[&str], stop: &[&str]) -> bool {
    let mut from = at.saturating_sub(window);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = text[from..at].to_lowercase();
    let Some(pos) = names.iter().filter_map(|n| before.rfind(n).map(|p| p + n.len())).max() else {
        return false;
    };
    !stop.iter().any(|s| before[pos..].contains(s))
}

const PHRASE_NAMES: &[&str] = &[
    "助记词",
    "助記詞",
    "恢复词",
    "恢復詞",
    "种子词",
    "種子詞",
    "seed",
    "mnemonic",
    "recovery phrase",
    "secret phrase",
];
const KEY_NAMES: &[&str] =
    &["private key", "privatekey", "private_key", "priv key", "privkey", "私钥", "私鑰", "密钥", "密鑰", "secret"];
const TX_WORDS: &[&str] = &["tx", "hash", "哈希", "交易", "txid", "transaction"];

fn keys(text: &str, found: &mut Vec<Finding>) {
    for (range, run) in alnum_runs(text) {
        let hex = run.strip_prefix("0x").or_else(|| run.strip_prefix("0X")).unwrap_or(run);
        let kind = if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            named_before(text, range.start, 60, KEY_NAMES, TX_WORDS)
        } else if ["xprv", "yprv", "zprv", "tprv", "uprv", "vprv", "Yprv", "Zprv"].iter().any(|p| run.starts_with(p)) {
            (100..=115).contains(&run.len())
        } else if matches!((run.len(), run.as_bytes()[0]), (51, b'5' | b'9') | (52, b'K' | b'L' | b'c')) {
            base58check(run).is_some_and(|p| matches!(p.first(), Some(0x80 | 0xef)))
        } else {
            false
        };
        if kind {
            found.push(Finding { kind: SecretKind::PrivateKey, range });
        }
    }
}

/// What may stand between a secret's name and its value: spaces, `:`, `=`, `is`, `是`, quotes…
fn skip_separators(text: &str, mut at: usize) -> usize {
    loop {
        let rest = &text[at..];
        let Some(c) = rest.chars().next() else { return at };
        if c.is_whitespace() || ":：=\"'“”‘’「」(（".contains(c) {
            at += c.len_utf8();
        } else if let Some(w) = ["is ", "are ", "是", "为", "為", "如下"].iter().find(|w| rest.starts_with(**w)) {
            at += w.len();
        } else {
            return at;
        }
    }
}

/// The value after a name: characters up to the next space or closing punctuation.
fn value_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let end = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || "，。；、,;\"'”’」)）".contains(*c) || is_cjk(*c))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].trim_end_matches(['.', '!', '?'])
}

fn named_values(text: &str, found: &mut Vec<Finding>) {
    let lower = text.to_lowercase();
    // `to_lowercase` can change byte lengths outside ASCII; then names are looked for in the text as written.
    let hay = if lower.len() == text.len() { lower.as_str() } else { text };
    let rules: [(&[&str], SecretKind, fn(&str) -> bool); 3] = [
        (
            &[
                "api secret",
                "apisecret",
                "api_secret",
                "secret key",
                "secretkey",
                "secret_key",
                "api密钥",
                "api 密钥",
                "api金鑰",
                "api 金鑰",
                "api密鑰",
                "api 密鑰",
                "passphrase",
            ],
            SecretKind::ApiSecret,
            |v| {
                v.len() >= 16
                    && v.len() <= 128
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b))
                    && v.bytes().any(|b| b.is_ascii_digit())
                    && v.bytes().any(|b| b.is_ascii_alphabetic())
            },
        ),
        (&["password", "passwd", "pwd", "密码", "密碼"], SecretKind::Password, |v| {
            let n = v.chars().count();
            (4..=64).contains(&n)
                && v.chars().all(|c| c.is_ascii_graphic())
                && (v.bytes().any(|b| b.is_ascii_digit()) || v.bytes().any(|b| b.is_ascii_punctuation()))
        }),
        (
            &[
                "2fa code",
                "2fa",
                "otp code",
                "otp",
                "sms code",
                "验证码",
                "驗證碼",
                "verification code",
                "authenticator code",
                "google code",
                "动态码",
                "動態碼",
                "谷歌码",
                "谷歌碼",
            ],
            SecretKind::OneTimeCode,
            |v| matches!(v.len(), 6 | 8) && v.bytes().all(|b| b.is_ascii_digit()),
        ),
    ];
    for (names, kind, fits) in rules {
        for name in names {
            for (pos, _) in hay.match_indices(name) {
                // The name as a word of its own (not `forgot-password-login` in a link), then something between
                // it and the value.
                let glued =
                    |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/');
                if glued(text[..pos].chars().next_back()) {
                    continue;
                }
                let start = skip_separators(text, pos + name.len());
                if start == pos + name.len() {
                    continue;
                }
                let v = value_at(text, start);
                if !v.is_empty() && fits(v) {
                    found.push(Finding { kind, range: start..start + v.len() });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHRASE: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

    fn kinds(text: &str) -> Vec<SecretKind> {
        redact(text, Lang::En).kinds
    }

    #[test]
    fn english_phrases_are_found_however_written() {
        for text in [
            PHRASE.to_string(),
            format!("my recovery words: {PHRASE} please check"),
            PHRASE.to_uppercase(),
            PHRASE.split(' ').enumerate().map(|(i, w)| format!("{}. {w}", i + 1)).collect::<Vec<_>>().join("\n"),
            PHRASE.replace(' ', ",  "),
            // 11 checksum-less words plus one: still twelve list words in a row.
            "abandon ability able about above absent absorb abstract absurd abuse access accident".into(),
        ] {
            let r = redact(&text, Lang::ZhHans);
            assert_eq!(r.kinds, vec![SecretKind::Mnemonic], "{text}");
            assert!(!r.text.contains("sausage") && !r.text.contains("SAUSAGE"), "{}", r.text);
            assert!(r.text.contains("[已隐藏：疑似助记词]"), "{}", r.text);
        }
        let r = redact(&format!("my recovery words: {PHRASE} please check"), Lang::En);
        assert_eq!(r.text, "my recovery words: [hidden: looks like a recovery phrase] please check");
    }

    #[test]
    fn eleven_words_or_a_break_are_not_a_phrase() {
        assert!(kinds("legal winner thank year wave sausage worth useful legal winner thank").is_empty());
        assert!(kinds("legal winner thank year wave sausage, the worth useful legal winner thank yellow").is_empty());
    }

    #[test]
    fn chinese_phrases_written_apart_or_with_a_checksum() {
        let zh = bip39::Mnemonic::parse_in(bip39::Language::English, PHRASE).unwrap();
        let zh = bip39::Mnemonic::from_entropy_in(bip39::Language::SimplifiedChinese, &zh.to_entropy()).unwrap();
        let spaced = zh.words().collect::<Vec<_>>().join(" ");
        let joined = zh.words().collect::<String>();
        for text in [
            format!("助记词：{spaced}"),
            format!("我的助记词是：{joined}。"),
            zh.words().collect::<Vec<_>>().join("，"),
        ] {
            let r = redact(&text, Lang::ZhHans);
            assert_eq!(r.kinds, vec![SecretKind::Mnemonic], "{text}");
            assert!(!r.text.contains(&spaced) && !r.text.contains(&joined), "{}", r.text);
        }
        let tw = bip39::Mnemonic::from_entropy_in(bip39::Language::TraditionalChinese, &zh.to_entropy()).unwrap();
        let text = format!("助記詞 {}", tw.words().collect::<Vec<_>>().join(" "));
        assert_eq!(redact(&text, Lang::ZhHant).kinds, vec![SecretKind::Mnemonic]);
        // Ordinary Chinese is made of list characters, but not apart, nor a checksum-true block.
        assert!(kinds("您好，我的账户被冻结了，提现一直没有到账，请尽快帮我处理一下这个问题，谢谢。").is_empty());
    }

    #[test]
    fn private_keys() {
        let wif = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ";
        let compressed = "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617";
        let xprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
        let hex = "e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262";
        for text in [
            format!("wif {wif}"),
            format!("key: {compressed}"),
            xprv.to_string(),
            format!("my private key is {hex}"),
            format!("私钥：0x{hex}"),
        ] {
            let r = redact(&text, Lang::En);
            assert_eq!(r.kinds, vec![SecretKind::PrivateKey], "{text}");
            assert!(r.text.contains("[hidden: looks like a private key]"));
        }
        // A transaction hash is what support asks for: not a key.
        assert!(kinds(&format!("tx hash 0x{hex}")).is_empty());
        assert!(kinds(&format!("交易哈希：{hex}")).is_empty());
        assert!(kinds(hex).is_empty());
        // A WIF-shaped string whose checksum fails is not a key.
        assert!(kinds("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTA").is_empty());
    }

    #[test]
    fn named_secrets() {
        let cases = [
            ("api secret: 8b2fA9d0c4E1f7a6B3c5d9e2", SecretKind::ApiSecret),
            ("Secret Key = Zx81kQ0p2LmN4vB7cX9d", SecretKind::ApiSecret),
            ("API 密钥是 Zx81kQ0p2LmN4vB7cX9d", SecretKind::ApiSecret),
            ("my password is hunter2!", SecretKind::Password),
            ("登录密码：abc12345", SecretKind::Password),
            ("密碼 Qwe@1234", SecretKind::Password),
            ("谷歌验证码 482913", SecretKind::OneTimeCode),
            ("2FA code: 123456", SecretKind::OneTimeCode),
        ];
        for (text, kind) in cases {
            let r = redact(text, Lang::En);
            assert_eq!(r.kinds, vec![kind], "{text}");
            assert!(!r.text.contains("hunter2") && !r.text.contains("482913") && !r.text.contains("Zx81"));
        }
        for ok in [
            "my password is wrong",
            "I forgot my password",
            "密码错误，登录不了",
            "请输入6位验证码",
            "验证码收不到怎么办",
            "2FA reset takes 24 hours",
            "how do I create an API secret key for my bot",
        ] {
            assert!(kinds(ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn markers_in_each_language() {
        let t = format!("words {PHRASE}");
        assert!(redact(&t, Lang::ZhHant).text.contains("[已隱藏：疑似助記詞]"));
        for k in SecretKind::ALL {
            assert_eq!(SecretKind::parse(k.as_str()), Some(k));
            for l in Lang::ALL {
                assert!(k.marker(*l).starts_with('['));
            }
        }
    }
}
