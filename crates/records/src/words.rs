//! The words of the readable records (HTML and PDF) in the three languages the desk writes: Simplified
//! Chinese, Traditional Chinese (Taiwan usage) and English. Whatever the reader may not know (a status, a
//! channel, an event kind) falls back to its wire name rather than to nothing.

use serde_json::Value;

/// A language of the readable records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Hans,
    Hant,
    En,
}

impl Lang {
    /// The language of an export's `lang` (`zh-Hans`, `zh-CN`, `zh-Hant`, `zh-TW`, `en`, …); English for one
    /// it does not know.
    pub fn from_tag(tag: &str) -> Lang {
        let t = tag.to_ascii_lowercase();
        if t.starts_with("zh-hant") || ["zh-tw", "zh-hk", "zh-mo"].iter().any(|p| t.starts_with(p)) {
            Lang::Hant
        } else if t.starts_with("zh") {
            Lang::Hans
        } else {
            Lang::En
        }
    }

    /// The BCP 47 tag to write in the document.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Hans => "zh-Hans",
            Lang::Hant => "zh-Hant",
            Lang::En => "en",
        }
    }

    /// Chinese text: no spaces between words, so a line may break between any two characters.
    pub fn is_cjk(self) -> bool {
        self != Lang::En
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::Hans => &HANS,
            Lang::Hant => &HANT,
            Lang::En => &EN,
        }
    }

    /// Picks the phrase for this language.
    fn pick<T>(self, hans: T, hant: T, en: T) -> T {
        match self {
            Lang::Hans => hans,
            Lang::Hant => hant,
            Lang::En => en,
        }
    }

    /// `第 1 页，共 3 页`.
    pub fn page(self, n: usize, total: usize) -> String {
        self.pick(
            format!("第 {n} 页，共 {total} 页"),
            format!("第 {n} 頁，共 {total} 頁"),
            format!("Page {n} of {total}"),
        )
    }

    /// The entries a signed head covers: `第 1–5 条`.
    pub fn signed_range(self, seq: i64) -> String {
        self.pick(format!("第 1–{seq} 条"), format!("第 1–{seq} 筆"), format!("1–{seq}"))
    }

    /// How many entries a conversation has.
    pub fn entry_count(self, n: usize) -> String {
        self.pick(format!("共 {n} 条记录"), format!("共 {n} 筆紀錄"), format!("{n} entries"))
    }

    /// A size in bytes, readable and exact: `240.0 KB（245,760 字节）`.
    pub fn size(self, bytes: i64) -> String {
        let exact = group_thousands(bytes);
        let b = bytes as f64;
        let short = if bytes < 1024 {
            None
        } else if b < 1024.0 * 1024.0 {
            Some(format!("{:.1} KB", b / 1024.0))
        } else {
            Some(format!("{:.1} MB", b / (1024.0 * 1024.0)))
        };
        match short {
            None => self.pick(format!("{exact} 字节"), format!("{exact} 位元組"), format!("{exact} bytes")),
            Some(s) => self.pick(
                format!("{s}（{exact} 字节）"),
                format!("{s}（{exact} 位元組）"),
                format!("{s} ({exact} bytes)"),
            ),
        }
    }

    /// Who exported the records: `customer` or `agent:<工号>`.
    pub fn exported_by(self, by: &str) -> String {
        match by.strip_prefix("agent:") {
            Some(no) => self.pick(
                format!("客服（工号 {no}）代客户导出"),
                format!("客服（工號 {no}）代客戶匯出"),
                format!("An agent (Agent ID {no}) on the customer's behalf"),
            ),
            None if by == "customer" => self.pick("客户本人", "客戶本人", "The customer").to_string(),
            None => by.to_string(),
        }
    }

    /// An agent as the reader sees them: `客服 王芳（工号 A1024）`.
    pub fn agent(self, name: Option<&str>, agent_no: Option<&str>) -> String {
        let role = self.words().agent;
        let name = name.map(|n| format!(" {n}")).unwrap_or_default();
        match agent_no {
            Some(no) => self.pick(
                format!("{role}{name}（工号 {no}）"),
                format!("{role}{name}（工號 {no}）"),
                format!("{role}{name} (Agent ID {no})"),
            ),
            None => format!("{role}{name}"),
        }
    }

    /// Who wrote an entry or did what it records, from its `author_kind`/`actor_kind` and the names the export
    /// gives.
    pub fn who(self, kind: &str, name: Option<&str>, agent_no: Option<&str>) -> String {
        let w = self.words();
        match kind {
            "customer" => w.customer_role.to_string(),
            "agent" => self.agent(name, agent_no),
            "bot" => w.bot.to_string(),
            "system" => w.system.to_string(),
            "integration" => w.integration.to_string(),
            other => name.unwrap_or(other).to_string(),
        }
    }

    /// A case's status as the reader says it.
    pub fn status(self, status: &str) -> String {
        let s = match status {
            "new" => self.pick("已提交", "已提交", "Submitted"),
            "open" => self.pick("处理中", "處理中", "Open"),
            "pending" => self.pick("待客户回复", "待客戶回覆", "Awaiting the customer's reply"),
            "on_hold" => self.pick("等待其他部门", "等待其他部門", "On hold"),
            "solved" => self.pick("已解决", "已解決", "Solved"),
            "closed" => self.pick("已关闭", "已關閉", "Closed"),
            other => other,
        };
        s.to_string()
    }

    /// A conversation's channel.
    pub fn channel(self, channel: &str) -> String {
        let s = match channel {
            "chat" => self.pick("在线聊天", "線上對話", "Chat"),
            "ticket" => self.pick("工单", "工單", "Ticket"),
            "email" => self.pick("电子邮件", "電子郵件", "Email"),
            "appeal" => self.pick("申诉", "申訴", "Appeal"),
            other => other,
        };
        s.to_string()
    }

    /// A support tier (`l1`, `l2`, `supervisor`).
    fn tier(self, tier: &str) -> String {
        let s = match tier {
            "l1" => self.pick("一线", "一線", "L1"),
            "l2" => self.pick("二线", "二線", "L2"),
            "supervisor" => self.pick("主管", "主管", "Supervisor"),
            other => other,
        };
        s.to_string()
    }

    /// Quotes a value inside a sentence: “…” in Simplified Chinese, 「…」 in Traditional; English leaves it
    /// bare (a CJK font sets curly quotes full width).
    fn quote(self, s: &str) -> String {
        self.pick(format!("“{s}”"), format!("「{s}」"), s.to_string())
    }

    /// An event as a sentence: `状态由“处理中”变更为“待客户回复”`. An event kind without a phrase is named by
    /// its kind.
    pub fn event(self, kind: &str, data: &Value) -> String {
        let s = |k: &str| data.get(k).and_then(Value::as_str);
        let case = || s("case_number").unwrap_or("—").to_string();
        match kind {
            "status_changed" => {
                let from = self.quote(&self.status(s("from").unwrap_or("—")));
                let to = self.quote(&self.status(s("to").unwrap_or("—")));
                self.pick(
                    format!("状态由{from}变更为{to}"),
                    format!("狀態由{from}變更為{to}"),
                    format!("Status changed from {from} to {to}"),
                )
            }
            "assigned" => match s("name").or(s("agent_no")) {
                Some(_) => {
                    let agent = self.agent(s("name"), s("agent_no"));
                    self.pick(
                        format!("{agent} 已接手处理"),
                        format!("{agent} 已接手處理"),
                        format!("{agent} took over"),
                    )
                }
                None => self.pick("已分配给客服处理", "已指派給客服處理", "Assigned to an agent").to_string(),
            },
            "handover" => self.pick("已转接人工客服", "已轉接真人客服", "Handed over to a human agent").to_string(),
            "chat_ended" => self.pick("对话已结束", "對話已結束", "The chat ended").to_string(),
            "converted_to_ticket" => {
                let c = case();
                self.pick(format!("已转为工单 {c}"), format!("已轉為工單 {c}"), format!("Turned into ticket {c}"))
            }
            "incident_linked" => {
                let t = self.quote(s("title").unwrap_or("—"));
                self.pick(
                    format!("已关联官方公告{t}"),
                    format!("已關聯官方公告{t}"),
                    format!("Linked to the announcement {t}"),
                )
            }
            "merged_into" => {
                let c = case();
                self.pick(
                    format!("本案件已合并至案件 {c}"),
                    format!("本案件已合併至案件 {c}"),
                    format!("Merged into case {c}"),
                )
            }
            "merged_from" => {
                let c = case();
                self.pick(
                    format!("案件 {c} 已合并至本案件"),
                    format!("案件 {c} 已合併至本案件"),
                    format!("Case {c} was merged into this case"),
                )
            }
            "follow_up_opened" => {
                let c = case();
                self.pick(
                    format!("已开立后续案件 {c}"),
                    format!("已開立後續案件 {c}"),
                    format!("Follow-up case {c} opened"),
                )
            }
            "escalated" => {
                let to = self.tier(s("to").unwrap_or("—"));
                self.pick(format!("已升级至{to}处理"), format!("已升級至{to}處理"), format!("Escalated to {to}"))
            }
            "transferred" => {
                self.pick("已转交其他部门处理", "已轉交其他部門處理", "Transferred to another department").to_string()
            }
            "updated" => self.pick("案件信息已更新", "案件資訊已更新", "Case details updated").to_string(),
            "tags_changed" => self.pick("标签已更新", "標籤已更新", "Tags updated").to_string(),
            "created" => self.pick("案件已创建", "案件已建立", "Case created").to_string(),
            other => self.pick(format!("事件：{other}"), format!("事件：{other}"), format!("Event: {other}")),
        }
    }

    /// The one line shown for a withheld entry.
    pub fn withheld(self, why: &str) -> String {
        let s = match why {
            "internal" => self.pick("内部备注，未包含", "內部備註，未收錄", "Internal note, not included"),
            "erased" => self.pick("内容已应要求删除", "內容已依要求刪除", "Content erased on request"),
            _ => self.pick("内容未包含", "內容未收錄", "Content not included"),
        };
        s.to_string()
    }

    /// The paragraph that says what protects the document.
    pub fn verification_intro(self, issuer: &str) -> String {
        self.pick(
            format!(
                "本文件对应的电子记录（JSON 文件）由 {issuer} 以数字签名（Ed25519）保护。每个案件的全部记录按顺序串联成 SHA-256 哈希链，任何一条记录被修改、删除、插入或调换顺序，验证时都会被发现。"
            ),
            format!(
                "本文件對應的電子紀錄（JSON 檔案）由 {issuer} 以數位簽章（Ed25519）保護。每個案件的所有紀錄依序串連成 SHA-256 雜湊鏈，任何一筆紀錄遭到修改、刪除、插入或調換順序，驗證時都會被發現。"
            ),
            format!(
                "The electronic record behind this document (a JSON file) is signed by {issuer} with Ed25519. The entries of each case are linked in order into a SHA-256 hash chain, so any entry altered, removed, inserted or reordered is detected on verification."
            ),
        )
    }

    /// How to verify, one paragraph each.
    pub fn verification_how(self, issuer: &str) -> Vec<String> {
        let issuer = issuer.trim_end_matches('/');
        let page = format!("{issuer}/help/verify");
        let keys = format!("{issuer}/.well-known/lifebuoy-signing-keys");
        match self {
            Lang::Hans => vec![
                "验证方法：在命令行运行 lifebuoy verify 文件名.json；".to_string(),
                format!("或打开帮助中心的验证页面 {page} 并选择该 JSON 文件。验证在您的浏览器中完成，文件不会被上传。"),
                format!("请将上表中的密钥编号与 {keys} 公布的密钥核对。"),
                "本文件（HTML/PDF）便于阅读和打印；如有出入，以经签名的 JSON 文件为准。".to_string(),
            ],
            Lang::Hant => vec![
                "驗證方式：在命令列執行 lifebuoy verify 檔案名稱.json；".to_string(),
                format!("或開啟幫助中心的驗證頁面 {page} 並選擇該 JSON 檔案。驗證在您的瀏覽器中完成，檔案不會上傳。"),
                format!("請將上表中的金鑰編號與 {keys} 公布的金鑰核對。"),
                "本文件（HTML／PDF）便於閱讀與列印；如有出入，以經簽章的 JSON 檔案為準。".to_string(),
            ],
            Lang::En => vec![
                "To verify: run lifebuoy verify FILE.json on a command line,".to_string(),
                format!("or open the help center's verification page {page} and choose the JSON file. It is checked in your browser and never uploaded."),
                format!("Compare the key IDs above with the keys published at {keys}."),
                "This document (HTML/PDF) is for reading and printing; where it differs, the signed JSON file prevails.".to_string(),
            ],
        }
    }
}

/// Groups the digits of `n` by thousands: `245,760`.
fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A time (Unix milliseconds) as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{ms} ms"),
    }
}

/// The fixed labels of the readable records.
pub struct Words {
    pub title: &'static str,
    pub name: &'static str,
    pub uid: &'static str,
    pub email: &'static str,
    pub exported_at: &'static str,
    pub exported_by: &'static str,
    pub issuer: &'static str,
    pub case_number: &'static str,
    pub channel: &'static str,
    pub subject: &'static str,
    pub status: &'static str,
    pub created_at: &'static str,
    pub updated_at: &'static str,
    pub attachment: &'static str,
    pub customer_role: &'static str,
    pub agent: &'static str,
    pub bot: &'static str,
    pub system: &'static str,
    pub integration: &'static str,
    pub verification: &'static str,
    pub head: &'static str,
    pub head_digest: &'static str,
    pub key_id: &'static str,
    pub signed_at: &'static str,
    pub document_key: &'static str,
    pub no_case_number: &'static str,
    pub time: &'static str,
    pub who: &'static str,
    pub content: &'static str,
}

static HANS: Words = Words {
    title: "沟通记录",
    name: "姓名",
    uid: "UID",
    email: "邮箱",
    exported_at: "导出时间",
    exported_by: "导出人",
    issuer: "出具方",
    case_number: "案件编号",
    channel: "渠道",
    subject: "主题",
    status: "状态",
    created_at: "创建时间",
    updated_at: "最后更新",
    attachment: "附件",
    customer_role: "客户",
    agent: "客服",
    bot: "智能客服",
    system: "系统",
    integration: "外部系统",
    verification: "验证信息",
    head: "已签名的记录",
    head_digest: "链头摘要（SHA-256）",
    key_id: "密钥编号",
    signed_at: "签名时间",
    document_key: "整份文件的签名密钥编号",
    no_case_number: "（无编号）",
    time: "时间",
    who: "发送方",
    content: "内容",
};

static HANT: Words = Words {
    title: "溝通紀錄",
    name: "姓名",
    uid: "UID",
    email: "電子郵件",
    exported_at: "匯出時間",
    exported_by: "匯出人",
    issuer: "出具單位",
    case_number: "案件編號",
    channel: "管道",
    subject: "主旨",
    status: "狀態",
    created_at: "建立時間",
    updated_at: "最後更新",
    attachment: "附件",
    customer_role: "客戶",
    agent: "客服",
    bot: "智慧客服",
    system: "系統",
    integration: "外部系統",
    verification: "驗證資訊",
    head: "已簽章的紀錄",
    head_digest: "鏈頭摘要（SHA-256）",
    key_id: "金鑰編號",
    signed_at: "簽章時間",
    document_key: "整份文件的簽章金鑰編號",
    no_case_number: "（無編號）",
    time: "時間",
    who: "傳送者",
    content: "內容",
};

static EN: Words = Words {
    title: "Support records",
    name: "Name",
    uid: "UID",
    email: "Email",
    exported_at: "Exported at",
    exported_by: "Exported by",
    issuer: "Issued by",
    case_number: "Case number",
    channel: "Channel",
    subject: "Subject",
    status: "Status",
    created_at: "Opened",
    updated_at: "Last updated",
    attachment: "Attachment",
    customer_role: "Customer",
    agent: "Agent",
    bot: "Virtual assistant",
    system: "System",
    integration: "Integration",
    verification: "Verification",
    head: "Entries signed",
    head_digest: "Head digest (SHA-256)",
    key_id: "Key ID",
    signed_at: "Signed at",
    document_key: "Key ID of the document signature",
    no_case_number: "(no number)",
    time: "Time",
    who: "From",
    content: "Content",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_and_sizes_are_exact() {
        assert_eq!(utc(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(Lang::Hans.size(245_760), "240.0 KB（245,760 字节）");
        assert_eq!(Lang::En.size(512), "512 bytes");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn tags_map_to_the_three_languages() {
        assert_eq!(Lang::from_tag("zh-Hans"), Lang::Hans);
        assert_eq!(Lang::from_tag("zh-CN"), Lang::Hans);
        assert_eq!(Lang::from_tag("zh-Hant"), Lang::Hant);
        assert_eq!(Lang::from_tag("zh-TW"), Lang::Hant);
        assert_eq!(Lang::from_tag("fr"), Lang::En);
    }

    #[test]
    fn events_read_as_sentences_and_unknown_kinds_keep_their_name() {
        let data = serde_json::json!({"from": "open", "to": "pending"});
        assert_eq!(Lang::Hans.event("status_changed", &data), "状态由“处理中”变更为“待客户回复”");
        assert_eq!(Lang::Hant.event("status_changed", &data), "狀態由「處理中」變更為「待客戶回覆」");
        assert_eq!(Lang::En.event("rated", &data), "Event: rated");
    }
}
