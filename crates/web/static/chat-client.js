// Lifebuoy chat client: the WebSocket plumbing shared by the customer's chat window (chat-widget.js) and the
// agents' console (console-chat.js), both speaking docs/chat-protocol.md. It connects and says hello, reconnects
// with exponential back-off and jitter (with a countdown for the page to show), follows online/offline, wires
// the retry button, pings every 25 s and closes a socket silent for 60 s, keeps an outbox of unacknowledged
// messages (stored, resent after every welcome, dropped on its ack, its stored msg or its error), and tracks
// each conversation's seq so a frame seen already (resent after a reconnect) is dropped before the page sees it.
//
//   var chat = LifebuoyChat.connect({
//     url: "/ws/chat",                         // a path on this host (ws: or wss: as the page) or a full URL
//     hello: function () { return {...} },     // the hello frame, built at each (re)connect
//     onFrame: function (frame) {},            // every frame except msg/event frames already seen
//     onState: function (state, secs) {},      // "connecting" | "online" | "reconnecting" (secs to retry) | "offline"
//     retry: element,                          // optional: the retry button, shown while not connected
//     store: LifebuoyChat.storage("localStorage", "lb."), // optional: where the outbox is kept ("outbox")
//     outboxFrame: function (m) { return {...} },          // the send frame of an outbox entry
//     enabled: function () { return true; },   // optional: whether connecting makes sense now
//     autoStart: true                          // false: wait for chat.connect()
//   });
//   chat.send(frame) -> bool; chat.queue(entry); chat.pending() -> entries; chat.clearOutbox();
//   chat.conv(cid) -> {frames: {seq: frame}, max}; chat.convs; chat.resume() -> {cid: max};
//   chat.connect(); chat.close(); chat.isOpen()
(function () {
  "use strict";

  var PING_MS = 25000, SILENT_MS = 60000, MAX_BACKOFF_MS = 15000, FIRST_BACKOFF_MS = 500;

  // A random id for a message (the outbox's key, and the server's guard against storing it twice).
  function clientId(prefix) {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return (prefix || "") + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // JSON values in localStorage / sessionStorage under a prefix; storage that is off (private mode, a sandbox)
  // reads as empty and forgets what is written.
  function storage(area, prefix) {
    return {
      get: function (k) { try { return JSON.parse(window[area].getItem(prefix + k)); } catch (e) { return null; } },
      set: function (k, v) { try { window[area].setItem(prefix + k, JSON.stringify(v)); } catch (e) { /* storage off */ } },
      del: function (k) { try { window[area].removeItem(prefix + k); } catch (e) { /* storage off */ } }
    };
  }

  function wsUrl(url) {
    if (/^wss?:/.test(url)) return url;
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + url;
  }

  function connect(opts) {
    var enabled = opts.enabled || function () { return true; };
    var onState = opts.onState || function () {};
    var onFrame = opts.onFrame || function () {};
    var store = opts.store || null;
    var retryBtn = opts.retry || null;
    var ws = null, attempt = 0, retryTimer = null, countdown = null, pingTimer = null, lastHeard = 0;
    var outbox = (store && store.get("outbox")) || [];
    var convs = {};                 // cid -> {frames: {seq: frame}, max: n}; pages add their own fields

    function conv(cid) {
      if (!convs[cid]) convs[cid] = { frames: {}, max: 0 };
      return convs[cid];
    }
    function resume() {
      var r = {};
      Object.keys(convs).forEach(function (cid) { r[cid] = convs[cid].max; });
      return r;
    }

    function setState(state, secs) {
      if (retryBtn) retryBtn.hidden = !(state === "reconnecting" || state === "offline");
      onState(state, secs);
    }

    function stopTimers() {
      clearTimeout(retryTimer);
      clearInterval(countdown);
    }

    function open() {
      stopTimers();
      if (!enabled()) return;
      if (ws) { try { ws.onclose = null; ws.close(); } catch (e) { /* already closed */ } }
      setState("connecting");
      var sock = new WebSocket(wsUrl(opts.url));
      ws = sock;
      sock.onopen = function () {
        lastHeard = Date.now();
        sock.send(JSON.stringify(opts.hello ? opts.hello() : { type: "hello" }));
      };
      sock.onmessage = function (e) {
        lastHeard = Date.now();
        var f;
        try { f = JSON.parse(e.data); } catch (err) { return; }
        receive(f);
      };
      sock.onclose = function () {
        if (ws !== sock) return;
        ws = null;
        clearInterval(pingTimer);
        scheduleReconnect();
      };
    }

    function scheduleReconnect() {
      stopTimers();
      if (!navigator.onLine) { setState("offline"); return; }
      var base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * Math.pow(2, attempt));
      var delay = base / 2 + Math.random() * base / 2;
      attempt++;
      var until = Date.now() + delay;
      var tick = function () { setState("reconnecting", Math.max(1, Math.ceil((until - Date.now()) / 1000))); };
      tick();
      countdown = setInterval(tick, 500);
      retryTimer = setTimeout(open, delay);
    }

    // Closes the socket for good (until connect() is called again): no reconnecting.
    function close() {
      stopTimers();
      clearInterval(pingTimer);
      if (ws) { try { ws.onclose = null; ws.close(); } catch (e) { /* already closed */ } }
      ws = null;
    }

    function send(frame) {
      if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
      return false;
    }

    // ---- outbox ----
    function saveOutbox() { if (store) store.set("outbox", outbox); }
    function forget(id) {
      var before = outbox.length;
      outbox = outbox.filter(function (m) { return m.client_id !== id; });
      if (outbox.length !== before) saveOutbox();
    }
    function sendEntry(m) { send(opts.outboxFrame ? opts.outboxFrame(m) : m); }
    function queue(m) {
      if (!m.client_id) m.client_id = clientId(opts.idPrefix);
      outbox.push(m);
      saveOutbox();
      sendEntry(m);
      return m;
    }
    function clearOutbox() {
      outbox = [];
      if (store) store.del("outbox");
    }

    // ---- frames ----
    function receive(f) {
      switch (f.type) {
        case "welcome":
          attempt = 0;
          setState("online");
          clearInterval(pingTimer);
          pingTimer = setInterval(function () {
            if (Date.now() - lastHeard > SILENT_MS && ws) { ws.close(); return; }
            send({ type: "ping" });
          }, PING_MS);
          outbox.forEach(sendEntry);
          break;
        case "ack":
          if (f.client_id) forget(f.client_id);
          break;
        case "error":
          if (f.client_id) forget(f.client_id);
          break;
        case "msg": case "event":
          if (f.conversation_id && f.seq) {
            var c = conv(f.conversation_id);
            if (c.frames[f.seq]) return;            // seen already: resent after a reconnect
            c.frames[f.seq] = f;
            c.max = Math.max(c.max, f.seq);
          }
          if (f.type === "msg" && f.client_id) forget(f.client_id);
          break;
      }
      onFrame(f);
    }

    window.addEventListener("online", function () { if (!ws && enabled()) open(); });
    window.addEventListener("offline", function () { if (ws) ws.close(); setState("offline"); });
    if (retryBtn) retryBtn.addEventListener("click", function () { attempt = 0; open(); });

    var client = {
      send: send,
      connect: open,
      close: close,
      isOpen: function () { return !!ws && ws.readyState === 1; },
      queue: queue,
      pending: function () { return outbox; },
      clearOutbox: clearOutbox,
      conv: conv,
      convs: convs,
      resume: resume
    };
    if (opts.autoStart !== false) open();
    return client;
  }

  window.LifebuoyChat = { connect: connect, clientId: clientId, storage: storage };
})();
