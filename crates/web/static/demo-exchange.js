// The demo exchange's own script (an exchange's page, not Lifebuoy's): its C2C order buttons open the support
// window on the order's conversation through the widget's public API.
(function () {
  "use strict";
  document.querySelectorAll("[data-lifebuoy-order]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (window.Lifebuoy && window.Lifebuoy.openOrder) window.Lifebuoy.openOrder(b.getAttribute("data-lifebuoy-order"));
    });
  });
})();
