// The designer: bpmn-js modeler on the BPMN file, dmn-js modeler on each DMN file; validate pins the
// server's problems to their elements; deploy posts every file as the next version. Both go through
// the REST API (POST /api/v1/process-definitions and its /validate).
(function () {
  "use strict";
  var files = JSON.parse(document.getElementById("designer-files").textContent);
  var urls = JSON.parse(document.getElementById("designer-urls").textContent);
  var text = JSON.parse(document.getElementById("designer-text").textContent);
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var status = document.getElementById("designer-status");
  var problemList = document.getElementById("problems");
  var bpmnName = Object.keys(files.bpmn)[0];
  var holder = document.getElementById("modeler");
  var modeler = new window.BpmnJS({ container: holder, keyboard: { bindTo: document } });
  window.jbModeler = modeler; // handy for tests and the console
  var dmnEditors = {};
  var problemOverlays = [];

  modeler.importXML(files.bpmn[bpmnName]).then(function () {
    modeler.get("canvas").zoom("fit-viewport");
    holder.setAttribute("data-ready", "1");
  }).catch(function (err) { holder.setAttribute("data-ready", "error"); status.textContent = String(err.message || err); });

  document.querySelectorAll(".dmn-editor").forEach(function (el) {
    if (!window.DmnJS) return;
    var name = el.getAttribute("data-name");
    var editor = new window.DmnJS({ container: el });
    dmnEditors[name] = editor;
    editor.importXML(files.dmn[name]).then(function () { el.setAttribute("data-ready", "1"); })
      .catch(function (err) { el.setAttribute("data-ready", "error"); el.textContent = String(err.message || err); });
  });

  document.querySelectorAll(".toolbar .tab").forEach(function (tab) {
    tab.addEventListener("click", function (e) {
      e.preventDefault();
      document.querySelectorAll(".toolbar .tab").forEach(function (t) { t.classList.toggle("active", t === tab); });
      document.querySelectorAll(".pane").forEach(function (p) { p.hidden = p.id !== tab.getAttribute("data-pane"); });
    });
  });

  function collect() {
    var out = {};
    var jobs = [modeler.saveXML({ format: true }).then(function (r) { out[bpmnName] = r.xml; })];
    Object.keys(files.dmn).forEach(function (name) {
      var ed = dmnEditors[name];
      if (!ed) { out[name] = files.dmn[name]; return; }
      jobs.push(ed.saveXML({ format: true }).then(function (r) { out[name] = r.xml; }));
    });
    return Promise.all(jobs).then(function () { return out; });
  }

  // The REST routes take the files as multipart "file" parts, like any other client; the session
  // cookie counts there only with this page's CSRF token in the header.
  function post(url, files) {
    var form = new FormData();
    Object.keys(files).forEach(function (name) {
      form.append("file", new Blob([files[name]], { type: "application/xml" }), name);
    });
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
      body: form
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (json) { return { status: resp.status, body: json }; });
    });
  }

  function showProblems(problems) {
    var overlays = modeler.get("overlays");
    var registry = modeler.get("elementRegistry");
    var canvas = modeler.get("canvas");
    problemOverlays.forEach(function (o) { overlays.remove(o.id); if (registry.get(o.el)) canvas.removeMarker(o.el, "jb-problem"); });
    problemOverlays = [];
    problemList.innerHTML = "";
    var zh = document.documentElement.lang !== "en";
    problems.forEach(function (p) {
      var msg = zh ? (p.message_zh || p.message) : p.message;
      var li = document.createElement("li");
      li.setAttribute("data-element-id", p.element_id || "");
      li.textContent = (p.element_id ? p.element_id + "：" : "") + msg;
      problemList.appendChild(li);
      var el = p.element_id && registry.get(p.element_id);
      if (el) {  // a click on the problem shows its element
        li.classList.add("clickable");
        li.addEventListener("click", function () { canvas.scrollToElement(el); modeler.get("selection").select(el); });
      }
      if (p.element_id && registry.get(p.element_id)) {
        canvas.addMarker(p.element_id, "jb-problem");
        var id = overlays.add(p.element_id, { position: { bottom: 0, left: 0 }, html: '<div class="jb-problem-note"></div>' });
        var note = document.querySelector('[data-overlay-id="' + id + '"] .jb-problem-note');
        if (note) note.textContent = msg;
        problemOverlays.push({ id: id, el: p.element_id });
      }
    });
  }

  // 200: the files would deploy; 422: they would not, and "problems" says where; else a refusal.
  document.getElementById("validate").addEventListener("click", function () {
    collect().then(function (out) { return post(urls.validate, out); }).then(function (r) {
      var problems = r.body.problems || [];
      showProblems(problems);
      if (r.status === 200 || (r.status === 422 && problems.length)) {
        status.textContent = problems.length ? text.problems + problems.length : text.valid;
        status.setAttribute("data-result", problems.length ? "problems" : "valid");
      } else {
        status.textContent = text.failed + "：" + (r.body.detail || r.status);
        status.setAttribute("data-result", "failed");
      }
    });
  });

  document.getElementById("deploy").addEventListener("click", function () {
    status.textContent = text.saving;
    collect().then(function (out) { return post(urls.deploy, out); }).then(function (r) {
      if (r.status === 201) {
        status.textContent = text.deployed + " v" + r.body.version;
        status.setAttribute("data-result", "deployed");
        window.location.href = urls.index + "?deployed=" + encodeURIComponent(r.body.key + ":" + r.body.version);
      } else {
        showProblems(r.body.problems || []);
        status.textContent = text.failed + "：" + (r.body.detail || r.status);
        status.setAttribute("data-result", "failed");
      }
    });
  });

  document.getElementById("download").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (r) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([r.xml], { type: "application/xml" }));
      a.download = bpmnName;
      a.click();
    });
  });
})();
