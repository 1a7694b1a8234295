/* Kefu chat widget: paste one tag into a page.
 *   <script src="https://kefu.example/static/widget/kefu-widget.js" data-channel="KEY" defer></script>
 * Optional, for logged-in customers (computed by the shop's server):
 *   data-customer-id="C1001" data-customer-hash="<hex HMAC-SHA256(secret, C1001)>"
 * It adds a button; the chat itself runs in an iframe served by Kefu (its own origin, its
 * own storage), so the host page's scripts and styles cannot reach into the conversation. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-channel][src*='kefu-widget']");
  if (!script || window.__kefuWidget) return;
  window.__kefuWidget = true;
  var origin = new URL(script.src, location.href).origin;
  var key = script.dataset.channel;
  // The customer's identity is handed to the chat by postMessage when it asks, not in the
  // iframe's URL (which would end up in access logs).
  var identity = script.dataset.customerId
    ? { customer_id: script.dataset.customerId, customer_hash: script.dataset.customerHash || "" }
    : {};
  var src = origin + "/chat/" + encodeURIComponent(key) + "/?embed=1";

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", script.dataset.label || "Chat");
  // A speech bubble drawn as SVG: emoji fonts are not everywhere.
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "28"); svg.setAttribute("height", "28");
  var path = document.createElementNS(NS, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
  svg.appendChild(path);
  button.appendChild(svg);
  var bs = button.style;
  bs.position = "fixed"; bs.right = "20px"; bs.bottom = "20px"; bs.zIndex = "2147483000";
  bs.width = "56px"; bs.height = "56px"; bs.borderRadius = "50%"; bs.border = "0";
  bs.background = script.dataset.color || "#2f6f5e"; bs.color = "#fff"; bs.display = "grid"; bs.placeItems = "center";
  bs.cursor = "pointer"; bs.boxShadow = "0 6px 20px rgba(0,0,0,.2)";

  var frame = null;
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = src;
      frame.title = script.dataset.label || "Chat";
      frame.setAttribute("allow", "clipboard-write");
      var fs = frame.style;
      fs.position = "fixed"; fs.right = "20px"; fs.bottom = "88px"; fs.zIndex = "2147483000";
      fs.width = "min(380px, calc(100vw - 24px))"; fs.height = "min(600px, calc(100vh - 110px))";
      fs.border = "0"; fs.borderRadius = "12px"; fs.background = "#fff";
      fs.boxShadow = "0 12px 40px rgba(0,0,0,.25)";
      document.body.appendChild(frame);
    } else {
      frame.style.display = frame.style.display === "none" ? "block" : "none";
    }
  }
  button.addEventListener("click", open);
  window.addEventListener("message", function (e) {
    if (!frame || e.origin !== origin || e.source !== frame.contentWindow || !e.data) return;
    if (e.data.kefu === "close") frame.style.display = "none";
    if (e.data.kefu === "ready") frame.contentWindow.postMessage({ kefu: "identity", identity: identity }, origin);
  });
  document.body.appendChild(button);
})();
