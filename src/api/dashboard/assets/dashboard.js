// Keeps the board and the task page live without a reload. The server renders everything: on a
// change the page fetches itself again and swaps in the sections marked data-live, and appends
// the log entries it does not have yet. Changes arrive over server-sent events; when the stream
// is unavailable the page polls instead. Without JavaScript the pages and forms work as they are.
/* global document, window, location, fetch, URL, DOMParser, setInterval, clearInterval, EventSource, CSS */
(function () {
  "use strict";
  var body = document.body;
  var stream = body.getAttribute("data-stream");
  if (!stream) return;
  var status = document.getElementById("live-status");
  var pollEveryMs = 5000;
  var pollTimer = null;
  var busy = false;
  var again = false;
  var connectedBefore = false;

  function say(text) {
    if (status) status.textContent = text;
  }

  // A swap must not steal the keyboard focus: find the focused control again in the new section.
  function focusKey(element) {
    if (!element || element === body) return null;
    if (element.id) return "#" + CSS.escape(element.id);
    var form = element.closest("form");
    if (form && element.tagName === "BUTTON") return 'form[action="' + CSS.escape(form.getAttribute("action")) + '"] button';
    return null;
  }

  function swap(next) {
    var key = focusKey(document.activeElement);
    next.querySelectorAll("[data-live][id]").forEach(function (fresh) {
      var current = document.getElementById(fresh.id);
      if (current && current.innerHTML !== fresh.innerHTML) current.replaceWith(document.adoptNode(fresh));
    });
    var log = document.getElementById("log");
    var freshLog = next.getElementById("log");
    if (log && freshLog) {
      var lastEntry = log.lastElementChild;
      var last = lastEntry ? Number(lastEntry.getAttribute("data-id")) : 0;
      Array.prototype.slice.call(freshLog.children).forEach(function (entry) {
        if (Number(entry.getAttribute("data-id")) > last) log.appendChild(document.adoptNode(entry));
      });
    }
    if (key && document.activeElement === body) {
      var again = document.querySelector(key);
      if (again) again.focus();
    }
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(location.href, { headers: { accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && new URL(response.url).pathname === "/tasks/sign-in") {
          location.assign("/tasks/sign-in");
          return;
        }
        if (!response.ok) throw new Error("status " + response.status);
        return response.text().then(function (text) {
          swap(new DOMParser().parseFromString(text, "text/html"));
          say("Updated at " + new Date().toLocaleTimeString());
        });
      })
      .catch(function () {
        say("Could not refresh; trying again shortly");
      })
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function startPolling() {
    if (pollTimer === null) pollTimer = setInterval(refresh, pollEveryMs);
  }

  function stopPolling() {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  }

  if (!("EventSource" in window)) {
    startPolling();
    return;
  }
  var source = new EventSource(stream);
  source.addEventListener("ready", function () {
    stopPolling();
    body.setAttribute("data-live-state", "streaming");
    // After a reconnect something may have changed while the stream was down.
    if (connectedBefore) refresh();
    connectedBefore = true;
  });
  source.addEventListener("changed", refresh);
  source.addEventListener("error", function () {
    body.setAttribute("data-live-state", "polling");
    say("Live updates interrupted; checking every few seconds");
    startPolling();
  });
})();
