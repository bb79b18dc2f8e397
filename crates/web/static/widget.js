// Lifebuoy chat widget loader. The exchange adds:
//   <script src="https://SUPPORT-HOST/widget.js" data-lang="zh-Hans" data-identity-token="..." async></script>
// It adds a launcher button (bottom right) that opens the chat window, served by Lifebuoy in an iframe. The
// identity token goes to the iframe by postMessage, never in a URL. Only `window.Lifebuoy` (open/close/openOrder) is
// exposed. Styles are set from script (CSSOM), so the host page's CSP for inline styles does not matter.
(function () {
  "use strict";
  if (window.Lifebuoy && window.Lifebuoy.__loaded) return;
  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='widget.js']");
    return all[all.length - 1];
  })();
  if (!script) return;
  var origin = new URL(script.src, location.href).origin;
  var lang = script.getAttribute("data-lang") || "";
  var identity = script.getAttribute("data-identity-token") || null;
  var LABELS = {
    "zh-Hans": ["联系在线客服", "收起在线客服", "条未读消息"],
    "zh-Hant": ["聯繫線上客服", "收起線上客服", "則未讀訊息"],
    en: ["Chat with support", "Close support chat", "unread messages"]
  };
  var L = LABELS[lang] || (/^zh-(tw|hk|mo|hant)/i.test(lang || navigator.language) ? LABELS["zh-Hant"] :
    /^zh/i.test(lang || navigator.language) ? LABELS["zh-Hans"] : LABELS.en);

  var isOpen = false, frame = null, frameReady = false, unread = 0;
  var phone = window.matchMedia("(max-width: 480px)");

  function css(el, styles) { for (var k in styles) el.style[k] = styles[k]; return el; }

  var launcher = css(document.createElement("button"), {
    position: "fixed", right: "20px", bottom: "20px", width: "58px", height: "58px", borderRadius: "50%",
    border: "0", background: "#0e7c66", color: "#fff", cursor: "pointer", zIndex: "2147483000", padding: "0",
    boxShadow: "0 6px 20px rgba(15,23,42,.25)", display: "flex", alignItems: "center", justifyContent: "center",
    transition: "transform .15s ease"
  });
  launcher.type = "button";
  launcher.id = "lifebuoy-launcher";
  launcher.setAttribute("aria-label", L[0]);
  launcher.setAttribute("aria-expanded", "false");
  launcher.title = L[0];
  var ns = "http://www.w3.org/2000/svg";
  function icon(open) {
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "28"); svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("fill", "none"); p.setAttribute("stroke", "currentColor"); p.setAttribute("stroke-width", "2");
    p.setAttribute("stroke-linecap", "round"); p.setAttribute("stroke-linejoin", "round");
    p.setAttribute("d", open ? "M6 6l12 12M18 6L6 18" : "M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z");
    svg.appendChild(p);
    return svg;
  }
  launcher.appendChild(icon(false));
  var badge = css(document.createElement("span"), {
    position: "absolute", top: "-4px", right: "-4px", minWidth: "20px", height: "20px", padding: "0 6px",
    borderRadius: "10px", background: "#dc2626", color: "#fff", font: "600 12px/20px system-ui, sans-serif",
    textAlign: "center", boxShadow: "0 0 0 2px #fff", display: "none"
  });
  badge.className = "lifebuoy-badge";
  launcher.appendChild(badge);

  var box = css(document.createElement("div"), {
    position: "fixed", zIndex: "2147483001", display: "none", background: "#fff", overflow: "hidden",
    boxShadow: "0 12px 40px rgba(15,23,42,.28)"
  });
  box.id = "lifebuoy-chat";

  function layout() {
    if (phone.matches) {
      css(box, { left: "0", top: "0", right: "0", bottom: "0", width: "100%", height: "100%", borderRadius: "0" });
      launcher.style.display = isOpen ? "none" : "flex";
    } else {
      css(box, { left: "auto", top: "auto", right: "20px", bottom: "90px", width: "380px",
        height: "min(640px, calc(100vh - 110px))", borderRadius: "14px" });
      launcher.style.display = "flex";
    }
  }

  function ensureFrame() {
    if (frame) return;
    frame = css(document.createElement("iframe"), { width: "100%", height: "100%", border: "0", display: "block" });
    frame.title = L[0];
    frame.setAttribute("allow", "clipboard-write");
    frame.src = origin + "/chat/widget" + (lang ? "?lang=" + encodeURIComponent(lang) : "") ;
    box.appendChild(frame);
  }

  function post(msg) {
    if (frame && frame.contentWindow && frameReady) frame.contentWindow.postMessage(msg, origin);
  }

  function setBadge(n) {
    unread = n;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.style.display = n > 0 && !isOpen ? "block" : "none";
    launcher.setAttribute("aria-label", n > 0 && !isOpen ? L[0] + " (" + n + " " + L[2] + ")" : (isOpen ? L[1] : L[0]));
  }

  function open() {
    ensureFrame();
    isOpen = true;
    box.style.display = "block";
    launcher.replaceChild(icon(true), launcher.firstChild);
    launcher.setAttribute("aria-expanded", "true");
    launcher.title = L[1];
    layout();
    setBadge(0);
    post({ lifebuoy: "visible", open: true });
  }

  function close() {
    isOpen = false;
    box.style.display = "none";
    launcher.replaceChild(icon(false), launcher.firstChild);
    launcher.setAttribute("aria-expanded", "false");
    launcher.title = L[0];
    layout();
    setBadge(unread);
    post({ lifebuoy: "visible", open: false });
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (isOpen) close(); else open(); });
  launcher.addEventListener("mouseenter", function () { launcher.style.transform = "scale(1.06)"; });
  launcher.addEventListener("mouseleave", function () { launcher.style.transform = ""; });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && isOpen && !phone.matches) close(); });
  if (phone.addEventListener) phone.addEventListener("change", layout);

  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    var d = e.data || {};
    if (d.lifebuoy === "ready") {
      frameReady = true;
      post({ lifebuoy: "init", identityToken: identity, lang: lang || null, open: isOpen });
      if (pendingOrder) { post({ lifebuoy: "order", id: pendingOrder }); pendingOrder = null; }
    } else if (d.lifebuoy === "unread") {
      setBadge(isOpen ? 0 : Math.max(0, d.count | 0));
    } else if (d.lifebuoy === "close") {
      close();
    } else if (d.lifebuoy === "reauth") {
      // A fresh sign-in for a step-up or an emergency: the page's `window.LifebuoyReauth()` (a promise of a fresh
      // identity token) or its `data-reauth-url` (JSON `{token}`, fetched with the page's cookies).
      var url = script.getAttribute("data-reauth-url");
      var reauth = window.LifebuoyReauth || (url && function () {
        return fetch(url, { credentials: "include" }).then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        }).then(function (j) { return j.token; });
      });
      if (!reauth) { post({ lifebuoy: "reauth-token", error: "unsupported" }); return; }
      Promise.resolve().then(reauth).then(function (token) {
        post({ lifebuoy: "reauth-token", token: token });
      }, function (err) {
        post({ lifebuoy: "reauth-token", error: String((err && err.message) || err) });
      });
    }
  });

  function mount() {
    document.body.appendChild(box);
    document.body.appendChild(launcher);
    layout();
    // Load the chat quietly so messages (and the unread badge) arrive before the customer opens it.
    ensureFrame();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  // Order mode (C2C): the chat window opens on the order's conversation, where the buyer and the seller talk,
  // send proof and appeal (the window draws it from the API with the customer's session). Until the window is
  // ready the order waits.
  var pendingOrder = null;
  function openOrder(id) {
    id = String(id || "");
    if (!id || id.length > 128) return false;
    open();
    if (frameReady) post({ lifebuoy: "order", id: id });
    else pendingOrder = id;
    return true;
  }

  window.Lifebuoy = { open: open, close: close, openOrder: openOrder, __loaded: true };
})();
