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
    var details = item.querySelector("details");
    if (details) details.open = cls !== "done";
    recount();
  }
  // The line at the top: how many doors are done, away, still to visit.
  function recount() {
    var counts = document.getElementById("counts");
    if (!counts) return;
    var all = document.querySelectorAll("li.visit").length;
    var done = document.querySelectorAll("li.visit.state-done").length;
    var away = document.querySelectorAll("li.visit.state-not_home").length;
    counts.textContent = "共 " + all + " 户 · 已完成 " + done + " · 不在家 " + away + " · 未走访 " + (all - done - away);
  }
  function currentToken() {
    var field = document.querySelector('input[name="_csrf"]');
    return field ? field.value : "";
  }
  var flushing = false;
  function flush() {
    if (flushing) return;
    var q = load();
    if (!q.length) return;
    flushing = true;
    var entry = q[0];
    var body = new URLSearchParams();
    // The token of this page, not of the page the answer was queued on: a session renewed since still works.
    entry.fields.forEach(function (kv) { body.append(kv[0], kv[0] === "_csrf" ? (currentToken() || kv[1]) : kv[1]); });
    fetch(entry.url, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, json: j }; }, function () { return { status: r.status, json: {} }; }); })
      .then(function (res) {
        var rest = load().filter(function (e) { return e.key !== entry.key; });
        if (res.status === 200) {
          mark(entry.visit, res.json.label + (res.json.repeated === "true" ? "(已保存过)" : ""), res.json.state);
        } else if (res.status >= 500 || res.status === 429) {
          flushing = false; setTimeout(flush, 10000); return;
        } else if (res.status === 401 || res.status === 403) {
          // Logged out or the session expired: keep every answer; they go up after logging in again.
          var box = document.getElementById("sync");
          if (box) { box.hidden = false; box.textContent = "登录已过期:请重新登录,保存在本机的 " + load().length + " 户结果会自动上传"; }
          flushing = false; return;
        } else {
          mark(entry.visit, "未保存:" + (res.json.error || res.status), "error");
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
      if (hasPhoto && outcome === "answered") {
        if (navigator.onLine) return;  // photos go up with the form itself, online
        event.preventDefault();
        mark(form.action.split("/").pop(), "照片需联网上传:请联网后再提交,或先去掉照片", "error");
        return;
      }
      event.preventDefault();
      enqueue(form, outcome);
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
      document.getElementById("eta").textContent = p.eta;
      var lag = document.querySelector("#laggards tbody");
      if (lag) {
        lag.textContent = "";
        p.laggards.forEach(function (b) {
          var tr = document.createElement("tr");
          var a = document.createElement("a");
          a.href = location.pathname + "?node=" + b.code;
          a.textContent = b.name;
          var cells = [a, b.percent + "%", b.done + "/" + b.total, String(b.notHome), ""];
          cells.forEach(function (c) { var td = document.createElement("td"); if (typeof c === "string") td.textContent = c; else td.appendChild(c); tr.appendChild(td); });
          lag.appendChild(tr);
        });
      }
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
