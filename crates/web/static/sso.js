// The exchange's sign-in link (/portal/sso?token=...) signs nobody in by GET: this page posts the token back
// from this origin, at once unless the server asked it to wait for the click (the link came from another site).
(function () {
  var form = document.getElementById("sso-form");
  if (form && form.dataset.auto === "1") form.submit();
})();
