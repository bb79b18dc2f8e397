//! The mail-in records on both backends: the blocklist, the per-sender counts the rate limit reads, the
//! sanitised HTML beside a message, refusals with their SMTP outcome, and which customer a sender's address
//! stands for (only an address the exchange's token vouched for joins an exchange customer).

use lifebuoy_domain::{Category, ConversationKind, Lang, Priority};
use lifebuoy_store::{Actor, InboundMail, NewTicket, RefusalReason, ReplyParts, TimelineItem};
use lifebuoy_testkit::{BOTH_BACKENDS, on_backends};

#[tokio::test]
async fn mail_in_records() {
    on_backends(BOTH_BACKENDS, |store, _| async move {
        // The blocklist: an address, or a whole domain; nothing else of the domain, no look-alike.
        store.block_sender("@spam.example", Some("phishing"), Some("agent-1")).await.unwrap();
        store.block_sender("one@other.example", None, None).await.unwrap();
        let again = store.block_sender("@spam.example", Some("still phishing"), None).await.unwrap();
        assert_eq!(again.note.as_deref(), Some("still phishing"));
        assert_eq!(store.blocked_by("x@spam.example").await.unwrap().as_deref(), Some("@spam.example"));
        assert_eq!(store.blocked_by("one@other.example").await.unwrap().as_deref(), Some("one@other.example"));
        assert_eq!(store.blocked_by("two@other.example").await.unwrap(), None);
        assert_eq!(store.blocked_by("x@notspam.example").await.unwrap(), None);
        assert_eq!(store.blocked_senders().await.unwrap().len(), 2);
        assert!(store.unblock_sender("@spam.example").await.unwrap());
        assert!(!store.unblock_sender("@spam.example").await.unwrap());
        assert_eq!(store.blocked_by("x@spam.example").await.unwrap(), None);

        // A sender's mails: a new case and a reply, counted for the last hour.
        let guest = store.mail_customer("Sender@Example.com", Some("Sender")).await.unwrap();
        assert_eq!((guest.kind.as_str(), guest.email.as_deref()), ("guest", Some("sender@example.com")));
        let t = NewTicket {
            kind: ConversationKind::Email,
            customer_id: guest.id.clone(),
            subject: "html".into(),
            body: "text body".into(),
            category: Category::Other,
            priority: Priority::Normal,
            department: None,
            lang: Lang::En,
            order_id: None,
            tx_hash: None,
            asset: None,
            amount: None,
            tags: vec![],
            attachment_ids: vec![],
        };
        // Each mail is noted in the transaction that stores its message, with its HTML beside the text.
        let author = Actor::Customer(guest.id.clone());
        let m1 = InboundMail {
            message_id: "m1@x".into(),
            sender: "sender@example.com".into(),
            html: Some("<p>text <b>body</b></p>".into()),
        };
        let (c, _) = store.create_ticket_from_mail(&t, &author, Some(("mail", "m1@x", "m1@x")), &m1).await.unwrap();
        let first = store.first_message_id(&c.id).await.unwrap().expect("the first message");
        let m2 = InboundMail { message_id: "m2@x".into(), sender: "sender@example.com".into(), html: None };
        let parts = ReplyParts {
            body: "a second mail",
            internal: false,
            attachment_ids: &[],
            client_id: None,
            status: None,
            mail: Some(&m2),
        };
        // Delivered twice: one message, one record.
        for _ in 0..2 {
            store.reply_with_status(&c.id, &author, &parts, Some(("mail", "m2@x", "m2@x"))).await.unwrap();
        }
        let timeline = store.timeline(&c.id, true).await.unwrap();
        let messages = timeline.iter().filter(|i| matches!(i, TimelineItem::Message { .. })).count();
        assert_eq!(messages, 2, "the second delivery of m2 is not stored again");
        let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
        assert_eq!(store.mail_sender_counts("sender@example.com", hour_ago).await.unwrap(), (1, 2));
        assert_eq!(store.mail_sender_counts("other@example.com", hour_ago).await.unwrap(), (0, 0));
        assert_eq!(store.mail_thread(&["m2@x".into()]).await.unwrap().as_deref(), Some(c.id.as_str()));
        let noted = store.mail_thread_records(&c.id).await.unwrap();
        assert_eq!(noted.iter().filter(|r| r.direction == "in").count(), 2, "both mails noted: {noted:?}");
        assert_eq!(store.message_html(&c.id).await.unwrap(), vec![(first.clone(), "<p>text <b>body</b></p>".into())]);

        // Refusals keep what the sending server was told.
        let why = RefusalReason { code: "rate_mails", detail: Some("30"), text: "rate limit" };
        store.record_mail_refusal(Some("r1@x"), Some("a@b.example"), None, &why, "temporary").await.unwrap();
        store.record_mail_rejection(Some("r2@x"), None, Some("s"), "auto").await.unwrap();
        let rows = store.mail_rejections(10).await.unwrap();
        let outcome = |id: &str| rows.iter().find(|r| r.message_id.as_deref() == Some(id)).map(|r| r.outcome.clone());
        assert_eq!((outcome("r1@x").as_deref(), outcome("r2@x").as_deref()), (Some("temporary"), Some("accepted")));
        let r1 = rows.iter().find(|r| r.message_id.as_deref() == Some("r1@x")).unwrap();
        assert_eq!(
            (r1.code.as_deref(), r1.detail.as_deref(), r1.reason.as_str()),
            (Some("rate_mails"), Some("30"), "rate limit")
        );

        // Which customer an address stands for: the exchange's vouched address, not a typed one.
        let typed = store.exchange_customer_or_insert("u-typed", Some("typed@example.com"), None, None).await.unwrap();
        assert_ne!(store.mail_customer("typed@example.com", None).await.unwrap().id, typed.id);
        let known = store.upsert_exchange_customer("u-known", Some("Known@Example.com"), None, None).await.unwrap();
        assert_eq!(store.mail_customer("known@example.com", None).await.unwrap().id, known.id);
        // The same claims again (no write) keep it verified; another address unverifies the old one.
        store.upsert_exchange_customer("u-known", Some("Known@Example.com"), None, None).await.unwrap();
        assert_eq!(store.mail_customer("known@example.com", None).await.unwrap().id, known.id);
        store.upsert_exchange_customer("u-known", None, None, None).await.unwrap();
        assert_ne!(store.mail_customer("known@example.com", None).await.unwrap().id, known.id);
    })
    .await;
}
