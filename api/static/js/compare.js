// The version comparison: both versions' diagrams, the old one marking what was removed and
// changed, the new one what was added and changed (colours as the legend says).
(function () {
  "use strict";
  var source = document.getElementById("compare-xml");
  if (!source || !window.BpmnJS) return;
  var xml = JSON.parse(source.textContent);
  var marks = JSON.parse(document.getElementById("compare-marks").textContent);

  function show(holderId, diagram, marking) {
    var holder = document.getElementById(holderId);
    var viewer = new window.BpmnJS({ container: holder });
    return viewer.importXML(diagram).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      Object.keys(marking).forEach(function (cls) {
        marking[cls].forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, cls); });
      });
      canvas.zoom("fit-viewport", "auto");
      holder.setAttribute("data-ready", "1");
    }).catch(function () {
      // a diagram saved without layout (written by hand or by a tool without one) cannot be drawn
      holder.textContent = holder.getAttribute("data-no-layout");
      holder.classList.add("empty");
      holder.setAttribute("data-ready", "error");
    });
  }

  show("diagram-old", xml.old, { "jb-diff-removed": marks.removed, "jb-diff-changed": marks.changed });
  show("diagram-new", xml.new, { "jb-diff-added": marks.added, "jb-diff-changed": marks.changed });
})();
