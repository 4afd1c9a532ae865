/* The header's menu button on small screens, and focus on a form's error summary.
 * Without JavaScript the menu simply stays open (app.css) and the page works as it is: this
 * file only adds the disclosure button (aria-expanded) and closes the menu by default.
 * A file of our own, loaded with `defer`: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  var header = document.querySelector(".site-header");
  var toggle = header && header.querySelector(".nav-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (toggle && menu) {
    toggle.hidden = false;
    var setOpen = function (open) {
      header.classList.toggle("is-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // A form shown again with errors: start on its summary, whose links lead to each field.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
