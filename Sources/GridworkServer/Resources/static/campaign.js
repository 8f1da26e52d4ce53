// Campaigns: questions shown only when their condition holds; answers that survive a dropped
// connection (kept in this phone's storage with their key, sent again when it is back — the server
// never doubles an answer with the same key); and the dashboard's live progress (Server-Sent Events).
(function () {
  "use strict";
  var QUEUE = "gridwork-answers";

  function newKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- show-if ---------------------------------------------------------------------------------
  function answerOf(form, key) {
    var picked = [];
    Array.prototype.forEach.call(form.querySelectorAll('[name="' + key + '"]'), function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value) picked.push(input.value);
    });
    return picked;
  }
  function applyConditions(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-if]"), function (box) {
      var parent = form.querySelector('[name="' + box.getAttribute("data-show-if") + '"]');
      var parentBox = parent && parent.closest("fieldset");
      var visible = (!parentBox || !parentBox.hidden) && answerOf(form, box.getAttribute("data-show-if")).indexOf(box.getAttribute("data-show-value")) >= 0;
      box.hidden = !visible;
      Array.prototype.forEach.call(box.querySelectorAll("input"), function (i) { i.disabled = !visible; });
    });
  }

  // --- the queue ----------------------------------------------------------------------------------
  function load() { try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(QUEUE, JSON.stringify(q)); showQueue(); }
  function showQueue() {
    var box = document.getElementById("sync");
    if (!box) return;
    var n = load().length;
    box.hidden = n === 0;
    box.textContent = n === 0 ? "" : "有 " + n + " 户的结果保存在本机,联网后自动上传" + (navigator.onLine ? "(正在上传…)" : "(当前无网络)");
  }
  function mark(id, text, cls) {
    var item = document.getElementById("visit-" + id);
    if (!item) return;
    var tag = item.querySelector("[data-state]");
    if (tag) tag.textContent = text;
    if (cls) item.className = "household visit state-" + cls;
  }
  var flushing = false;
  function flush() {
    if (flushing) return;
    var q = load();
    if (!q.length) return;
    flushing = true;
    var entry = q[0];
    var body = new URLSearchParams();
    entry.fields.forEach(function (kv) { body.append(kv[0], kv[1]); });
    fetch(entry.url, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, json: j }; }, function () { return { status: r.status, json: {} }; }); })
      .then(function (res) {
        var rest = load().filter(function (e) { return e.key !== entry.key; });
        if (res.status === 200) {
          mark(entry.visit, res.json.label + (res.json.repeated === "true" ? "(已保存过)" : ""), res.json.state);
        } else if (res.status >= 500 || res.status === 429) {
          flushing = false; setTimeout(flush, 10000); return;
        } else {
          mark(entry.visit, "未保存:" + (res.json.error || res.status), null);
        }
        save(rest);
        flushing = false;
        flush();
      }, function () { flushing = false; showQueue(); setTimeout(flush, 15000); });
  }

  function enqueue(form, outcome) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "file" || el.type === "submit") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      fields.push([el.name, el.value]);
    });
    fields.push(["outcome", outcome]);
    var key = form.querySelector('[name="key"]');
    var q = load();
    q.push({ url: form.action, key: key.value, visit: form.action.split("/").pop(), fields: fields });
    key.value = newKey();  // the next answer from this form is a new one
    save(q);
    mark(form.action.split("/").pop(), outcome === "not_home" ? "不在家(待上传)" : "已填写(待上传)", null);
    flush();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-offline]"), function (form) {
    applyConditions(form);
    form.addEventListener("change", function () { applyConditions(form); });
    form.addEventListener("submit", function (event) {
      var outcome = event.submitter ? event.submitter.value : "answered";
      var hasPhoto = Array.prototype.some.call(form.querySelectorAll('input[type="file"]'), function (f) { return f.files && f.files.length; });
      if (hasPhoto && outcome === "answered") return;  // photos go up with the form itself, online
      event.preventDefault();
      enqueue(form, outcome);
      var details = form.closest("details");
      if (details && outcome === "answered") details.open = false;
    });
  });
  showQueue();
  window.addEventListener("online", flush);
  window.addEventListener("offline", showQueue);
  setInterval(flush, 30000);
  flush();

  // --- the live dashboard ------------------------------------------------------------------------------
  var progress = document.getElementById("progress");
  if (progress && window.EventSource) {
    var status = document.getElementById("live-status");
    var source = new EventSource(progress.getAttribute("data-live"));
    var fmt = function (n) { return n.toLocaleString("en-US"); };
    source.addEventListener("progress", function (e) {
      var p = JSON.parse(e.data);
      document.getElementById("percent").textContent = p.percent + "%";
      document.getElementById("done").textContent = fmt(p.done);
      document.getElementById("total").textContent = fmt(p.total);
      document.getElementById("not-home").textContent = fmt(p.notHome);
      document.getElementById("findings").textContent = fmt(p.findings);
      document.getElementById("bar").style.width = p.percent + "%";
      if (p.eta) document.getElementById("eta").textContent = p.eta;
      p.children.forEach(function (c) {
        var row = document.querySelector('#children tr[data-code="' + c.code + '"]');
        if (!row) return;
        row.querySelector(".pct").textContent = c.percent + "%";
        row.querySelector(".frac").textContent = c.done + "/" + c.total;
        row.querySelector(".away").textContent = c.notHome;
        row.querySelector(".found").textContent = c.findings;
      });
      progress.setAttribute("data-at", p.at);
      progress.setAttribute("data-done", p.done);
      if (status) status.textContent = "实时更新 · " + new Date(p.at).toLocaleTimeString("zh-CN") + (p.state === "closed" ? " · 任务已结束" : "");
      if (p.state === "closed") source.close();
    });
    source.onerror = function () { if (status) status.textContent = "连接中断,正在重连…"; };
  }
})();
