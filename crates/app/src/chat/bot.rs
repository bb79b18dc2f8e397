//! The bot's first line: answer from the knowledge base, hand over to a human when asked or when it cannot
//! answer twice, and pick the order id or transaction hash out of what the customer wrote so the agent starts
//! with context.

use lifebuoy_domain::Lang;

/// Whether a message asks for a human. Matches the button's phrase in the three languages and the ways
/// customers write it.
pub fn wants_human(text: &str) -> bool {
    let t: String = text.trim().to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    const PHRASES: &[&str] = &[
        "转人工",
        "轉人工",
        "人工客服",
        "人工服务",
        "人工服務",
        "找人工",
        "真人客服",
        "客服人员",
        "客服人員",
        "talktoahuman",
        "talktohuman",
        "talktoanagent",
        "talktoagent",
        "speaktoahuman",
        "speaktoanagent",
        "humanagent",
        "liveagent",
        "realperson",
        "customerservice",
    ];
    PHRASES.iter().any(|p| t.contains(p)) || matches!(t.as_str(), "human" | "agent" | "人工" | "客服")
}

/// A transaction hash in a message: 64 hex digits, with or without `0x` (EVM chains, Bitcoin, Tron...).
pub fn tx_hash(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.strip_prefix("0x").unwrap_or(w))
        .find(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|w| w.to_ascii_lowercase())
}

/// An order number in a message: a run of 12 to 24 digits (exchange and C2C order ids look like this).
pub fn order_id(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|w| (12..=24).contains(&w.len())).map(str::to_string)
}

/// What a question is about, from its words, for the notices that concern it (a live "BTC withdrawals delayed"
/// is news to whoever asks about a withdrawal). Withdrawals first: "提币没到账" is about a withdrawal.
pub fn topic_of(text: &str) -> Option<lifebuoy_domain::Category> {
    use lifebuoy_domain::Category::*;
    const WORDS: &[(lifebuoy_domain::Category, &[&str])] = &[
        (Withdrawal, &["提币", "提幣", "提现", "提現", "出金", "withdraw"]),
        (Deposit, &["充值", "充币", "充幣", "入金", "存入", "deposit"]),
        (C2c, &["c2c", "p2p", "otc", "放币", "放幣", "申诉", "申訴"]),
        (Security, &["被盗", "被盜", "盗号", "盜號", "hacked", "stolen", "2fa"]),
        (Kyc, &["实名", "實名", "身份认证", "身分認證", "kyc"]),
        (Account, &["登录", "登錄", "登入", "密码", "密碼", "login", "password"]),
        (Trading, &["合约", "合約", "现货", "現貨", "下单", "下單", "trading", "futures"]),
    ];
    let t = text.to_lowercase();
    WORDS.iter().find(|(_, ws)| ws.iter().any(|w| t.contains(w))).map(|(c, _)| *c)
}

/// One line of an answer: title and where to read it.
pub struct Suggestion {
    pub title: String,
    pub url: String,
}

/// The bot's reply when it found articles.
pub fn answer_text(lang: Lang, found: &[Suggestion]) -> String {
    let (intro, outro) = match lang {
        Lang::ZhHans => {
            ("我在帮助中心找到了这些文章，也许能帮到您：", "如果还没解决，请点击“转人工”，或直接回复“转人工”。")
        }
        Lang::ZhHant => {
            ("我在說明中心找到了這些文章，也許能幫到您：", "如果還沒解決，請點選「轉人工」，或直接回覆「轉人工」。")
        }
        Lang::En => (
            "These help-center articles may answer it:",
            "Not solved? Tap “Talk to a human” or reply “talk to a human”.",
        ),
    };
    let mut s = format!("{intro}\n");
    for (i, f) in found.iter().enumerate() {
        s.push_str(&format!("{}. {} {}\n", i + 1, f.title, f.url));
    }
    s.push_str(outro);
    s
}

/// The bot's reply when nothing fit, before it gives up.
pub fn no_answer_text(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhHans => "抱歉，我没能找到合适的答案。您可以换个说法再问一次，或者回复“转人工”联系人工客服。",
        Lang::ZhHant => "抱歉，我沒能找到合適的答案。您可以換個說法再問一次，或回覆「轉人工」聯繫客服人員。",
        Lang::En => "Sorry, I could not find a good answer. Try asking in other words, or reply “talk to a human”.",
    }
}

/// What the bot says when handing over, asking for the context an agent will need.
pub fn handover_text(lang: Lang, have_context: bool) -> &'static str {
    match (lang, have_context) {
        (Lang::ZhHans, false) => {
            "好的，正在为您转接人工客服。为了节省时间，请先简单描述您的问题；如果涉及充值、提币或 C2C 订单，请附上订单号或 TxID（交易哈希）。"
        }
        (Lang::ZhHans, true) => "好的，正在为您转接人工客服，客服会看到您已提供的信息，请稍候。",
        (Lang::ZhHant, false) => {
            "好的，正在為您轉接客服人員。為了節省時間，請先簡單描述您的問題；如果涉及儲值、提幣或 C2C 訂單，請附上訂單編號或 TxID（交易雜湊）。"
        }
        (Lang::ZhHant, true) => "好的，正在為您轉接客服人員，客服會看到您已提供的資訊，請稍候。",
        (Lang::En, false) => {
            "Connecting you to a support agent. To save time, please describe the problem briefly; for a deposit, withdrawal or C2C order, add the order number or the TxID (transaction hash)."
        }
        (Lang::En, true) => "Connecting you to a support agent; they will see what you have told us. Please hold on.",
    }
}

/// What the bot says when nobody can take the chat now.
pub fn nobody_online_text(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhHans => {
            "现在没有在线的人工客服。您可以继续留言，客服上线后会第一时间回复；也可以提交留言表单，我们会以工单形式通过邮件回复您。"
        }
        Lang::ZhHant => {
            "目前沒有線上的客服人員。您可以繼續留言，客服上線後會第一時間回覆；也可以送出留言表單，我們會以工單形式透過電子郵件回覆您。"
        }
        Lang::En => {
            "No agent is online right now. Leave your messages here and an agent will answer as soon as one is back, or send the message form and we will reply by email as a ticket."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handover_phrases_in_three_languages() {
        for p in ["转人工", "我要 轉人工!", "人工客服在吗", "Talk to a human please", "agent", "I need a live agent"]
        {
            assert!(wants_human(p), "{p}");
        }
        for p in ["提币没到账", "my deposit is missing", "agents of change token", "人工智能交易"] {
            assert!(!wants_human(p), "{p}");
        }
    }

    #[test]
    fn picks_context_out_of_messages() {
        let h = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
        assert_eq!(tx_hash(&format!("hash is {h}, thanks")).as_deref(), Some(&h[2..]));
        assert_eq!(tx_hash("txid 12345"), None);
        assert_eq!(order_id("订单号：202611230001234 还没放币").as_deref(), Some("202611230001234"));
        assert_eq!(order_id("金额 5000 USDT"), None);
    }
}
