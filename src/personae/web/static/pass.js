// Make a holder key pair with WebCrypto (P-256): the public JWK fills the form, the private
// JWK is offered as a file download and never leaves the browser otherwise.
"use strict";
(function () {
  document.querySelectorAll("button.make-key").forEach(function (button) {
    button.addEventListener("click", async function () {
      var pair = await crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, true,
                                                 ["sign", "verify"]);
      var pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
      var priv = await crypto.subtle.exportKey("jwk", pair.privateKey);
      var area = document.getElementById(button.dataset.target);
      area.value = JSON.stringify({kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y});
      var link = button.parentElement.querySelector("a.key-download");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(priv)], {type: "application/json"}));
      link.hidden = false;
      link.focus();
    });
  });
})();
