// The designer: the bpmn-js modeler with its properties panel (Jiebang's extension properties as
// fields) on the BPMN file, dmn-js on each DMN file; validate pins the server's problems to their
// elements; deploy first shows what changed since the deployed version and asks, then posts every
// file as the next version. Both go through the REST API (POST /api/v1/process-definitions[/validate]).
(function () {
  "use strict";
  var files = JSON.parse(document.getElementById("designer-files").textContent);
  var urls = JSON.parse(document.getElementById("designer-urls").textContent);
  var text = JSON.parse(document.getElementById("designer-text").textContent);
  var codes = JSON.parse(document.getElementById("designer-codes").textContent);
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var zh = document.documentElement.lang !== "en";
  var status = document.getElementById("designer-status");
  var problemList = document.getElementById("problems");
  var bpmnName = Object.keys(files.bpmn)[0];
  var holder = document.getElementById("modeler");
  var modeler = window.JiebangDesigner.create({
    container: holder,
    panel: document.getElementById("properties"),
    lang: zh ? "zh" : "en",
    forms: files.forms
  });
  window.jbModeler = modeler; // handy for tests and the console
  var dmnEditors = {};
  var problemOverlays = [];
  var diffMarkers = [];

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function say(message, result) {
    status.textContent = message;
    if (result) status.setAttribute("data-result", result); else status.removeAttribute("data-result");
  }

  /** Fit the whole diagram into the part of the canvas the palette leaves free, so it never covers the start event. */
  function fitBesidePalette(canvas) {
    canvas.zoom("fit-viewport");
    var box = canvas.viewbox();
    var inner = box.inner;
    var palette = holder.querySelector(".djs-palette");
    var left = (palette ? palette.getBoundingClientRect().right - holder.getBoundingClientRect().left : 0) + 24;
    var width = box.outer.width, height = box.outer.height, pad = 24;
    if (!inner.width || !inner.height || width <= left + pad) return;
    var scale = Math.min((width - left - pad) / inner.width, (height - 2 * pad) / inner.height, 1.5);
    var top = (height - inner.height * scale) / 2;
    canvas.viewbox({ x: inner.x - left / scale, y: inner.y - top / scale, width: width / scale, height: height / scale });
  }

  modeler.importXML(files.bpmn[bpmnName]).then(function (result) {
    var canvas = modeler.get("canvas");
    fitBesidePalette(canvas);
    // the process's own settings (lanes, auto-approval) show first in the properties panel
    var registry = modeler.get("elementRegistry");
    var participant = registry.filter(function (e) { return e.type === "bpmn:Participant"; })[0];
    setTimeout(function () { modeler.get("selection").select(participant || canvas.getRootElement()); }, 0);
    holder.setAttribute("data-ready", "1");
    var warnings = (result && result.warnings) || [];
    if (warnings.length) {
      say(fill(text.importWarnings, { n: warnings.length }) + warnings.map(function (w) { return w.message.split("\n")[0]; }).join("；"), "warnings");
    }
  }).catch(function (err) {
    holder.setAttribute("data-ready", "error");
    // a diagram deployed without layout (written by hand, or by a tool without one) cannot be drawn
    var message = String(err.message || err);
    say(/no diagram to display/.test(message) ? text.noLayout : message, "failed");
  });

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
    }, function () { return { status: 0, body: {} }; });
  }

  /** A refusal that is not a list of problems, in the page's language (the server's detail is English). */
  function refusal(r) {
    if (r.status === 0) return text.network;
    return text["status" + r.status] || fill(text.statusOther, { status: r.status });
  }

  function elementLabel(id) {
    var el = id && modeler.get("elementRegistry").get(id);
    var name = el && el.businessObject && el.businessObject.name;
    return name ? name + "（" + id + "）" : id;
  }

  function showProblems(problems) {
    var overlays = modeler.get("overlays");
    var registry = modeler.get("elementRegistry");
    var canvas = modeler.get("canvas");
    problemOverlays.forEach(function (o) { overlays.remove(o.id); if (registry.get(o.el)) canvas.removeMarker(o.el, "jb-problem"); });
    problemOverlays = [];
    problemList.innerHTML = "";
    problems.forEach(function (p) {
      var msg = zh ? (p.message_zh || p.message) : p.message;
      var li = document.createElement("li");
      li.setAttribute("data-element-id", p.element_id || "");
      li.setAttribute("data-code", p.code || "");
      if (codes[p.code]) {
        var title = document.createElement("strong");
        title.textContent = codes[p.code] + " ";
        li.appendChild(title);
      }
      li.appendChild(document.createTextNode((p.element_id ? elementLabel(p.element_id) + "：" : "") + msg));
      problemList.appendChild(li);
      var el = p.element_id && registry.get(p.element_id);
      if (el) {  // a click on the problem shows its element
        li.classList.add("clickable");
        li.addEventListener("click", function () { canvas.scrollToElement(el); modeler.get("selection").select(el); });
        canvas.addMarker(p.element_id, "jb-problem");
        var id = overlays.add(p.element_id, { position: { bottom: 0, left: 0 }, html: '<div class="jb-problem-note"></div>' });
        var note = document.querySelector('[data-overlay-id="' + id + '"] .jb-problem-note');
        if (note) note.textContent = (codes[p.code] || msg);
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
        say(problems.length ? text.problems + problems.length : text.valid, problems.length ? "problems" : "valid");
      } else {
        say(text.checkFailed + "：" + refusal(r), "failed");
      }
    });
  });

  // ---------------------------------------------------------------- deploy: what changed, then ask
  var dialog = document.getElementById("deploy-confirm");
  var changesBox = document.getElementById("deploy-changes");

  function clearDiffMarkers() {
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    diffMarkers.forEach(function (m) { if (registry.get(m[0])) canvas.removeMarker(m[0], m[1]); });
    diffMarkers = [];
  }

  function mark(id, cls) {
    if (modeler.get("elementRegistry").get(id)) {
      modeler.get("canvas").addMarker(id, cls);
      diffMarkers.push([id, cls]);
    }
  }

  function node(tag, cls, content) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (content !== undefined) el.textContent = content;
    return el;
  }

  function describe(item) {
    return item.type + " " + (item.name ? "「" + item.name + "」" : item.id);
  }

  function section(kind, items, render) {
    if (!items.length) return;
    var box = node("section", "diff-" + kind);
    box.setAttribute("data-kind", kind);
    box.appendChild(node("h3", null, text[kind] + "（" + items.length + "）"));
    var ul = node("ul");
    items.forEach(function (item) {
      var li = node("li");
      li.setAttribute("data-element-id", item.id);
      render(li, item);
      ul.appendChild(li);
    });
    box.appendChild(ul);
    changesBox.appendChild(box);
  }

  function showChanges(diff) {
    changesBox.innerHTML = "";
    clearDiffMarkers();
    section("added", diff.added, function (li, item) { li.textContent = describe(item); mark(item.id, "jb-diff-added"); });
    section("removed", diff.removed, function (li, item) { li.textContent = describe(item); });
    section("changed", diff.changed, function (li, item) {
      li.appendChild(node("span", "what", describe(item)));
      var dl = node("dl");
      item.props.forEach(function (p) {
        var dt = node("dt", null, p.label);
        dt.setAttribute("data-key", p.key);
        dl.appendChild(dt);
        var dd = node("dd");
        dd.appendChild(node("del", null, p.before || text.empty));
        dd.appendChild(document.createTextNode(" → "));
        dd.appendChild(node("ins", null, p.after || text.empty));
        dl.appendChild(dd);
      });
      li.appendChild(dl);
      mark(item.id, "jb-diff-changed");
    });
    if (!diff.added.length && !diff.removed.length && !diff.changed.length) {
      changesBox.appendChild(node("p", "no-changes", text.noChanges));
    }
  }

  function deploy() {
    say(text.saving);
    collect().then(function (out) { return post(urls.deploy, out); }).then(function (r) {
      if (r.status === 201) {
        say(text.deployed + " v" + r.body.version, "deployed");
        window.location.href = urls.index + "?deployed=" + encodeURIComponent(r.body.key + ":" + r.body.version);
      } else if (r.status === 422 && (r.body.problems || []).length) {
        showProblems(r.body.problems);
        say(fill(text.deployProblems, { n: r.body.problems.length }), "failed");
      } else {
        say(text.failed + "：" + refusal(r), "failed");
      }
    });
  }

  document.getElementById("deploy").addEventListener("click", function () {
    var deployedName = Object.keys(files.deployed)[0];
    modeler.saveXML({ format: true }).then(function (r) {
      return window.JiebangDesigner.diff(modeler, files.deployed[bpmnName] || files.deployed[deployedName] || r.xml, r.xml);
    }).then(function (diff) {
      showChanges(diff);
      dialog.showModal();
    }).catch(function (err) { say(text.failed + "：" + String(err.message || err), "failed"); });
  });
  document.getElementById("deploy-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("deploy-confirm-button").addEventListener("click", function () { dialog.close("deploy"); });
  dialog.addEventListener("close", function () {
    clearDiffMarkers();
    if (dialog.returnValue === "deploy") deploy();
    dialog.returnValue = "";
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
