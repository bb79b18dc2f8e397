// Lifebuoy agents' chat console (/console/chats). Speaks docs/chat-protocol.md over /ws/console through
// chat-client.js (loaded before it): hello with the resume map kept in sessionStorage, frames deduplicated by
// seq, an outbox resent after reconnects, the inbox in three tabs, presence, and the chat actions. Bodies are
// shown as text; only links become anchors.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("lb-strings").textContent);
  var T = S.chat || {};
  var TR = S.trust || {};
  var LANG = S.lang;
  function tr(key, vars) {
    var s = TR[key] || key;
    if (vars) for (var k in vars) s = s.split("{" + k + "}").join(String(vars[k]));
    return s;
  }
  var ME = S.me;
  function t(key, vars) {
    var s = T[key] || key;
    if (vars) for (var k in vars) s = s.split("{" + k + "}").join(String(vars[k]));
    return s;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  var ss = LifebuoyChat.storage("sessionStorage", "lb.console.");
  var LANG_NAMES = { "zh-Hans": "简体中文", "zh-Hant": "繁體中文", en: "English" };
  var deptName = {};
  (S.departments || []).forEach(function (d) { deptName[d.id] = d.name; });

  var inbox = {};                   // cid -> inbox item
  var resume = ss.get("resume") || {};
  var current = ss.get("current");
  var info = {};                    // cid -> context from /console/chats/{id}/context
  var custReceipts = {};
  var tab = ss.get("tab") || "mine";
  var mode = "reply", forcedNote = false;
  var firstInbox = true;
  var queuedSeen = {};

  // ---- connection (chat-client.js): the outbox is kept in "lb.console.outbox" ----
  var client = LifebuoyChat.connect({
    url: "/ws/console",
    autoStart: false,
    store: ss,
    retry: $("retry"),
    hello: function () { return { type: "hello", resume: resume }; },
    outboxFrame: function (m) {
      var f = { type: "send", conversation_id: m.cid, client_id: m.client_id, body: m.body, internal: m.internal };
      if (m.attachment_ids && m.attachment_ids.length) f.attachment_ids = m.attachment_ids;
      return f;
    },
    onState: setConn,
    onFrame: onFrame
  });
  var convs = client.convs;         // cid -> {frames, max, complete}
  var conv = client.conv;
  var send = client.send;

  function setConn(state, secs) {
    var box = $("conn");
    box.className = "cc-conn is-" + state;
    box.querySelector(".conn-text").textContent = state === "online" ? t("state_online") :
      state === "reconnecting" ? t("state_reconnecting", { n: secs }) :
      state === "offline" ? t("state_offline") : t("state_connecting");
  }

  // ---- frames ----
  function onFrame(f) {
    switch (f.type) {
      case "welcome":               // the client has resent the outbox and started pinging
        if (f.presence) setPresence(f.presence);
        if (current) send({ type: "open", conversation_id: current, last_seq: conv(current).complete ? conv(current).max : 0 });
        if (current) conv(current).complete = true;
        break;
      case "inbox":
        var fresh = {};
        (f.items || []).forEach(function (it) { fresh[it.conversation_id] = it; });
        Object.keys(fresh).forEach(function (cid) {
          if (fresh[cid].state === "queued" && !queuedSeen[cid]) {
            queuedSeen[cid] = true;
            if (!firstInbox) alertNew(fresh[cid]);
          }
        });
        firstInbox = false;
        inbox = fresh;
        renderInbox();
        if (current) renderHead();
        break;
      case "inbox_update":
        var it = f.item, cid = it.conversation_id;
        if (it.state === "queued" && !queuedSeen[cid]) { queuedSeen[cid] = true; alertNew(it); }
        if (it.state !== "queued") delete queuedSeen[cid];
        inbox[cid] = it;
        if (cid === current && isSeen()) it.unread = 0;
        renderInbox();
        if (cid === current) renderHead();
        break;
      case "inbox_remove":
        delete inbox[f.conversation_id];
        delete queuedSeen[f.conversation_id];
        renderInbox();
        if (f.conversation_id === current) renderHead();
        break;
      case "assigned":
        if (!current) select(f.conversation_id);
        break;
      case "msg": case "event": onItem(f); break;
      case "ack": onAck(f); break;
      case "typing":
        if (f.from === "customer" && f.conversation_id === current) showTyping(f.on);
        break;
      case "receipt":
        if (f.side === "customer") { custReceipts[f.conversation_id] = f; updateTicks(); }
        break;
      case "ticket":
        if (info[f.conversation_id]) info[f.conversation_id].chat.ticket_id = f.ticket_id;
        if (f.conversation_id === current) showTicket(f.ticket_id, f.case_number);
        break;
      case "presence": setPresence(f.presence); break;
      case "error": onError(f); break;
    }
  }

  function onError(f) {
    if (f.client_id) {               // the client has dropped it from the outbox
      var n = document.querySelector('#thread [data-client="' + f.client_id.replace(/["\\]/g, "") + '"]');
      if (n) { n.classList.add("is-failed"); n.appendChild(el("div", "small cc-fail", t("failed", { msg: f.message || f.code }))); }
    }
    notice(t("error", { msg: f.message || f.code }), true);
  }

  // A msg or event not seen before (the client drops repeats, records the seq and clears the outbox entry).
  function onItem(f) {
    var cid = f.conversation_id;
    resume[cid] = Math.max(resume[cid] || 0, f.seq);
    ss.set("resume", resume);
    if (cid === current) {
      insertItem(f);
      if (f.type === "msg" && f.author.kind === "customer") showTyping(false);
      if (isSeen()) receipt(cid);
      if (f.type === "event") { renderHead(); }
    } else if (f.type === "msg" && f.author.kind === "customer" && inbox[cid]) {
      inbox[cid].unread = (inbox[cid].unread || 0) + 1;
      renderInbox();
    }
    // The chat's clock: a customer who writes after the agent's answer starts the next-response clock; the
    // agent's public answer stops it. (The server's inbox lines carry the same clock when next read.)
    var line = inbox[cid];
    if (line && f.type === "msg") {
      if (f.author.kind === "customer" && !line.due_at && line.reply_ms) {
        var since = f.at || Date.now();
        line.waiting_since = since;
        line.due_at = since + line.reply_ms;
        line.warn_at = since + Math.round(line.reply_ms * 0.75);
        renderInbox();
        if (cid === current) renderHead();
      } else if (f.author.kind === "agent" && !f.internal && line.due_at) {
        line.waiting_since = line.due_at = line.warn_at = null;
        renderInbox();
        if (cid === current) renderHead();
      }
    }
    if (f.type === "msg" && f.author.kind === "customer" && (!isSeen() || cid !== current)) beep();
    if (f.type === "msg" && f.author.kind === "customer") scheduleSuggest(cid);
  }

  // Knowledge-base suggestions for what the customer last wrote: internal playbooks too, marked, and only
  // published articles offer their link for the reply.
  var suggestTimer = null, suggestedFor = {};
  function lastCustomerText(cid) {
    var c = convs[cid];
    if (!c) return "";
    var seqs = Object.keys(c.frames).map(Number).sort(function (a, b) { return b - a; });
    var parts = [];
    for (var i = 0; i < seqs.length && parts.length < 2; i++) {
      var f = c.frames[seqs[i]];
      if (f.type === "msg" && f.author.kind === "customer" && f.body) parts.unshift(f.body);
    }
    return parts.join("\n");
  }
  function scheduleSuggest(cid) {
    if (cid !== current) return;
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(function () { loadSuggest(cid); }, 400);
  }
  // The chat's first customer message: what it is about, when the latest ones (a TxID, "thanks") say little.
  function firstCustomerText(cid) {
    var c = convs[cid];
    if (!c) return "";
    var seqs = Object.keys(c.frames).map(Number).sort(function (a, b) { return a - b; });
    for (var i = 0; i < seqs.length; i++) {
      var f = c.frames[seqs[i]];
      if (f.type === "msg" && f.author.kind === "customer" && f.body) return f.body;
    }
    return "";
  }
  function suggestFetch(q, lang) {
    return fetch("/console/kb/suggest?q=" + encodeURIComponent(q) + (lang ? "&lang=" + encodeURIComponent(lang) : ""), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function loadSuggest(cid) {
    if (cid !== current) return;
    var q = lastCustomerText(cid), first = firstCustomerText(cid);
    if (suggestedFor[cid] === q && $("kb-suggest").childNodes.length) return;
    suggestedFor[cid] = q;
    if (!q) { renderSuggest([]); return; }
    var lang = info[cid] ? info[cid].chat.lang : "";
    suggestFetch(q, lang)
      .then(function (j) {
        if (j && !j.items.length && first && q.indexOf(first) < 0) return suggestFetch(first, lang);
        return j;
      })
      .then(function (j) { if (j && cid === current && suggestedFor[cid] === q) renderSuggest(j.items); })
      .catch(function () { /* the list stays as it was */ });
  }
  function renderSuggest(items) {
    var ul = $("kb-suggest");
    ul.textContent = "";
    if (!items.length) { ul.appendChild(el("li", "muted small", t("c_suggest_none"))); return; }
    items.forEach(function (a) {
      var li = el("li");
      var link = el("a", "title", a.title);
      link.href = a.url;
      link.target = "_blank";
      link.rel = "noopener";
      li.appendChild(link);
      if (a.internal) li.appendChild(el("span", "tag-internal", t("c_suggest_internal")));
      li.appendChild(el("div", "snip", a.snippet));
      if (a.public_url) {
        var b = el("button", "btn btn-ghost", t("c_suggest_insert"));
        b.type = "button";
        b.title = t("c_suggest_insert_title");
        b.addEventListener("click", function () {
          var text = a.title + " " + location.origin + a.public_url;
          input.value = input.value ? input.value.replace(/\s*$/, "") + "\n" + text : text;
          input.focus();
        });
        li.appendChild(b);
      }
      ul.appendChild(li);
    });
  }

  // The client has dropped the message from the outbox.
  function onAck(f) {
    var n = document.querySelector('#thread [data-client="' + f.client_id + '"]');
    if (n && n.classList.contains("is-pending")) { n.dataset.seq = f.seq; n.classList.remove("is-pending"); updateTicks(); }
  }

  function isSeen() { return document.visibilityState === "visible"; }
  var sent = {};
  function receipt(cid) {
    var c = convs[cid];
    if (!c || !c.max || (sent[cid] || 0) >= c.max) return;
    if (send({ type: "receipt", conversation_id: cid, delivered: c.max, read: c.max })) {
      sent[cid] = c.max;
      if (inbox[cid]) { inbox[cid].unread = 0; renderInbox(); }
    }
  }
  document.addEventListener("visibilitychange", function () { if (isSeen() && current) receipt(current); });

  // ---- alerts: a beep and a desktop notification for a new queued chat ----
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var o = audio.createOscillator(), g = audio.createGain();
      o.type = "sine";
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.18, audio.currentTime + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio */ }
  }
  function alertNew(it) {
    beep();
    if (window.Notification && Notification.permission === "granted") {
      try {
        var n = new Notification(t("c_notify_new"), { body: who(it) + ": " + (it.subject || ""), tag: it.conversation_id });
        n.onclick = function () { window.focus(); setTab("queued"); select(it.conversation_id); n.close(); };
      } catch (e) { /* notifications unavailable */ }
    }
  }
  var notifyBtn = $("notify");
  notifyBtn.hidden = !(window.Notification && Notification.permission === "default");
  notifyBtn.addEventListener("click", function () {
    Notification.requestPermission().then(function () { notifyBtn.hidden = Notification.permission !== "default"; });
  });
  document.addEventListener("click", function () { if (audio && audio.state === "suspended") audio.resume(); }, { once: true });

  // ---- presence ----
  function setPresence(p) {
    if (!p) return;
    $("presence").value = p.status;
    if (p.capacity) $("capacity").value = p.capacity;
    $("presence").className = "p-" + p.status;
  }
  function sendPresence() {
    var cap = parseInt($("capacity").value, 10);
    var f = { type: "presence", status: $("presence").value };
    if (cap > 0) f.capacity = cap;
    send(f);
  }
  $("presence").addEventListener("change", sendPresence);
  $("capacity").addEventListener("change", sendPresence);

  // ---- inbox ----
  function who(it) { return it.customer_name || it.customer_email || it.external_id || t("c_customer"); }
  function inTab(it, name) {
    if (name === "mine") return it.assignee_id === ME.id;
    if (name === "queued") return it.state === "queued";
    return true;
  }
  function setTab(name) {
    tab = name;
    ss.set("tab", tab);
    document.querySelectorAll(".cc-tabs .tab").forEach(function (b) {
      var on = b.dataset.tab === name;
      b.classList.toggle("active", on);
      b.setAttribute("aria-selected", on ? "true" : "false");
    });
    renderInbox();
  }
  document.querySelectorAll(".cc-tabs .tab").forEach(function (b) {
    b.addEventListener("click", function () { setTab(b.dataset.tab); });
  });
  function minutes(ms) { return Math.max(0, Math.floor((Date.now() - ms) / 60000)); }
  function renderInbox() {
    var items = Object.keys(inbox).map(function (k) { return inbox[k]; });
    ["mine", "queued", "dept"].forEach(function (name) {
      var list = items.filter(function (it) { return inTab(it, name); });
      var unread = list.reduce(function (s, it) { return s + (it.unread || 0); }, 0);
      var badge = document.querySelector('[data-count="' + name + '"]');
      var n = name === "queued" ? list.length : unread;
      badge.textContent = n ? String(n) : "";
      badge.classList.toggle("hot", name === "queued" ? n > 0 : unread > 0);
    });
    var ul = $("inbox");
    ul.textContent = "";
    var shown = items.filter(function (it) { return inTab(it, tab); });
    // Most urgent first: customers waiting on an answer by their clock's deadline (overdue on top), then the
    // rest by their latest change.
    shown.sort(function (a, b) {
      if (a.due_at && b.due_at) return a.due_at - b.due_at;
      if (a.due_at || b.due_at) return a.due_at ? -1 : 1;
      if (tab === "queued") return (a.queued_at || 0) - (b.queued_at || 0);
      return (b.updated_at || 0) - (a.updated_at || 0);
    });
    var now = Date.now();
    if (!shown.length) { ul.appendChild(el("li", "cc-empty", t("c_empty"))); return; }
    shown.forEach(function (it) {
      var st = clockState(it, now);
      var li = el("li", "cc-item" + (it.conversation_id === current ? " is-current" : "") + (st === "breached" ? " is-overdue" : ""));
      li.tabIndex = 0;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", it.conversation_id === current ? "true" : "false");
      li.dataset.cid = it.conversation_id;
      li.appendChild(el("span", "who", who(it)));
      if (it.unread) {
        var u = el("span", "cc-unread", String(it.unread));
        u.title = t("c_unread", { n: it.unread });
        li.appendChild(u);
      } else li.appendChild(el("span"));
      li.appendChild(el("span", "subj", it.subject || ""));
      var meta = el("span", "meta");
      if (st) meta.appendChild(clockNode(it, now));
      meta.appendChild(el("span", "cc-state st-" + it.state, t("st_" + it.state)));
      meta.appendChild(el("span", null, deptName[it.department_id] || it.department_id));
      if (it.state === "queued" && it.queued_at) meta.appendChild(el("span", null, t("c_waiting", { m: minutes(it.queued_at) })));
      else if (it.assignee_id && it.assignee_id !== ME.id) meta.appendChild(el("span", null, t("c_assigned_other", { name: agentName(it.assignee_id) })));
      meta.appendChild(el("span", null, LANG_NAMES[it.lang] || it.lang));
      li.appendChild(meta);
      li.addEventListener("click", function () { select(it.conversation_id); });
      li.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(it.conversation_id); }
        if (e.key === "ArrowDown" && li.nextSibling) { e.preventDefault(); li.nextSibling.focus(); }
        if (e.key === "ArrowUp" && li.previousSibling) { e.preventDefault(); li.previousSibling.focus(); }
      });
      ul.appendChild(li);
    });
  }
  function agentName(id) {
    var a = (S.agents || []).filter(function (x) { return x.id === id; })[0];
    return a ? a.name + " · " + a.agent_no : "";
  }
  setInterval(renderInbox, 60000);

  // ---- chat clocks ----
  function clockState(it, now) {
    if (!it.due_at) return null;
    if (now > it.due_at) return "breached";
    return it.warn_at && now >= it.warn_at ? "warning" : "ok";
  }
  function span(ms) {
    ms = Math.abs(ms);
    var m = Math.floor(ms / 60000), s = Math.floor(ms % 60000 / 1000);
    if (m < 60) return m + ":" + (s < 10 ? "0" : "") + s;
    return t("c_sla_hours", { h: Math.floor(m / 60), m: m % 60 });
  }
  function clockText(it, now) {
    return now > it.due_at ? t("c_sla_over", { t: span(now - it.due_at) }) : t("c_sla_left", { t: span(it.due_at - now) });
  }
  function clockNode(it, now) {
    var n = el("span", "cc-clock sla-" + clockState(it, now), clockText(it, now));
    n.dataset.cid = it.conversation_id;
    n.title = t("c_sla_title", { time: fmtTime(it.due_at) });
    return n;
  }
  // Clocks tick in place every second; a line whose clock changes colour is redrawn with its list (overdue
  // lines turn red).
  setInterval(function () {
    var now = Date.now(), redraw = false;
    document.querySelectorAll("#inbox .cc-clock, #chat-clock:not([hidden])").forEach(function (n) {
      var it = inbox[n.dataset.cid];
      if (!it || !it.due_at) return;
      var st = clockState(it, now);
      if (!n.classList.contains("sla-" + st)) redraw = true;
      n.textContent = clockText(it, now);
    });
    if (redraw) { renderInbox(); renderHead(); }
  }, 1000);

  // ---- a chat ----
  function select(cid) {
    if (!cid) return;
    current = cid;
    ss.set("current", cid);
    $("pick").hidden = true;
    $("chat").hidden = false;
    $("side").hidden = false;
    $("notice").hidden = true;
    showTyping(false);
    renderThread();
    renderHead();
    renderInbox();
    var c = conv(cid);
    send({ type: "open", conversation_id: cid, last_seq: c.complete ? c.max : 0 });
    c.complete = true;
    receipt(cid);
    $("kb-suggest").textContent = "";
    loadContext(cid);
    loadAccountOf(cid);
    $("input").focus();
  }

  // The customer's exchange account (the fragment app.js loads on case pages).
  function loadAccountOf(cid) {
    var box = $("account");
    if (!box || !window.lifebuoyAccount) return;
    box.textContent = box.getAttribute("data-loading") || "";
    window.lifebuoyAccount(box, "/console/cases/" + encodeURIComponent(cid) + "/account");
  }

  function loadContext(cid) {
    fetch("/console/chats/" + encodeURIComponent(cid) + "/context", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        info[cid] = j;
        // How far the customer has read, as stored: receipts that came before this page was loaded.
        var r = custReceipts[cid] || { delivered: 0, read: 0 };
        custReceipts[cid] = { delivered: Math.max(r.delivered, j.chat.customer_delivered || 0), read: Math.max(r.read, j.chat.customer_read || 0) };
        if (cid !== current) return;
        updateTicks();
        renderProfile(j);
        renderHead();
        suggestedFor[cid] = null;
        scheduleSuggest(cid);
        if (j.chat.ticket_id) showTicket(j.chat.ticket_id, null);
      })
      .catch(function () { /* the panel stays empty */ });
  }

  function fmtDate(ms) {
    try { return new Date(ms).toLocaleString(LANG, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }); }
    catch (e) { return new Date(ms).toISOString(); }
  }
  function fmtTime(ms) { var d = new Date(ms); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }

  function renderProfile(j) {
    var dl = $("profile");
    dl.textContent = "";
    var add = function (k, v, mono) {
      if (v == null || v === "") return;
      dl.appendChild(el("dt", null, k));
      var dd = el("dd", null, v);
      if (mono) dd.className = "hash";
      dl.appendChild(dd);
    };
    var cu = j.customer, ch = j.chat;
    add(t("c_name"), cu.name || "—");
    add(t("c_uid"), cu.external_id, true);
    add(t("email"), cu.email);
    add(t("language"), LANG_NAMES[cu.lang || ch.lang] || cu.lang || ch.lang);
    add(t("c_kind_label"), cu.kind === "visitor" ? t("c_kind_visitor") : t("c_kind_exchange"));
    add(t("c_since"), fmtDate(cu.since));
    add(t("topic"), ch.topic && S.category && S.category[ch.topic] ? S.category[ch.topic] : ch.topic);
    add(t("c_department"), deptName[ch.department] || ch.department);
    add(t("c_order"), ch.order_id, true);
    add(t("c_tx"), ch.tx_hash, true);
    var ul = $("past");
    ul.textContent = "";
    if (!j.history.length) { ul.appendChild(el("li", "muted small", t("c_no_past"))); return; }
    j.history.forEach(function (h) {
      var li = el("li");
      var label = (h.kind === "chat" ? t("c_kind_chat") : t("c_kind_ticket")) + " " + (h.case_number || "");
      if (h.kind === "chat") li.appendChild(el("strong", "case", label));
      else {
        var a = el("a", "case", label);
        a.href = "/console/tickets/" + encodeURIComponent(h.id);
        li.appendChild(a);
      }
      li.appendChild(el("div", null, h.subject));
      var st = S.status_agent && S.status_agent[h.status] ? S.status_agent[h.status] : h.status;
      li.appendChild(el("div", "muted small", st + " · " + fmtDate(h.created_at)));
      ul.appendChild(li);
    });
  }

  function chatState(cid) {
    var it = inbox[cid];
    var c = convs[cid];
    var ended = c && Object.keys(c.frames).some(function (s) { var f = c.frames[s]; return f.type === "event" && f.kind === "chat_ended"; });
    if (ended) return "ended";
    if (it) return it.state;
    return info[cid] ? info[cid].chat.state : "ended";
  }

  function renderHead() {
    if (!current) return;
    var it = inbox[current], j = info[current];
    var state = chatState(current);
    $("chat-name").textContent = it ? who(it) : j ? (j.customer.name || j.customer.email || j.customer.external_id || t("c_customer")) : t("c_customer");
    var parts = [];
    var cn = it ? it.case_number : j ? j.chat.case_number : null;
    if (cn) parts.push(cn);
    var dept = it ? it.department_id : j ? j.chat.department : null;
    if (dept) parts.push(deptName[dept] || dept);
    parts.push(t("st_" + state));
    if (it && it.assignee_id) parts.push(it.assignee_id === ME.id ? t("c_me") : agentName(it.assignee_id));
    $("chat-meta").textContent = parts.join(" · ");
    // The chat's clock, as on its inbox line (hidden while the agent spoke last, or once ended).
    var clock = $("chat-clock"), now = Date.now();
    var st = it && state !== "ended" ? clockState(it, now) : null;
    clock.hidden = !st;
    if (st) {
      clock.className = "cc-clock sla-" + st;
      clock.dataset.cid = it.conversation_id;
      clock.textContent = clockText(it, now);
      clock.title = t("c_sla_title", { time: fmtTime(it.due_at) });
    }
    var mine = it && it.assignee_id === ME.id;
    var can = state !== "ended" && (mine || ME.supervisor);
    $("btn-accept").hidden = !(it && it.state === "queued");
    $("btn-end").hidden = !can;
    $("transfer-box").hidden = !can;
    $("assign-box").hidden = !(ME.supervisor && state !== "ended");
    var writable = state !== "ended" && (mine || ME.supervisor);
    $("readonly").hidden = writable;
    $("readonly").textContent = state === "ended" ? t("c_ended") : t("c_read_only");
    $("mode-reply").disabled = !writable;
    $("btn-attach").disabled = state === "ended";
    // Someone else's (or a queued) chat takes internal notes only; taking it brings the reply back.
    if (!writable && mode === "reply") { setMode("note"); forcedNote = true; }
    else if (writable && forcedNote) { setMode("reply"); forcedNote = false; }
    $("composer").hidden = state === "ended";
  }

  // ---- thread ----
  var LINK = /(https?:\/\/[^\s<>"'\u3000-\u303f\uff08\uff09\uff0c]+|\/help\/[A-Za-z-]+\/[A-Za-z0-9._~%-]+)/g;
  function linkify(node, text) {
    var last = 0, m;
    LINK.lastIndex = 0;
    while ((m = LINK.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, "");
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", null, url);
      a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer";
      node.appendChild(a);
      if (window.LifebuoyLinks) window.LifebuoyLinks.guard(a);
      last = m.index + url.length;
      LINK.lastIndex = last;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }

  function msgNode(f) {
    var k = f.author.kind;
    var li = el("li", "cc-msg from-" + k + (f.internal ? " is-note" : ""));
    var meta = el("div", "msg-meta");
    var it = inbox[f.conversation_id];
    var name = k === "bot" ? t("bot") : k === "customer" ? (it ? who(it) : t("c_customer")) : (f.author.name || "");
    meta.appendChild(el("strong", null, name));
    if (k === "agent" && f.author.agent_no) meta.appendChild(el("span", "badge agent-no", f.author.agent_no));
    if (f.internal) meta.appendChild(el("span", "badge badge-note", t("c_internal")));
    var time = el("time", null, fmtTime(f.at || Date.now()));
    meta.appendChild(time);
    if (k === "agent" && !f.internal) meta.appendChild(el("span", "lbw-tick"));
    li.appendChild(meta);
    if (f.body) { var b = el("div", "msg-body"); linkify(b, f.body); li.appendChild(b); }
    if (f.attachments && f.attachments.length) {
      var atts = el("div", "atts");
      f.attachments.forEach(function (a) {
        var url = "/api/v1/attachments/" + encodeURIComponent(a.id);
        var link = el("a", /^image\//.test(a.content_type) ? null : "file");
        link.href = url; link.target = "_blank"; link.rel = "noopener";
        if (/^image\//.test(a.content_type)) {
          var img = el("img", "thumb");
          img.src = url; img.alt = t("image_alt", { name: a.filename });
          link.appendChild(img);
        } else {
          link.appendChild(el("span", "filetag", "PDF"));
          link.appendChild(document.createTextNode(" " + a.filename));
        }
        atts.appendChild(link);
      });
      li.appendChild(atts);
    }
    if (f.seq) li.dataset.seq = f.seq;
    if (f.client_id) li.dataset.client = f.client_id;
    return li;
  }

  function eventText(f) {
    var d = f.data || {};
    switch (f.kind) {
      case "handover": return t("ev_handover");
      case "assigned": return t("ev_assigned", { name: d.name || "", no: d.agent_no || "" });
      case "transferred": return t("ev_transferred", { dept: deptName[d.to_department] || d.to_department || "" }) + (d.note ? " — " + d.note : "");
      case "chat_ended": return t("ev_ended");
      case "converted_to_ticket": return t("ev_ticket", { case: d.case_number || "" });
      case "incident_linked": return t("ev_incident", { title: d.title || "" });
      case "rated": return t("ev_rated", { n: d.score || "" });
      case "secret_redacted": return tr("secret_event", { kinds: (d.kinds || []).map(function (k) { return (TR.secret_kinds || {})[k] || k; }).join(TR.kinds_sep || ", ") });
      case "freeze_requested": return tr("ev_freeze_requested");
      case "freeze_answered": return tr(d.frozen ? "ev_freeze_answered_ok" : "ev_freeze_answered_failed");
      case "step_up_requested": return tr("ev_step_up_requested", { action: (TR.step_up_actions || {})[d.action] || d.action });
      case "step_up_completed": return tr("ev_step_up_completed");
      default: return f.kind;
    }
  }

  function itemNode(f) {
    if (f.type === "msg") return msgNode(f);
    var li = el("li", "event" + (f.internal ? " is-internal" : "") + (f.kind === "secret_redacted" ? " event-risk" : ""), eventText(f));
    li.dataset.seq = f.seq;
    return li;
  }

  function insertItem(f) {
    var thread = $("thread");
    if (f.type === "msg" && f.client_id) {
      // The copy shown while sending (acknowledged or not) gives way to the stored message.
      var p = thread.querySelector('[data-client="' + f.client_id.replace(/["\\]/g, "") + '"]');
      if (p) p.remove();
    }
    var node = itemNode(f), before = null;
    var items = thread.querySelectorAll("[data-seq]");
    for (var i = 0; i < items.length; i++) if (+items[i].dataset.seq > f.seq) { before = items[i]; break; }
    if (!before) before = thread.querySelector(".is-pending");
    thread.insertBefore(node, before);
    updateTicks();
    scrollDown(false);
  }

  function renderThread() {
    var thread = $("thread");
    thread.textContent = "";
    var c = convs[current];
    if (c) Object.keys(c.frames).map(Number).sort(function (a, b) { return a - b; }).forEach(function (s) { thread.appendChild(itemNode(c.frames[s])); });
    client.pending().filter(function (m) { return m.cid === current; }).forEach(function (m) { thread.appendChild(pendingNode(m)); });
    updateTicks();
    scrollDown(true);
  }

  function pendingNode(m) {
    var n = msgNode({ conversation_id: m.cid, author: { kind: "agent", name: ME.name, agent_no: ME.agent_no }, body: m.body, internal: m.internal, client_id: m.client_id, at: m.at });
    n.classList.add("is-pending");
    return n;
  }

  function updateTicks() {
    var r = custReceipts[current] || { delivered: 0, read: 0 };
    document.querySelectorAll("#thread .cc-msg.from-agent").forEach(function (li) {
      var tick = li.querySelector(".lbw-tick");
      if (!tick) return;
      var seq = +li.dataset.seq || 0;
      var label, mark, cls;
      if (!seq || li.classList.contains("is-pending")) { label = t("sending"); mark = "◷"; cls = "pending"; }
      else if (r.read >= seq) { label = t("read"); mark = "✓✓"; cls = "read"; }
      else if (r.delivered >= seq) { label = t("delivered"); mark = "✓✓"; cls = "delivered"; }
      else { label = t("sent"); mark = "✓"; cls = "sent"; }
      tick.textContent = mark;
      tick.className = "lbw-tick is-" + cls;
      tick.title = label;
    });
  }

  function scrollDown(force) {
    var th = $("thread");
    if (force || th.scrollHeight - th.scrollTop - th.clientHeight < 200) th.scrollTop = th.scrollHeight;
  }
  var typingHide = null;
  function showTyping(on) {
    $("typing").hidden = !on;
    clearTimeout(typingHide);
    if (on) typingHide = setTimeout(function () { $("typing").hidden = true; }, 8000);
  }

  function notice(text, isErr) {
    var n = $("notice");
    n.textContent = text;
    n.className = "cc-notice" + (isErr ? " notice-err" : "");
    n.hidden = false;
    clearTimeout(notice.timer);
    if (isErr) notice.timer = setTimeout(function () { n.hidden = true; }, 6000);
  }
  function showTicket(id, caseNumber) {
    var n = $("notice");
    n.textContent = "";
    n.className = "cc-notice";
    var label = caseNumber ? t("c_ticket_made", { case: caseNumber }) : t("ev_ticket", { case: "" }).trim();
    var a = el("a", "case", label);
    a.href = "/console/tickets/" + encodeURIComponent(id);
    n.appendChild(a);
    n.hidden = false;
  }

  // ---- composer ----
  var input = $("input");
  function setMode(m) {
    mode = m;
    $("composer").classList.toggle("is-note", m === "note");
    $("mode-reply").classList.toggle("active", m === "reply");
    $("mode-note").classList.toggle("active", m === "note");
    $("mode-reply").setAttribute("aria-pressed", m === "reply" ? "true" : "false");
    $("mode-note").setAttribute("aria-pressed", m === "note" ? "true" : "false");
    input.placeholder = m === "note" ? t("c_note_placeholder") : t("c_placeholder");
    $("send").textContent = m === "note" ? t("c_note") : t("send");
  }
  $("mode-reply").addEventListener("click", function () { forcedNote = false; setMode("reply"); input.focus(); });
  $("mode-note").addEventListener("click", function () { forcedNote = false; setMode("note"); input.focus(); });

  function queueSend(body, attachmentIds) {
    var m = { cid: current, client_id: LifebuoyChat.clientId("a-"), body: body, internal: mode === "note", attachment_ids: attachmentIds || [], at: Date.now() };
    $("thread").appendChild(pendingNode(m));
    updateTicks();
    scrollDown(true);
    client.queue(m);                 // stored, sent now and again after every reconnect until acknowledged
  }
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.replace(/\s+$/, "");
    if (!body.trim() || !current) return;
    queueSend(body);
    input.value = "";
    hideCanned();
    if (typingOn) { send({ type: "typing", conversation_id: current, on: false }); typingOn = false; }
  });

  var typingOn = false, typingTimer = null;
  input.addEventListener("input", function () {
    updateCanned();
    if (!current || mode === "note") return;
    if (!typingOn) { send({ type: "typing", conversation_id: current, on: true }); typingOn = true; }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { send({ type: "typing", conversation_id: current, on: false }); typingOn = false; }, 3000);
  });

  // Attachments: uploaded over HTTP first (checked as for tickets), then sent as a message that carries them.
  $("btn-attach").addEventListener("click", function () { if (current) $("file").click(); });
  $("file").addEventListener("change", function () {
    var file = this.files[0];
    this.value = "";
    if (!file || !current) return;
    var hint = $("composer-hint");
    hint.textContent = t("uploading", { name: file.name });
    var fd = new FormData();
    fd.append("file", file, file.name);
    fetch("/api/v1/attachments", { method: "POST", body: fd, credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || j.message || r.status);
        return j;
      });
    }).then(function (meta) {
      hint.textContent = "";
      var body = input.value.replace(/\s+$/, "");
      input.value = "";
      queueSend(body, [meta.id]);
    }).catch(function (e) {
      hint.textContent = t("upload_failed", { msg: e.message });
    });
  });

  // Canned replies: "/" then the shortcut.
  var cannedItems = [], cannedIdx = 0;
  function chatLang() {
    var it = inbox[current];
    return it ? it.lang : info[current] ? info[current].chat.lang : LANG;
  }
  function updateCanned() {
    var v = input.value;
    var m = /^\/(\S*)$/.exec(v);
    if (!m) { hideCanned(); return; }
    var q = m[1].toLowerCase(), lang = chatLang();
    cannedItems = (S.canned || []).filter(function (c) { return c.lang === lang && c.shortcut.toLowerCase().indexOf(q) === 0; });
    var box = $("canned");
    box.textContent = "";
    if (!cannedItems.length) { box.appendChild(el("div", "muted small", t("c_no_canned"))); box.hidden = false; return; }
    cannedIdx = Math.min(cannedIdx, cannedItems.length - 1);
    cannedItems.forEach(function (c, i) {
      var b = el("button", i === cannedIdx ? "on" : "");
      b.type = "button";
      b.setAttribute("role", "option");
      b.appendChild(el("code", null, "/" + c.shortcut));
      b.appendChild(el("strong", null, c.title));
      b.appendChild(el("span", "muted", c.body));
      b.addEventListener("mousedown", function (e) { e.preventDefault(); useCanned(i); });
      box.appendChild(b);
    });
    box.hidden = false;
  }
  function hideCanned() { $("canned").hidden = true; cannedItems = []; cannedIdx = 0; }
  function useCanned(i) {
    var c = cannedItems[i];
    if (!c) return;
    input.value = c.body;
    hideCanned();
    input.focus();
  }
  input.addEventListener("keydown", function (e) {
    if (!$("canned").hidden && cannedItems.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        cannedIdx = (cannedIdx + (e.key === "ArrowDown" ? 1 : cannedItems.length - 1)) % cannedItems.length;
        updateCanned();
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); useCanned(cannedIdx); return; }
    }
    if (e.key === "Escape") hideCanned();
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  input.addEventListener("blur", function () { setTimeout(hideCanned, 150); });

  // ---- actions ----
  $("btn-accept").addEventListener("click", function () { send({ type: "accept", conversation_id: current }); });
  $("btn-end").addEventListener("click", function () {
    if (window.confirm(t("c_end_confirm"))) send({ type: "end", conversation_id: current });
  });
  $("btn-ticket").addEventListener("click", function () { send({ type: "to_ticket", conversation_id: current }); });
  var tdept = $("transfer-dept");
  (S.departments || []).forEach(function (d) { var o = el("option", null, d.name); o.value = d.id; tdept.appendChild(o); });
  $("transfer").addEventListener("submit", function (e) {
    e.preventDefault();
    send({ type: "transfer", conversation_id: current, department: tdept.value, note: e.target.note.value.trim() });
    e.target.reset();
    $("transfer-box").open = false;
  });
  var asel = $("assign-agent");
  (S.agents || []).forEach(function (a) { var o = el("option", null, a.name + " · " + a.agent_no); o.value = a.id; asel.appendChild(o); });
  $("assign").addEventListener("submit", function (e) {
    e.preventDefault();
    send({ type: "assign", conversation_id: current, agent_id: asel.value });
    $("assign-box").open = false;
  });

  setMode("reply");
  setTab(tab);
  if (current) select(current);
  client.connect();
})();
