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
  // The page is written by the server in the supervisor's language: switching language loads it again in
  // the other one (console.js stores the choice as the agent's language at the same time).
  Array.prototype.forEach.call(document.querySelectorAll(".lang-switch .lang"), function (button) {
    button.addEventListener("click", function () {
      var language = button.getAttribute("data-lang");
      if (form.elements.lang.value === language) { return; }
      form.elements.lang.value = language;
      form.submit();
    });
  });
}());
