//! Communication records (issue 12): a customer's conversations exported as signed evidence.
//!
//! The chain itself is written by the store with every timeline entry (see `lifebuoy_store::ChainEntry`); here
//! are the key that signs, the export use case (who may export what, what is withheld from whom) and the
//! sealing of chain heads. The document format and its verification are `lifebuoy_records`.

use crate::{Actor, App, AppError, AppResult};
use lifebuoy_domain::Lang;
use lifebuoy_records::{
    ConversationRecord, CustomerRecord, EntryBody, EntryRecord, Export, FORMAT, PublicKey, Seal, SigningKey,
};
use lifebuoy_store::{ChainEntry, Conversation, now_ms};
use std::path::Path;

/// The key this node signs with, and whether its public half is published yet.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
    created_at: i64,
    published: tokio::sync::OnceCell<()>,
}

/// The key file in the data directory: `<created_at ms> <secret key hex>`, readable by its owner only.
const KEY_FILE: &str = "records-signing.key";

impl Signer {
    /// A key that lives as long as the process (tests, benchmarks).
    pub fn ephemeral() -> Signer {
        Signer { key: SigningKey::generate(), created_at: now_ms(), published: Default::default() }
    }

    /// The node's key kept in `dir` (created there on first use, mode 0600).
    pub fn load_or_create(dir: &Path) -> std::io::Result<Signer> {
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bad = || std::io::Error::other(format!("{} is not a Lifebuoy signing key file", path.display()));
                let (at, hex) = text.trim().split_once(' ').ok_or_else(bad)?;
                let created_at = at.parse().map_err(|_| bad())?;
                let key = SigningKey::from_hex(hex).ok_or_else(bad)?;
                Ok(Signer { key, created_at, published: Default::default() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let s = Signer::ephemeral();
                s.write_to(dir)?;
                tracing::info!(key = %s.key.id(), file = %path.display(), "created the records signing key");
                Ok(s)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the key file in `dir` (mode 0600) through a temporary file and a rename: a crash leaves the old
    /// file or the new one, never half of one.
    fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{KEY_FILE}.tmp"));
        {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let mut f = o.open(&tmp)?;
            writeln!(f, "{} {}", self.created_at, self.key.to_hex())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(KEY_FILE))
    }

    pub fn id(&self) -> String {
        self.key.id()
    }

    pub fn public(&self) -> PublicKey {
        self.key.public(self.created_at)
    }

    /// Publishes the public half (once per process).
    pub async fn publish(&self, app: &App) -> AppResult<()> {
        self.published
            .get_or_try_init(|| async { app.store.register_signing_key(&self.public()).await.map_err(AppError::from) })
            .await?;
        Ok(())
    }
}

/// Rotates the signing key kept in `dir` (`lifebuoy keys rotate`): the old key's public half stays published,
/// marked retired, so everything it signed still verifies; its secret half is overwritten, so a leaked old key
/// can sign nothing the desk would vouch for. Returns (old, new). A running node keeps signing with the key it
/// started with until it is restarted.
pub async fn rotate_signing_key(store: &lifebuoy_store::Store, dir: &Path) -> AppResult<(PublicKey, PublicKey)> {
    if !dir.join(KEY_FILE).exists() {
        return Err(AppError::conflict("no_key", "there is no signing key here yet: the first start creates one"));
    }
    let old =
        Signer::load_or_create(dir).map_err(|e| AppError::Unavailable(format!("reading the signing key: {e}")))?;
    // Published before it is replaced: an old key nobody can look up would make its exports unverifiable.
    store.register_signing_key(&old.public()).await?;
    let new = Signer::ephemeral();
    new.write_to(dir).map_err(|e| AppError::Unavailable(format!("writing the new signing key: {e}")))?;
    store.register_signing_key(&new.public()).await?;
    store.retire_signing_key(&old.id()).await?;
    let retired = store.signing_keys().await?.into_iter().find(|k| k.id == old.id()).unwrap_or_else(|| old.public());
    tracing::info!(old = %old.id(), new = %new.id(), "rotated the records signing key");
    Ok((retired, new.public()))
}

/// The published keys, for `/.well-known/lifebuoy-signing-keys`: every key that ever signed here, this node's
/// own first published if it was not yet.
pub async fn signing_keys(app: &App) -> AppResult<Vec<PublicKey>> {
    app.signer.publish(app).await?;
    Ok(app.store.signing_keys().await?)
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// The customer whose history (agents and integrations must name one, or a conversation; a customer's own
    /// export needs neither).
    pub customer: Option<String>,
    /// Just this conversation.
    pub conversation: Option<String>,
    /// The document's language; the customer's own otherwise.
    pub lang: Option<Lang>,
}

/// A signed export of a customer's conversations (or of one), as `actor` may see them: a customer gets their
/// own only (anyone else's is not found), internal notes withheld; an agent exports on the customer's behalf
/// the conversations their departments reach; supervisors, admins and the exchange's integration all of them.
/// Each conversation's current chain head is sealed (signed and kept) as part of the export.
pub async fn export(app: &App, actor: &Actor, req: &ExportRequest) -> AppResult<Export> {
    let scope = actor.scope();
    let (customer_id, conversations) = match (&req.conversation, &req.customer, actor) {
        (_, Some(other), Actor::Customer(me)) if *other != me.id => return Err(AppError::NotFound),
        (Some(cid), _, _) => {
            let c = app.store.conversation(cid).await?.ok_or(AppError::NotFound)?;
            // The seller of an order reads its conversation (the buyer's) through the order.
            let sees = scope.permits(&c) || crate::c2c::party_sees(app, actor, cid).await?;
            if !sees
                || (!matches!(actor, Actor::Customer(_)) && req.customer.as_ref().is_some_and(|k| *k != c.customer_id))
            {
                return Err(AppError::NotFound);
            }
            // A customer's export is theirs (the seller's names the seller, not the order's buyer).
            let owner = match actor {
                Actor::Customer(me) => me.id.clone(),
                _ => c.customer_id.clone(),
            };
            (owner, vec![c])
        }
        (None, _, Actor::Customer(me)) => (me.id.clone(), app.store.customer_conversations(&me.id).await?),
        (None, Some(k), _) => {
            // Our id for the customer, or the exchange's (its UID), as the exchange's backend knows them.
            let k = match app.store.customer(k).await? {
                Some(c) => c.id,
                None => app.store.exchange_customer(k).await?.ok_or(AppError::NotFound)?.id,
            };
            let all = app.store.customer_conversations(&k).await?;
            (k, all.into_iter().filter(|c| scope.permits(c)).collect())
        }
        (None, None, _) => {
            return Err(AppError::invalid("customer", "name the customer (or the conversation) to export"));
        }
    };
    let customer = app.store.customer(&customer_id).await?.ok_or(AppError::NotFound)?;
    audit(app, actor, "export", Some(&customer_id), req.conversation.as_deref(), "api.records.export").await?;
    let lang = req.lang.or_else(|| customer.lang.as_deref().and_then(|l| Lang::parse(l).ok())).unwrap_or(Lang::En);
    app.signer.publish(app).await?;
    let mut records = Vec::with_capacity(conversations.len());
    let mut new_seals = Vec::new();
    for c in &conversations {
        if let Some((r, sealed)) = conversation_record(app, c, scope.sees_internal()).await? {
            new_seals.extend(sealed.map(|s| (c.id.clone(), s)));
            records.push(r);
        }
    }
    // The heads sealed for this export, kept in one write.
    app.store.put_seals(&new_seals).await?;
    let mut export = Export {
        format: FORMAT.into(),
        exported_at: now_ms(),
        issuer: app.public_url(),
        exported_by: exported_by(actor),
        lang: lang.as_str().into(),
        customer: CustomerRecord {
            id: customer.id.clone(),
            external_id: customer.external_id.clone(),
            name: customer.name.clone(),
            email: customer.email.clone(),
        },
        conversations: records,
        keys: Vec::new(),
        signature: None,
    };
    // Every key that sealed a head in it, so that the document verifies on its own.
    let used: Vec<String> =
        export.conversations.iter().flat_map(|c| c.seals.iter().map(|s| s.key_id.clone())).collect();
    export.keys = app.store.signing_keys().await?.into_iter().filter(|k| used.contains(&k.id)).collect();
    export.sign(&app.signer.key, app.signer.created_at);
    Ok(export)
}

fn exported_by(actor: &Actor) -> String {
    match actor {
        Actor::Customer(_) => "customer".into(),
        Actor::Agent(a) => format!("agent:{}", a.agent_no),
        Actor::Integration { name, .. } => format!("integration:{name}"),
        Actor::System { job } => format!("system:{job}"),
    }
}

/// One conversation's record: its entries as the reader may see them, its seals with the current head newly
/// sealed (that new seal also returned, for the caller to keep). `None` for a conversation with no entry.
async fn conversation_record(
    app: &App,
    c: &Conversation,
    internal: bool,
) -> AppResult<Option<(ConversationRecord, Option<Seal>)>> {
    let entries = app.store.chain_entries(&c.id).await?;
    let Some(last) = entries.last() else { return Ok(None) };
    // Entries from before chains existed are chained when the server starts (`chain_legacy_entries`).
    let head =
        last.digest.clone().ok_or_else(|| AppError::Unavailable("the conversation's chain is incomplete".into()))?;
    let head_seq = last.seq;
    let mut seals = app.store.seals(&c.id).await?;
    let mut sealed = None;
    if seals.last().map(|s| s.seq) != Some(head_seq) {
        let s = Seal::sign(&app.signer.key, &c.id, head_seq, &head, now_ms());
        seals.push(s.clone());
        sealed = Some(s);
    }
    let entries = entries.into_iter().map(|e| entry_record(&c.id, e, internal)).collect();
    Ok(Some((
        ConversationRecord {
            id: c.id.clone(),
            case_number: c.case_number.clone(),
            channel: c.kind.clone(),
            subject: c.subject.clone(),
            status: c.status.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            entries,
            seals,
        },
        sealed,
    )))
}

/// An entry as the reader sees it: shown, or withheld (erased, or an internal note for a customer) with its
/// leaf in place of its content.
fn entry_record(cid: &str, e: ChainEntry, internal: bool) -> EntryRecord {
    let digest = e.digest.clone().unwrap_or_default();
    let body = if let Some(leaf) = e.erased {
        EntryBody::Withheld { withheld: "erased".into(), leaf }
    } else if e.internal() && !internal {
        EntryBody::Withheld { withheld: "internal".into(), leaf: lifebuoy_records::leaf(cid, e.seq, e.at, &e.content) }
    } else {
        EntryBody::Shown { content: e.content, author_name: e.author_name, agent_no: e.agent_no }
    };
    EntryRecord { seq: e.seq, at: e.at, digest, body }
}

/// The forms an export comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The signed document itself (`lifebuoy-records/1`): what `lifebuoy verify` checks.
    Json,
    /// A readable, printable page.
    Html,
    /// The same as a PDF (A4, Chinese fonts embedded).
    Pdf,
}

impl Format {
    pub fn parse(s: &str) -> AppResult<Format> {
        match s {
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "pdf" => Ok(Format::Pdf),
            _ => Err(AppError::invalid("format", "format must be json, html or pdf")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }
}

/// A rendered export: its bytes, and a file name for the download.
pub struct Document {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub file_name: String,
}

/// The font the PDFs are set in, found once (see `lifebuoy_records::FontSource::find`).
static FONT: std::sync::OnceLock<Result<lifebuoy_records::FontSource, String>> = std::sync::OnceLock::new();

/// [`export`] in `format`. A PDF is laid out on a blocking thread (a long history takes seconds).
pub async fn export_document(app: &App, actor: &Actor, req: &ExportRequest, format: Format) -> AppResult<Document> {
    let export = export(app, actor, req).await?;
    let stem = match (&req.conversation, export.conversations.first()) {
        (Some(_), Some(c)) => c.case_number.clone().unwrap_or_else(|| c.id.clone()),
        _ => export.customer.external_id.clone().unwrap_or_else(|| export.customer.id.clone()),
    };
    let day = chrono::DateTime::from_timestamp_millis(export.exported_at)
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default();
    let file_name = format!("lifebuoy-records-{}-{day}.{}", safe_file_part(&stem), format.extension());
    let bytes = match format {
        Format::Json => serde_json::to_vec_pretty(&export).map_err(|e| AppError::Unavailable(e.to_string()))?,
        Format::Html => lifebuoy_records::html(&export).into_bytes(),
        Format::Pdf => tokio::task::spawn_blocking(move || {
            let font = FONT.get_or_init(|| lifebuoy_records::FontSource::find().map_err(|e| e.to_string()));
            let font = font.as_ref().map_err(|e| AppError::Unavailable(e.clone()))?;
            lifebuoy_records::pdf(&export, font).map_err(|e| AppError::Unavailable(e.to_string()))
        })
        .await
        .map_err(|e| AppError::Unavailable(format!("the PDF could not be made: {e}")))??,
    };
    Ok(Document { bytes, format, file_name })
}

/// Letters, digits, `-` and `_` of `s` (a file name part that needs no quoting).
fn safe_file_part(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(64).collect()
}

/// Notes in the access log that staff opened something of a customer's (customers reading their own, and the
/// system's jobs, are not logged). `what`: `customer_page`, `conversation`, `export`; `screen`: where.
pub async fn audit(
    app: &App,
    actor: &Actor,
    what: &str,
    customer_id: Option<&str>,
    conversation_id: Option<&str>,
    screen: &str,
) -> AppResult<()> {
    let (kind, id, label) = match actor {
        Actor::Agent(a) => ("agent", Some(a.id.clone()), format!("{} · {}", a.display_name, a.agent_no)),
        Actor::Integration { token_id, name } => ("integration", Some(token_id.clone()), name.clone()),
        Actor::Customer(_) | Actor::System { .. } => return Ok(()),
    };
    app.store
        .log_access(&lifebuoy_store::NewAccess {
            actor_kind: kind.into(),
            actor_id: id,
            actor_label: label,
            customer_id: customer_id.map(str::to_owned),
            conversation_id: conversation_id.map(str::to_owned),
            what: what.into(),
            screen: screen.into(),
        })
        .await?;
    Ok(())
}

/// Staff find a customer by our id or the exchange's UID, email, name, case number, order id or tx hash
/// (prefixes too).
pub async fn find_customers(app: &App, actor: &Actor, q: &str) -> AppResult<Vec<lifebuoy_store::CustomerHit>> {
    actor.require_staff()?;
    if q.chars().count() > 200 {
        return Err(AppError::invalid("q", "at most 200 characters"));
    }
    Ok(app.store.find_customers(q, 50).await?)
}

/// A customer's page for staff: the profile and every conversation across channels that the actor may see,
/// newest first. Logged in the access log.
pub struct CustomerPage {
    pub customer: lifebuoy_store::Customer,
    pub conversations: Vec<Conversation>,
    /// Conversations of the customer the actor's departments do not reach.
    pub hidden: usize,
}

pub async fn customer_page(app: &App, actor: &Actor, customer_id: &str, screen: &str) -> AppResult<CustomerPage> {
    actor.require_staff()?;
    let customer = app.store.customer(customer_id).await?.ok_or(AppError::NotFound)?;
    let scope = actor.scope();
    let all = app.store.customer_conversations(customer_id).await?;
    let total = all.len();
    let mut conversations: Vec<Conversation> = all.into_iter().filter(|c| scope.permits(c)).collect();
    conversations.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
    audit(app, actor, "customer_page", Some(customer_id), None, screen).await?;
    Ok(CustomerPage { hidden: total - conversations.len(), customer, conversations })
}

/// The access log for supervisors and admins: of a customer, of an agent, or all, newest first; and whether the
/// whole log's chain is intact (`None`) or the first row found changed or missing.
pub async fn access_log(
    app: &App,
    actor: &Actor,
    customer_id: Option<&str>,
    agent_id: Option<&str>,
    before: Option<i64>,
) -> AppResult<(Vec<lifebuoy_store::AccessRow>, Option<i64>)> {
    let supervises = matches!(actor, Actor::Agent(a) if a.role.sees_all());
    if !supervises {
        return Err(AppError::forbidden("supervisors and admins only"));
    }
    let rows = app.store.access_log(customer_id, agent_id, before, 100).await?;
    let broken = app.store.verify_access_log().await?;
    Ok((rows, broken))
}

/// A customer's own history (咨询历史): every conversation across channels, newest first, filtered. Only the
/// customer themself; staff use [`customer_page`].
pub async fn history(
    app: &App,
    actor: &Actor,
    filter: &lifebuoy_store::HistoryFilter,
) -> AppResult<Vec<lifebuoy_store::HistoryRow>> {
    let Actor::Customer(me) = actor else {
        return Err(AppError::forbidden("a customer's own history"));
    };
    if let Some(t) = &filter.text
        && t.chars().count() > 100
    {
        return Err(AppError::invalid("q", "at most 100 characters"));
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        return Err(AppError::invalid("to", "the end date must come after the start date"));
    }
    Ok(app.store.customer_history(&me.id, filter, 200).await?)
}

/// How long a deleted conversation can be restored before the purge erases it.
pub const RECOVERY_DAYS: i64 = 30;
/// The purge job: erases deleted conversations whose recovery window has passed (durable, chained hourly).
pub const PURGE_JOB: &str = "records.purge";
pub const PURGE_EVERY_S: i64 = 3600;

/// Supervisors and admins, the exchange's backend (its compliance staff place holds and act on requests through
/// the API) and the system's jobs. Answers who, as the records name them.
pub(crate) fn require_supervisor(actor: &Actor) -> AppResult<String> {
    match actor {
        Actor::Agent(a) if a.role.sees_all() => Ok(format!("agent:{}", a.agent_no)),
        Actor::Integration { name, .. } => Ok(format!("integration:{name}")),
        Actor::System { job } => Ok(format!("system:{job}")),
        _ => Err(AppError::forbidden("supervisors and admins only")),
    }
}

/// Places a legal hold on a customer or one conversation (supervisors): while it lasts nothing of it is
/// deleted, erased or purged.
pub async fn place_hold(
    app: &App,
    actor: &Actor,
    customer_id: Option<&str>,
    conversation_id: Option<&str>,
    reason: &str,
) -> AppResult<lifebuoy_store::LegalHold> {
    let by = require_supervisor(actor)?;
    let reason = crate::tickets::text_field("reason", reason, 500)?;
    let customer = match (customer_id, conversation_id) {
        (Some(k), None) => app.store.customer(k).await?.ok_or(AppError::NotFound)?.id,
        (None, Some(c)) => app.store.conversation(c).await?.ok_or(AppError::NotFound)?.customer_id,
        _ => return Err(AppError::invalid("customer_id", "name a customer or a conversation")),
    };
    let hold = app.store.place_hold(customer_id, conversation_id, &reason, &by).await?;
    audit(app, actor, "hold_placed", Some(&customer), conversation_id, &format!("hold:{}", hold.id)).await?;
    Ok(hold)
}

/// Releases a legal hold (supervisors). Releasing one already released changes nothing and is no error; an
/// unknown hold is not found.
pub async fn release_hold(app: &App, actor: &Actor, hold_id: &str) -> AppResult<lifebuoy_store::LegalHold> {
    let by = require_supervisor(actor)?;
    if app.store.release_hold(hold_id, &by).await? {
        let h = app.store.hold(hold_id).await?.ok_or(AppError::NotFound)?;
        let customer = match (&h.customer_id, &h.conversation_id) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(c)) => app.store.conversation(c).await?.map(|c| c.customer_id),
            (None, None) => None,
        };
        let screen = format!("hold:{}", h.id);
        audit(app, actor, "hold_released", customer.as_deref(), h.conversation_id.as_deref(), &screen).await?;
        Ok(h)
    } else {
        app.store.hold(hold_id).await?.ok_or(AppError::NotFound)
    }
}

/// Deletes a conversation (supervisors): hidden from the customer's history and exports and from the agents'
/// queue at once, restorable for [`RECOVERY_DAYS`], then erased by the purge. Refused under a legal hold.
pub async fn delete_conversation(app: &App, actor: &Actor, id: &str) -> AppResult<()> {
    let by = require_supervisor(actor)?;
    let c = app.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    app.store.delete_conversation(id, &by).await?;
    audit(app, actor, "conversation_deleted", Some(&c.customer_id), Some(id), "records.delete").await
}

/// Restores a deleted conversation within its recovery window (supervisors).
pub async fn restore_conversation(app: &App, actor: &Actor, id: &str) -> AppResult<()> {
    require_supervisor(actor)?;
    let c = app.store.conversation(id).await?.ok_or(AppError::NotFound)?;
    if app.store.restore_conversation(id).await? {
        audit(app, actor, "conversation_restored", Some(&c.customer_id), Some(id), "records.restore").await
    } else {
        Err(AppError::conflict("not_restorable", "the conversation is not deleted, or its recovery window has passed"))
    }
}

/// Erases a conversation's content, keeping each entry's digest and leaf: the chain stays whole and exports
/// made before still verify. Refused under a legal hold.
pub async fn erase_conversation(app: &App, actor: &Actor, id: &str) -> AppResult<u64> {
    erase_as(app, actor, id, None).await
}

/// [`erase_conversation`], also marking the conversation deleted by `hide_by` if it was not (erased by a
/// retention rule or on the customer's request, it leaves every list at once).
pub(crate) async fn erase_as(app: &App, actor: &Actor, id: &str, hide_by: Option<&str>) -> AppResult<u64> {
    require_supervisor(actor)?;
    let entries = app.store.chain_entries(id).await?;
    let leaves: Vec<(i64, String)> = entries
        .iter()
        .filter(|e| e.erased.is_none())
        .map(|e| (e.seq, lifebuoy_records::leaf(id, e.seq, e.at, &e.content)))
        .collect();
    let n = app.store.erase_conversation(id, &leaves, hide_by).await?;
    tracing::info!(conversation = id, entries = n, by = %actor.key(), "erased a conversation's content");
    Ok(n)
}

/// The purge job: erases every deleted conversation whose recovery window has passed (a held one stays and
/// is tried again next time), then schedules itself again. `{"every_s", "recovery_days"}`.
pub async fn purge(
    app: &App,
    job: lifebuoy_store::Job,
    _ctx: crate::jobs::JobContext,
) -> Result<crate::jobs::JobOutcome, crate::jobs::JobFailure> {
    #[derive(serde::Deserialize)]
    struct Args {
        every_s: Option<i64>,
        recovery_days: Option<i64>,
    }
    let args: Args = job.payload_as()?;
    let window = args.recovery_days.unwrap_or(RECOVERY_DAYS).max(0) * 86_400_000;
    let system = Actor::system(PURGE_JOB);
    let now = now_ms();
    let mut erased = Vec::new();
    // Held ones are looked up apart, so that held conversations never fill the batch and stop the others.
    let mut held = app.store.held_deleted(now - window, 100).await?;
    let due = app.store.due_for_purge(now - window, crate::privacy::PURGE_BATCH).await?;
    for id in due {
        match erase_conversation(app, &system, &id).await {
            Ok(_) => erased.push(id),
            Err(AppError::Conflict { code: "legal_hold", .. }) => held.push(id),
            Err(e) => return Err(crate::jobs::JobFailure::retry(e.to_string())),
        }
    }
    if !erased.is_empty() || !held.is_empty() {
        tracing::info!(erased = erased.len(), held = held.len(), "records purge");
        app.store.log_purge("recovery_window", &erased, &held).await?;
    }
    // Then each channel's retention.
    let by_retention = crate::privacy::purge_by_retention(app, now, crate::privacy::PURGE_BATCH)
        .await
        .map_err(|e| crate::jobs::JobFailure::retry(e.to_string()))?;
    let rules: Vec<serde_json::Value> =
        by_retention.iter().map(|l| serde_json::json!({"rule": l.rule, "erased": l.erased, "held": l.held})).collect();
    let mut out =
        crate::jobs::JobOutcome::done().record(serde_json::json!({"erased": erased, "held": held, "retention": rules}));
    if let Some(every) = args.every_s {
        out = out.then(crate::jobs::builtin::next_in_chain(
            PURGE_JOB,
            serde_json::json!({"every_s": every, "recovery_days": args.recovery_days.unwrap_or(RECOVERY_DAYS)}),
            every,
            now_ms(),
        ));
    }
    Ok(out)
}
