/* Ticket doorbell: a calm toast when one of my tickets nears or breaches its SLA, or
   changes hands. The socket carries only ids; the toast links to the ticket page. */
(function () {
  "use strict";
  var box = document.getElementById("ticket-toasts");
  if (!box || !window.WebSocket || !window.KefuSocket) return;

  function label(frame) {
    if (frame.type === "ticket.sla") {
      return frame.kind === "breach" ? box.dataset.labelBreach : box.dataset.labelReminder;
    }
    return box.dataset.labelChanged;
  }
  function toast(frame) {
    var item = document.createElement("a");
    item.className = "toast" + (frame.kind === "breach" ? " toast-danger" : "");
    item.href = box.dataset.ticketUrl.replace("/0/", "/" + Number(frame.ticket) + "/");
    item.textContent = label(frame) + " #" + Number(frame.ticket);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, frame.type === "ticket.sla" ? 20000 : 8000);
  }
  // KefuSocket (socket.js) reconnects, and stops for good when the server refuses (44xx).
  KefuSocket.connect(box.dataset.socket, {
    onframe: function (frame) {
      if (frame.type === "ticket.sla" || frame.type === "ticket.changed") toast(frame);
    }
  });
})();
