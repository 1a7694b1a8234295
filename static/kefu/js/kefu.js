/* Kefu back office: small progressive enhancements. Pages work without this file. */
(function () {
  "use strict";

  // Selects that submit their form on change (seat state, language).
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.submit();
  });

  // Live boards: the websocket (KefuSocket, socket.js) is only a doorbell; on each ring
  // (and after every reconnect) the board is re-read over HTTP, so a missed ring costs
  // nothing.
  function liveBoard(el) {
    if (!window.KefuSocket) return;
    var status = document.querySelector("[data-live-status]");
    var timer = null, pending = false;

    function refresh() {
      if (pending) return;
      pending = true;
      fetch(el.dataset.refresh, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { el.innerHTML = html; })
        .catch(function () { /* keep the last good board */ })
        .finally(function () { pending = false; });
    }
    function setStatus(state) {
      if (!status || state === "connecting") return;
      var live = state === "live";
      status.textContent = live ? el.dataset.labelLive : (state === "denied" ? el.dataset.labelDenied : el.dataset.labelOffline);
      status.classList.toggle("is-live", live);
    }
    KefuSocket.connect(el.dataset.socket, {
      onopen: refresh,
      onframe: function () { clearTimeout(timer); timer = setTimeout(refresh, 150); },
      onstatus: setStatus
    });
    // Times in state tick even when nothing rings.
    setInterval(refresh, 30000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-board]").forEach(liveBoard);
  });
})();
