/* Card payment with Stripe's own form (Stripe.js), on templates/payments/pay.html.
 * Loaded from our origin after https://js.stripe.com/v3/; the values come from data-*
 * attributes of #card-form, so the page carries no inline script (Content-Security-Policy). */
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || !form.dataset.clientSecret) {
    return;  // our own test-card form: a plain HTML form, no script needed
  }
  var box = document.getElementById("card-error");
  var button = document.getElementById("card-submit");

  function show(message) {
    box.textContent = message;
    box.hidden = false;
  }

  if (typeof window.Stripe !== "function") {  // Stripe.js blocked or unreachable
    show(form.dataset.unavailable);
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({clientSecret: form.dataset.clientSecret});
  elements.create("payment").mount("#payment-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    box.hidden = true;
    stripe.confirmPayment({elements: elements, confirmParams: {return_url: form.dataset.returnUrl}})
      .then(function (result) {
        if (result.error) {  // otherwise Stripe has sent the browser to the return page
          show(result.error.message);
          button.disabled = false;
        }
      });
  });
})();
