/**
 * The script `report.html` runs in the browser: it reads the chart models from
 * the page's embedded JSON and draws them with the inlined Chart.js. Plain
 * JavaScript kept as text, because it runs in a page, not in Deno.
 *
 * @module
 */

/**
 * The browser script. It expects `window.Chart` and a
 * `<script type="application/json" id="report-data">` holding `{ charts: ChartModel[] }`.
 * When every chart is drawn it sets `document.body.dataset.chartsDrawn` to their count;
 * an error is shown on the page and logged to the console.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  "use strict";
  var UNITS = ["B", "KiB", "MiB", "GiB"];
  function formatBytes(v) {
    var unit = 0;
    while (Math.abs(v) >= 1024 && unit < UNITS.length - 1) { v /= 1024; unit++; }
    return Number(v.toPrecision(3)) + " " + UNITS[unit];
  }
  function formatNumber(v) {
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e6 || a < 1e-3) return v.toExponential(1);
    if (a >= 1000) return Math.round(v).toLocaleString("en");
    return String(Number(v.toPrecision(3)));
  }
  function format(axis, v) { return axis.format === "bytes" ? formatBytes(v) : formatNumber(v); }
  function withAlpha(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }
  // Log axes get round ticks: powers of two for sizes, ranks and factors on x,
  // 1-2-5 steps on y, so that labels stay readable over many decades.
  function logTicks(min, max, powersOfTwo) {
    var ticks = [];
    if (powersOfTwo) {
      var lo = Math.floor(Math.log2(min)), hi = Math.ceil(Math.log2(max));
      var step = Math.max(1, Math.ceil((hi - lo) / 10));
      for (var e = lo; e <= hi; e += step) ticks.push({ value: Math.pow(2, e) });
    } else {
      var d0 = Math.floor(Math.log10(min)), d1 = Math.ceil(Math.log10(max));
      var steps = d1 - d0 > 4 ? [1] : [1, 2, 5];
      for (var d = d0; d <= d1; d++) {
        for (var i = 0; i < steps.length; i++) {
          var t = steps[i] * Math.pow(10, d);
          if (t >= min / 1.0001 && t <= max * 1.0001) ticks.push({ value: t });
        }
      }
    }
    return ticks;
  }
  function scaleOptions(axis, isX) {
    var options = {
      type: axis.scale === "log" ? "logarithmic" : "linear",
      title: { display: true, text: axis.title, font: { size: 13, weight: "bold" } },
      ticks: { callback: function (v) { return format(axis, Number(v)); } },
      grid: { color: "rgba(0,0,0,0.08)" },
    };
    if (isX) options.bounds = "data";
    if (axis.integer && axis.scale === "linear") options.ticks.precision = 0;
    if (axis.scale === "log") {
      options.afterBuildTicks = function (scale) {
        var ticks = logTicks(scale.min, scale.max, isX).filter(function (t) {
          return t.value >= scale.min / 1.0001 && t.value <= scale.max * 1.0001;
        });
        if (ticks.length >= 2) scale.ticks = ticks;
      };
    } else if (!isX) {
      options.beginAtZero = true;
    }
    return options;
  }
  function datasetsOf(model) {
    var datasets = [];
    model.series.forEach(function (s) {
      var hasBand = s.points.some(function (p) { return p.n > 1 && p.max > p.min; });
      if (hasBand) {
        // Upper edge fills down to the lower edge pushed right after it.
        datasets.push({
          label: s.label + " (min-max)", isBand: true, showLine: true, pointRadius: 0,
          borderWidth: 0, backgroundColor: withAlpha(s.color, 0.18), fill: "+1",
          data: s.points.map(function (p) { return { x: p.x, y: p.max }; }),
        });
        datasets.push({
          label: s.label + " (min)", isBand: true, showLine: true, pointRadius: 0,
          borderWidth: 0, backgroundColor: withAlpha(s.color, 0.18), fill: false,
          data: s.points.map(function (p) { return { x: p.x, y: p.min }; }),
        });
      }
      datasets.push({
        label: s.label, showLine: true, borderColor: s.color, backgroundColor: s.color,
        borderWidth: s.dashed ? 1.5 : 2, borderDash: s.dashed ? [6, 4] : [],
        pointRadius: s.dashed ? 0 : 3, fill: false,
        data: s.points.map(function (p) { return { x: p.x, y: p.y, n: p.n, min: p.min, max: p.max, speedup: p.speedup }; }),
      });
    });
    return datasets;
  }
  function draw(model) {
    var canvas = document.getElementById(model.canvasId);
    if (!canvas) throw new Error("No canvas with id " + model.canvasId);
    return new Chart(canvas, {
      type: "scatter",
      data: { datasets: datasetsOf(model) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: scaleOptions(model.x, true), y: scaleOptions(model.y, false) },
        plugins: {
          legend: {
            position: "bottom",
            // Flat swatches read as line samples, so dashed ideal lines look dashed.
            labels: {
              boxWidth: 32, boxHeight: 3,
              // At most a dozen entries: past that, the ideal lines (dashed, drawn in
              // their series' colour) leave the legend to their measured series.
              filter: function (item, data) {
                var d = data.datasets[item.datasetIndex];
                if (d.isBand) return false;
                var shown = data.datasets.filter(function (x) { return !x.isBand; });
                return shown.length <= 12 || !d.borderDash || d.borderDash.length === 0;
              },
            },
          },
          tooltip: {
            filter: function (item) { return !item.dataset.isBand; },
            callbacks: {
              label: function (ctx) {
                var raw = ctx.raw;
                var text = ctx.dataset.label + ": " + format(model.x, raw.x) + " -> " + format(model.y, raw.y);
                if (raw.n > 1) text += " (mean of " + raw.n + ", " + format(model.y, raw.min) + " to " + format(model.y, raw.max) + ")";
                if (raw.speedup) {
                  text += "; speedup over sync " + raw.speedup.median.toFixed(2) + "x";
                  if (raw.speedup.hi > raw.speedup.lo) text += " (" + raw.speedup.lo.toFixed(2) + "x to " + raw.speedup.hi.toFixed(2) + "x)";
                }
                return text;
              },
            },
          },
        },
      },
    });
  }
  function showError(error) {
    console.error("report: " + (error && error.message ? error.message : error));
    var box = document.getElementById("report-error");
    if (box) { box.hidden = false; box.textContent = "Could not draw the charts: " + error; }
  }
  try {
    if (typeof Chart === "undefined") throw new Error("Chart.js did not load");
    var data = JSON.parse(document.getElementById("report-data").textContent);
    var drawn = 0;
    data.charts.forEach(function (model) { draw(model); drawn++; });
    document.body.dataset.chartsDrawn = String(drawn);
  } catch (error) {
    showError(error);
  }
})();
`;
