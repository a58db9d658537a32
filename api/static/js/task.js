// The task form, drawn from its JSON Schema as people expect a form to look: labels with required
// marks, help under them, selects with an empty choice (nothing decided for the user), textareas for
// long texts, date pickers, durations as "14 天", numeric keypads, people found by name, the claim
// chosen from cards. Checked on submit only: one plain message per field and a summary by label;
// the server checks everything again. The values are posted as one JSON field.
// Every text from a schema or a value is written with textContent; help texts may carry a few
// harmless tags, cleaned by DOMPurify (http(s) or relative links only).
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }
  function json(id, fallback) {
    var node = $(id);
    if (!node) return fallback;
    try { return JSON.parse(node.textContent || "null") || fallback; } catch (e) { return fallback; }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === true) node.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  var M = json("form-messages", {});
  function msg(key, n) { return String(M[key] || key).replace("{n}", n); }

  // ---- help texts: a few tags kept, links only to http(s) or relative addresses ----------------
  var SAFE_URL = /^(?:https?:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;
  var DOMPurify = window.DOMPurify;
  if (DOMPurify) {
    DOMPurify.setConfig({ ALLOWED_TAGS: ["a", "b", "strong", "i", "em", "u", "s", "small", "sub", "sup", "code", "br",
      "p", "span", "ul", "ol", "li"], ALLOWED_ATTR: ["href", "title"], ALLOWED_URI_REGEXP: SAFE_URL });
    DOMPurify.addHook("afterSanitizeAttributes", function (node) {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
  }
  function help(text) {
    var node = el("div", { "class": "help" });
    if (DOMPurify) node.innerHTML = DOMPurify.sanitize(String(text));
    else node.textContent = plain(text);
    return node;
  }
  // Text without its tags and with its entities decoded. A <textarea> parses its content as text
  // (RCDATA): no element is ever created, so nothing loads and no handler is even looked at.
  function plain(text) {
    var box = document.createElement("textarea");
    box.innerHTML = String(text === null || text === undefined ? "" : text).replace(/<[^>]*>?/g, "");
    return box.value;
  }

  // ---- people found by name ------------------------------------------------------------------
  var peopleUrl = ($("form-editor") && $("form-editor").getAttribute("data-people")) ||
    (document.querySelector("[data-people-url]") || { getAttribute: function () { return null; } }).getAttribute("data-people-url");
  var found = {};
  function searchPeople(q, done) {
    if (!peopleUrl || !q) { done([]); return; }
    fetch(peopleUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        list.forEach(function (p) { found[p.username] = p.display_name; });
        done(list);
      })
      .catch(function () { done([]); });
  }

  // A text box that searches by name; the chosen person's username goes to ``onPick``.
  function personPicker(id, placeholder, onPick) {
    var box = el("div", { "class": "person-picker" });
    var input = el("input", { type: "text", id: id, autocomplete: "off", "class": "person-search",
      placeholder: placeholder || msg("search"), role: "combobox", "aria-autocomplete": "list" });
    var list = el("ul", { "class": "person-options", role: "listbox", hidden: true });
    box.appendChild(input); box.appendChild(list);
    var timer = null;
    function show(people) {
      list.textContent = "";
      if (!people.length) { list.appendChild(el("li", { "class": "none" }, msg("none"))); }
      people.forEach(function (p) {
        var item = el("li", { role: "option", "data-username": p.username, tabindex: "-1" });
        item.appendChild(el("span", { "class": "name" }, p.display_name));
        if (p.display_name !== p.username) item.appendChild(el("span", { "class": "login" }, " " + p.username));
        item.addEventListener("mousedown", function (e) { e.preventDefault(); pick(p); });
        list.appendChild(item);
      });
      list.hidden = false;
    }
    function pick(p) {
      input.value = p.display_name;
      input.setAttribute("data-username", p.username);
      list.hidden = true;
      onPick(p.username, p.display_name);
    }
    input.addEventListener("input", function () {
      input.removeAttribute("data-username");
      onPick(null, input.value);
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { list.hidden = true; return; }
      timer = setTimeout(function () { searchPeople(q, show); }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !list.hidden) {
        var first = list.querySelector("li[data-username]");
        if (first) { e.preventDefault(); first.dispatchEvent(new MouseEvent("mousedown")); }
      } else if (e.key === "Escape") { list.hidden = true; }
    });
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
    box.setPerson = function (username) {
      if (!username) return;
      input.setAttribute("data-username", username);
      input.value = found[username] || username;
      searchPeople(username, function (list) {
        list.forEach(function (p) { if (p.username === username) input.value = p.display_name; });
      });
    };
    return box;
  }

  // The operations' person fields (转办, 委派, 加签, 抄送): search by name, send usernames.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-person]"), function (original, i) {
    var many = original.getAttribute("data-person") === "many";
    var chosen = [];
    original.type = "hidden";
    original.required = false;
    var chips = el("span", { "class": "chips" });
    var picker = personPicker("op-person-" + i, original.getAttribute("placeholder"), function (username, name) {
      if (!many) { original.value = username || ""; return; }
      if (!username || chosen.indexOf(username) >= 0) return;
      chosen.push(username);
      var chip = el("span", { "class": "chip", "data-username": username }, name + " ");
      var drop = el("button", { type: "button", "class": "link", "aria-label": msg("remove") }, "×");
      drop.addEventListener("click", function () {
        chosen.splice(chosen.indexOf(username), 1); chip.remove(); original.value = chosen.join(",");
      });
      chip.appendChild(drop); chips.appendChild(chip);
      original.value = chosen.join(",");
      picker.querySelector("input").value = "";
    });
    // Out of its <label>: a label passes clicks on to its first control, which would be a chip's ×.
    var host = original.parentNode;
    if (host.tagName === "LABEL") {
      var row = el("div", { "class": "label-row" });
      picker.querySelector("input").setAttribute("aria-label", host.textContent.trim());
      while (host.firstChild) row.appendChild(host.firstChild);
      host.parentNode.replaceChild(row, host);
    }
    original.parentNode.insertBefore(chips, original);
    original.parentNode.insertBefore(picker, original);
    original.form.addEventListener("submit", function (e) {
      if (!original.value) { e.preventDefault(); picker.querySelector("input").focus(); }
    });
  });

  // ---- the form ------------------------------------------------------------------------------
  var holder = $("form-editor");
  var form = $("task-form");
  if (!holder || !form) return;
  var schema = json("form-schema", null);
  var initial = json("form-initial", {});
  var serverErrors = json("form-server-errors", {});
  var claims = json("form-claims", []);
  if (!schema || !schema.properties) { holder.setAttribute("data-ready", "1"); return; }

  var DURATION = /^P(\d+)([DWM])$/;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // A stored instant as the Beijing calendar day; a picked day as its last minute, Beijing time.
  function toDay(value) {
    if (typeof value !== "string" || !value) return "";
    if (/^\d{4}-\d\d-\d\d$/.test(value)) return value;
    var d = new Date(value);
    if (isNaN(d.getTime())) return "";
    return new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 10);
  }
  function fromDay(value) { return value ? value + "T23:59:00+08:00" : undefined; }

  var fields = []; // {path, node, get(), container, error}

  function isLong(node) { return node["x-widget"] === "textarea" || (node.maxLength || 0) > 1000; }

  function control(node, path, id, value) {
    var name = "root[" + path.join("][") + "]";
    var widget = node["x-widget"];
    if (widget === "claim") return claimCards(name, value);
    if (widget === "person") {
      var hidden = el("input", { type: "hidden", name: name });
      var picker = personPicker(id, null, function (username) { hidden.value = username || ""; });
      picker.appendChild(hidden);
      if (value) { hidden.value = value; picker.setPerson(value); }
      return { node: picker, get: function () { return hidden.value || undefined; } };
    }
    if (node["enum"]) {
      var select = el("select", { id: id, name: name });
      select.appendChild(el("option", { value: "" }, msg("placeholder")));
      var titles = node["x-enumTitles"] || {};
      node["enum"].forEach(function (v) {
        var option = el("option", { value: String(v) }, plain(titles[v] !== undefined ? titles[v] : v));
        if (value !== undefined && String(value) === String(v)) option.selected = true;
        select.appendChild(option);
      });
      return { node: select, get: function () {
        if (!select.value) return undefined;
        var hit = node["enum"].filter(function (v) { return String(v) === select.value; });
        return hit.length ? hit[0] : select.value;
      } };
    }
    if (node.type === "boolean") {
      var box = el("input", { type: "checkbox", id: id, name: name });
      box.checked = value === true;
      return { node: box, get: function () { return box.checked; }, inline: true };
    }
    if (node.type === "number" || node.type === "integer") {
      var num = el("input", { type: "number", id: id, name: name, step: node.type === "integer" ? "1" : "any",
        inputmode: node.type === "integer" ? "numeric" : "decimal" });
      if (typeof value === "number") num.value = String(value);
      return { node: num, get: function () {
        var raw = num.value.trim();
        if (raw === "") return num.validity && num.validity.badInput ? NaN : undefined;
        return Number(raw);
      } };
    }
    if (node.type === "string" && node.format === "duration") return duration(name, id, value);
    if (node.type === "string" && (node.format === "date-time" || node.format === "date")) {
      var day = el("input", { type: "date", id: id, name: name });
      day.value = toDay(value);
      return { node: day, get: function () {
        if (!day.value) return undefined;
        return node.format === "date" ? day.value : fromDay(day.value);
      } };
    }
    if (node.type === "array" && node.uniqueItems && node.items && node.items["enum"]) return choices(node, name, id, value);
    if (node.type === "array") return list(node, path, id, value);
    if (node.type === "object" && node.properties) return group(node, path, id, value);
    var text = isLong(node) ? el("textarea", { id: id, name: name, rows: "4" }) : el("input", { type: "text", id: id, name: name });
    if (node.format === "uri" || node.format === "uri-reference") text.setAttribute("inputmode", "url");
    if (node.maxLength) text.setAttribute("maxlength", String(node.maxLength));
    if (typeof value === "string") text.value = value;
    return { node: text, get: function () { return text.value.trim() === "" ? undefined : text.value; } };
  }

  function duration(name, id, value) {
    var wrap = el("span", { "class": "duration" });
    var count = el("input", { type: "number", id: id, name: name, min: "1", step: "1", inputmode: "numeric", "class": "count" });
    var unit = el("select", { name: name + "[unit]", "aria-label": msg("days") + "/" + msg("weeks") + "/" + msg("months") });
    [["D", "days"], ["W", "weeks"], ["M", "months"]].forEach(function (u) { unit.appendChild(el("option", { value: u[0] }, msg(u[1]))); });
    var hit = typeof value === "string" ? DURATION.exec(value) : null;
    if (hit) { count.value = hit[1]; unit.value = hit[2]; }
    wrap.appendChild(count); wrap.appendChild(unit);
    return { node: wrap, get: function () {
      var raw = count.value.trim();
      if (raw === "") return undefined;
      if (!/^\d+$/.test(raw) || Number(raw) < 1) return "?";
      return "P" + Number(raw) + unit.value;
    } };
  }

  function claimCards(name, value) {
    var wrap = el("div", { "class": "claim-cards", role: "radiogroup" });
    var radios = [];
    claims.forEach(function (c, i) {
      var card = el("label", { "class": "claim-card", "data-index": String(i) });
      var radio = el("input", { type: "radio", name: name, value: String(i) });
      radio.checked = value === i;
      radios.push(radio);
      card.appendChild(radio);
      var body = el("span", { "class": "claim-body" });
      body.appendChild(el("strong", { "class": "claim-leader" }, c.leader_name + "（" + (c.team ? msg("team") : msg("alone")) + "）"));
      var team = el("span", { "class": "claim-team" });
      team.textContent = c.members.map(function (m) { return m.name + " " + m.share + "%"; }).join("，");
      body.appendChild(team);
      if (c.plan) { var plan = el("span", { "class": "claim-plan" }); plan.appendChild(el("b", {}, msg("plan") + "：")); plan.appendChild(document.createTextNode(c.plan)); body.appendChild(plan); }
      if (c.pledge) { var pledge = el("span", { "class": "claim-pledge" }); pledge.appendChild(el("b", {}, msg("pledge") + "：")); pledge.appendChild(document.createTextNode(c.pledge)); body.appendChild(pledge); }
      card.appendChild(body);
      radio.addEventListener("change", function () {
        Array.prototype.forEach.call(wrap.children, function (x) { x.classList.toggle("chosen", x === card); });
      });
      if (radio.checked) card.classList.add("chosen");
      wrap.appendChild(card);
    });
    return { node: wrap, get: function () {
      var hit = radios.filter(function (r) { return r.checked; });
      return hit.length ? Number(hit[0].value) : undefined;
    } };
  }

  // A set of choices (an array of distinct values from a list): one checkbox per value.
  function choices(node, name, id, value) {
    var wrap = el("div", { "class": "choices", id: id, role: "group" });
    var titles = node.items["x-enumTitles"] || {};
    var chosen = Array.isArray(value) ? value.map(String) : [];
    var boxes = node.items["enum"].map(function (v, i) {
      var option = el("label", { "class": "choice" });
      var box = el("input", { type: "checkbox", name: name, value: String(v), id: id + "-" + i });
      box.checked = chosen.indexOf(String(v)) >= 0;
      option.appendChild(box);
      option.appendChild(document.createTextNode(" " + plain(titles[v] !== undefined ? titles[v] : v)));
      wrap.appendChild(option);
      return [v, box];
    });
    return { node: wrap, get: function () {
      var out = boxes.filter(function (b) { return b[1].checked; }).map(function (b) { return b[0]; });
      return out.length ? out : undefined;
    } };
  }

  // An object's fields, side by side under its title (a KPI's target and actual).
  function group(node, path, id, value) {
    var box = el("div", { "class": "object-fields", id: id });
    var parts = [];
    Object.keys(node.properties).forEach(function (key) {
      var f = field(node.properties[key], path.concat([key]), (node.required || []).indexOf(key) >= 0, (value || {})[key]);
      box.appendChild(f.container);
      parts.push([key, f]);
    });
    return { node: box, get: function () {
      var out = {}, any = false;
      parts.forEach(function (kv) { var x = kv[1].get(); if (x !== undefined) { out[kv[0]] = x; any = true; } });
      return any ? out : undefined;
    } };
  }

  function list(node, path, id, value) {
    var wrap = el("div", { "class": "array" });
    var rows = el("ol", { "class": "array-rows" });
    var items = [];
    var item = node.items || { type: "string" };
    function addRow(v) {
      var index = items.length;
      var li = el("li", { "class": "array-row" });
      var entry;
      if (item.type === "object" && item.properties) {
        var sub = { get: null, parts: [] };
        Object.keys(item.properties).forEach(function (key) {
          var p = path.concat([String(index), key]);
          var f = field(item.properties[key], p, (item.required || []).indexOf(key) >= 0, (v || {})[key]);
          li.appendChild(f.container);
          sub.parts.push([key, f]);
        });
        entry = { get: function () {
          var out = {};
          sub.parts.forEach(function (kv) { var x = kv[1].get(); if (x !== undefined) out[kv[0]] = x; });
          return out;
        }, parts: sub.parts };
      } else {
        var f = field(item, path.concat([String(index)]), true, v, true);
        li.appendChild(f.container);
        entry = { get: f.get, parts: [] };
      }
      var drop = el("button", { type: "button", "class": "link remove-row" }, msg("remove"));
      drop.addEventListener("click", function () {
        li.remove();
        entry.removed = true;
        fields = fields.filter(function (x) { return !li.contains(x.container); });
      });
      li.appendChild(drop);
      rows.appendChild(li);
      items.push(entry);
    }
    (Array.isArray(value) ? value : []).forEach(addRow);
    var add = el("button", { type: "button", "class": "add-row", id: id }, "+ " + msg("add"));
    add.addEventListener("click", function () { addRow(undefined); });
    wrap.appendChild(rows); wrap.appendChild(add);
    return { node: wrap, get: function () {
      var out = items.filter(function (x) { return !x.removed; }).map(function (x) { return x.get(); })
        .filter(function (x) { return x !== undefined; });
      return out.length ? out : undefined;
    } };
  }

  function field(node, path, required, value, bare) {
    var id = "f-" + path.join("-");
    if (value === undefined && node["default"] !== undefined && node.type !== "boolean") value = node["default"];
    var container = el("div", { "class": "field", "data-schemapath": "root." + path.join(".") });
    var c = control(node, path, id, value);
    var label = el(c.inline || node.type === "array" || node.type === "object" || node["x-widget"] === "claim" ? "span" : "label",
      { "for": id, "class": "field-label" });
    label.appendChild(document.createTextNode(plain(node.title || path[path.length - 1])));
    var mark = el("span", { "class": "req", "aria-hidden": "true", title: msg("required") }, " *");
    label.appendChild(mark);
    if (!bare) container.appendChild(label);
    if (c.inline) { container.classList.add("inline-field"); container.insertBefore(c.node, label); }
    else container.appendChild(c.node);
    if (node.description && !bare) container.appendChild(help(node.description));
    var error = el("div", { "class": "field-error", "data-error-for": path.join("."), role: "alert", hidden: true });
    container.appendChild(error);
    var f = { path: path.join("."), node: node, get: c.get, container: container, error: error, mark: mark,
      label: plain(node.title || path[path.length - 1]), required: required };
    mark.hidden = !required;
    fields.push(f);
    return f;
  }

  if (schema.description) { var intro = help(schema.description); intro.classList.add("form-help"); holder.appendChild(intro); }
  var top = [];
  var baseRequired = schema.required || [];
  Object.keys(schema.properties).forEach(function (key) {
    var f = field(schema.properties[key], [key], baseRequired.indexOf(key) >= 0, (initial || {})[key]);
    top.push([key, f]);
    holder.appendChild(f.container);
  });

  function value() {
    var out = {};
    top.forEach(function (kv) { var v = kv[1].get(); if (v !== undefined) out[kv[0]] = v; });
    return out;
  }

  // The simple conditional rules of the shipped forms: if <field> is <value> then <fields> are required.
  function conditional(data) {
    var extra = {};
    (schema.allOf || []).forEach(function (rule) {
      var cond = rule["if"], then = rule.then;
      if (!cond || !then || !cond.properties) return;
      var holds = Object.keys(cond.properties).every(function (k) {
        var c = cond.properties[k], v = data[k];
        if (v === undefined) return false;
        if ("const" in c) return v === c["const"];
        if (Array.isArray(c["enum"])) return c["enum"].indexOf(v) >= 0;
        return true;
      });
      if (!holds) return;
      (then.required || []).forEach(function (k) { extra[k] = true; });
      Object.keys(then.properties || {}).forEach(function (k) {
        if (then.properties[k].minLength) extra[k] = true;
      });
    });
    return extra;
  }
  function refreshMarks() {
    var extra = conditional(value());
    top.forEach(function (kv) { kv[1].mark.hidden = !(kv[1].required || extra[kv[0]]); });
  }

  function check(f, v, extraRequired) {
    var node = f.node;
    var needed = f.required || extraRequired;
    var choose = node["enum"] || node["x-widget"] === "claim" || node["x-widget"] === "person" || /^date/.test(node.format || "");
    if (v === undefined || v === "") return needed ? msg(choose ? "choose" : "fill") : null;
    if (typeof v === "number") {
      if (isNaN(v)) return msg("number");
      if (node.type === "integer" && Math.floor(v) !== v) return msg("integer");
      if (node.minimum !== undefined && v < node.minimum) return msg("minimum", node.minimum);
      if (node.exclusiveMinimum !== undefined && v <= node.exclusiveMinimum) return msg("exclusiveMinimum", node.exclusiveMinimum);
      if (node.maximum !== undefined && v > node.maximum) return msg("maximum", node.maximum);
    }
    if (typeof v === "string") {
      if (v === "?" && node.format === "duration") return msg("format");
      if (node.minLength && v.trim().length < node.minLength) return node.minLength === 1 ? msg("fill") : msg("minLength", node.minLength);
      if (node.maxLength && v.length > node.maxLength) return msg("maxLength", node.maxLength);
      if (node.pattern && node.format !== "duration") {
        try { if (!new RegExp(node.pattern, "u").test(v)) return msg("format"); } catch (e) { /* the server checks */ }
      }
    }
    var sum = node["x-sumOf"];
    if (sum && Array.isArray(v) && v.length) {
      var total = v.reduce(function (acc, row) { return acc + (Number(row[sum.property]) || 0); }, 0);
      if (Math.abs(total - sum.equals) > 1e-9) return msg("sum", sum.equals);
    }
    return null;
  }

  function show(errors) {
    var summary = $("form-errors");
    var listNode = summary.querySelector("ul");
    listNode.textContent = "";
    fields.forEach(function (f) {
      var message = errors[f.path];
      f.error.textContent = message || "";
      f.error.hidden = !message;
      f.container.classList.toggle("has-error", !!message);
    });
    var paths = Object.keys(errors);
    paths.forEach(function (path) {
      var f = fields.filter(function (x) { return x.path === path; })[0];
      var label = f ? labelOf(f) : path;
      var li = el("li", { "data-path": path });
      var link = el("a", { href: "#" + (f ? "f-" + path.replace(/\./g, "-") : "form-editor") }, label);
      li.appendChild(link);
      li.appendChild(document.createTextNode("：" + errors[path]));
      listNode.appendChild(li);
      if (!f) { holder.classList.add("has-error"); }
    });
    summary.hidden = paths.length === 0;
  }
  function labelOf(f) {
    var parts = f.path.split(".");
    if (parts.length === 1) return f.label;
    var words = [], node = schema;
    parts.forEach(function (p) {
      if (/^\d+$/.test(p)) { words.push(msg("item", Number(p) + 1)); node = node.items || {}; }
      else { node = (node.properties || {})[p] || {}; words.push(plain(node.title || p)); }
    });
    return words.join(" ");
  }

  function validate() {
    var data = value();
    var extra = conditional(data);
    var errors = {};
    fields.forEach(function (f) {
      if (!document.body.contains(f.container)) return;
      var parts = f.path.split(".");
      var v = f.get();
      var message = check(f, v, parts.length === 1 && extra[parts[0]]);
      if (message) errors[f.path] = message;
    });
    return errors;
  }

  var tried = false;
  holder.addEventListener("change", function () { refreshMarks(); if (tried) show(validate()); });
  holder.addEventListener("input", function () { if (tried) show(validate()); });
  refreshMarks();
  if (serverErrors && Object.keys(serverErrors).length) { tried = true; show(serverErrors); }

  form.addEventListener("submit", function (e) {
    tried = true;
    var errors = validate();
    show(errors);
    if (Object.keys(errors).length) {
      e.preventDefault();
      var first = holder.querySelector(".has-error input, .has-error select, .has-error textarea");
      if (first) first.focus();
      $("form-errors").scrollIntoView({ block: "nearest" });
      holder.setAttribute("data-checked", "1");
      return;
    }
    $("form-data").value = JSON.stringify(value());
  });
  holder.setAttribute("data-ready", "1");
})();
