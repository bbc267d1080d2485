// Passkeys (WebAuthn): register one from the account page, sign in with one. No inline script.
"use strict";
(function () {
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"content-type": "application/json", "x-csrf-token": csrf},
      body: JSON.stringify(body || {})
    });
  }
  function say(text) {
    var status = document.getElementById("passkey-status");
    if (status) status.textContent = text;
  }
  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {clientDataJSON: bufToB64url(r.clientDataJSON)}
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    return out;
  }

  var reg = document.getElementById("passkey-register");
  if (reg) reg.addEventListener("click", async function () {
    var csrf = reg.dataset.csrf, label = document.getElementById("passkey-label").value;
    try {
      say("Asking your device…");
      var res = await post("/me/passkeys/options", csrf, {label: label});
      var opts = await res.json();
      if (!res.ok) { say(opts.error || "The passkey could not be added."); return; }
      opts.challenge = b64urlToBuf(opts.challenge);
      opts.user.id = b64urlToBuf(opts.user.id);
      (opts.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      var cred = await navigator.credentials.create({publicKey: opts});
      res = await post("/me/passkeys", csrf, {label: label, credential: credentialJSON(cred)});
      var done = await res.json();
      if (!res.ok) { say(done.error || "The passkey could not be added."); return; }
      say("Passkey \u201c" + done.label + "\u201d added.");
      window.location.reload();
    } catch (e) {
      say("The passkey could not be added (" + e.name + ").");
    }
  });

  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) signIn.addEventListener("click", async function () {
    var csrf = signIn.dataset.csrf;
    try {
      say("Asking your device…");
      var res = await post("/signin/passkey/options", csrf, {});
      if (!res.ok) { say("Passkey sign-in failed."); return; }
      var opts = await res.json();
      opts.challenge = b64urlToBuf(opts.challenge);
      (opts.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      var cred = await navigator.credentials.get({publicKey: opts});
      res = await post("/signin/passkey", csrf, {credential: credentialJSON(cred)});
      var done = await res.json();
      if (!res.ok) { say(done.error || "Passkey sign-in failed."); return; }
      window.location.assign(done.next || "/");
    } catch (e) {
      say("Passkey sign-in failed (" + e.name + ").");
    }
  });
})();
