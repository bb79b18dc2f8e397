// Lifebuoy chat window (the page /widget.js opens in an iframe). Speaks docs/chat-protocol.md over /ws/chat
// through chat-client.js (loaded before it): hello with what it has seen, an outbox of unacknowledged messages
// resent after every reconnect, frames deduplicated by seq, reconnect with backoff. Message bodies are shown as
// text; only links are made anchors.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("lb-strings").textContent);
  var T = S.chat || {};
  var TR = S.trust || {};
  var LANG = S.lang;
  function fill(s, vars) {
    if (vars) for (var k in vars) s = s.split("{" + k + "}").join(String(vars[k]));
    return s;
  }
  function t(key, vars) { return fill(T[key] || key, vars); }
  function tr(key, vars) { return fill(TR[key] || key, vars); }
  function kindsText(kinds) {
    return kinds.map(function (k) { return (TR.secret_kinds || {})[k] || k; }).join(TR.kinds_sep || ", ");
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // ---- storage (the iframe's own, partitioned by the browser per embedding site) ----
  var store = LifebuoyChat.storage("localStorage", "lb.");

  var embedded = window.parent !== window;
  var visible = !embedded;
  var session = null;            // {token, kind: "identified"|"visitor", topic}
  var agentsOnline = true;
  var chat = null;               // the open chat's view (from welcome / chat frames)
  var currentCid = store.get("cid");
  var viewing = null;            // a past chat opened from the history, or null
  var agentReceipts = {};        // cid -> {delivered, read}
  var sentReceipts = {};         // cid -> {delivered, read}
  var unread = 0;
  var rated = store.get("rated") || {};
  var typingTimer = null, typingSent = 0, typingOffTimer = null;

  function toParent(msg) { if (embedded) window.parent.postMessage(msg, "*"); }

  // ---- views ----
  var views = ["prechat", "history", "inbox", "offline", "chat", "sos", "order"];
  function show(name) {
    views.forEach(function (v) { $("view-" + v).hidden = v !== name; });
    $("conn").hidden = !session;
    $("btn-history").hidden = !session || name === "prechat";
    $("btn-inbox").hidden = !session || session.kind !== "identified" || name === "prechat";
    $("btn-sos").hidden = !session || session.kind !== "identified" || name === "prechat" || name === "sos";
    updateChrome();
    if (name === "chat") scrollDown(true);
  }

  // ---- connection (chat-client.js): the outbox is kept in "lb.outbox", conversations as {frames, max, ended} ----
  var client = LifebuoyChat.connect({
    url: "/ws/chat",
    autoStart: false,
    enabled: function () { return !!session; },
    store: store,
    retry: $("retry"),
    hello: function () {
      var resume = client.resume();
      return { type: "hello", token: session.token, conversation_id: currentCid || null,
        last_seq: currentCid ? conv(currentCid).max : 0, resume: resume };
    },
    outboxFrame: function (m) {
      var f = { type: "send", client_id: m.client_id, body: m.body };
      if (m.attachment_ids && m.attachment_ids.length) f.attachment_ids = m.attachment_ids;
      if (session && session.topic) f.topic = session.topic;
      return f;
    },
    onState: setConn,
    onFrame: onFrame
  });
  var convs = client.convs;      // cid -> {frames: {seq: frame}, max: n, ended: bool}
  var conv = client.conv;
  var send = client.send;
  var connect = client.connect;

  function setConn(state, secs) {
    var box = $("conn");
    box.className = "lbw-conn is-" + state;
    var text = state === "online" ? t("state_online") :
      state === "reconnecting" ? t("state_reconnecting", { n: secs }) :
      state === "offline" ? t("state_offline") : t("state_connecting");
    box.querySelector(".conn-text").textContent = text;
  }

  // ---- frames ----
  function onFrame(f) {
    switch (f.type) {
      case "welcome":               // the client has resent the outbox and started pinging
        agentsOnline = f.agents_online !== false;
        setChat(f.chat);
        if (!f.chat && currentCid) conv(currentCid).ended = true;
        renderThread();
        break;
      case "ack": onAck(f); break;
      case "msg": case "event": onItem(f); break;
      case "chat":
        if (typeof f.agents_online === "boolean") agentsOnline = f.agents_online;
        setChat(f.chat);
        break;
      case "typing":
        if (f.from === "agent" && f.conversation_id === shownCid()) showTyping(f.on);
        break;
      case "receipt":
        if (f.side === "agent") {
          agentReceipts[f.conversation_id] = { delivered: f.delivered, read: f.read };
          updateTicks();
        }
        break;
      case "history": historyChats = f.chats || []; renderHistory(); break;
      case "rated":
        rated[f.conversation_id] = f.score;
        store.set("rated", rated);
        updateChrome();
        break;
      case "error": onError(f); break;
    }
  }

  function onError(f) {
    if (f.code === "unauthorized") {
      // The session is gone: start over (identified customers get a new one from the exchange's token).
      store.del("session");
      session = null;
      client.close();
      if (identityToken) startIdentified(identityToken); else { show("prechat"); showError("prechat-error", t("session_expired")); }
      return;
    }
    if (f.client_id) {               // the client has dropped it from the outbox
      var node = document.querySelector('[data-client="' + cssEscape(f.client_id) + '"]');
      if (node) {
        node.classList.add("is-failed");
        node.querySelector(".lbw-tick").textContent = "!";
        node.querySelector(".lbw-tick").title = t("failed", { msg: f.message || f.code });
        var note = el("div", "lbw-fail", t("failed", { msg: f.message || f.code }));
        node.appendChild(note);
      }
      return;
    }
    if (f.code === "conflict" && viewingRating()) {
      rated[viewingRating()] = rated[viewingRating()] || 1;
      store.set("rated", rated);
      updateChrome();
      return;
    }
    toast(t("error", { msg: f.message || f.code }));
  }

  function cssEscape(s) { return String(s).replace(/["\\]/g, "\\$&"); }

  function setChat(c) {
    chat = c || null;
    if (chat) {
      if (currentCid !== chat.conversation_id) {
        currentCid = chat.conversation_id;
        store.set("cid", currentCid);
        if (!viewing) renderThread();
      }
      conv(currentCid).ended = chat.state === "ended";
    }
    updateChrome();
  }

  // The client has dropped the message from the outbox.
  function onAck(f) {
    if (!currentCid) {
      currentCid = f.conversation_id;
      store.set("cid", currentCid);
    }
    var node = document.querySelector('[data-client="' + cssEscape(f.client_id) + '"]');
    if (node && !node.dataset.seq) {
      node.dataset.seq = f.seq;
      node.classList.remove("is-pending");
      updateTicks();
    }
  }

  // A msg or event not seen before (the client drops repeats, records the seq and clears the outbox entry).
  function onItem(f) {
    var c = conv(f.conversation_id);
    if (f.type === "event" && f.kind === "chat_ended") c.ended = true;
    if (f.conversation_id === shownCid()) {
      insertItem(f);
      if (f.type === "msg" && f.author.kind !== "customer") showTyping(false);
      scrollDown(false);
    }
    if (f.type === "msg" && f.author.kind !== "customer" && f.conversation_id === currentCid) {
      if (!isSeen()) {
        unread++;
        toParent({ lifebuoy: "unread", count: unread });
      }
    }
    queueReceipt(f.conversation_id);
    if (f.type === "event") updateChrome();
  }

  // ---- receipts ----
  var receiptTimer = null, receiptCids = {};
  function isSeen() { return visible && document.visibilityState === "visible"; }
  function queueReceipt(cid) {
    receiptCids[cid] = true;
    clearTimeout(receiptTimer);
    receiptTimer = setTimeout(function () {
      Object.keys(receiptCids).forEach(sendReceipt);
      receiptCids = {};
    }, 250);
  }
  function sendReceipt(cid) {
    var c = convs[cid];
    if (!c || !c.max) return;
    var prev = sentReceipts[cid] || { delivered: 0, read: 0 };
    var read = isSeen() && cid === shownCid() ? c.max : prev.read;
    if (c.max <= prev.delivered && read <= prev.read) return;
    if (send({ type: "receipt", conversation_id: cid, delivered: c.max, read: read })) {
      sentReceipts[cid] = { delivered: c.max, read: read };
    }
  }
  function nowSeen() {
    if (!isSeen()) return;
    unread = 0;
    toParent({ lifebuoy: "unread", count: 0 });
    if (shownCid()) sendReceipt(shownCid());
  }
  document.addEventListener("visibilitychange", nowSeen);

  // ---- rendering ----
  function shownCid() { return viewing || currentCid; }

  function fmtTime(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function fmtDate(ms) {
    try { return new Date(ms).toLocaleString(LANG, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }); }
    catch (e) { return new Date(ms).toISOString().slice(0, 16).replace("T", " "); }
  }

  // Text first, then links: https:// and /help/ only, as anchors whose text is the URL itself.
  var LINK = /(https?:\/\/[^\s<>"'\u3000-\u303f\uff08\uff09\uff0c]+|\/help\/[A-Za-z-]+\/[A-Za-z0-9._~%-]+)/g;
  function linkify(node, text) {
    var last = 0, m;
    LINK.lastIndex = 0;
    while ((m = LINK.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, "");
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", "lbw-a", url);
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      node.appendChild(a);
      guardLink(a);
      last = m.index + url.length;
      LINK.lastIndex = last;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---- link safety: links to other sites are checked against the official registry; anything not official is
  // marked, and opens only after a confirm step (a look-alike with a red warning) ----
  var verdicts = {};                // value -> Promise of the /api/v1/verify answer
  function verify(value) {
    if (!verdicts[value]) {
      verdicts[value] = fetch("/api/v1/verify?value=" + encodeURIComponent(value))
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    }
    return verdicts[value];
  }
  function guardLink(a) {
    var host;
    try { host = new URL(a.href, location.href).host; } catch (e) { return; }
    if (host === location.host) return;
    a.dataset.check = "pending";
    var tag = null;
    verify(a.href).then(function (v) {
      a.dataset.check = v && v.official ? "official" : v && v.lookalike_of ? "lookalike" : "unknown";
      if (v && v.official) return;
      a.classList.add(v && v.lookalike_of ? "is-lookalike" : "is-warn");
      tag = el("span", "lbw-linktag" + (v && v.lookalike_of ? " is-lookalike" : ""), v && v.lookalike_of ? TR.not_official || "!" : TR.link_badge || "!");
      a.after(tag);
    });
    a.addEventListener("click", function (e) {
      if (a.dataset.check === "official") return;
      e.preventDefault();
      verify(a.href).then(function (v) {
        if (v && v.official) { window.open(a.href, "_blank", "noopener"); return; }
        var box = $("linkcheck");
        box.classList.toggle("is-lookalike", !!(v && v.lookalike_of));
        $("linkcheck-body").textContent = v && v.lookalike_of
          ? tr("link_lookalike", { host: v.value, official: v.lookalike_of })
          : tr("link_unknown", { host: (v && v.value) || host });
        box.hidden = false;
        box.dataset.href = a.href;
        $("linkcheck-cancel").focus();
      });
    });
  }
  $("linkcheck-cancel").addEventListener("click", function () { $("linkcheck").hidden = true; });
  $("linkcheck-open").addEventListener("click", function () {
    var box = $("linkcheck");
    box.hidden = true;
    if (box.dataset.href) window.open(box.dataset.href, "_blank", "noopener,noreferrer");
  });

  // ---- who is real: an agent's number opens the official-channel check's answer for it ----
  function agentBadge(no) {
    var b = el("button", "lbw-verified", tr("verified") + " · " + t("agent_no", { no: no }));
    b.type = "button";
    b.title = tr("verified_title", { no: no });
    b.addEventListener("click", function () {
      var li = b.closest("li");
      var old = li && li.querySelector(".lbw-verdict");
      if (old) { old.remove(); return; }
      verify("工号 " + no).then(function (v) {
        var ok = !!(v && v.official);
        var p = el("p", "lbw-verdict" + (ok ? "" : " is-bad"), ok
          ? tr("badge_official", { no: no, label: v.label || "" })
          : tr("badge_not_official", { no: no }));
        var more = el("a", null, " " + (TR.nav_official || ""));
        more.href = "/help/" + LANG + "/official?value=" + encodeURIComponent("工号 " + no);
        more.target = "_blank";
        more.rel = "noopener";
        p.appendChild(more);
        if (li) li.appendChild(p);
      });
    });
    return b;
  }

  // ---- fresh sign-ins from the exchange's page (step-up, the emergency's confirmation): widget.js asks the
  // page (`window.LifebuoyReauth` or `data-reauth-url`) and posts back a fresh identity token ----
  var reauthWaiters = [];
  function freshToken() {
    return new Promise(function (resolve, reject) {
      if (!embedded) { reject(new Error("no exchange page")); return; }
      reauthWaiters.push({ resolve: resolve, reject: reject });
      toParent({ lifebuoy: "reauth" });
      setTimeout(function () { reject(new Error("timeout")); }, 120000);
    });
  }
  function jsonOf(r) {
    return r.json().then(function (j) {
      if (!r.ok) throw new Error((j && j.error && j.error.message) || r.status);
      return j;
    });
  }
  function postJson(url, body) {
    return authFetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(jsonOf);
  }

  function stepUpNode(f) {
    var d = f.data || {};
    var li = el("li", "lbw-stepup");
    li.dataset.seq = f.seq;
    var action = (TR.step_up_actions || {})[d.action] || d.action;
    li.appendChild(el("strong", null, tr("step_up_title")));
    li.appendChild(el("span", null, tr("step_up_body", { action: action })));
    var b = el("button", "lbw-btn lbw-block", tr("step_up_btn"));
    b.type = "button";
    b.addEventListener("click", function () {
      b.disabled = true;
      freshToken()
        .then(function (tok) { return postJson("/api/v1/trust/step-up/" + encodeURIComponent(d.step_up) + "/complete", { token: tok }); })
        .then(function (s) { b.replaceWith(el("p", "lbw-muted", tr("step_up_done", { time: fmtTime(s.completed_at || Date.now()) }))); })
        .catch(function (err) { b.disabled = false; toast(t("error", { msg: err.message })); });
    });
    li.appendChild(b);
    return li;
  }

  function authFetch(url, opts) {
    opts = opts || {};
    opts.headers = opts.headers || {};
    opts.headers.Authorization = "Bearer " + session.token;
    return fetch(url, opts);
  }

  function renderAttachments(box, atts) {
    (atts || []).forEach(function (a) {
      var url = "/api/v1/attachments/" + encodeURIComponent(a.id);
      if (/^image\//.test(a.content_type)) {
        var img = el("img", "lbw-img");
        img.alt = t("image_alt", { name: a.filename });
        box.appendChild(img);
        authFetch(url).then(function (r) { return r.ok ? r.blob() : null; }).then(function (b) {
          if (b) { img.src = URL.createObjectURL(b); img.addEventListener("load", function () { scrollDown(false); }); }
        }).catch(function () { /* shown as its alt text */ });
        img.addEventListener("click", function () { if (img.src) window.open(img.src, "_blank", "noopener"); });
      } else {
        var f = el("button", "lbw-file");
        f.type = "button";
        f.setAttribute("aria-label", t("open_file", { name: a.filename }));
        f.appendChild(el("span", "lbw-filetag", "PDF"));
        f.appendChild(document.createTextNode(" " + a.filename));
        f.addEventListener("click", function () {
          authFetch(url).then(function (r) { return r.blob(); }).then(function (b) {
            var link = document.createElement("a");
            link.href = URL.createObjectURL(b);
            link.download = a.filename;
            document.body.appendChild(link);
            link.click();
            link.remove();
          }).catch(function (e) { toast(t("error", { msg: e.message })); });
        });
        box.appendChild(f);
      }
    });
  }

  function msgNode(f) {
    var kind = f.author.kind;
    var li = el("li", "lbw-msg " + (kind === "customer" ? "mine" : kind === "bot" ? "theirs bot" : "theirs agent"));
    if (kind !== "customer") {
      var who = el("div", "lbw-who", kind === "bot" ? t("bot") : (f.author.name || ""));
      if (kind === "agent" && f.author.agent_no) who.appendChild(agentBadge(f.author.agent_no));
      li.appendChild(who);
    }
    var bubble = el("div", "lbw-bubble");
    if (f.body) {
      var body = el("div", "lbw-body");
      linkify(body, f.body);
      bubble.appendChild(body);
    }
    if (f.attachments && f.attachments.length) {
      var atts = el("div", "lbw-atts");
      renderAttachments(atts, f.attachments);
      bubble.appendChild(atts);
    }
    li.appendChild(bubble);
    var meta = el("div", "lbw-meta");
    var time = el("time", null, fmtTime(f.at || Date.now()));
    if (f.at) time.dateTime = new Date(f.at).toISOString();
    meta.appendChild(time);
    if (kind === "customer") {
      var tick = el("span", "lbw-tick");
      meta.appendChild(tick);
    }
    li.appendChild(meta);
    if (f.seq) li.dataset.seq = f.seq;
    if (f.client_id) li.dataset.client = f.client_id;
    return li;
  }

  function eventText(f) {
    var d = f.data || {};
    switch (f.kind) {
      case "handover": return t("ev_handover");
      case "assigned": return t("ev_assigned", { name: d.name || "", no: d.agent_no || "" });
      case "chat_ended": return t("ev_ended");
      case "converted_to_ticket": return t("ev_ticket", { case: d.case_number || "" });
      case "incident_linked": return t("ev_incident", { title: d.title || "" });
      case "secret_redacted": return tr("secret_event_customer", { kinds: kindsText(d.kinds || []) });
      case "freeze_requested": return tr("ev_freeze_requested");
      case "freeze_answered": return tr(d.frozen ? "ev_freeze_answered_ok" : "ev_freeze_answered_failed");
      case "step_up_completed": return tr("ev_step_up_completed");
      default: return null;
    }
  }

  function itemNode(f) {
    if (f.type === "msg") return msgNode(f);
    if (f.kind === "step_up_requested") return stepUpNode(f);
    var text = eventText(f);
    if (!text) return null;
    var li = el("li", "lbw-event" + (f.kind === "secret_redacted" ? " lbw-ev-risk" : ""), text);
    li.dataset.seq = f.seq;
    return li;
  }

  // Inserts in sequence order; a pending copy of the customer's own message is replaced by the stored one.
  function insertItem(f) {
    var thread = $("thread");
    if (f.type === "msg" && f.client_id) {
      var pending = thread.querySelector('[data-client="' + cssEscape(f.client_id) + '"]');
      if (pending) pending.remove();
    }
    var node = itemNode(f);
    if (!node) return;
    var before = null;
    var items = thread.querySelectorAll("[data-seq]");
    for (var i = 0; i < items.length; i++) {
      if (+items[i].dataset.seq > f.seq && !items[i].classList.contains("is-pending")) { before = items[i]; break; }
    }
    if (!before) before = thread.querySelector(".is-pending");
    thread.insertBefore(node, before);
    updateTicks();
  }

  function pendingNode(m) {
    var li = msgNode({ author: { kind: "customer" }, body: m.body, client_id: m.client_id, attachments: [], at: m.at });
    li.classList.add("is-pending");
    delete li.dataset.seq;
    if (m.files && m.files.length) {
      var names = el("div", "lbw-atts lbw-muted", m.files.join(", "));
      li.querySelector(".lbw-bubble").appendChild(names);
    }
    return li;
  }

  function renderThread() {
    var thread = $("thread");
    thread.textContent = "";
    var cid = shownCid();
    if (!viewing) {
      var hi = el("li", "lbw-msg theirs bot lbw-greeting");
      hi.appendChild(el("div", "lbw-who", t("bot")));
      var b = el("div", "lbw-bubble");
      b.appendChild(el("div", "lbw-body", t("greeting")));
      hi.appendChild(b);
      thread.appendChild(hi);
    }
    if (cid && convs[cid]) {
      Object.keys(convs[cid].frames).map(Number).sort(function (a, b) { return a - b; }).forEach(function (s) {
        var n = itemNode(convs[cid].frames[s]);
        if (n) thread.appendChild(n);
      });
    }
    if (!viewing) client.pending().forEach(function (m) { thread.appendChild(pendingNode(m)); });
    updateTicks();
    updateChrome();
    scrollDown(true);
  }

  function updateTicks() {
    var cid = shownCid();
    var r = agentReceipts[cid] || { delivered: 0, read: 0 };
    document.querySelectorAll("#thread .lbw-msg.mine").forEach(function (li) {
      var tick = li.querySelector(".lbw-tick");
      if (!tick || li.classList.contains("is-failed")) return;
      var seq = +li.dataset.seq || 0;
      var label, mark, cls;
      if (!seq) { label = t("sending"); mark = "◷"; cls = "pending"; }
      else if (r.read >= seq) { label = t("read"); mark = "✓✓"; cls = "read"; }
      else if (r.delivered >= seq) { label = t("delivered"); mark = "✓✓"; cls = "delivered"; }
      else { label = t("sent"); mark = "✓"; cls = "sent"; }
      tick.textContent = mark;
      tick.className = "lbw-tick is-" + cls;
      tick.title = label;
      tick.setAttribute("aria-label", label);
    });
  }

  function scrollDown(force) {
    var th = $("thread");
    if (force || th.scrollHeight - th.scrollTop - th.clientHeight < 160) th.scrollTop = th.scrollHeight;
  }

  var typingHide = null;
  function showTyping(on) {
    $("typing").hidden = !on;
    clearTimeout(typingHide);
    if (on) typingHide = setTimeout(function () { $("typing").hidden = true; }, 8000);
    scrollDown(false);
  }

  function viewingRating() {
    var cid = shownCid();
    return cid && convs[cid] && convs[cid].ended ? cid : null;
  }

  // Banner, buttons, rating card: everything that follows the chat's state.
  function updateChrome() {
    var banner = $("banner");
    banner.textContent = "";
    var past = !!viewing;
    var st = past ? "ended" : chat ? chat.state : (currentCid && convs[currentCid] && convs[currentCid].ended ? "ended" : null);
    var lines = [];
    if (!past && chat && chat.state === "queued") {
      var q = chat.queue || {};
      var ahead = Math.max(0, (q.position || 1) - 1);
      lines.push(["lbw-b-queue", ahead > 0 ? t("queue", { n: ahead }) : t("queue_next")]);
      if (q.est_wait_ms != null) {
        var m = Math.ceil(q.est_wait_ms / 60000);
        lines.push(["lbw-b-sub", m <= 1 ? t("est_wait_short") : t("est_wait", { m: m })]);
      }
    }
    if (!past && chat && chat.state === "active" && chat.agent) {
      lines.push(["lbw-b-agent", t("serving", { name: chat.agent.name, no: chat.agent.agent_no })]);
    }
    var offline = !past && !agentsOnline && st !== "active" && st !== "ended";
    if (offline) lines.push(["lbw-b-offline", t("agents_offline")]);
    lines.forEach(function (l) { banner.appendChild(el("p", l[0], l[1])); });
    banner.hidden = lines.length === 0 || $("view-chat").hidden;
    banner.className = "lbw-banner" + (offline ? " is-offline" : "");

    $("btn-end").hidden = past || !chat || chat.state === "ended" || $("view-chat").hidden;
    $("btn-handover").hidden = past || (chat && chat.state !== "bot") || st === "ended" || !session;
    $("btn-offline").hidden = past || !offline;
    $("quick").hidden = $("btn-handover").hidden && $("btn-offline").hidden;
    $("past-bar").hidden = !past;
    if (past) {
      var pc = (historyChats.filter(function (h) { return h.conversation_id === viewing; })[0] || {});
      $("past-label").textContent = t("viewing_past", { case: pc.case_number || "" });
    }
    var ended = st === "ended" && shownCid();
    var rateCid = ended ? shownCid() : null;
    $("rate").hidden = !ended;
    if (ended) {
      var done = rated[rateCid] || (past && (historyChats.filter(function (h) { return h.conversation_id === viewing; })[0] || {}).csat_score);
      $("rate-form").hidden = !!done;
      $("rated").hidden = !done;
      $("new-chat").hidden = past;
    }
    $("composer").hidden = past || !!ended;
  }

  function toast(text) {
    var n = el("div", "lbw-toast", text);
    n.setAttribute("role", "alert");
    document.body.appendChild(n);
    setTimeout(function () { n.remove(); }, 5000);
  }
  function showError(id, text) { var e = $(id); e.textContent = text; e.hidden = !text; }

  // ---- sending ----
  function queueMessage(body, attachmentIds, files) {
    var m = { client_id: LifebuoyChat.clientId("c-"), body: body, attachment_ids: attachmentIds || [], files: files || [], at: Date.now() };
    $("thread").appendChild(pendingNode(m));
    updateTicks();
    scrollDown(true);
    client.queue(m);                 // stored, sent now and again after every reconnect until acknowledged
  }

  function startNewIfEnded() {
    if (currentCid && convs[currentCid] && convs[currentCid].ended && (!chat || chat.state === "ended")) {
      currentCid = null;
      chat = null;
      store.del("cid");
      renderThread();
    }
  }

  // ---- the secret guard: a recovery phrase, a key, a password or a code is stopped here, before it is sent ----
  var guarded = null;               // the text the guard stopped, waiting for the customer's choice
  function marker(kind) { return (TR.marker || {})[kind] || "[…]"; }
  function showGuard(body, found) {
    guarded = body;
    var kinds = found.map(function (f) { return f.kind; }).filter(function (k, i, a) { return a.indexOf(k) === i; });
    $("guard-title").textContent = tr("guard_title", { kinds: kindsText(kinds) });
    $("guard-body").textContent = tr("guard_body", { kinds: kindsText(kinds) });
    $("guard").hidden = false;
    $("guard-strip").focus();
  }
  function hideGuard() { guarded = null; $("guard").hidden = true; }
  $("guard-edit").addEventListener("click", function () { hideGuard(); input.focus(); });
  $("guard-strip").addEventListener("click", function () {
    var body = window.LifebuoyGuard.redact(guarded || "", marker);
    hideGuard();
    input.value = "";
    autosize();
    if (body.replace(/\[[^\]]*\]/g, "").trim()) {
      startNewIfEnded();
      queueMessage(body);
    }
  });
  function stopsSecret(body) {
    var found = window.LifebuoyGuard ? window.LifebuoyGuard.scan(body) : [];
    if (found.length) showGuard(body, found);
    return found.length > 0;
  }

  var input = $("input");
  input.addEventListener("paste", function () {
    setTimeout(function () { stopsSecret(input.value); }, 0);
  });
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.replace(/\s+$/, "");
    if (!body.trim()) return;
    if (stopsSecret(body)) return;
    startNewIfEnded();
    queueMessage(body);
    input.value = "";
    autosize();
    send({ type: "typing", on: false });
    typingSent = 0;
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
    input.classList.toggle("is-tall", input.scrollHeight > 140);
  }
  input.addEventListener("input", function () {
    autosize();
    if (!chat || chat.state === "ended") return;
    var now = Date.now();
    if (now - typingSent > 3000) { send({ type: "typing", on: true }); typingSent = now; }
    clearTimeout(typingOffTimer);
    typingOffTimer = setTimeout(function () { send({ type: "typing", on: false }); typingSent = 0; }, 4000);
  });

  $("btn-attach").addEventListener("click", function () { $("file").click(); });
  $("file").addEventListener("change", function () {
    var file = this.files[0];
    this.value = "";
    if (!file) return;
    var note = el("li", "lbw-event lbw-uploading", t("uploading", { name: file.name }));
    $("thread").appendChild(note);
    scrollDown(true);
    var fd = new FormData();
    fd.append("file", file, file.name);
    authFetch("/api/v1/attachments", { method: "POST", body: fd }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || j.error || r.status); return j; });
    }).then(function (meta) {
      note.remove();
      startNewIfEnded();
      queueMessage("", [meta.id], [meta.filename]);
    }).catch(function (e) {
      note.remove();
      toast(t("upload_failed", { msg: e.message }));
    });
  });

  $("btn-handover").addEventListener("click", function () {
    if (chat && chat.state === "bot") send({ type: "handover" });
    else { startNewIfEnded(); queueMessage(t("handover")); }
  });
  $("btn-end").addEventListener("click", function () {
    if (window.confirm(t("end_confirm"))) send({ type: "end" });
  });
  $("btn-close").addEventListener("click", function () { toParent({ lifebuoy: "close" }); });
  $("new-chat").addEventListener("click", function () {
    currentCid = null;
    chat = null;
    store.del("cid");
    renderThread();
    input.focus();
  });

  // Rating.
  var rateForm = $("rate-form");
  rateForm.addEventListener("change", function () {
    var v = rateForm.querySelector("input[name=score]:checked");
    rateForm.querySelector("button[type=submit]").disabled = !v;
    rateForm.querySelectorAll(".lbw-star").forEach(function (s) {
      s.classList.toggle("on", v && +s.querySelector("input").value <= +v.value);
    });
  });
  rateForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = rateForm.querySelector("input[name=score]:checked");
    if (!v) return;
    var f = { type: "rate", conversation_id: shownCid(), score: +v.value };
    var c = rateForm.comment.value.trim();
    if (c) f.comment = c;
    send(f);
  });

  // Messages (站内信): what support told this customer about their requests, with the unread count on the bell.
  function refreshInbox(then) {
    if (!session || session.kind !== "identified") return;
    authFetch("/api/v1/notifications?limit=30").then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      if (!j) return;
      var badge = $("inbox-count");
      badge.hidden = !(j.unread > 0);
      badge.textContent = j.unread > 99 ? "99+" : String(j.unread);
      $("btn-inbox").title = j.unread > 0 ? t("inbox_unread", { n: j.unread }) : t("inbox");
      if (then) then(j.items || []);
    }).catch(function () {});
  }
  $("btn-inbox").addEventListener("click", function () {
    $("inbox-list").textContent = "";
    $("inbox-list").appendChild(el("li", "lbw-muted", "…"));
    show("inbox");
    refreshInbox(function (items) {
      var ul = $("inbox-list");
      ul.textContent = "";
      if (!items.length) { ul.appendChild(el("li", "lbw-muted", t("inbox_empty"))); return; }
      items.forEach(function (n) {
        var li = el("li", "lbw-note" + (n.read ? "" : " unread"));
        var d = el("details");
        var s = el("summary");
        s.appendChild(el("strong", null, n.title));
        s.appendChild(el("span", "lbw-muted", " · " + fmtDate(n.created_at)));
        d.appendChild(s);
        var body = el("div", "lbw-note-body");
        linkify(body, n.body);
        d.appendChild(body);
        li.appendChild(d);
        ul.appendChild(li);
      });
      if (items.some(function (n) { return !n.read; })) {
        authFetch("/api/v1/notifications/read", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })
          .then(function () { $("inbox-count").hidden = true; }).catch(function () {});
      }
    });
  });
  $("inbox-back").addEventListener("click", function () { show("chat"); });

  // History: every conversation of this customer across channels (chats, tickets, mail) from the records
  // API, searchable; chats open here with the state and rating the chat protocol's history frame gives them,
  // tickets and mail in the help center.
  var historyChats = [], historyRows = null, historyAsked = 0, historyTimer = null;
  $("btn-history").addEventListener("click", function () {
    show("history");
    loadHistory();
    send({ type: "history" });
  });
  $("history-back").addEventListener("click", function () { show("chat"); });
  $("past-back").addEventListener("click", function () { viewing = null; renderThread(); });
  $("history-filter").addEventListener("input", function () { clearTimeout(historyTimer); historyTimer = setTimeout(loadHistory, 250); });
  $("history-filter").addEventListener("change", function () { clearTimeout(historyTimer); loadHistory(); });
  $("history-filter").addEventListener("submit", function (e) { e.preventDefault(); loadHistory(); });
  function loadHistory() {
    var f = $("history-filter"), qs = new URLSearchParams(), mine = ++historyAsked, ul = $("history-list");
    if (f.q.value.trim()) qs.set("q", f.q.value.trim());
    if (f.channel.value) qs.set("channel", f.channel.value);
    ul.textContent = "";
    ul.appendChild(el("li", "lbw-muted", "…"));
    fetch("/api/v1/records/history?" + qs.toString(), { headers: { Authorization: "Bearer " + session.token } })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || r.status); return j; }); })
      .then(function (j) { if (mine === historyAsked) { historyRows = j.conversations || []; renderHistory(); } })
      .catch(function (e) {
        if (mine !== historyAsked) return;
        ul.textContent = "";
        ul.appendChild(el("li", "lbw-error", t("history_failed", { msg: e.message })));
      });
  }
  function renderHistory() {
    if (historyRows === null) return;
    var ul = $("history-list"), f = $("history-filter");
    ul.textContent = "";
    if (!historyRows.length) {
      ul.appendChild(el("li", "lbw-muted", t(f.q.value.trim() || f.channel.value ? "history_none_found" : "history_empty")));
      return;
    }
    historyRows.forEach(function (r) {
      var chat = historyChats.filter(function (h) { return h.conversation_id === r.id; })[0];
      var isChat = r.kind === "chat";
      var b = el(isChat ? "button" : "a", "lbw-hist");
      if (isChat) b.type = "button";
      else {
        // An order's conversation opens on the order's page; tickets and emails on theirs.
        b.href = r.kind === "appeal" && r.order_id ? "/portal/orders/" + encodeURIComponent(r.order_id) : "/portal/tickets/" + encodeURIComponent(r.id);
        b.target = "_blank"; b.rel = "noopener"; b.title = t("history_open");
      }
      var top = el("span", "lbw-hist-top"), left = el("span");
      left.appendChild(el("span", "lbw-pill ch", (S.channel && S.channel[r.kind]) || r.kind));
      left.appendChild(el("strong", null, r.case_number || ""));
      top.appendChild(left);
      if (chat) top.appendChild(el("span", "lbw-pill st-" + chat.state, t("st_" + chat.state)));
      else top.appendChild(el("span", "lbw-pill st-" + r.status, (S.status && S.status[r.status]) || r.status));
      b.appendChild(top);
      b.appendChild(el("span", "lbw-hist-subj", r.subject));
      b.appendChild(el("span", "lbw-muted", fmtDate(r.updated_at) + (r.agent_no ? " · " + t("agent_no", { no: r.agent_no }) : "")));
      if (chat && chat.csat_score) b.appendChild(el("span", "lbw-stars-static", "★★★★★".slice(0, chat.csat_score)));
      if (isChat) b.addEventListener("click", function () { openPast(chat || { conversation_id: r.id, state: "ended" }); });
      var li = el("li");
      li.appendChild(b);
      ul.appendChild(li);
    });
  }
  function openPast(c) {
    var cid = c.conversation_id;
    viewing = cid === currentCid && c.state !== "ended" ? null : cid;
    if (c.state === "ended") conv(cid).ended = true;
    if (c.csat_score) { rated[cid] = c.csat_score; }
    show("chat");
    renderThread();
    send({ type: "resume", conversation_id: cid, last_seq: convs[cid] ? convs[cid].max : 0 });
  }

  // Out-of-hours message form → a ticket.
  $("btn-offline").addEventListener("click", function () {
    var f = $("offline-form");
    if (session && session.topic) f.topic.value = session.topic;
    show("offline");
    f.body.focus();
  });
  $("offline-cancel").addEventListener("click", function () { show("chat"); });
  // ---- "my account may be stolen": an urgent case, confirmed with a fresh sign-in, then the freeze ----
  function sosStatus(text, done) {
    var p = $("sos-status");
    p.textContent = text || "";
    p.hidden = !text;
    p.classList.toggle("is-done", !!done);
  }
  $("btn-sos").addEventListener("click", function () { show("sos"); });
  $("sos-back").addEventListener("click", function () { show("chat"); });
  $("sos-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var btn = $("sos-start"), note = e.target.note.value.trim(), cas = "";
    if (window.LifebuoyGuard && window.LifebuoyGuard.scan(note).length) note = window.LifebuoyGuard.redact(note, marker);
    btn.disabled = true;
    function poll(id, n) {
      authFetch("/api/v1/trust/emergency/" + encodeURIComponent(id)).then(jsonOf).then(function (em) {
        if (em.state === "frozen") sosStatus(tr("sos_frozen", { case: cas }), true);
        else if (em.state === "failed") sosStatus(tr("sos_failed", { case: cas }));
        else if (n < 90) setTimeout(function () { poll(id, n + 1); }, 1500);
      });
    }
    postJson("/api/v1/trust/emergency", note ? { note: note } : {})
      .then(function (j) {
        cas = j.case_number || "";
        sosStatus(tr("sos_opened", { case: cas }));
        return freshToken().then(function (tok) {
          return postJson("/api/v1/trust/emergency/" + encodeURIComponent(j.emergency.id) + "/confirm", { token: tok }).then(function () {
            sosStatus(tr("sos_confirming"));
            poll(j.emergency.id, 0);
          });
        }, function () { sosStatus(tr("sos_reauth_failed", { case: cas })); });
      })
      .catch(function (err) { btn.disabled = false; sosStatus(t("error", { msg: err.message })); });
  });

  $("offline-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target;
    var body = f.body.value.trim();
    if (!body) { showError("offline-error", t("offline_body")); f.body.focus(); return; }
    // The secret guard: the secret is taken out of the form (not sent); sending again sends the rest.
    var found = window.LifebuoyGuard ? window.LifebuoyGuard.scan(body) : [];
    if (found.length) {
      var kinds = kindsText(found.map(function (x) { return x.kind; }).filter(function (k, i, a) { return a.indexOf(k) === i; }));
      f.body.value = window.LifebuoyGuard.redact(body, marker);
      showError("offline-error", tr("guard_title", { kinds: kinds }) + (LANG === "en" ? ". " : "。") + tr("guard_body", { kinds: kinds }));
      return;
    }
    var payload = { body: body };
    if (f.topic.value) payload.topic = f.topic.value;
    if (f.email.value.trim()) payload.email = f.email.value.trim();
    authFetch("/api/v1/chat/offline", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); })
      .then(function (j) {
        f.reset();
        showError("offline-error", "");
        show("chat");
        var li = el("li", "lbw-event lbw-done", t("offline_done", { case: j.case_number }));
        $("thread").appendChild(li);
        scrollDown(true);
      })
      .catch(function (err) { showError("offline-error", t("error", { msg: err.message })); });
  });

  // ---- sessions ----
  function begin(s) {
    session = s;
    store.set("session", s);
    show("chat");
    renderThread();
    connect();
    refreshInbox();
    if (pendingOrder) { var id = pendingOrder; pendingOrder = null; openOrderView(id); }
  }

  function startIdentified(token) {
    // The chats this browser had as a visitor join the account: the visitor session's token is the proof.
    var saved = store.get("session");
    var req = { identity_token: token };
    if (saved && saved.kind === "visitor" && saved.token) req.visitor_token = saved.token;
    fetch("/api/v1/chat/session", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(req) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); })
      .then(function (j) {
        agentsOnline = j.agents_online !== false;
        var prev = store.get("session");
        if (prev && prev.kind === "visitor" && j.joined > 0) {
          // The visitor's chat is the customer's now: keep it open.
        } else if (!prev || prev.customer !== j.customer.id) {
          // Another person on this browser: forget the last one's chat.
          store.del("cid"); client.clearOutbox();
          currentCid = null;
        }
        begin({ token: j.token, kind: "identified", customer: j.customer.id });
      })
      .catch(function (e) { show("prechat"); showError("prechat-error", t("error", { msg: e.message })); });
  }

  $("prechat").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target;
    var email = f.email.value.trim();
    if (!email || !f.email.checkValidity()) { showError("prechat-error", t("email")); f.email.focus(); return; }
    var payload = { email: email, lang: f.lang.value };
    if (f.name.value.trim()) payload.name = f.name.value.trim();
    if (f.topic.value) payload.topic = f.topic.value;
    fetch("/api/v1/chat/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); })
      .then(function (j) {
        agentsOnline = j.agents_online !== false;
        store.del("cid"); client.clearOutbox();
        currentCid = null;
        var s = { token: j.token, kind: "visitor", topic: payload.topic || null, customer: j.customer.id };
        if (payload.lang !== LANG) {
          store.set("session", s);
          location.replace("/chat/widget?lang=" + encodeURIComponent(payload.lang));
          return;
        }
        begin(s);
      })
      .catch(function (err) { showError("prechat-error", t("error", { msg: err.message })); });
  });

  // ---- C2C order mode (Lifebuoy.openOrder): the order's chat between buyer and seller, with proof and the
  // appeal, drawn from the API with this window's session (docs/widget.md). Polled while shown. ----
  var C = S.c2c || {};
  function c2(key, vars) { var v = C[key]; return fill(typeof v === "string" ? v : key, vars); }
  function c2m(map, key) { return (C[map] || {})[key] || key; }
  var pendingOrder = null, orderId = null, orderView = null, orderTimer = null, orderBusy = false;
  function openOrderView(id) {
    if (!session || session.kind !== "identified") {
      pendingOrder = id;
      if (session) { show("order"); showError("order-error", c2("signin_needed")); }
      return;
    }
    orderId = id;
    orderView = null;
    $("order-title").textContent = c2("order_title", { id: id });
    $("order-thread").textContent = "";
    $("order-card").textContent = "";
    $("order-appeal").hidden = true;
    $("order-appeal-form").hidden = true;
    showError("order-error", "");
    show("order");
    loadOrder();
  }
  function orderShown() { return orderId && !$("view-order").hidden; }
  function loadOrder() {
    clearTimeout(orderTimer);
    if (!orderShown()) return;
    var id = orderId;
    authFetch("/api/v1/c2c/orders/" + encodeURIComponent(id))
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); })
      .then(function (v) { if (id === orderId) { orderView = v; renderOrder(); } })
      .catch(function (e) { if (id === orderId) showError("order-error", c2("load_failed", { msg: e.message })); })
      .then(function () { if (id === orderId && orderShown()) orderTimer = setTimeout(loadOrder, 5000); });
  }
  function fact(dl, label, value) {
    if (value == null || value === "") return;
    var d = el("div");
    d.appendChild(el("dt", null, label));
    d.appendChild(el("dd", null, value));
    dl.appendChild(d);
  }
  function whoIs(p, form) { return p === orderView.party ? (C[form] || {}).me : (C[form] || {})[p] || p; }
  function eventText(e) {
    var d = e.data || {}, why = d.reason || "";
    switch (e.kind) {
      case "order_updated": return c2("ev_order", { state: c2m("order_state", d.state) });
      case "appeal_opened": return c2("ev_opened", { party: whoIs(d.party, "subj"), reason: c2m("reason", d.reason) });
      case "appeal_decided": return c2("ev_decided", { decision: c2m("decision", d.decision) });
      case "appeal_status_changed":
        if (d.to === "awaiting_evidence") return c2("ev_evidence", { party: whoIs(d.party, "obj"), due: fmtDate(d.due_at) });
        if (d.to === "in_review" && why === "evidence_received") return c2("ev_evidence_received", { party: whoIs(d.party, "subj") });
        if (d.to === "in_review" && why === "deadline_passed") return c2("ev_deadline_passed", { party: whoIs(d.party, "subj") });
        if (d.to === "in_review" && why === "approval_refused") return c2("ev_approval_refused");
        if (d.to === "in_review") return c2("ev_in_review");
        if (d.to === "withdrawn") return c2("ev_withdrawn", { party: d.party ? whoIs(d.party, "subj") : c2("system") });
        if (d.to === "executed") return c2("ev_executed");
        if (d.to === "closed") return c2("ev_closed");
        return c2("ev_status", { to: c2m("status", d.to) });
    }
    return null;
  }
  function renderOrder() {
    var v = orderView, o = v.order, party = v.party;
    var card = $("order-card");
    card.textContent = "";
    var top = el("div", "lbw-order-top");
    top.appendChild(el("span", "lbw-muted", c2m("role_line", party) + (v.case_number ? " · " + v.case_number : "")));
    var st = el("span", "lbw-pill os-" + o.state, c2m("order_state", o.state));
    st.id = "order-state";
    top.appendChild(st);
    card.appendChild(top);
    var dl = el("dl", "lbw-order-facts");
    fact(dl, c2("amount"), o.amount + " " + o.asset);
    fact(dl, c2("fiat"), o.fiat_amount + " " + o.fiat_currency);
    fact(dl, c2("payment_method"), o.payment_method);
    fact(dl, c2("paid_at"), o.paid_at ? fmtDate(o.paid_at) : c2("none"));
    card.appendChild(dl);
    // The appeal's progress.
    var a = v.appeal || (v.appeals && v.appeals[0]) || null, box = $("order-appeal");
    box.textContent = "";
    box.hidden = !a;
    if (a) {
      box.className = "lbw-order-appeal ap-box-" + a.status;
      var head = el("div", "lbw-order-top");
      head.appendChild(el("strong", null, c2("status_title")));
      var pill = el("span", "lbw-pill ap-" + a.status, c2m("status", a.status));
      pill.id = "order-appeal-status";
      head.appendChild(pill);
      box.appendChild(head);
      box.appendChild(el("p", "lbw-muted", (a.opened_by === party ? c2("opened_by_me") : c2("opened_by_other", { party: (C.subj || {})[a.opened_by] || a.opened_by })) + " · " + c2m("reason", a.reason)));
      if (a.status === "awaiting_evidence") {
        var ask = a.awaiting_party === party ? c2("evidence_you", { due: fmtDate(a.evidence_due_at) }) : c2("evidence_other", { party: (C.obj || {})[a.awaiting_party] || "", due: fmtDate(a.evidence_due_at) });
        box.appendChild(el("p", a.awaiting_party === party ? "lbw-order-ask" : null, ask));
      }
      if (a.decision && ["decided", "executed", "closed"].indexOf(a.status) >= 0) {
        var dec = el("div", "lbw-order-decision");
        dec.id = "order-decision";
        dec.appendChild(el("strong", null, c2("decided_box", { decision: c2m("decision", a.decision) })));
        dec.appendChild(el("div", null, c2("rationale") + "：" + a.rationale));
        if (a.status === "decided") dec.appendChild(el("div", "lbw-muted", c2("decided_next")));
        box.appendChild(dec);
      }
      if (a.opened_by === party && ["submitted", "in_review", "awaiting_evidence"].indexOf(a.status) >= 0) {
        var w = el("button", "lbw-chip", c2("withdraw_btn"));
        w.type = "button";
        w.id = "order-withdraw";
        w.title = c2("withdraw_hint");
        w.addEventListener("click", function () { withdrawAppeal(a.id); });
        box.appendChild(w);
      }
    }
    // The standing warning, in the reader's language.
    $("order-warning").hidden = !v.warning;
    $("order-warning-text").textContent = v.warning ? " " + v.warning : "";
    // The chat: the reader's side, the other party, the desk; the first system entry is the warning above.
    var ol = $("order-thread"), keep = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
    ol.textContent = "";
    var other = party === "buyer" ? "seller" : "buyer";
    var myId = party === "buyer" ? v.buyer_customer_id : v.seller_customer_id;
    (v.timeline || []).forEach(function (item, i) {
      if (item.type === "event") {
        var txt = eventText(item);
        if (txt) ol.appendChild(el("li", "lbw-event", txt));
        return;
      }
      if (item.internal) return;
      var side = item.author_kind === "customer" ? (item.author_id === myId ? "mine" : "other") : item.author_kind === "agent" ? "official" : "system";
      if (side === "system" && i === 0) return;
      if (side === "system") { ol.appendChild(el("li", "lbw-event", item.body)); return; }
      var li = el("li", "lbw-msg " + (side === "mine" ? "mine" : "theirs") + " side-" + side);
      var who = el("div", "lbw-who");
      if (side === "mine") who.appendChild(el("span", null, c2("me")));
      else if (side === "other") who.appendChild(el("strong", null, c2m("party_label", other)));
      else {
        who.appendChild(el("strong", null, item.author_name || c2("support")));
        who.appendChild(el("span", "lbw-no", c2("official") + (item.agent_no ? " · " + item.agent_no : "")));
      }
      li.appendChild(who);
      var bubble = el("div", "lbw-bubble");
      if (item.body) bubble.appendChild(el("div", "lbw-body", item.body));
      if (item.attachments && item.attachments.length) {
        var atts = el("div", "lbw-atts");
        renderAttachments(atts, item.attachments);
        bubble.appendChild(atts);
      }
      li.appendChild(bubble);
      li.appendChild(el("div", "lbw-meta", fmtDate(item.created_at)));
      ol.appendChild(li);
    });
    if (keep) $("order-scroll").scrollTop = $("order-scroll").scrollHeight;
    // The appeal form when it may be opened; else when it opens.
    $("order-appeal-open").hidden = !v.can_appeal || !$("order-appeal-form").hidden;
    $("order-opens").hidden = !v.appeal_opens_at;
    $("order-opens").textContent = v.appeal_opens_at ? c2("appeal_opens", { at: fmtDate(v.appeal_opens_at) }) : "";
  }
  function orderPost(path, body) {
    return authFetch("/api/v1/" + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); });
  }
  function sendOrder(body, attachmentIds) {
    if (orderBusy) return Promise.resolve();
    orderBusy = true;
    showError("order-error", "");
    return orderPost("c2c/orders/" + encodeURIComponent(orderId) + "/messages", { body: body, attachment_ids: attachmentIds || [] })
      .then(function () { $("order-scroll").scrollTop = $("order-scroll").scrollHeight; loadOrder(); return true; })
      .catch(function (e) { showError("order-error", t("error", { msg: e.message })); return false; })
      .then(function (ok) { orderBusy = false; return ok; });
  }
  function withdrawAppeal(id) {
    orderPost("appeals/" + encodeURIComponent(id) + "/withdraw").then(loadOrder)
      .catch(function (e) { showError("order-error", t("error", { msg: e.message })); });
  }
  var orderInput = $("order-input");
  $("order-composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = orderInput.value.replace(/\s+$/, "");
    if (!body.trim()) return;
    var found = window.LifebuoyGuard ? window.LifebuoyGuard.scan(body) : [];
    if (found.length) {
      var kinds = found.map(function (f) { return f.kind; }).filter(function (k, i, a) { return a.indexOf(k) === i; });
      showError("order-error", tr("guard_title", { kinds: kindsText(kinds) }) + " " + tr("guard_body", { kinds: kindsText(kinds) }));
      return;
    }
    sendOrder(body).then(function (ok) { if (ok) orderInput.value = ""; });
  });
  orderInput.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("order-composer").requestSubmit();
    }
  });
  $("order-attach").addEventListener("click", function () { $("order-file").click(); });
  $("order-file").addEventListener("change", function () {
    var file = this.files && this.files[0];
    this.value = "";
    if (!file) return;
    var fd = new FormData();
    fd.append("file", file, file.name);
    authFetch("/api/v1/attachments", { method: "POST", body: fd })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || j.error || r.status); return j; }); })
      .then(function (meta) { return sendOrder(orderInput.value.trim(), [meta.id]).then(function (ok) { if (ok) orderInput.value = ""; }); })
      .catch(function (e) { toast(t("upload_failed", { msg: e.message })); });
  });
  $("order-appeal-open").addEventListener("click", function () {
    $("order-appeal-form").hidden = false;
    $("order-appeal-open").hidden = true;
    $("order-appeal-form").body.focus();
  });
  $("order-appeal-cancel").addEventListener("click", function () { $("order-appeal-form").hidden = true; renderOrder(); });
  $("order-appeal-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target, body = f.body.value.trim();
    if (!body) { f.body.focus(); return; }
    orderPost("c2c/orders/" + encodeURIComponent(orderId) + "/appeal", { reason: f.reason.value, body: body })
      .then(function () { f.reset(); f.hidden = true; loadOrder(); })
      .catch(function (err) { showError("order-error", t("error", { msg: err.message })); });
  });
  $("order-back").addEventListener("click", function () { orderId = null; clearTimeout(orderTimer); show("chat"); });

  // ---- announcements (官方公告): the notices showing now, above every view; each one folds open ----
  function loadNotices() {
    fetch("/api/v1/announcements?lang=" + encodeURIComponent(LANG))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        var box = $("notices"), list = (j && j.announcements) || [];
        box.textContent = "";
        list.slice(0, 2).forEach(function (a) {
          var d = el("details", "lbw-notice sev-" + a.severity);
          var sum = el("summary");
          sum.appendChild(el("span", "lbw-notice-tag", t("notice_label")));
          sum.appendChild(el("span", "lbw-notice-title", a.title));
          d.appendChild(sum);
          d.appendChild(el("p", "lbw-notice-body", a.body));
          box.appendChild(d);
        });
        box.hidden = list.length === 0;
      })
      .catch(function () { /* no notices shown */ });
  }
  loadNotices();
  setInterval(loadNotices, 120000);

  var identityToken = null, started = false;
  function start(token) {
    if (started) return;
    started = true;
    identityToken = token || null;
    var saved = store.get("session");
    if (identityToken) { startIdentified(identityToken); return; }
    if (saved && saved.kind === "visitor") { begin(saved); return; }
    // No identity now: a session of a signed-in customer is not reused (a shared computer, a sign-out).
    if (saved) { store.del("session"); store.del("cid"); client.clearOutbox(); currentCid = null; }
    show("prechat");
  }

  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || !e.data || typeof e.data !== "object") return;
    if (e.data.lifebuoy === "init") {
      visible = !!e.data.open;
      start(e.data.identityToken);
    } else if (e.data.lifebuoy === "reauth-token") {
      var w = reauthWaiters.shift();
      if (w) { if (e.data.token) w.resolve(e.data.token); else w.reject(new Error(e.data.error || "refused")); }
    } else if (e.data.lifebuoy === "order" && typeof e.data.id === "string") {
      openOrderView(e.data.id);
    } else if (e.data.lifebuoy === "visible") {
      visible = !!e.data.open;
      if (visible) { nowSeen(); scrollDown(true); if (!$("view-chat").hidden) input.focus(); }
    }
  });

  $("btn-close").hidden = !embedded;
  if (embedded) {
    toParent({ lifebuoy: "ready" });
    setTimeout(function () { start(null); }, 2500);
  } else {
    start(null);
  }
})();
