// Lifebuoy: small enhancements on top of pages that work without JavaScript:
// local times, keyboard shortcuts in the console, the reply/note switch.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";

  // Show every <time datetime> in the reader's own time zone.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) {
        el.textContent = d.toLocaleString(lang, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
        el.title = el.getAttribute("datetime");
      }
    });
  }
  localTimes(document);

  // The customer's exchange account beside a case: asked of the exchange after the page shows, so a slow
  // exchange never holds the case. The fragment is the desk's own escaped HTML.
  function loadAccount(box, src) {
    if (!window.fetch) return;
    box.setAttribute("data-loading-src", src); // a later call for another case wins over this one
    var mine = function () { return box.getAttribute("data-loading-src") === src; };
    fetch(src, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) { if (mine()) { box.innerHTML = html; localTimes(box); } })
      .catch(function () { if (mine()) box.textContent = box.getAttribute("data-failed") || ""; });
  }
  window.lifebuoyAccount = loadAccount;
  document.querySelectorAll("[data-account-src]").forEach(function (box) {
    loadAccount(box, box.getAttribute("data-account-src"));
  });

  // The unread count of the customer's messages (站内信) beside "Messages" in the portal's menu.
  var badge = document.getElementById("nav-unread");
  if (badge && window.fetch) {
    fetch("/api/v1/notifications?limit=1", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (j && j.unread > 0) { badge.textContent = j.unread > 99 ? "99+" : String(j.unread); badge.hidden = false; }
      })
      .catch(function () {});
  }

  // The filing form: what the desk promises for the chosen category (first answer within ...).
  var promise = document.getElementById("sla-promise");
  var category = document.querySelector("#new-ticket select[name=category]");
  if (promise && category) {
    category.addEventListener("change", function () {
      var o = category.options[category.selectedIndex];
      promise.textContent = (o && o.getAttribute("data-promise")) || "";
    });
  }

  // The agent's unread alerts (SLA warnings and breaches) beside "Alerts" in the console's menu, kept fresh.
  var alertBadge = document.getElementById("nav-alerts-n");
  if (alertBadge && window.fetch) {
    var loadAlerts = function () {
      fetch("/console/alerts/count", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          var n = j ? j.unread : 0;
          alertBadge.textContent = n > 99 ? "99+" : String(n);
          alertBadge.hidden = !(n > 0);
        })
        .catch(function () {});
    };
    loadAlerts();
    setInterval(loadAlerts, 60000);
  }

  // The appeal queue's clocks: time left to each deadline, ticking; red once overdue. Rows open their appeal.
  var clocks = document.querySelectorAll(".clock[data-due]");
  if (clocks.length) {
    var tick = function () {
      var now = Date.now();
      clocks.forEach(function (el) {
        var left = Number(el.dataset.due) - now, s = Math.floor(Math.abs(left) / 1000);
        el.textContent = (left < 0 ? "\u2212" : "") + Math.floor(s / 3600) + ":" + String(Math.floor(s / 60) % 60).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
        el.classList.toggle("overdue", left < 0);
      });
    };
    setInterval(tick, 1000);
  }
  document.querySelectorAll("#appeal-queue tbody tr[data-href]").forEach(function (r) {
    r.addEventListener("click", function (e) { if (e.target.tagName !== "A") location.href = r.dataset.href; });
  });

  document.querySelectorAll("[data-back]").forEach(function (a) {
    a.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
  });

  // Reply / internal-note switch.
  var composer = document.querySelector(".composer");
  function mode(note) {
    if (!composer) return;
    composer.classList.toggle("is-note", note);
    composer.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", (t.dataset.tab === "note") === note); });
    var body = document.getElementById("reply-body"), flag = document.getElementById("internal-flag"), btn = document.getElementById("send-btn");
    flag.value = note ? "1" : "0";
    body.placeholder = note ? body.dataset.phNote : body.dataset.phReply;
    btn.textContent = note ? btn.dataset.labelNote : btn.dataset.labelReply;
    body.focus();
  }
  if (composer) {
    composer.querySelectorAll(".tab").forEach(function (t) {
      t.addEventListener("click", function () { mode(t.dataset.tab === "note"); });
    });
  }

  // While a customer writes a new request, suggest help-center articles that may already answer it.
  var suggest = document.getElementById("suggest");
  if (suggest) {
    var form = document.getElementById("new-ticket"), timer = null, lastQ = "";
    var ask = function () {
      var q = (form.subject.value + " " + form.body.value).trim();
      if (q.length < 4 || q === lastQ) return;
      lastQ = q;
      fetch("/api/v1/answers", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question: q.slice(0, 2000), lang: suggest.dataset.lang, form_id: form._form_id ? form._form_id.value : undefined }) })
        .then(function (r) { return r.ok ? r.json() : { answers: [] }; })
        .then(function (j) {
          var ul = suggest.querySelector("ul");
          ul.textContent = "";
          (j.answers || []).forEach(function (a) {
            var li = document.createElement("li"), link = document.createElement("a"), p = document.createElement("p");
            link.href = a.url; link.target = "_blank"; link.rel = "noopener"; link.textContent = a.title;
            p.className = "muted small"; p.textContent = (a.snippet || "").replace(/[#*_>`|-]+/g, " ").slice(0, 140) + "…";
            li.appendChild(link); li.appendChild(p); ul.appendChild(li);
          });
          suggest.hidden = !(j.answers && j.answers.length);
        })
        .catch(function () {});
    };
    ["subject", "body"].forEach(function (n) {
      form[n].addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 400); });
    });
  }

  // Queue rows are links.
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr"));
  rows.forEach(function (r) {
    r.addEventListener("click", function (e) { if (e.target.tagName !== "A") location.href = r.dataset.href; });
  });
  var cur = -1;
  function move(d) {
    if (!rows.length) return;
    if (cur >= 0) rows[cur].classList.remove("cursor");
    cur = Math.max(0, Math.min(rows.length - 1, cur + d));
    rows[cur].classList.add("cursor");
    rows[cur].scrollIntoView({ block: "nearest" });
  }

  var lastG = 0;
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.metaKey || e.ctrlKey || e.altKey) {
      if (e.key === "Escape") e.target.blur();
      if (e.key === "Enter" && (e.metaKey || e.ctrlKey) && tag === "textarea" && e.target.form) e.target.form.requestSubmit();
      return;
    }
    var k = e.key;
    if (k === "j") move(1);
    else if (k === "k") move(-1);
    else if (k === "Enter" && cur >= 0) location.href = rows[cur].dataset.href;
    else if (k === "/") { var s = document.getElementById("search"); if (s) { e.preventDefault(); s.focus(); } }
    else if (k === "r" && composer) { e.preventDefault(); mode(false); }
    else if (k === "n" && composer) { e.preventDefault(); mode(true); }
    else if (k === "a") { var f = document.getElementById("assign-me-form"); if (f) f.submit(); }
    else if (k === "e") { var r = document.getElementById("escalate-reason"); if (r) { e.preventDefault(); r.focus(); } }
    else if (k === "s") {
      var sel = document.getElementById("status-select");
      if (sel && sel.querySelector("option[value=solved]")) { sel.value = "solved"; document.getElementById("status-btn").click(); }
    }
    else if (k === "g") { lastG = Date.now(); return; }
    else if (k === "q" && Date.now() - lastG < 800) location.href = "/console";
  });
})();
