/* Inputs marked data-select-on-focus (a payment link to copy) select their whole text when
 * focused. A file of our own instead of an onfocus="…" attribute: the Content-Security-Policy
 * allows no inline script. */
(function () {
  "use strict";
  var inputs = document.querySelectorAll("[data-select-on-focus]");
  Array.prototype.forEach.call(inputs, function (input) {
    input.addEventListener("focus", function () {
      input.select();
    });
  });
})();
