// What a task form shows cannot run script in the reader's browser. Form values come from whoever
// filed or edited the instance, schema texts from whoever deployed the form; json-editor writes
// both into the page, so before any editor is built:
//  - values go into input fields exactly as stored (json-editor's own "purify" would rewrite them
//    through innerHTML, which both corrupts "a < b" and runs <img onerror> in a detached <div>);
//  - titles and descriptions are HTML cleaned by DOMPurify down to a few text tags, and links in
//    them (and in a schema's "links") may only be http(s) or relative;
//  - plain-text extraction parses in an inert document that loads and runs nothing.
(function () {
  "use strict";
  var DOMPurify = window.DOMPurify; // without it (assets not rebuilt) schema texts show as plain text
  var JSONEditor = window.JSONEditor;
  if (!JSONEditor) return;

  // http:, https:, or no scheme at all (relative); tested after DOMPurify strips whitespace.
  var SAFE_URL = /^(?:https?:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;
  var TEXT_TAGS = ["a", "b", "strong", "i", "em", "u", "s", "small", "sub", "sup", "code", "br", "p", "span",
    "ul", "ol", "li"];

  if (DOMPurify) {
    DOMPurify.setConfig({ ALLOWED_TAGS: TEXT_TAGS, ALLOWED_ATTR: ["href", "title"], ALLOWED_URI_REGEXP: SAFE_URL });
    DOMPurify.addHook("afterSanitizeAttributes", function (node) {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
  }

  function isSafeUrl(url) {
    return typeof url === "string" && SAFE_URL.test(url.replace(/[\u0000-\u0020\u00a0\u1680\u180e\u2000-\u2029\u205f\u3000]/g, ""));
  }

  function plainText(text) {
    if (text === null || text === undefined) return "";
    return new DOMParser().parseFromString(String(text), "text/html").body.textContent || "";
  }

  function safeHTML(html) {
    if (DOMPurify) return DOMPurify.sanitize(String(html));
    var holder = document.createElement("div");
    holder.textContent = plainText(html);
    return holder.innerHTML;
  }

  var Editor = JSONEditor.AbstractEditor.prototype;
  var Theme = JSONEditor.AbstractTheme.prototype;

  Editor.purify = function (value) { return value; };
  Editor.cleanText = plainText;
  Theme.cleanText = plainText;

  // Enum-of-objects previews are built as HTML from the schema's values.
  var enumEditor = JSONEditor.defaults.editors.enum;
  if (enumEditor) {
    var getHTML = enumEditor.prototype.getHTML;
    enumEditor.prototype.getHTML = function (value) { return safeHTML(getHTML.call(this, value)); };
  }

  // A schema's "links" get their href from a template over the form's values: drop unsafe ones.
  var getLink = Editor.getLink;
  Editor.getLink = function (data) {
    var holder = getLink.call(this, data);
    this.link_watchers.push(function () {
      var refused = false;
      var nodes = [holder].concat(Array.prototype.slice.call(holder.querySelectorAll("[href],[src]")));
      nodes.forEach(function (node) {
        ["href", "src"].forEach(function (attr) {
          if (node.hasAttribute(attr) && !isSafeUrl(node.getAttribute(attr))) { node.removeAttribute(attr); refused = true; }
        });
      });
      if (refused) holder.style.display = "none"; // a link that leads nowhere is not shown
    });
    return holder;
  };
})();
