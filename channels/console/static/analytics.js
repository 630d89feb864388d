// Analytics page: range presets. The page itself is rendered on the server (tables, chart images, CSV links).
(function () {
  "use strict";
  var form = document.getElementById("analytics-range");
  if (!form) { return; }
  function iso(day) { return day.toISOString().slice(0, 10); }
  Array.prototype.forEach.call(form.querySelectorAll("button[data-days]"), function (button) {
    button.addEventListener("click", function () {
      var days = parseInt(button.getAttribute("data-days"), 10);
      var today = new Date();
      var first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - days + 1));
      document.getElementById("range-to").value = iso(today);
      document.getElementById("range-from").value = iso(first);
      form.elements.grain.value = days > 31 ? "week" : "day";
      form.submit();
    });
  });
}());
