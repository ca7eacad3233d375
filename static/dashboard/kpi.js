// The KPI page's two charts, drawn with uPlot from the figures the server rendered into
// #kpi-data (the tables beside them hold the same numbers without JavaScript).
(function () {
  "use strict";

  // The charts are drawn on a canvas, which cannot read the stylesheet's colours: the page's
  // ink (light on the dark theme, dashboard.css) says which theme they are drawn in.
  var INK = window.getComputedStyle(document.body).color;
  var DARK = (INK.match(/\d+/g) || [0]).slice(0, 3).reduce(function (a, c) { return a + +c; }, 0) > 384;

  function axis(options) {
    options.stroke = INK;
    options.grid = { stroke: DARK ? "#3d3d3d" : "rgba(0,0,0,0.07)" };
    options.ticks = { stroke: DARK ? "#5a5a5a" : "rgba(0,0,0,0.07)" };
    return options;
  }

  function width(el) {
    return Math.max(280, el.clientWidth || 600);
  }

  function line(label, value, stroke) {
    return { label: label, stroke: stroke, width: 1.5, dash: [6, 4], points: { show: false },
             value: function () { return value; } };
  }

  // Numbers and dates in the page's language (<html lang>): a decimal comma in German.
  var LANG = document.documentElement.lang || "en";
  var NUMBER = new Intl.NumberFormat(LANG, { maximumFractionDigits: 1, useGrouping: false });
  function number(v) { return v == null ? "–" : NUMBER.format(v); }

  // Times in UTC on a 24-hour clock, as everywhere in the product (the page says UTC); the
  // day and month in the language's order (12-01 in English, 01.12. in German).
  var CLOCK = new Intl.DateTimeFormat(LANG, { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var DAY = new Intl.DateTimeFormat(LANG, { timeZone: "UTC", month: "2-digit", day: "2-digit" });
  function day(d) {
    if (!/^en/.test(LANG)) return DAY.format(d);
    var parts = {};
    DAY.formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    return parts.month + "-" + parts.day;
  }
  function utcText(ts, withDate) {
    var d = new Date(ts * 1000);
    var time = CLOCK.format(d);
    return withDate ? day(d) + " " + time : time;
  }

  // The words the page wrote into the chart's data-* attributes, in its language.
  function words(el, name, fallback) {
    return el.getAttribute("data-" + name) || fallback;
  }

  function rateChart(el, data) {
    var n = data.periods.length;
    var limits = data.limits;
    var constant = function (v) { var a = new Array(n); a.fill(v); return a; };
    var opts = {
      width: width(el), height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        // Half a period of room each side, so the first and the last bar show whole.
        x: { time: true, range: function (u, min, max) { return [min - 300, max + 300]; } },
        y: { range: function (u, min, max) { return [0, Math.max(max, limits.flood + 2)]; } },
      },
      axes: [
        axis({ values: function (u, ticks) {
          var days = ticks.length && ticks[ticks.length - 1] - ticks[0] > 86400;
          return ticks.map(function (t) { return utcText(t, days); });
        } }),
        axis({ label: words(el, "axis", "alarms per 10 min"),
               values: function (u, ticks) { return ticks.map(number); } }),
      ],
      series: [
        { label: "UTC", value: function (u, v) { return v == null ? "–" : utcText(v, true); } },
        { label: words(el, "series", "alarms"), stroke: INK, value: function (u, v) { return number(v); }, fill: DARK ? "rgba(214,214,214,0.3)" : "rgba(31,31,31,0.25)", width: 1,
          paths: uPlot.paths.bars({ size: [1, 100] }), points: { show: false } },
        line(words(el, "acceptable", "very likely acceptable") + " (" + number(limits.acceptable) + ")", number(limits.acceptable), "#2e7d32"),
        line(words(el, "manageable", "manageable") + " (" + number(limits.manageable) + ")", number(limits.manageable), "#b8860b"),
        line(words(el, "flood", "flood") + " (> " + number(limits.flood) + ")", number(limits.flood), "#c8102e"),
      ],
    };
    var plot = new uPlot(opts, [data.periods, data.raises, constant(limits.acceptable),
      constant(limits.manageable), constant(limits.flood)], el);
    return plot;
  }

  function priorityChart(el, data) {
    var names = data.priorities.map(function (p) { return words(el, p.priority, p.priority); });
    var xs = names.map(function (_, i) { return i; });
    var opts = {
      width: Math.min(width(el), 520), height: 220,
      scales: { x: { time: false, range: [-0.5, names.length - 0.5] }, y: { range: [0, 100] } },
      axes: [
        axis({ splits: function () { return xs; }, values: function (u, splits) {
          return splits.map(function (i) { return names[i] || ""; });
        } }),
        axis({ label: words(el, "axis", "percent of alarms"),
               values: function (u, ticks) { return ticks.map(number); } }),
      ],
      series: [
        { label: words(el, "x", "priority"), value: function (u, i) { return i == null ? "–" : names[i] || "–"; } },
        { label: words(el, "share", "share"), value: function (u, v) { return number(v); }, fill: DARK ? "#8c8c8c" : "#5c5c5c", stroke: INK,
          paths: uPlot.paths.bars({ size: [0.35, 60], align: -1 }), points: { show: false } },
        { label: words(el, "target", "target (80/15/5)"), value: function (u, v) { return number(v); }, fill: "rgba(31,95,191,0.35)", stroke: "#1f5fbf",
          paths: uPlot.paths.bars({ size: [0.35, 60], align: 1 }), points: { show: false } },
      ],
    };
    return new uPlot(opts, [xs, data.priorities.map(function (p) { return p.share; }),
      data.priorities.map(function (p) { return p.target; })], el);
  }

  function draw() {
    var source = document.getElementById("kpi-data");
    if (!source || typeof uPlot === "undefined") return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    var rate = document.getElementById("kpi-rate-chart");
    var priority = document.getElementById("kpi-priority-chart");
    if (rate) charts.push([rate, rateChart(rate, data)]);
    if (priority) charts.push([priority, priorityChart(priority, data)]);
    document.body.setAttribute("data-kpi-charts", "drawn");
    var resize = function () {
      charts.forEach(function (pair) {
        var size = { width: width(pair[0]), height: pair[1].height };
        if (pair[0] === priority) size.width = Math.min(size.width, 520);
        pair[1].setSize(size);
      });
    };
    window.addEventListener("resize", resize);
    // Printing narrows the page: fit the charts to the paper, and back afterwards.
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
