// Lifebuoy's secret guard in the browser (issue 16): finds a recovery phrase, a private key, an API secret, a
// password or a 2FA code in what a customer is about to send, so the page can stop it before it leaves the
// device. The same rules as the server's (crates/app/src/trust/secrets.rs), less the BIP39 checksum (the
// server, which has it, also redacts whatever gets past here). Word lists: /trust/words.js (LifebuoyBip39).
(function () {
  "use strict";
  var W = window.LifebuoyBip39 || { en: "", zhs: "", zht: "" };
  var EN = {}, ZHS = {}, ZHT = {};
  W.en.split(" ").forEach(function (w) { if (w) EN[w] = 1; });
  Array.from(W.zhs).forEach(function (c) { ZHS[c] = 1; });
  Array.from(W.zht).forEach(function (c) { ZHT[c] = 1; });

  var SEP = /^[\s\d.,;:!?()\[\]#*\-"'，、。；：．（）]*$/;
  function isCjk(c) { return /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/.test(c); }

  // Words: runs of ASCII letters, and single CJK characters, with their positions.
  function tokens(text) {
    var out = [], re = /[A-Za-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/g, m;
    while ((m = re.exec(text))) out.push({ s: m.index, e: m.index + m[0].length, w: m[0], cjk: isCjk(m[0]) });
    return out;
  }

  function mnemonics(text, found) {
    var toks = tokens(text);
    function runs(inList, needGap) {
      var run = [];
      function flush() {
        if (run.length >= 12) found.push({ kind: "mnemonic", s: toks[run[0]].s, e: toks[run[run.length - 1]].e });
        run = [];
      }
      toks.forEach(function (t, i) {
        var ok = inList(t);
        var gap = run.length ? text.slice(toks[run[run.length - 1]].e, t.s) : null;
        var joined = run.length && run[run.length - 1] === i - 1 && SEP.test(gap) && (!needGap || gap.length > 0);
        if (ok && (!run.length || joined)) run.push(i);
        else { flush(); if (ok) run.push(i); }
      });
      flush();
    }
    runs(function (t) { return !t.cjk && EN[t.w.toLowerCase()]; }, false);
    runs(function (t) { return t.cjk && ZHS[t.w]; }, true);
    runs(function (t) { return t.cjk && ZHT[t.w]; }, true);
  }

  var KEY_NAMES = /(private[ _]?key|priv ?key|私钥|私鑰|密钥|密鑰|secret)[^\n]{0,40}$/i;
  var TX_WORDS = /(tx|hash|哈希|交易|transaction)/i;
  function keys(text, found) {
    var re = /[A-Za-z0-9]+/g, m;
    while ((m = re.exec(text))) {
      var run = m[0], hex = run.replace(/^0x/i, ""), hit = false;
      if (hex.length === 64 && /^[0-9a-f]+$/i.test(hex)) {
        var before = text.slice(Math.max(0, m.index - 60), m.index), k = before.match(KEY_NAMES);
        hit = !!k && !TX_WORDS.test(k[0].slice(k[1].length));
      } else if (/^(xprv|yprv|zprv|tprv|uprv|vprv|Yprv|Zprv)/.test(run)) {
        hit = run.length >= 100 && run.length <= 115;
      } else if ((run.length === 51 && /^[59]/.test(run)) || (run.length === 52 && /^[KLc]/.test(run))) {
        hit = /^[1-9A-HJ-NP-Za-km-z]+$/.test(run);
      }
      if (hit) found.push({ kind: "private_key", s: m.index, e: m.index + run.length });
    }
  }

  var SEPS = /^(?:[\s:：="'“”‘’「」(（]|is |are |是|为|為|如下)*/;
  var RULES = [
    ["api_secret", /api ?secret|apisecret|api_secret|secret ?key|secret_key|api ?密钥|api ?金鑰|api ?密鑰|passphrase/gi,
      function (v) { return v.length >= 16 && v.length <= 128 && /^[A-Za-z0-9+/=_-]+$/.test(v) && /\d/.test(v) && /[A-Za-z]/.test(v); }],
    ["password", /password|passwd|pwd|密码|密碼/gi,
      function (v) { return v.length >= 4 && v.length <= 64 && /^[\x21-\x7e]+$/.test(v) && /[\d\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(v); }],
    ["one_time_code", /2fa|otp|验证码|驗證碼|verification code|authenticator code|google code|动态码|動態碼|谷歌码|谷歌碼/gi,
      function (v) { return /^(\d{6}|\d{8})$/.test(v); }]
  ];
  function named(text, found) {
    RULES.forEach(function (r) {
      var m;
      r[1].lastIndex = 0;
      while ((m = r[1].exec(text))) {
        var at = m.index + m[0].length;
        at += text.slice(at).match(SEPS)[0].length;
        var v = text.slice(at).match(/^[^\s，。；、,;"'”’」)）\u3400-\u4dbf\u4e00-\u9fff]*/)[0].replace(/[.!?]+$/, "");
        if (v && r[2](v)) found.push({ kind: r[0], s: at, e: at + v.length });
      }
    });
  }

  // Every secret in the text, in order, not overlapping: [{kind, s, e}].
  function scan(text) {
    var found = [];
    mnemonics(text, found);
    keys(text, found);
    named(text, found);
    found.sort(function (a, b) { return a.s - b.s || b.e - a.e; });
    var out = [];
    found.forEach(function (f) {
      var last = out[out.length - 1];
      if (last && f.s < last.e) last.e = Math.max(last.e, f.e);
      else out.push({ kind: f.kind, s: f.s, e: f.e });
    });
    return out;
  }

  // The text with each secret replaced by marker(kind).
  function redact(text, marker) {
    var out = "", at = 0;
    scan(text).forEach(function (f) { out += text.slice(at, f.s) + marker(f.kind); at = f.e; });
    return out + text.slice(at);
  }

  // Forms marked `data-guard='{trust strings}'` (the portal's new-ticket and reply forms): a secret in a text
  // field stops the submit; the customer edits the message or sends it without the secret.
  function attachForms() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-guard]"), function (form) {
      var T;
      try { T = JSON.parse(form.dataset.guard); } catch (e) { return; }
      function fill(s, v) { for (var k in v) s = String(s).split("{" + k + "}").join(v[k]); return s; }
      function kindsText(kinds) { return kinds.map(function (k) { return (T.secret_kinds || {})[k] || k; }).join(T.kinds_sep || ", "); }
      function fields() { return Array.prototype.filter.call(form.querySelectorAll("textarea, input[type=text], input:not([type])"), function (f) { return f.name && f.name !== "_csrf"; }); }
      var box = document.createElement("div");
      box.className = "guard-box";
      box.setAttribute("role", "alertdialog");
      box.hidden = true;
      var title = document.createElement("strong"), body = document.createElement("p"), row = document.createElement("div");
      var edit = document.createElement("button"), strip = document.createElement("button");
      edit.type = strip.type = "button";
      edit.className = "btn btn-ghost guard-edit";
      strip.className = "btn btn-danger guard-strip";
      edit.textContent = T.guard_edit;
      strip.textContent = T.guard_strip;
      row.className = "guard-actions";
      row.append(edit, strip);
      box.append(title, body, row);
      var submit = form.querySelector("[type=submit]");
      (submit && submit.parentNode === form ? submit : form.lastElementChild).before(box);
      var passed = false;
      form.addEventListener("submit", function (e) {
        if (passed) return;
        var kinds = [];
        fields().forEach(function (f) { scan(f.value).forEach(function (x) { if (kinds.indexOf(x.kind) < 0) kinds.push(x.kind); }); });
        if (!kinds.length) return;
        e.preventDefault();
        title.textContent = fill(T.guard_title, { kinds: kindsText(kinds) });
        body.textContent = fill(T.guard_body, { kinds: kindsText(kinds) });
        box.hidden = false;
        strip.focus();
      });
      edit.addEventListener("click", function () { box.hidden = true; var f = fields()[0]; if (f) f.focus(); });
      strip.addEventListener("click", function () {
        fields().forEach(function (f) { f.value = redact(f.value, function (k) { return (T.marker || {})[k] || "[…]"; }); });
        box.hidden = true;
        passed = true;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", attachForms);
  else attachForms();

  window.LifebuoyGuard = { scan: scan, redact: redact };
})();
