// Knowledge-base editor: live preview of each language's Markdown, rendered by the server's own sanitising
// renderer (the same as the article pages). Without JavaScript the "Preview" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("kb-editor");
  if (!form) return;
  var csrf = form.querySelector("input[name=_csrf]");
  form.querySelectorAll("textarea[data-preview]").forEach(function (ta) {
    var out = document.getElementById(ta.dataset.preview), timer = null, last = ta.value;
    ta.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (ta.value === last) return;
        last = ta.value;
        var body = new URLSearchParams();
        body.set("body", ta.value);
        if (csrf) body.set("_csrf", csrf.value);
        fetch("/console/kb/preview", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) out.innerHTML = html; })
          .catch(function () {});
      }, 300);
    });
  });
})();
