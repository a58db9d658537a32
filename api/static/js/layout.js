// Shared page layout. On a phone every list table is shown as cards, one card per row; each cell
// then needs its column's name beside it. A template may say it with data-label; this fills in the
// rest from the table's header row, so no table loses its column names on a narrow screen.
(function () {
  "use strict";
  document.querySelectorAll("table.list").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var name = heads[column];
        if (!cell.hasAttribute("data-label") && name && cell.colSpan === 1) cell.setAttribute("data-label", name);
        column += cell.colSpan;
      });
    });
  });
})();
