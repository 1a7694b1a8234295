/* Kefu customer chat (full page and inside the widget's iframe). Protocol: docs/realtime.md.
 *
 * Durability: every message gets a client id and waits in localStorage until the server
 * acknowledges it; after any reconnect the page says hello with the last seq it holds,
 * receives exactly what it missed, and resends what is still pending. Messages are drawn
 * once per server id, so a resend or a repeated push never shows twice. */
(function () {
  "use strict";
  var body = document.body;
  var key = body.dataset.channel;
  var L = JSON.parse(document.getElementById("kchat-labels").textContent);
  var $ = function (sel) { return document.querySelector(sel); };
  var log = $("[data-log]"), input = $("[data-input]"), statusEl = $("[data-status]");
  var banner = $("[data-banner]"), typingEl = $("[data-typing]"), rateForm = $("[data-rate]");
  var ratedEl = $("[data-rated]"), emojiPanel = $("[data-emoji-panel]");
  var params = new URLSearchParams(location.search);
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem("kefu." + key + "." + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem("kefu." + key + "." + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  };
  var token = store.get("token", "");
  var pending = store.get("pending", []);          // [{client_id, text}]
  var conv = null;                                 // conversation state from the server
  // The highest seq on screen. Kept in memory only: after a reload the page holds nothing,
  // so the first hello asks for the whole conversation; reconnects ask for what is missing.
  var lastSeq = { id: null, seq: 0 };
  var shown = {};                                  // message id -> element
  var ws = null, delay = 1000, typingTimer = null, lastTyping = 0, chosenStars = 0;

  function fmt(s, vars) { return s.replace(/%\((\w+)\)[sd]/g, function (_, k) { return vars[k]; }); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function time(iso) { var d = new Date(iso); return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function setStatus(text) { statusEl.textContent = text; }

  function bubble(cls) {
    var li = document.createElement("li");
    li.className = "kchat-msg " + cls;
    return li;
  }

  function fillAttachment(el, a) {
    // Files are readable only with the visitor token: fetch, then show from a blob URL.
    fetch(a.url, { headers: { "X-Visitor-Token": token } })
      .then(function (r) { return r.ok ? r.blob() : Promise.reject(r.status); })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        if (a.is_image) {
          var img = document.createElement("img");
          img.src = url; img.alt = a.name; img.className = "kchat-img";
          img.addEventListener("load", scrollDown);
          el.appendChild(img);
        } else {
          var link = document.createElement("a");
          link.href = url; link.download = a.name; link.textContent = "📎 " + a.name;
          el.appendChild(link);
        }
      })
      .catch(function () { el.appendChild(document.createTextNode("📎 " + a.name)); });
  }

  function draw(m) {
    if (shown[m.id]) return;
    var p = m.client_id && m.sender === "customer" && log.querySelector('[data-pending="' + CSS.escape(m.client_id) + '"]');
    if (p) p.remove();
    var li = bubble("from-" + m.sender);
    li.dataset.id = m.id; li.dataset.seq = m.seq; li.dataset.conv = m.conversation_id;
    if (m.sender === "agent" && m.agent_name) {
      var who = document.createElement("div"); who.className = "kchat-who"; who.textContent = m.agent_name; li.appendChild(who);
    }
    if (m.text) { var t = document.createElement("div"); t.className = "kchat-text"; t.textContent = m.text; li.appendChild(t); }
    if (m.attachment) fillAttachment(li, m.attachment);
    var meta = document.createElement("div"); meta.className = "kchat-meta"; meta.textContent = time(m.created_at); li.appendChild(meta);
    // Keep server order by (conversation, seq) even when pushes and catch-up interleave.
    var after = null;
    log.querySelectorAll("[data-id]").forEach(function (x) {
      if (+x.dataset.conv > m.conversation_id || (+x.dataset.conv === m.conversation_id && +x.dataset.seq > m.seq)) { if (!after) after = x; }
    });
    var firstPending = log.querySelector("[data-pending]");
    log.insertBefore(li, after || firstPending || null);
    shown[m.id] = li;
    if (conv && m.conversation_id === conv.id && m.seq > lastSeq.seq) { lastSeq = { id: conv.id, seq: m.seq }; }
    markRead();
    scrollDown();
  }

  function drawPending(item) {
    if (log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]')) return;
    var li = bubble("from-customer is-pending");
    li.dataset.pending = item.client_id;
    var t = document.createElement("div"); t.className = "kchat-text"; t.textContent = item.text; li.appendChild(t);
    var meta = document.createElement("div"); meta.className = "kchat-meta"; meta.textContent = L.sending; li.appendChild(meta);
    log.appendChild(li);
    scrollDown();
  }

  function showReadState() {
    log.querySelectorAll(".is-read").forEach(function (x) { x.classList.remove("is-read"); });
    if (!conv || !conv.agent_read_seq) return;
    var mine = log.querySelectorAll('.from-customer[data-conv="' + conv.id + '"]');
    for (var i = mine.length - 1; i >= 0; i--) {
      if (+mine[i].dataset.seq <= conv.agent_read_seq) { mine[i].classList.add("is-read"); mine[i].querySelector(".kchat-meta").dataset.read = L.read; break; }
    }
  }

  function applyState(state) {
    if (!state) { banner.hidden = true; rateForm.hidden = true; ratedEl.hidden = true; setStatus(L.online); return; }
    if (!conv || conv.id !== state.id) {
      if (lastSeq.id !== state.id) lastSeq = { id: state.id, seq: 0 };
    }
    conv = state;
    var greeting = log.querySelector(".kchat-greeting"); if (greeting) greeting.remove();
    banner.hidden = true;
    if (state.status === "queued") { banner.hidden = false; banner.textContent = fmt(L.queued, { n: state.queue_position || 1 }); setStatus(L.online); }
    else if (state.status === "active") setStatus(fmt(L.active, { name: state.agent_name }));
    else { setStatus(L.closed); typingEl.hidden = true; }
    rateForm.hidden = !(state.status === "closed" && !state.rating);
    ratedEl.hidden = !(state.status === "closed" && state.rating);
    showReadState();
  }

  function send(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; } return false; }

  function flushPending() { pending.forEach(function (p) { send({ type: "send", client_id: p.client_id, text: p.text }); }); }

  function markRead() {
    if (!conv || document.hidden) return;
    var seq = lastSeq.id === conv.id ? lastSeq.seq : 0;
    if (seq > (conv.customer_read_seq || 0)) { conv.customer_read_seq = seq; send({ type: "read", seq: seq }); }
  }

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        delay = 1000;
        applyState(f.conversation);
        if (!f.conversation && f.channel.greeting && !log.querySelector(".kchat-greeting")) {
          var g = bubble("from-system kchat-greeting"); g.textContent = f.channel.greeting; log.prepend(g);
        }
        flushPending();
        break;
      case "messages":
        f.messages.forEach(draw);
        if (f.more) send({ type: "sync", after_seq: lastSeq.seq });
        break;
      case "message":
        var m = f.message;
        if (conv && m.conversation_id === conv.id && m.seq > lastSeq.seq + 1) { send({ type: "sync", after_seq: lastSeq.seq }); break; }
        draw(m);
        if (m.sender === "agent") typingEl.hidden = true;
        break;
      case "ack":
        pending = pending.filter(function (p) { return p.client_id !== f.client_id; });
        store.set("pending", pending);
        if (!conv || conv.id !== f.conversation_id || !shown[f.id]) send({ type: "sync", after_seq: conv && conv.id === f.conversation_id ? lastSeq.seq : 0 });
        break;
      case "conversation":
        var fresh = !conv || conv.id !== f.conversation.id;
        applyState(f.conversation);
        if (fresh) send({ type: "sync", after_seq: 0 });
        break;
      case "typing":
        typingEl.hidden = false; clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingEl.hidden = true; }, 3500);
        break;
      case "read":
        if (conv) { conv.agent_read_seq = Math.max(conv.agent_read_seq || 0, f.seq); showReadState(); }
        break;
      case "rated":
        if (conv) { conv.rating = f.rating; applyState(conv); }
        break;
      case "error":
        if (f.client_id && f.code === "conversation_closed") {
          // Closed in the meantime: the same message, resent, starts a new conversation.
          setTimeout(flushPending, 300);
        } else if (f.client_id) {
          // Refused for good (not a network problem): stop resending it and say why.
          pending = pending.filter(function (p) { return p.client_id !== f.client_id; });
          store.set("pending", pending);
          var el = log.querySelector('[data-pending="' + CSS.escape(f.client_id) + '"]');
          if (el) { el.classList.add("is-failed"); el.querySelector(".kchat-meta").textContent = fmt(L.failed, { reason: f.message }); }
        } else if (f.code === "not_authenticated") { token = ""; store.set("token", ""); }
        break;
    }
  }

  function session() {
    var payload = { channel: key, visitor_token: token };
    if (params.get("customer_id")) { payload.customer_id = params.get("customer_id"); payload.customer_hash = params.get("customer_hash") || ""; }
    return fetch(body.dataset.sessionUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
      .then(function (j) { token = j.visitor_token; store.set("token", token); });
  }

  function connect() {
    setStatus(L.connecting);
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + body.dataset.socket);
    ws.onopen = function () {
      var hello = { type: "hello", visitor_token: token };
      if (lastSeq.id) { hello.conversation_id = lastSeq.id; hello.after_seq = lastSeq.seq; }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (e) { onFrame(JSON.parse(e.data)); };
    ws.onclose = function (e) {
      setStatus(L.offline);
      var again = e.code === 4401 ? function () { session().then(connect, retry); } : connect;
      setTimeout(again, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  function retry() { setTimeout(function () { session().then(connect, retry); }, delay); delay = Math.min(delay * 2, 15000); }

  $("[data-compose]").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var item = { client_id: uuid(), text: text };
    pending.push(item); store.set("pending", pending);
    drawPending(item);
    send({ type: "send", client_id: item.client_id, text: text });
    input.value = ""; input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("[data-compose]").requestSubmit(); }
  });
  input.addEventListener("input", function () {
    if (Date.now() - lastTyping > 2000 && conv && conv.status === "active") { lastTyping = Date.now(); send({ type: "typing" }); }
  });

  // Emoji: a small built-in set, no CDN.
  var EMOJI = "😀 😁 😂 🙂 😊 😍 😘 😉 😎 🤔 😅 😢 😭 😡 😮 😴 👍 👎 👏 🙏 👌 ✌️ 💪 🤝 ❤️ 💔 🎉 🌹 ☕ 🍵 📦 🚚 💰 🧾 ✅ ❌ ⭐ 🔥 ❓ ❗".split(" ");
  EMOJI.forEach(function (ch) {
    var b = document.createElement("button"); b.type = "button"; b.textContent = ch;
    b.addEventListener("click", function () {
      var s = input.selectionStart || input.value.length;
      input.value = input.value.slice(0, s) + ch + input.value.slice(input.selectionEnd || s);
      emojiPanel.hidden = true; input.focus();
    });
    emojiPanel.appendChild(b);
  });
  $("[data-emoji]").addEventListener("click", function () { emojiPanel.hidden = !emojiPanel.hidden; });

  // Files and images over HTTP, with the same client-id idempotency as text.
  var maxBytes = (+body.dataset.maxMb) * 1024 * 1024;
  var okType = /^(image\/(png|jpeg|gif|webp)|application\/pdf|text\/plain)$/;
  $("[data-file]").addEventListener("change", function (e) {
    var file = e.target.files[0]; e.target.value = "";
    if (!file) return;
    if (file.size > maxBytes) { alertLine(L.too_large); return; }
    if (!okType.test(file.type) && !/\.(png|jpe?g|gif|webp|pdf|txt)$/i.test(file.name)) { alertLine(L.bad_type); return; }
    var item = { client_id: uuid(), text: fmt(L.uploading, { name: file.name }) };
    drawPending(item);
    var form = new FormData(); form.append("client_id", item.client_id); form.append("file", file);
    fetch(body.dataset.uploadUrl, { method: "POST", headers: { "X-Visitor-Token": token }, body: form })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
      .then(function (j) {
        var el = log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]'); if (el) el.remove();
        if (!conv || conv.id !== j.conversation_id) send({ type: "sync", after_seq: 0 }); else draw(j.message);
      })
      .catch(function (err) {
        var el = log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]');
        if (el) { el.classList.add("is-failed"); el.querySelector(".kchat-meta").textContent = fmt(L.failed, { reason: (err && err.message) || "" }); }
      });
  });
  function alertLine(text) { var li = bubble("from-system is-failed"); li.textContent = text; log.appendChild(li); scrollDown(); }

  // Rating.
  rateForm.querySelectorAll("[data-star]").forEach(function (b) {
    b.addEventListener("click", function () {
      chosenStars = +b.dataset.star;
      rateForm.querySelectorAll("[data-star]").forEach(function (x) { x.classList.toggle("is-on", +x.dataset.star <= chosenStars); x.setAttribute("aria-checked", +x.dataset.star === chosenStars); });
    });
  });
  rateForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!chosenStars) { alertLine(L.pick_stars); return; }
    send({ type: "rate", rating: chosenStars, comment: rateForm.comment.value });
  });

  var closeBtn = $("[data-close]");
  if (closeBtn) closeBtn.addEventListener("click", function () { parent.postMessage({ kefu: "close" }, "*"); });
  document.addEventListener("visibilitychange", markRead);

  // Inside the widget, the host page's script hands over the customer's identity (if any)
  // when asked; the full-page chat takes it from its own URL.
  function identityThenStart() {
    if (!body.classList.contains("is-embedded") || window.parent === window) return start();
    var done = false;
    function go(id) {
      if (done) return; done = true;
      if (id && id.customer_id) { params.set("customer_id", id.customer_id); params.set("customer_hash", id.customer_hash || ""); }
      start();
    }
    window.addEventListener("message", function (e) {
      if (e.source === window.parent && e.data && e.data.kefu === "identity") go(e.data.identity);
    });
    parent.postMessage({ kefu: "ready" }, "*");
    setTimeout(function () { go(null); }, 1500);  // an older loader never answers
  }
  function start() {
    session().then(connect, function (err) { setStatus((err && err.message) || L.offline); if (!err || !err.error) retry(); });
  }
  pending.forEach(drawPending);
  identityThenStart();
})();
