// The instance diagram: bpmn-js viewer; done elements and current tasks marked, current ones badged.
(function () {
  "use strict";
  var holder = document.getElementById("diagram");
  if (!holder || !window.BpmnJS) return;
  var xml = JSON.parse(document.getElementById("diagram-xml").textContent);
  var marks = JSON.parse(document.getElementById("diagram-marks").textContent);
  var viewer = new window.BpmnJS({ container: holder });
  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport");
    marks.done.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "jb-done"); });
    marks.current.forEach(function (id) {
      if (!registry.get(id)) return;
      canvas.addMarker(id, "jb-current");
      overlays.add(id, { position: { top: -12, right: 12 }, html: '<span class="jb-badge">●</span>' });
    });
    holder.setAttribute("data-ready", "1");
  }).catch(function (err) {
    holder.setAttribute("data-ready", "error");
    holder.textContent = String(err && err.message || err);
  });
})();
