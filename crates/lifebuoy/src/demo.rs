//! Demo data: agents in every tier and department, three customers of a demo exchange, tickets in every
//! status, and a month of past tickets and chats for the dashboards. Loaded once: a second `--demo` start finds
//! the agents and leaves everything as it is.

use lifebuoy_domain::{AgentNo, Category, ConversationKind, Lang, Priority, Role, Status};
use lifebuoy_store::{Actor, NewAgent, NewTicket, Store, TicketChange};

/// The password of every demo agent.
pub const DEMO_PASSWORD: &str = "demo1234";

/// (email, name, agent no, role, languages, departments)
pub const DEMO_AGENTS: &[(&str, &str, &str, Role, &[Lang], &[&str])] = &[
    ("li.na@demo.lifebuoy.dev", "李娜", "A1024", Role::AgentL1, &[Lang::ZhHans, Lang::En], &["support"]),
    (
        "chen.jie@demo.lifebuoy.dev",
        "陳傑",
        "A1031",
        Role::AgentL1,
        &[Lang::ZhHant, Lang::ZhHans],
        &["support", "finance"],
    ),
    (
        "sam.taylor@demo.lifebuoy.dev",
        "Sam Taylor",
        "A2007",
        Role::AgentL2,
        &[Lang::En, Lang::ZhHans],
        &["tech", "support"],
    ),
    ("wang.fang@demo.lifebuoy.dev", "王芳", "R3002", Role::AgentL2, &[Lang::ZhHans], &["risk", "finance"]),
    (
        "zhou.min@demo.lifebuoy.dev",
        "周敏",
        "S9001",
        Role::Supervisor,
        &[Lang::ZhHans, Lang::ZhHant, Lang::En],
        &["support", "tech", "finance", "risk"],
    ),
    ("admin@demo.lifebuoy.dev", "Admin", "ADM01", Role::Admin, &[Lang::En, Lang::ZhHans], &["support"]),
];

/// The demo exchange's official channels (issue 16): (kind, value in normal form, label). The agents' numbers
/// are official through the agents table.
pub const DEMO_CHANNELS: &[(&str, &str, &str)] = &[
    ("domain", "demo.lifebuoy.dev", "官方网站 · Official website"),
    ("email", "support@demo.lifebuoy.dev", "官方客服邮箱 · Support email"),
    ("email", "security@demo.lifebuoy.dev", "安全与风控邮箱 · Security team"),
    ("phone", "+864001234567", "官方客服热线 · Support hotline"),
    ("telegram", "lifebuoydemo", "官方 Telegram 公告频道 · Official Telegram channel"),
    ("x", "lifebuoydemo", "官方 X 账号 · Official X account"),
    ("agent_no", "P2001", "电话客服 · Phone support agent"),
];

pub async fn load(store: &Store) -> anyhow::Result<()> {
    if store.trust_channels().await?.is_empty() {
        for (kind, value, label) in DEMO_CHANNELS {
            store.put_trust_channel(kind, value, label, None).await?;
        }
    }
    if !store.agents().await?.is_empty() {
        return Ok(());
    }
    let hash = lifebuoy_web::auth::hash_password(DEMO_PASSWORD);
    let mut ids = Vec::new();
    for (email, name, no, role, langs, depts) in DEMO_AGENTS {
        let a = store
            .create_agent(&NewAgent {
                email: email.to_string(),
                display_name: name.to_string(),
                agent_no: AgentNo::parse(no)?,
                role: *role,
                languages: langs.to_vec(),
                departments: depts.iter().map(|d| d.to_string()).collect(),
                password_hash: hash.clone(),
            })
            .await?;
        ids.push(a.id);
    }
    let mut customers = Vec::new();
    for (uid, name, email, lang) in lifebuoy_web::pages::DEMO_CUSTOMERS {
        customers.push(store.upsert_exchange_customer(uid, Some(email), Some(name), Some(lang)).await?);
    }
    struct Demo {
        who: usize,
        subject: &'static str,
        body: &'static str,
        category: Category,
        priority: Priority,
        tx: Option<&'static str>,
        agent_reply: Option<(usize, &'static str)>,
        then: Option<Status>,
    }
    let demos = [
        Demo {
            who: 0,
            subject: "USDT 提币 3 小时还没到账",
            body: "我下午两点从平台提了 500 USDT 到我的钱包（TRC20），页面显示“已完成”，但钱包里一直没收到。交易哈希在下面，麻烦帮忙查一下。",
            category: Category::Withdrawal,
            priority: Priority::High,
            tx: Some("7c1f3e9a0b2d4c6e8f10a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2"),
            agent_reply: Some((
                0,
                "您好，已收到您的工单。我们查询到该笔提币已在链上确认 19 次，请核对收款地址是否为您的 TRC20 地址，并在钱包中刷新。如仍未看到，请回复钱包的截图。",
            )),
            then: Some(Status::Pending),
        },
        Demo {
            who: 0,
            subject: "身份认证被拒绝，说照片模糊",
            body: "我已经上传了三次身份证照片，每次都说模糊，但我拍得很清楚。",
            category: Category::Kyc,
            priority: Priority::Normal,
            tx: None,
            agent_reply: None,
            then: None,
        },
        Demo {
            who: 1,
            subject: "C2C 訂單已付款，賣家一直不放幣",
            body: "訂單編號 C2C-88123，我 40 分鐘前已經轉帳 3,000 TWD 並上傳了付款憑證，賣家完全沒回應。請協助處理。",
            category: Category::C2c,
            priority: Priority::Urgent,
            tx: None,
            agent_reply: Some((
                1,
                "您好，我們已聯繫賣家並凍結此訂單的幣，同時為您開啟申訴。請保留銀行轉帳紀錄，不要取消訂單。",
            )),
            then: Some(Status::OnHold),
        },
        Demo {
            who: 2,
            subject: "API returns 'invalid signature' since this morning",
            body: "Our trading bot started getting error 10003 invalid signature at 08:00 UTC. Nothing changed on our side. Key ends with ...9f2a.",
            category: Category::Api,
            priority: Priority::High,
            tx: None,
            agent_reply: Some((
                2,
                "Thanks for the details. Please check that the timestamp you sign is in milliseconds and within the 5-second recv window; our servers moved to stricter clock checks today.",
            )),
            then: Some(Status::Solved),
        },
        Demo {
            who: 2,
            subject: "Deposit sent on the wrong network (BEP20 instead of ERC20)",
            body: "I sent 0.8 ETH to my deposit address but chose BEP20 by mistake. Can it be recovered?",
            category: Category::Deposit,
            priority: Priority::Normal,
            tx: Some("0x4a7b9c2d1e0f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b"),
            agent_reply: None,
            then: None,
        },
        Demo {
            who: 0,
            subject: "账户被冻结了，无法登录",
            body: "今天早上收到短信说账户因风控被冻结，我没有做任何异常操作。",
            category: Category::Security,
            priority: Priority::High,
            tx: None,
            agent_reply: None,
            then: None,
        },
    ];
    for d in demos {
        let c = &customers[d.who];
        let t = NewTicket {
            kind: ConversationKind::Ticket,
            customer_id: c.id.clone(),
            subject: d.subject.into(),
            body: d.body.into(),
            category: d.category,
            priority: d.priority,
            department: None,
            lang: c.lang.as_deref().and_then(|l| Lang::parse(l).ok()).unwrap_or(Lang::ZhHans),
            order_id: None,
            tx_hash: d.tx.map(str::to_string),
            asset: None,
            amount: None,
            tags: vec![],
            attachment_ids: vec![],
        };
        let (conv, _) = store.create_ticket(&t, &Actor::Customer(c.id.clone()), None).await?;
        if let Some((agent, text)) = d.agent_reply {
            let actor = Actor::Agent(ids[agent].clone());
            store.reply(&conv.id, &actor, text, false, &[], None, None).await?;
            if let Some(s) = d.then {
                store.change_ticket(&conv.id, &TicketChange::Status(s), &actor).await?;
            }
        }
    }
    load_history(store, &ids).await
}

/// A month of past conversations from other customers, made through the store as they would happen (answered,
/// solved, rated; chats the bot ended alone or handed to an agent) and then moved into the past, so that the
/// dashboards have numbers the fold computed from real rows. Deterministic: the same month on every machine.
async fn load_history(store: &Store, agents: &[String]) -> anyhow::Result<()> {
    let mut seed: u64 = 0x5DEE_CE66_D1CE_4E5B;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n.max(1)
    };
    const SUBJECTS: &[(Category, &str, &str)] = &[
        (Category::Withdrawal, "USDT 提币一直显示处理中", "support"),
        (Category::Withdrawal, "BTC 提币超过两小时未到账", "finance"),
        (Category::Deposit, "充值 ETH 没有入账", "finance"),
        (Category::Deposit, "充值地址填错了链", "finance"),
        (Category::Kyc, "身份认证一直审核中", "risk"),
        (Category::Account, "手机号换了，无法收到验证码", "support"),
        (Category::Security, "收到陌生设备登录提醒", "risk"),
        (Category::Trading, "合约被强平，想了解原因", "support"),
        (Category::C2c, "C2C 订单付款后对方不放币", "risk"),
        (Category::Api, "API 下单返回签名错误", "tech"),
    ];
    // Which of the demo's L1/L2 agents (by index in DEMO_AGENTS) works which department.
    let staff = |dept: &str| -> &[usize] {
        match dept {
            "finance" => &[1, 3],
            "risk" => &[3],
            "tech" => &[2],
            _ => &[0, 1, 2],
        }
    };
    let now = lifebuoy_store::now_ms();
    let today = now - now % 86_400_000;
    for day in 1..=30i64 {
        for n in 0..(6 + rnd(9)) {
            let (category, subject, dept) = SUBJECTS[rnd(SUBJECTS.len() as u64) as usize];
            let uid = format!("hist-{:03}", rnd(60));
            let customer = store.upsert_exchange_customer(&uid, None, None, Some("zh-Hans")).await?;
            // Busiest from 10:00 to 22:00 Beijing time.
            let hour = (2 + rnd(12) + rnd(3)) as i64 % 24;
            let at = today - day * 86_400_000 + hour * 3_600_000 + rnd(3_600_000) as i64;
            let cust = Actor::Customer(customer.id.clone());
            let crew = staff(dept);
            let agent = Actor::Agent(agents[crew[rnd(crew.len() as u64) as usize]].clone());
            if n % 2 == 0 {
                let t = NewTicket {
                    kind: if rnd(5) == 0 { ConversationKind::Email } else { ConversationKind::Ticket },
                    customer_id: customer.id.clone(),
                    subject: subject.into(),
                    body: "麻烦帮忙查一下，谢谢。".into(),
                    category,
                    priority: Priority::Normal,
                    department: Some(dept.into()),
                    lang: Lang::ZhHans,
                    order_id: None,
                    tx_hash: None,
                    asset: None,
                    amount: None,
                    tags: vec![],
                    attachment_ids: vec![],
                };
                let (conv, _) = store.create_ticket(&t, &cust, None).await?;
                let Actor::Agent(agent_id) = &agent else { continue };
                store.change_ticket(&conv.id, &TicketChange::Assign(Some(agent_id.clone())), &agent).await?;
                if day > 1 || rnd(3) > 0 {
                    store.reply(&conv.id, &agent, "您好，已为您核实处理，请查看。", false, &[], None, None).await?;
                    if day > 2 || rnd(2) == 0 {
                        store.change_ticket(&conv.id, &TicketChange::Status(Status::Solved), &agent).await?;
                        if rnd(10) < 4 {
                            let score = [5, 5, 5, 4, 4, 4, 3, 2][rnd(8) as usize];
                            store.rate_case(&conv.id, &customer.id, score as i64, None).await?;
                        }
                    }
                }
                // Minutes to hours between steps: funds cases mostly within their 30 minutes.
                let step = [4, 9, 16, 25, 45, 90, 240][rnd(7) as usize] * 60_000;
                store.demo_retime(&conv.id, at, step).await?;
            } else {
                let chat = lifebuoy_store::NewChat {
                    customer_id: customer.id.clone(),
                    lang: Lang::ZhHans,
                    department: dept.into(),
                    category,
                    topic: None,
                    body: subject.into(),
                    client_id: None,
                    attachment_ids: vec![],
                };
                let id = store.start_chat(&chat).await?.conversation.id;
                if rnd(10) >= 4 {
                    let Actor::Agent(agent_id) = &agent else { continue };
                    store.chat_handover(&id, &cust, "customer").await?;
                    store.assign_chat(&id, agent_id, &Actor::System, false).await?;
                    store.append_chat_message(&id, &agent, "您好，我来帮您查看。", false, None, &[]).await?;
                }
                store.end_chat(&id, &cust).await?;
                if rnd(2) == 0 {
                    store.rate_chat(&id, &customer.id, [5, 5, 4, 4, 3, 1][rnd(6) as usize] as i64, None).await?;
                }
                store.demo_retime(&id, at, [20, 45, 70, 150][rnd(4) as usize] * 1000).await?;
            }
        }
    }
    Ok(())
}

pub async fn print_banner(store: &Store, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let url = format!("http://{host}:{}", addr.port());
    println!("\nLifebuoy demo is running at {url}");
    println!("  Demo launcher (sign in as a customer): {url}/demo");
    println!("  Agent console: {url}/console/login  (password for every agent: {DEMO_PASSWORD})");
    for a in store.agents().await? {
        println!("    {:<32} {:<6} {}", a.email, a.agent_no, a.role);
    }
    println!();
    Ok(())
}

/// The demo's announcement (issue 13): an ETH network upgrade pausing ETH deposits and withdrawals, live for a
/// week from the first start, in three languages; the widget, the help center and the portal show it and the bot
/// mentions it to customers asking about deposits or withdrawals. Published once.
pub async fn load_announcement(app: &lifebuoy_app::App) -> anyhow::Result<()> {
    use lifebuoy_app::announcements::{self, Publish};
    if !app.store.announcements(1).await?.is_empty() {
        return Ok(());
    }
    let exchange = lifebuoy_app::Actor::Integration { token_id: "demo-exchange".into(), name: "demo exchange".into() };
    let p: Publish = serde_json::from_value(serde_json::json!({
        "title": {
            "zh-Hans": "ETH 网络升级：ETH 充值与提币暂停",
            "zh-Hant": "ETH 網路升級：ETH 充值與提幣暫停",
            "en": "ETH network upgrade: ETH deposits and withdrawals paused"
        },
        "body": {
            "zh-Hans": "为配合以太坊网络升级，ETH 及 ERC20 代币的充值与提币暂停，升级完成后自动恢复，期间资产安全不受影响。其他币种不受影响。",
            "zh-Hant": "為配合以太坊網路升級，ETH 及 ERC20 代幣的充值與提幣暫停，升級完成後自動恢復，期間資產安全不受影響。其他幣種不受影響。",
            "en": "While the Ethereum network upgrades, deposits and withdrawals of ETH and ERC20 tokens are paused; they resume by themselves when it is done, and your funds are safe. Other coins are not affected."
        },
        "ends_at": lifebuoy_store::now_ms() + 7 * 86_400_000i64,
        "topics": ["deposit", "withdrawal"],
        "severity": "maintenance"
    }))?;
    announcements::publish(app, &exchange, p).await?;
    Ok(())
}

/// The demo exchange's account lookup (issue 14): every case shows its customer's KYC level, account state,
/// deposits, withdrawals and open orders from `/demo/exchange/customer-context` on this server, and the exchange
/// has pushed that 陳美玲 is a C2C merchant. Set once (an admin may change it in the console).
pub async fn load_exchange_context(app: &lifebuoy_app::App, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use lifebuoy_app::customer_context::{self, ProfilePush, SourceInput};
    if app.store.context_source().await?.is_some() {
        return Ok(());
    }
    let exchange = lifebuoy_app::Actor::Integration { token_id: "demo-exchange".into(), name: "demo exchange".into() };
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let source = SourceInput {
        url: format!("http://{host}:{}/demo/exchange/customer-context", addr.port()),
        secret: Some(lifebuoy_web::pages::DEMO_CONTEXT_SECRET.into()),
        timeout_ms: None,
        cache_s: Some(30),
    };
    customer_context::set_source(app, &exchange, source).await?;
    let merchant = ProfilePush { vip_tier: Some("VIP2".into()), flags: vec!["c2c_merchant".into()] };
    customer_context::push_profile(app, &exchange, "U10002", merchant).await?;
    Ok(())
}

/// The demo's C2C trades (issue 14). 王芳 (R3002) and 周敏 (S9001) are arbiters, and a decision above 50,000 CNY
/// needs both. 张伟 bought 500 USDT from 陳美玲, paid 40 minutes ago, and appealed; Alex bought from 张伟 and
/// paid (the order chat, ready for an appeal). The demo exchange's own receiver (`/demo/exchange/webhook` on this
/// server) hears every event, signed, and reports a decision carried out. Loaded once.
pub async fn load_c2c(app: &lifebuoy_app::App, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use lifebuoy_app::c2c::{self, OpenAppeal, OrderEventInput, OrderMessage, RegisterOrder};
    use lifebuoy_app::{Actor as Who, webhooks};
    if app.store.order("DEMO-C2C-1001").await?.is_some() {
        return Ok(());
    }
    for a in app.store.agents().await? {
        if ["R3002", "S9001"].contains(&a.agent_no.as_str()) {
            app.store.set_agent_permission(&a.id, c2c::ARBITER, true).await?;
        }
    }
    app.store.set_four_eyes("CNY", Some("50000")).await?;
    let exchange = Who::Integration { token_id: "demo-exchange".into(), name: "demo exchange".into() };
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let endpoint = webhooks::NewEndpoint {
        url: format!("http://{host}:{}/demo/exchange/webhook", addr.port()),
        events: vec!["*".into()],
        secret: lifebuoy_web::pages::DEMO_WEBHOOK_SECRET.into(),
    };
    webhooks::register(app, &exchange, endpoint).await?;
    let who = |uid: &'static str| async move {
        let c = app.store.exchange_customer(uid).await?.ok_or_else(|| anyhow::anyhow!("demo customer {uid}"))?;
        Ok::<_, anyhow::Error>(Who::Customer(c))
    };
    let now = lifebuoy_store::now_ms();
    let orders = [
        ("DEMO-C2C-1001", "U10001", "U10002", "500", "3600.00", "bank_transfer", 40),
        ("DEMO-C2C-1002", "U10003", "U10001", "1000", "7250.00", "alipay", 20),
    ];
    for (id, buyer, seller, amount, fiat, method, paid_min_ago) in orders {
        let o: RegisterOrder = serde_json::from_value(serde_json::json!({
            "id": id, "buyer": buyer, "seller": seller, "asset": "USDT", "amount": amount, "fiat_amount": fiat,
            "fiat_currency": "CNY", "payment_method": method, "created_at": now - (paid_min_ago + 5) * 60_000,
        }))?;
        c2c::register_order(app, &exchange, o).await?;
        let paid = OrderEventInput { event: "paid".into(), at: Some(now - paid_min_ago * 60_000) };
        c2c::order_event(app, &exchange, id, paid).await?;
    }
    let say = |body: &str| OrderMessage { body: body.into(), attachment_ids: vec![], internal: false };
    c2c::post_message(app, &who("U10001").await?, "DEMO-C2C-1001", say("我已经通过招商银行转账 3600 元，请尽快放币。"))
        .await?;
    c2c::post_message(
        app,
        &who("U10002").await?,
        "DEMO-C2C-1001",
        say("我這邊還沒看到入帳，請稍等，我再跟銀行確認一下。"),
    )
    .await?;
    let appeal = OpenAppeal {
        reason: lifebuoy_domain::AppealReason::PaidNotReleased,
        body: "已付款 40 分钟，卖家一直没有放币，后来也不回复消息。转账时间 14:02，招商银行尾号 6688。".into(),
        attachment_ids: vec![],
    };
    c2c::open_appeal(app, &who("U10001").await?, "DEMO-C2C-1001", appeal).await?;
    c2c::post_message(app, &who("U10003").await?, "DEMO-C2C-1002", say("Paid 7,250 CNY via Alipay. Please release."))
        .await?;
    Ok(())
}
