// Link safety on the portal's and the console's pages (issue 16): a link in a message or a mail that leads to
// another site is checked against the official registry (GET /api/v1/verify); a look-alike or an unknown site
// is marked and opens only after a confirm step that says which. Strings: #lb-link-strings.
(function () {
  "use strict";
  var S = {};
  try { S = JSON.parse((document.getElementById("lb-link-strings") || {}).textContent || "{}"); } catch (e) { S = {}; }
  function fill(s, v) { s = String(s || ""); for (var k in v) s = s.split("{" + k + "}").join(v[k]); return s; }
  var cache = {};
  function verify(href) {
    if (!cache[href]) {
      cache[href] = fetch("/api/v1/verify?value=" + encodeURIComponent(href), { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    }
    return cache[href];
  }
  function guard(a) {
    var url;
    try { url = new URL(a.getAttribute("href"), location.href); } catch (e) { return; }
    if (!/^https?:$/.test(url.protocol) || url.host === location.host || a.dataset.check) return;
    a.dataset.check = "pending";
    verify(url.href).then(function (v) {
      var kind = v && v.official ? "official" : v && v.lookalike_of ? "lookalike" : "unknown";
      a.dataset.check = kind;
      if (kind === "official") return;
      a.classList.add("link-warn");
      a.title = kind === "lookalike" ? fill(S.lookalike, { host: v.value, official: v.lookalike_of }) : fill(S.unknown, { host: (v && v.value) || url.host });
    });
    a.addEventListener("click", function (e) {
      if (a.dataset.check === "official") return;
      var msg = a.title || fill(S.unknown, { host: url.host });
      if (!window.confirm(msg + "\n\n" + url.href)) e.preventDefault();
    });
  }
  function scan(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".msg-body a[href], .mail-html a[href]"), guard);
  }
  window.LifebuoyLinks = { guard: guard, scan: scan };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { scan(); });
  else scan();
})();
