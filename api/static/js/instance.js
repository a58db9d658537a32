// The instance diagram: bpmn-js viewer, legible by default, with zoom in/out/fit buttons; the path
// taken and the current steps marked (see the legend), lanes named in the page's language.
(function () {
  "use strict";
  var holder = document.getElementById("diagram");
  if (!holder || !window.BpmnJS) return;
  var xml = JSON.parse(document.getElementById("diagram-xml").textContent);
  var marks = JSON.parse(document.getElementById("diagram-marks").textContent);
  var laneWords = JSON.parse(document.getElementById("diagram-lanes").textContent);
  var viewer = new window.BpmnJS({ container: holder });
  var MIN_LEGIBLE = 0.75; // below this, task names are too small to read: scroll instead of shrinking

  function relabelLanes(registry) {
    registry.filter(function (el) { return el.type === "bpmn:Lane" || el.type === "bpmn:Participant"; })
      .forEach(function (el) {
        var name = el.businessObject && el.businessObject.name;
        var word = name && laneWords[name];
        if (!word) return;
        var text = registry.getGraphics(el).querySelector("text.djs-label");
        if (!text) return;
        var tspans = text.querySelectorAll("tspan");
        if (tspans.length) {
          tspans[0].textContent = word;
          for (var i = 1; i < tspans.length; i++) tspans[i].textContent = "";
        } else {
          text.textContent = word;
        }
        el.jbLane = word;
      });
  }

  function focusOn(canvas, registry) {
    // Legible by default: fit when the whole diagram stays readable, else centre on the current step.
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() >= MIN_LEGIBLE) return;
    var target = marks.current.map(function (id) { return registry.get(id); }).filter(Boolean)[0];
    canvas.zoom(MIN_LEGIBLE, "auto");
    if (target) {
      var box = canvas.viewbox();
      canvas.viewbox({
        x: target.x + target.width / 2 - box.width / 2,
        y: target.y + target.height / 2 - box.height / 2,
        width: box.width,
        height: box.height,
      });
    }
  }

  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    marks.done.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "jb-done"); });
    marks.current.forEach(function (id) {
      if (!registry.get(id)) return;
      canvas.addMarker(id, "jb-current");
      overlays.add(id, { position: { top: -12, right: 12 }, html: '<span class="jb-badge">●</span>' });
    });
    // The path taken: a flow between two passed (or passed and current) elements.
    var passed = {};
    marks.done.forEach(function (id) { passed[id] = "done"; });
    marks.current.forEach(function (id) { passed[id] = "current"; });
    registry.filter(function (el) { return el.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      if (flow.source && flow.target && passed[flow.source.id] === "done" && passed[flow.target.id]) {
        canvas.addMarker(flow.id, "jb-done");
      }
    });
    relabelLanes(registry);
    focusOn(canvas, registry);
    function zoomBy(factor) { canvas.zoom(Math.min(4, Math.max(0.2, canvas.zoom() * factor))); }
    document.getElementById("zoom-in").addEventListener("click", function () { zoomBy(1.25); });
    document.getElementById("zoom-out").addEventListener("click", function () { zoomBy(0.8); });
    document.getElementById("zoom-fit").addEventListener("click", function () { canvas.zoom("fit-viewport", "auto"); });
    holder.setAttribute("data-ready", "1");
  }).catch(function () {
    // a diagram deployed without layout (written by hand or by a tool without one) cannot be drawn
    holder.setAttribute("data-ready", "error");
    holder.textContent = holder.getAttribute("data-no-layout");
    holder.classList.add("empty");
  });
})();
