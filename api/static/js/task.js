// The task form: JSON Schema rendered by @json-editor/json-editor; values posted as one JSON field.
// Server-side errors (field path -> messages) are pinned under their fields.
(function () {
  "use strict";
  var holder = document.getElementById("form-editor");
  var form = document.getElementById("task-form");
  if (!holder || !form) return;
  var schema = JSON.parse(document.getElementById("form-schema").textContent || "null");
  var initial = JSON.parse(document.getElementById("form-initial").textContent || "{}");
  var serverErrors = JSON.parse(document.getElementById("form-server-errors").textContent || "{}");
  var DT_LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;
  var datetimeFields = [];

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // A stored instant shown as Beijing wall-clock time for <input type="datetime-local">.
  function toLocalInput(value) {
    var d = new Date(value);
    if (isNaN(d.getTime())) return value;
    return new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 16);
  }
  function fromLocalInput(value) {
    if (typeof value !== "string" || !DT_LOCAL.test(value)) return value;
    return (value.length === 16 ? value + ":00" : value) + "+08:00";
  }

  // "approve 通过 / return 退回修改" in a description becomes the option labels of an enum.
  function enumTitles(prop) {
    if (!prop.enum || typeof prop.description !== "string") return null;
    var labels = {};
    prop.description.split("/").forEach(function (part) {
      var m = part.trim().match(/^(\S+)\s+(.+)$/);
      if (m) labels[m[1]] = m[2] + " (" + m[1] + ")";
    });
    return prop.enum.map(function (v) { return labels[v] || String(v); });
  }

  function prepare(node, path) {
    if (!node || typeof node !== "object") return;
    if (node.format === "date-time") { node.format = "datetime-local"; datetimeFields.push(path); }
    if (node.type === "boolean") node.options = Object.assign({ enum_titles: ["是 true", "否 false"] }, node.options);
    var titles = enumTitles(node);
    if (titles) node.options = Object.assign({}, node.options, { enum_titles: titles });
    if (node.properties) Object.keys(node.properties).forEach(function (k) { prepare(node.properties[k], path.concat([k])); });
    if (node.items) prepare(node.items, path.concat(["*"]));
  }

  function mapPaths(value, path, fn) {
    if (!value || typeof value !== "object") return;
    var head = path[0], rest = path.slice(1);
    var keys = head === "*" ? Object.keys(value) : [head];
    keys.forEach(function (k) {
      if (!(k in value)) return;
      if (rest.length === 0) value[k] = fn(value[k]); else mapPaths(value[k], rest, fn);
    });
  }

  var editor = null;
  if (schema && window.JSONEditor) {
    prepare(schema, []);
    datetimeFields.forEach(function (p) { mapPaths(initial, p, toLocalInput); });
    editor = new window.JSONEditor(holder, {
      schema: schema,
      theme: "html",
      disable_theme_rules: true, // its rules come as vendor/json-editor/jsoneditor.css (no injected <style>)
      disable_edit_json: true,
      disable_properties: true,
      disable_collapse: true,
      disable_array_reorder: true,
      no_additional_properties: true,
      remove_empty_properties: true,
      show_errors: "never",
      prompt_before_delete: false
    });
    // Field by field, not as startval: a startval without an optional field would drop that field.
    editor.on("ready", function () {
      Object.keys(initial || {}).forEach(function (key) {
        var field = editor.getEditor("root." + key);
        if (field) field.setValue(initial[key]);
      });
      showServerErrors(); holder.setAttribute("data-ready", "1"); });
  } else {
    holder.setAttribute("data-ready", "1");
  }

  function showServerErrors() {
    Object.keys(serverErrors || {}).forEach(function (path) {
      var target = editor && editor.getEditor(path ? "root." + path : "root");
      // an error on a missing nested field lands on the closest editor that exists
      var probe = path.split(".");
      while (!target && probe.length > 1) { probe.pop(); target = editor.getEditor("root." + probe.join(".")); }
      var box = target ? target.container : holder;
      var note = document.createElement("div");
      note.className = "field-error";
      note.setAttribute("data-error-for", path);
      note.setAttribute("role", "alert");
      note.textContent = serverErrors[path].join("；");
      box.classList.add("has-error");
      box.appendChild(note);
    });
  }

  form.addEventListener("submit", function () {
    var value = editor ? editor.getValue() : {};
    datetimeFields.forEach(function (p) { mapPaths(value, p, fromLocalInput); });
    document.getElementById("form-data").value = JSON.stringify(value || {});
  });
})();
