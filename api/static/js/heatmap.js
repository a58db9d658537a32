// The analytics overlay: each step coloured by how long people wait there (its 95th-percentile
// wait against the slowest step's), with how many were done, wait now and are overdue beside it.
(function () {
  "use strict";
  var holder = document.getElementById("heatmap");
  if (!holder || !window.BpmnJS) return;
  var xml = JSON.parse(document.getElementById("heatmap-xml").textContent);
  var marks = JSON.parse(document.getElementById("heatmap-marks").textContent);
  var words = JSON.parse(document.getElementById("heatmap-words").textContent);
  var viewer = new window.BpmnJS({ container: holder });
  var slowest = Math.max.apply(null, marks.map(function (m) { return m.p95_s || 0; }).concat([1]));

  function badge(m) {
    var span = document.createElement("span");
    span.className = "jb-heat-badge" + (m.overdue ? " overdue" : "");
    var parts = [words.passed + " " + m.passed];
    if (m.open) parts.push(words.open + " " + m.open);
    if (m.overdue) parts.push(words.overdue + " " + m.overdue);
    span.textContent = parts.join(" · ");
    span.title = m.p50 + " / " + m.p95;
    return span;
  }

  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    marks.forEach(function (m) {
      if (!registry.get(m.id)) return;
      var level = m.p95_s ? 1 + Math.min(3, Math.floor(4 * m.p95_s / slowest - 1e-9)) : 1;
      canvas.addMarker(m.id, "jb-heat-" + level);
      overlays.add(m.id, { position: { bottom: -4, left: 0 }, html: badge(m) });
    });
    canvas.zoom("fit-viewport", "auto");
    holder.setAttribute("data-ready", "1");
  }).catch(function () {
    holder.setAttribute("data-ready", "error");
    holder.textContent = holder.getAttribute("data-no-layout");
    holder.classList.add("empty");
  });
})();
