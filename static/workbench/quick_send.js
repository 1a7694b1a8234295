/* Workbench quick send (常用语 + 知识库): canned replies (searchable, "/" shortcuts in the
   composer) and knowledge answers suggested for the customer's last message. Picking one
   puts its text into the composer, where the agent can edit it before sending.
   Reads the quick-send endpoints (docs/quick-send.md); needs nothing from workbench.js but
   the composer ([data-input]) and the message log ([data-log]). */
(function () {
  "use strict";
  var box = document.querySelector("[data-quick]");
  var input = document.querySelector("[data-input]");
  var log = document.querySelector("[data-log]");
  if (!box || !input || !log) return;
  var cannedUrl = box.dataset.canned, knowledgeUrl = box.dataset.knowledge, useUrl = box.dataset.cannedUse;
  var search = box.querySelector("[data-quick-search]");
  var cannedList = box.querySelector("[data-quick-canned]");
  var kbList = box.querySelector("[data-quick-kb]");
  var kbHead = box.querySelector("[data-quick-kb-head]");
  var timer = null, lastQuery = null, lastCustomerText = null, viaShortcut = false;

  function csrf() { var m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { results: [] }; });
  }
  function put(text) {
    // A "/shortcut" the agent typed is replaced; otherwise insert at the cursor.
    if (viaShortcut || /^\/\S*$/.test(input.value)) input.value = text;
    else input.setRangeText(text, input.selectionStart, input.selectionEnd, "end");
    viaShortcut = false;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  }
  function item(title, text, extra, onPick) {
    var li = document.createElement("li");
    var b = document.createElement("button");
    b.type = "button"; b.className = "wb-quick-item";
    var t = document.createElement("strong"); t.textContent = title; b.appendChild(t);
    if (extra) { var e = document.createElement("span"); e.className = "muted"; e.textContent = " " + extra; b.appendChild(e); }
    var p = document.createElement("span"); p.className = "wb-quick-text"; p.textContent = text; b.appendChild(p);
    b.addEventListener("click", onPick);
    li.appendChild(b);
    return li;
  }
  function showCanned(results) {
    cannedList.textContent = "";
    if (!results.length) {
      var li = document.createElement("li"); li.className = "muted"; li.textContent = box.dataset.labelNone;
      cannedList.appendChild(li); return;
    }
    results.slice(0, 12).forEach(function (r) {
      cannedList.appendChild(item(r.title, r.text, r.shortcut || "", function () {
        put(r.text);
        var at = useUrl.lastIndexOf("/0/");  // reversed by the template with the id 0
        fetch(useUrl.slice(0, at) + "/" + r.id + "/" + useUrl.slice(at + 3), { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } });
      }));
    });
  }
  function loadCanned(q) {
    if (q === lastQuery) return;
    lastQuery = q;
    getJSON(cannedUrl + "?q=" + encodeURIComponent(q)).then(function (data) { if (q === lastQuery) showCanned(data.results || []); });
  }
  function lastCustomerMessage() {
    var all = log.querySelectorAll("li.from-customer");
    if (!all.length) return "";
    var node = all[all.length - 1].firstChild;
    return node && node.nodeType === 3 ? node.textContent.trim() : "";
  }
  function refreshKnowledge() {
    var text = lastCustomerMessage();
    if (text === lastCustomerText) return;
    lastCustomerText = text;
    kbList.textContent = "";
    kbHead.hidden = true;
    if (!text) return;
    getJSON(knowledgeUrl + "?text=" + encodeURIComponent(text.slice(0, 500))).then(function (data) {
      if (text !== lastCustomerText) return;
      var results = data.results || [];
      kbHead.hidden = !results.length;
      results.forEach(function (r) { kbList.appendChild(item(r.title, r.text, "", function () { put(r.text); })); });
    });
  }

  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { viaShortcut = false; loadCanned(search.value.trim()); }, 150);
  });
  // "/" at the start of the composer searches shortcuts as the agent types.
  input.addEventListener("input", function () {
    var v = input.value;
    if (/^\/\S*$/.test(v)) {
      viaShortcut = true;
      clearTimeout(timer);
      timer = setTimeout(function () { loadCanned(v); }, 100);
    } else if (viaShortcut) {
      viaShortcut = false;
      loadCanned(search.value.trim());
    }
  });
  new MutationObserver(function () { clearTimeout(box._kb); box._kb = setTimeout(refreshKnowledge, 200); })
    .observe(log, { childList: true });
  loadCanned("");
})();
