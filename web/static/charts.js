// Draws every chart of the page: an element with data-chart holds the chart's JSON (written by web/views.py).
// Names in a chart come from documents: the tooltip is drawn as rich text, never as HTML.
(function () {
  "use strict";

  function money(value) {
    return value == null ? "—" : Number(value).toLocaleString("zh-CN", {maximumFractionDigits: 2});
  }

  function option(spec) {
    var stacked = spec.kind === "stacked";
    var marked = spec.marked || [];
    var series = spec.series.map(function (s, i) {
      var item = {name: s.name, type: stacked || i === 0 ? "bar" : "line", data: s.data, barMaxWidth: 48};
      if (stacked) { item.stack = "total"; item.emphasis = {focus: "series"}; }
      if (!stacked && i === 0 && marked.length) {
        item.data = s.data.map(function (value, j) {
          return marked.indexOf(spec.x[j]) >= 0 ? {value: value, itemStyle: {color: "#c0504d"}} : value;
        });
        item.markPoint = {
          symbol: "pin", symbolSize: 36, label: {show: false},
          data: spec.x.map(function (year, j) { return {year: year, j: j}; })
            .filter(function (p) { return marked.indexOf(p.year) >= 0; })
            .map(function (p) { return {name: spec.mark_label, coord: [p.j, s.data[p.j]], value: spec.mark_label}; })
        };
      }
      return item;
    });
    return {
      animation: false,
      color: ["#2f6fb2", "#e0a030", "#4a9a5b", "#8f5fb0", "#c0504d", "#3aa0a8", "#7d7d7d", "#b58b5a"],
      tooltip: {trigger: "axis", renderMode: "richText", valueFormatter: money},
      legend: {top: 0, type: "scroll"},
      grid: {left: 64, right: 24, top: 40, bottom: 32},
      xAxis: {type: "category", data: spec.x},
      yAxis: {type: "value", name: spec.unit, axisLabel: {formatter: money}},
      series: series
    };
  }

  function draw(element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var chart = window.echarts.init(element, null, {renderer: "svg"});
    chart.setOption(option(spec));
    element.setAttribute("data-drawn", String(spec.series.length));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    try { draw(element); } catch (error) { element.textContent = "图表无法显示：" + error.message; }
  });
})();
