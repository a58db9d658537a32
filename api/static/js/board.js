// The 揭榜 claim form: individual or team; team member rows with shares that must sum to 100.
(function () {
  "use strict";
  document.querySelectorAll("form.claim").forEach(function (form) {
    var team = form.querySelector("fieldset.team");
    var rows = form.querySelector(".member-rows");
    var tpl = form.querySelector("template.member-template");
    var sumOut = form.querySelector(".share-sum .sum");
    var clientError = form.querySelector(".client-error");

    function isTeam() { var k = form.querySelector("input[name=kind]:checked"); return k && k.value === "team"; }
    function total() {
      var s = 0;
      team.querySelectorAll("input.share").forEach(function (i) { s += parseFloat(i.value) || 0; });
      return Math.round(s * 1000) / 1000;
    }
    function refresh() {
      team.hidden = !isTeam();
      team.querySelectorAll("input").forEach(function (i) { i.disabled = !isTeam(); });
      sumOut.textContent = total();
      sumOut.parentNode.classList.toggle("bad", isTeam() && total() !== 100);
    }
    function addRow() {
      rows.appendChild(tpl.content.cloneNode(true));
      refresh();
    }
    form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", function () {
      if (isTeam() && !rows.children.length) addRow();
      refresh();
    }); });
    form.querySelector(".add-member").addEventListener("click", addRow);
    var guests = form.querySelector(".guest-rows");
    var guestTpl = form.querySelector("template.guest-template");
    form.querySelector(".add-guest").addEventListener("click", function () {
      guests.appendChild(guestTpl.content.cloneNode(true));
      refresh();
    });
    guests.addEventListener("click", function (e) {
      if (e.target.classList.contains("remove-member")) { e.target.closest(".member-row").remove(); refresh(); }
    });
    rows.addEventListener("click", function (e) {
      if (e.target.classList.contains("remove-member")) { e.target.closest(".member-row").remove(); refresh(); }
    });
    team.addEventListener("input", refresh);
    form.addEventListener("submit", function (e) {
      if (isTeam() && total() !== 100) { e.preventDefault(); clientError.hidden = false; }
    });
    refresh();
  });
})();
