// Client side of the long-polling chat room.
//
// The page asks the server for news with POST /a/message/updates, sending the
// id of the newest message it has (the cursor).  The server answers as soon
// as there is something newer, or with an empty list when its poll times
// out; either way the page asks again straight away.  On a network error it
// waits a little longer before each new try, so a restarted server is not
// flooded when it comes back.
"use strict";

(function () {
  const inbox = document.getElementById("inbox");
  const form = document.getElementById("messageform");
  const input = document.getElementById("message");
  const status = document.getElementById("status");

  // Tornado's XSRF protection: the token lives in the _xsrf cookie and must
  // be sent back with every POST.
  function xsrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, fields) {
    const body = new URLSearchParams(fields);
    body.set("_xsrf", xsrfToken());
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(response.status + " " + response.statusText);
      }
      return response.json();
    });
  }

  function lastSeenId() {
    const messages = inbox.querySelectorAll(".message");
    return messages.length ? messages[messages.length - 1].dataset.id : "";
  }

  function show(message) {
    if (document.getElementById("m" + message.id)) {
      return; // already shown (our own message comes back in the poll too)
    }
    const holder = document.createElement("div");
    holder.innerHTML = message.html.trim();
    const node = holder.firstElementChild;
    inbox.appendChild(node);
    inbox.scrollTop = inbox.scrollHeight;
  }

  let retryDelay = 0;

  function poll() {
    post("/a/message/updates", { cursor: lastSeenId() })
      .then(function (reply) {
        retryDelay = 0;
        status.textContent = "";
        reply.messages.forEach(show);
        poll();
      })
      .catch(function (error) {
        retryDelay = Math.min(retryDelay ? retryDelay * 2 : 500, 30000);
        status.textContent = "Connection problem (" + error.message +
          "), retrying in " + Math.round(retryDelay / 1000) + " s";
        window.setTimeout(poll, retryDelay);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      return;
    }
    input.disabled = true;
    post("/a/message/new", { body: text })
      .then(function (message) {
        show(message);
        input.value = "";
        status.textContent = "";
      })
      .catch(function (error) {
        status.textContent = "Could not send: " + error.message;
      })
      .finally(function () {
        input.disabled = false;
        input.focus();
      });
  });

  inbox.scrollTop = inbox.scrollHeight;
  poll();
})();
