// Client side of the WebSocket chat room.
//
// One WebSocket to /chatsocket carries everything.  When the connection
// drops, the page reconnects after a growing delay and sends the id of the
// newest message it has, so the server can replay what was missed.
"use strict";

(function () {
  const inbox = document.getElementById("inbox");
  const form = document.getElementById("messageform");
  const input = document.getElementById("message");
  const status = document.getElementById("status");
  const pending = [];
  let socket = null;
  let retryDelay = 0;

  function lastSeenId() {
    const messages = inbox.querySelectorAll(".message");
    return messages.length ? messages[messages.length - 1].dataset.id : "";
  }

  function show(message) {
    if (document.getElementById("m" + message.id)) {
      return;
    }
    const holder = document.createElement("div");
    holder.innerHTML = message.html.trim();
    inbox.appendChild(holder.firstElementChild);
    inbox.scrollTop = inbox.scrollHeight;
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/chatsocket");
    socket.onopen = function () {
      retryDelay = 0;
      status.textContent = "";
      socket.send(JSON.stringify({ cursor: lastSeenId() }));
      while (pending.length) {
        socket.send(pending.shift());
      }
    };
    socket.onmessage = function (event) {
      JSON.parse(event.data).messages.forEach(show);
    };
    socket.onclose = function () {
      retryDelay = Math.min(retryDelay ? retryDelay * 2 : 500, 30000);
      status.textContent = "Disconnected, reconnecting in " +
        Math.round(retryDelay / 1000) + " s";
      window.setTimeout(connect, retryDelay);
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      return;
    }
    const frame = JSON.stringify({ body: text });
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(frame);
    } else {
      pending.push(frame); // sent as soon as the connection is back
    }
    input.value = "";
    input.focus();
  });

  inbox.scrollTop = inbox.scrollHeight;
  connect();
})();
