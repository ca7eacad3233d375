// Trends: the chart of the trend page and of the overlay a tile's value or sparkline opens.
// History comes from /trend/data/ (docs/trends.md), downsampled by the server to the plot's
// width; while the window reaches now, the page's own stream extends it: each tile frame
// carries its tag's raw value (data-value) and read time (data-at). uPlot draws (global uPlot,
// vendored under static/vendor/uplot/). Times are UTC throughout.
(function () {
  "use strict";
  if (document.body.classList.contains("wall")) return;
  var meta = document.querySelector("meta[name=trend-urls]");
  var URLS = meta ? {page: meta.dataset.page, data: meta.dataset.data, exportCsv: meta.dataset.export} : {};

  // The words people read, in the page's language: templates/partials/trend_words.html
  // writes them into data-* attributes; a page without it reads them in English.
  var WORDS_EL = document.getElementById("trend-words");
  function word(name, english) {
    var found = WORDS_EL && WORDS_EL.getAttribute("data-" + name);
    return found || english;
  }
  // "{x}" in a word is filled in, so a sentence keeps its order in every language.
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  // Numbers in the page's language (<html lang>): a decimal comma in German, no grouping.
  var LANG = document.documentElement.lang || "en";
  var NUMBERS = {};
  function number(v, decimals) {
    var key = decimals == null ? "any" : decimals;
    if (!NUMBERS[key]) {
      NUMBERS[key] = new Intl.NumberFormat(LANG, decimals == null
        ? {maximumFractionDigits: 6, useGrouping: false}
        : {minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: false});
    }
    return NUMBERS[key].format(v);
  }

  // uPlot and the chart's styles come with the trend page. Elsewhere (a tile's overlay) they
  // are fetched when a chart first opens, so that a page which may never draw one stays light
  // on a slow network (docs/operations.md#static-files-and-compression).
  var waiting = null;
  function withUPlot(then, failed) {
    if (window.uPlot) { then(); return; }
    if (waiting) { waiting.push([then, failed]); return; }
    waiting = [[then, failed]];
    var styles = meta && meta.dataset.styles ? meta.dataset.styles.split(" ") : [];
    var pending = styles.length + 1;
    // Each file, loaded or not, settles once; then every chart asked for meanwhile opens, or
    // (uPlot missing) takes its way out. A chart without its styles is still a chart.
    function settle() {
      if (--pending > 0) return;
      var queue = waiting;
      waiting = null;
      queue.forEach(function (q) { (window.uPlot ? q[0] : q[1])(); });
    }
    styles.forEach(function (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      link.onload = link.onerror = settle;
      document.head.appendChild(link);
    });
    var script = document.createElement("script");
    script.src = meta ? meta.dataset.uplot : "";
    script.onload = script.onerror = settle;
    document.head.appendChild(script);
  }

  // The canvas cannot read the stylesheet's colours: the page's own ink (light on the dark
  // theme, dashboard.css) says which theme it is drawn in.
  var INK = window.getComputedStyle(document.body).color;
  var DARK = (INK.match(/\d+/g) || [0]).slice(0, 3).reduce(function (a, c) { return a + +c; }, 0) > 384;
  // Muted, distinct pen colours (ISA-101: no alarm colours for ordinary lines), lighter on
  // the dark theme.
  var PALETTE = DARK
    ? ["#8fb3d9", "#c9a66b", "#8fbf8f", "#c79bbd", "#9fbad6", "#d49a7a", "#a9bcc6", "#b1a6dd"]
    : ["#1f4e79", "#7a5200", "#2e6b30", "#6b2d5c", "#335c81", "#8a3b12", "#40535e", "#5b4b8a"];
  // Limit zones in greys, as the tile's band: colour is kept for what is abnormal now.
  var BAND_FILL = DARK ? {hh: "rgba(255, 255, 255, 0.12)", h: "rgba(255, 255, 255, 0.06)"}
    : {hh: "rgba(0, 0, 0, 0.09)", h: "rgba(0, 0, 0, 0.045)"};
  var AXIS = DARK ? {stroke: INK, grid: "#3d3d3d", ticks: "#5a5a5a", label: "#a8a8a8"}
    : {stroke: "#3a3a3a", grid: "#d2d2d2", ticks: "#bdbdbd", label: "#4d4d4d"};
  var MIN_SPAN = 10; // seconds: the narrowest zoom
  var LIVE_SLACK = 5; // a window ending within this of now is live (as the server says)
  var UNITS = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  var MAX_APPENDED = 4000; // live values appended before the window is fetched again

  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function isoUtc(sec) { return new Date(Math.round(sec) * 1000).toISOString().replace(".000Z", "Z"); }
  function spanText(sec) {
    sec = Math.max(1, Math.round(sec));
    for (var i = 0; i < UNITS.length; i++) {
      if (sec % UNITS[i][1] === 0) return "now-" + sec / UNITS[i][1] + UNITS[i][0];
    }
    return "now-" + sec + "s";
  }
  function parseSpan(text) {
    var m = /^now-(\d+)(s|min|h|d)$/.exec(text || "");
    if (!m) return null;
    for (var i = 0; i < UNITS.length; i++) if (UNITS[i][0] === m[2]) return +m[1] * UNITS[i][1];
    return null;
  }
  // A day in the language's order: 12-01 in English, 01.12. in German.
  var GERMAN_DAY = /^de/.test(LANG);
  function tickText(sec, withDate) {
    var d = new Date(sec * 1000);
    var time = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    var date = GERMAN_DAY ? pad(d.getUTCDate()) + "." + pad(d.getUTCMonth() + 1) + "."
      : pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    return withDate ? date + " " + time : time;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function tileOf(pen) {
    var found = null;
    document.querySelectorAll("[data-tag]").forEach(function (t) {
      if (!found && t.dataset.tag === pen && !t.closest(".trend-dialog")) found = t;
    });
    return found;
  }
  // Join pens whose times differ onto one x axis. uPlot.join keeps an explicit null (a gap)
  // as a gap and spans the holes alignment makes (NULL_EXPAND = 2). Equal times within one
  // pen (M4's first/min/max/last can share a second) are nudged apart, or join would keep
  // only the last and lose a spike.
  function table(points) {
    var t = points.t.slice();
    for (var i = 1; i < t.length; i++) if (t[i] <= t[i - 1]) t[i] = t[i - 1] + 1e-3;
    return [t, points.v];
  }

  // One chart: root gets the toolbar, the plot, the sources and its state as data-* hooks
  // (data-state: loading | drawn | error; data-series: series drawn with points).
  function TrendChart(root, options) {
    this.root = root;
    this.pens = options.pens;
    this.compare = options.compare || "";
    this.onWindow = options.onWindow || function () {};
    // The trend page has its own compare control; the overlay's chart makes one.
    this.compareSelect = options.compareSelect || null;
    var span = parseSpan(options.start);
    this.live = options.end === "now" && span !== null;
    this.span = span || 3600;
    this.fixed = null; // [start, end] in epoch seconds when not live
    if (!this.live) this.fixed = this.absolute(options.start, options.end);
    this.offset = 0; // server clock minus browser clock, in seconds
    this.data = null;
    this.extra = {}; // pen -> live points appended since the last fetch
    this.plot = null;
    this.request = 0;
    this.build();
    this.fetch();
    var self = this;
    this.timer = window.setInterval(function () { self.tick(); }, 1000);
    this.resizer = new ResizeObserver(function () { self.resize(); });
    this.resizer.observe(this.area);
  }

  TrendChart.prototype.now = function () { return Date.now() / 1000 + this.offset; };

  TrendChart.prototype.absolute = function (start, end) {
    var now = this.now();
    function at(text) {
      if (text === "now") return now;
      var s = parseSpan(text);
      if (s !== null) return now - s;
      var t = Date.parse(text);
      return isNaN(t) ? null : t / 1000;
    }
    var a = at(start), b = at(end);
    if (a === null || b === null || a >= b) return [now - 3600, now];
    return [a, b];
  };

  TrendChart.prototype.window = function () {
    if (this.live) { var now = this.now(); return [now - this.span, now]; }
    return this.fixed;
  };

  TrendChart.prototype.params = function () {
    var q = new URLSearchParams();
    this.pens.forEach(function (p) { q.append("pen", p); });
    if (this.live) { q.set("start", spanText(this.span)); q.set("end", "now"); } else {
      q.set("start", isoUtc(this.fixed[0])); q.set("end", isoUtc(this.fixed[1]));
    }
    if (this.compare) q.set("compare", this.compare);
    return q;
  };

  TrendChart.prototype.build = function () {
    var self = this;
    var root = this.root;
    root.classList.add("trend-chart");
    var bar = el("div", "trend-toolbar");
    var presets = el("div", "trend-spans");
    presets.setAttribute("role", "group");
    presets.setAttribute("aria-label", word("window", "Window"));
    [["15 min", 900], ["1 h", 3600], ["8 h", 28800], ["24 h", 86400], [word("seven-days", "7 days"), 604800]].forEach(function (p) {
      var b = el("button", "trend-span", p[0]);
      b.type = "button";
      b.dataset.span = p[1];
      b.addEventListener("click", function () { self.goLive(p[1]); });
      presets.appendChild(b);
    });
    bar.appendChild(presets);
    var pan = el("div", "trend-pan");
    pan.setAttribute("role", "group");
    pan.setAttribute("aria-label", word("move", "Move"));
    this.earlier = el("button", "trend-earlier", "◀ " + word("earlier", "Earlier"));
    this.later = el("button", "trend-later", word("later", "Later") + " ▶");
    this.back = el("button", "trend-live", word("back-to-live", "Back to live"));
    [this.earlier, this.later, this.back].forEach(function (b) { b.type = "button"; pan.appendChild(b); });
    this.earlier.addEventListener("click", function () { self.shift(-0.5); });
    this.later.addEventListener("click", function () { self.shift(0.5); });
    this.back.addEventListener("click", function () { self.goLive(self.span); });
    bar.appendChild(pan);
    if (!this.compareSelect) {
      var cmp = el("label", "trend-compare", word("compare", "Compare") + " ");
      this.compareSelect = el("select");
      this.compareSelect.name = "compare-with";
      [["", word("nothing", "nothing")], ["1d", word("day-earlier", "1 day earlier")],
       ["7d", word("week-earlier", "1 week earlier")]].forEach(function (c) {
        var o = el("option", "", c[1]);
        o.value = c[0];
        self.compareSelect.appendChild(o);
      });
      cmp.appendChild(this.compareSelect);
      bar.appendChild(cmp);
    }
    this.compareSelect.value = this.compare;
    this.compareSelect.addEventListener("change", function () {
      self.compare = self.compareSelect.value;
      self.changed();
    });
    this.exportLink = el("a", "trend-export", word("export", "Export CSV"));
    this.exportLink.hidden = !URLS.exportCsv;
    bar.appendChild(this.exportLink);
    root.appendChild(bar);
    this.status = el("p", "trend-status");
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    root.appendChild(this.status);
    this.area = el("div", "trend-plot");
    root.appendChild(this.area);
    this.sources = el("ul", "trend-sources");
    root.appendChild(this.sources);
    this.touch();
  };

  TrendChart.prototype.say = function (text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind || "";
  };

  TrendChart.prototype.fetch = function () {
    var self = this;
    if (!URLS.data) {
      this.root.dataset.state = "error";
      this.say(word("no-history", "History is not available on this server."), "error");
      return;
    }
    var q = this.params();
    q.set("width", Math.max(100, Math.min(4000, Math.round(this.area.clientWidth || 800))));
    var id = ++this.request;
    this.root.dataset.state = "loading";
    this.requestedAt = performance.now();
    fetch(URLS.data + "?" + q.toString(), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return {ok: response.ok, status: response.status, body: body};
        });
      })
      .then(function (answer) {
        if (id !== self.request) return; // a newer window was asked for meanwhile
        self.root.dataset.answerMs = Math.round(performance.now() - self.requestedAt);
        if (!answer.ok) {
          self.root.dataset.state = "error";
          self.say(answer.body.detail || fill(word("unreadable", "The history could not be read (HTTP {status})."), {status: answer.status}), "error");
          return;
        }
        self.load(answer.body);
      })
      .catch(function () {
        if (id !== self.request) return;
        self.root.dataset.state = "error";
        self.say(word("unreachable", "The dashboard server could not be reached; the history is not shown."), "error");
      });
  };

  TrendChart.prototype.load = function (body) {
    this.offset = body.now - Date.now() / 1000;
    // The store stamps a minute's last value at the minute's end, also for the minute still
    // open: such a point is drawn at now, so the stream's newer values follow it.
    body.pens.forEach(function (pen) {
      var t = pen.points.t;
      for (var i = t.length - 1; i >= 0 && t[i] > body.now; i--) t[i] = body.now;
    });
    this.data = body;
    this.extra = {};
    this.root.dataset.livePoints = 0;
    if (!this.live) this.fixed = [body.start, body.end];
    this.showSources();
    this.draw();
    this.root.dataset.drawMs = Math.round(performance.now() - this.requestedAt);
    this.root.dataset.drawnAt = Math.round(performance.now()); // since the page's start
    this.root.dataset.state = "drawn";
    this.tick();
  };

  TrendChart.prototype.showSources = function () {
    var list = this.sources;
    list.textContent = "";
    this.data.pens.forEach(function (pen, i) {
      var item = el("li", "trend-source");
      item.dataset.pen = pen.id;
      item.dataset.source = pen.source;
      var swatch = el("span", "trend-swatch");
      swatch.style.background = PALETTE[i % PALETTE.length]; // CSSOM: allowed by the CSP
      item.appendChild(swatch);
      item.appendChild(el("b", "", pen.label + (pen.unit ? " (" + pen.unit + ")" : "")));
      item.appendChild(el("span", "", " · " + pen.site_name + " · " + pen.source_label));
      if (pen.note) item.appendChild(el("span", "trend-note", " · " + pen.note));
      list.appendChild(item);
    });
  };

  // The arrays uPlot draws: x, then each pen, then each pen's comparison.
  TrendChart.prototype.columns = function () {
    var self = this;
    var tables = [], modes = [];
    var now = this.now();
    this.data.pens.forEach(function (pen) {
      var pts = pen.points, extra = self.extra[pen.id];
      if (extra && extra.t.length) {
        pts = {t: pts.t.concat(extra.t), v: pts.v.concat(extra.v), q: pts.q.concat(extra.q)};
      }
      // While live and fresh the last value holds up to now, as on the tile's sparkline.
      var n = pts.t.length;
      if (self.live && self.fresh(pen.id) && n && pts.v[n - 1] !== null && pts.t[n - 1] < now) {
        pts = {t: pts.t.concat([now]), v: pts.v.concat([pts.v[n - 1]]), q: pts.q.concat(["g"])};
      }
      tables.push(table(pts));
      modes.push([null, 2]);
    });
    this.data.pens.forEach(function (pen) {
      if (!pen.compare) return;
      tables.push(table(pen.compare.points));
      modes.push([null, 2]);
    });
    return uPlot.join(tables, modes);
  };

  TrendChart.prototype.options = function () {
    var self = this;
    var pens = this.data.pens;
    var units = [];
    pens.forEach(function (p) { if (units.indexOf(p.unit) < 0) units.push(p.unit); });
    var scales = {x: {time: true}};
    var axes = [{
      stroke: AXIS.stroke, grid: {stroke: AXIS.grid, width: 1}, ticks: {stroke: AXIS.ticks},
      values: function (u, splits, ax, space, incr) {
        return splits.map(function (s, i) {
          return tickText(s, incr >= 86400 || i === 0 || s % 86400 === 0);
        });
      },
    }];
    units.forEach(function (unit, i) {
      var key = "u" + i;
      var ranged = pens.filter(function (p) { return p.unit === unit && p.range; });
      scales[key] = ranged.length ? {range: function (u, min, max) {
        // The configured range, widened to any value beyond it.
        var r = ranged[0].range;
        return [min == null ? r[0] : Math.min(min, r[0]), max == null ? r[1] : Math.max(max, r[1])];
      }} : {};
      axes.push({
        scale: key, side: i % 2 ? 1 : 3, label: unit || word("value", "value"), labelSize: 18,
        values: function (u, splits) { return splits.map(function (v) { return number(v); }); },
        stroke: AXIS.stroke, grid: {show: i === 0, stroke: AXIS.grid}, ticks: {stroke: AXIS.ticks},
        size: 56,
      });
    });
    var series = [{value: function (u, v) { return v == null ? "–" : tickText(v, true) + " UTC"; }}];
    pens.forEach(function (pen, i) {
      series.push({
        label: pen.label, scale: "u" + units.indexOf(pen.unit), stroke: PALETTE[i % PALETTE.length],
        width: 1.6, spanGaps: false, points: {show: false},
        value: function (u, v) { return v == null ? "–" : number(v, pen.decimals) + (pen.unit ? " " + pen.unit : ""); },
      });
    });
    pens.forEach(function (pen, i) {
      if (!pen.compare) return;
      series.push({
        label: fill(pen.compare.offset_s >= 604800 ? word("label-week-earlier", "{label} (a week earlier)")
          : word("label-day-earlier", "{label} (a day earlier)"), {label: pen.label}),
        scale: "u" + units.indexOf(pen.unit), stroke: PALETTE[i % PALETTE.length], alpha: 0.5,
        width: 1.2, dash: [6, 4], spanGaps: false, points: {show: false},
        value: function (u, v) { return v == null ? "–" : number(v, pen.decimals); },
      });
    });
    this.units = units;
    return {
      width: this.area.clientWidth || 800,
      height: this.height(),
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: scales, axes: axes, series: series,
      legend: {live: true},
      cursor: {
        drag: {x: true, y: false, setScale: true},
        bind: {
          dblclick: function () { return null; },
          // Shift + drag moves the window instead of zooming into it.
          mousedown: function (u, target, handler) {
            return function (e) {
              if (e.shiftKey) { self.startMousePan(e); return null; }
              return handler(e);
            };
          },
        },
      },
      hooks: {
        drawClear: [function (u) { self.drawBands(u); }],
        draw: [function (u) { self.drawQuality(u); }],
        setScale: [function (u, key) { if (key === "x") self.scaled(u); }],
      },
    };
  };

  TrendChart.prototype.height = function () {
    var dialog = this.root.closest("dialog");
    var h = (dialog ? 0.5 : 0.55) * window.innerHeight;
    return Math.max(220, Math.min(560, Math.round(h)));
  };

  TrendChart.prototype.draw = function () {
    var cols = this.columns();
    if (this.plot) { this.plot.destroy(); this.plot = null; }
    this.plot = new uPlot(this.options(), cols, this.area);
    this.setX(this.window());
    var drawn = 0, points = 0;
    for (var i = 1; i < cols.length; i++) {
      var n = 0;
      for (var k = 0; k < cols[i].length; k++) if (cols[i][k] != null) n++;
      if (n) drawn++;
      points += n;
    }
    this.root.dataset.series = drawn;
    this.root.dataset.points = points;
    this.root.dataset.pens = this.data.pens.length;
    this.root.dataset.compareSeries = this.data.pens.filter(function (p) { return p.compare; }).length;
    this.after();
  };

  // ll/l/h/hh from the configuration: the zones beyond h and l tinted, each limit a dashed line.
  TrendChart.prototype.drawBands = function (u) {
    var ctx = u.ctx, box = u.bbox, units = this.units;
    ctx.save();
    this.data.pens.forEach(function (pen) {
      var lim = pen.limits || {}, key = "u" + units.indexOf(pen.unit);
      function y(v) { return Math.max(box.top, Math.min(box.top + box.height, u.valToPos(v, key, true))); }
      function zone(from, to, fill) {
        var a = y(from), b = y(to);
        ctx.fillStyle = fill;
        ctx.fillRect(box.left, Math.min(a, b), box.width, Math.abs(b - a));
      }
      var top = u.scales[key].max, bottom = u.scales[key].min;
      if (top == null || bottom == null) return;
      if (lim.hh != null) zone(lim.hh, Math.max(top, lim.hh), BAND_FILL.hh);
      if (lim.h != null) zone(lim.h, lim.hh != null ? lim.hh : Math.max(top, lim.h), BAND_FILL.h);
      if (lim.ll != null) zone(Math.min(bottom, lim.ll), lim.ll, BAND_FILL.hh);
      if (lim.l != null) zone(lim.ll != null ? lim.ll : Math.min(bottom, lim.l), lim.l, BAND_FILL.h);
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = "#7d7d7d";
      ctx.fillStyle = AXIS.label;
      ctx.font = Math.round(10 * uPlot.pxRatio) + "px system-ui, sans-serif";
      ["hh", "h", "l", "ll"].forEach(function (name) {
        var v = lim[name];
        if (v == null || v > top || v < bottom) return;
        var py = Math.round(u.valToPos(v, key, true)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(box.left, py);
        ctx.lineTo(box.left + box.width, py);
        ctx.stroke();
        ctx.fillText(name.toUpperCase(), box.left + 4, py - 3);
      });
    });
    ctx.restore();
  };

  // Uncertain values: hollow circles; bad values: crosses. Never drawn as ordinary points.
  TrendChart.prototype.drawQuality = function (u) {
    var ctx = u.ctx, box = u.bbox, units = this.units, px = uPlot.pxRatio;
    var x0 = u.scales.x.min, x1 = u.scales.x.max;
    ctx.save();
    ctx.lineWidth = 1.5 * px;
    this.data.pens.forEach(function (pen, i) {
      var pts = pen.points, key = "u" + units.indexOf(pen.unit);
      ctx.strokeStyle = PALETTE[i % PALETTE.length];
      for (var k = 0; k < pts.t.length; k++) {
        var q = pts.q[k];
        if (q === "g" || pts.t[k] < x0 || pts.t[k] > x1) continue;
        var x = u.valToPos(pts.t[k], "x", true);
        // A bad point without a value sits on the plot's floor, where the gap begins.
        var y = pts.v[k] === null ? box.top + box.height - 4 * px : u.valToPos(pts.v[k], key, true);
        var r = 3.5 * px;
        ctx.beginPath();
        if (q === "u") {
          ctx.arc(x, y, r, 0, 2 * Math.PI);
        } else {
          ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
          ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
        }
        ctx.stroke();
      }
    });
    ctx.restore();
  };

  // The person zoomed (drag, pinch) or moved the window: it is no longer live unless it
  // still reaches now; fetch that window at full resolution.
  TrendChart.prototype.scaled = function (u) {
    var min = u.scales.x.min, max = u.scales.x.max, x = this.expected;
    // uPlot reports every change of scale, a microtask later: ours are told by their value.
    if (!this.plot || (x && Math.abs(min - x[0]) < 1e-6 && Math.abs(max - x[1]) < 1e-6)) return;
    this.setWindow(min, max, !this.gesture);
  };

  TrendChart.prototype.setWindow = function (min, max, refetch) {
    var now = this.now();
    if (max - min < MIN_SPAN) { var mid = (min + max) / 2; min = mid - MIN_SPAN / 2; max = mid + MIN_SPAN / 2; }
    if (max >= now - LIVE_SLACK) {
      this.span = Math.round(max - min);
      this.live = true;
      this.fixed = null;
    } else {
      this.live = false;
      this.fixed = [min, max];
    }
    if (refetch) this.changed(); else this.after();
  };

  TrendChart.prototype.changed = function () {
    this.after();
    this.fetch();
  };

  TrendChart.prototype.goLive = function (span) {
    this.live = true;
    this.span = span;
    this.fixed = null;
    this.changed();
  };

  TrendChart.prototype.shift = function (share) {
    var w = this.window(), d = (w[1] - w[0]) * share;
    this.setWindow(w[0] + d, w[1] + d, true);
  };

  // Everything that follows the window: the URL, the export link, the buttons, the status.
  TrendChart.prototype.after = function () {
    var q = this.params();
    this.root.dataset.live = this.live ? "true" : "false";
    this.later.disabled = this.live;
    this.back.hidden = this.live;
    var span = Math.round(this.live ? this.span : this.fixed[1] - this.fixed[0]);
    this.root.querySelectorAll(".trend-span").forEach(function (b) {
      b.setAttribute("aria-pressed", String(+b.dataset.span === span));
    });
    var w = this.window();
    if (URLS.exportCsv) {
      var e = new URLSearchParams();
      this.pens.forEach(function (p) { e.append("pen", p); });
      e.set("start", isoUtc(w[0]));
      e.set("end", isoUtc(w[1]));
      this.exportLink.href = URLS.exportCsv + "?" + e.toString();
    }
    this.onWindow(q);
    this.tellLiveness();
  };

  // Whether a pen's newest value can be vouched for: the stream is connected and its tile
  // (on this page) is not stale.
  TrendChart.prototype.fresh = function (pen) {
    if (document.body.classList.contains("stream-down")) return false;
    var tile = tileOf(pen);
    return !!tile && tile.dataset.stale !== "true";
  };

  TrendChart.prototype.tellLiveness = function () {
    if (this.root.dataset.state === "error") return;
    var stale = this.pens.filter(function (p) { return !this.fresh(p); }, this);
    var notLive = this.live && stale.length > 0;
    this.root.classList.toggle("not-live", notLive);
    this.root.dataset.notLive = notLive ? "true" : "false";
    if (!this.live) {
      var w = this.window();
      this.say(fill(word("history", "History {from} – {to} UTC, not live."), {from: tickText(w[0], true), to: tickText(w[1], true)}), "history");
    } else if (document.body.classList.contains("stream-down")) {
      this.say(word("stream-down", "NOT LIVE: the stream to the server is down; the newest values are not shown."), "stale");
    } else if (notLive) {
      this.say(fill(word("no-current", "NOT LIVE: no current value for {pens}."), {pens: stale.map(function (p) {
        var tile = tileOf(p);
        return tile ? tile.querySelector(".tile-label").textContent : p;
      }).join(", ")}), "stale");
    } else {
      this.say(fill(word("live", "Live: the last {span}, following now."), {span: spanText(this.span).slice(4)}), "live");
    }
  };

  // A tile frame arrived: append its value at the live edge, without asking the server.
  TrendChart.prototype.tilesChanged = function () {
    if (!this.data || !this.live) return;
    var self = this;
    var added = false;
    this.data.pens.forEach(function (pen) {
      var tile = tileOf(pen.id);
      if (!tile || tile.dataset.value === "" || !tile.dataset.at) return;
      var t = Date.parse(tile.dataset.at) / 1000, v = parseFloat(tile.dataset.value);
      if (isNaN(t) || isNaN(v)) return;
      var extra = self.extra[pen.id] || (self.extra[pen.id] = {t: [], v: [], q: []});
      var last = extra.t.length ? extra.t[extra.t.length - 1] : pen.points.t[pen.points.t.length - 1];
      if (last !== undefined && t <= last) return;
      var q = tile.dataset.quality === "good" ? "g" : tile.dataset.quality === "uncertain" ? "u" : "b";
      extra.t.push(t); extra.v.push(v); extra.q.push(q);
      added = true;
    });
    if (!added) return;
    var appended = Object.keys(this.extra).reduce(function (n, k) {
      return n + self.extra[k].t.length;
    }, 0);
    this.root.dataset.livePoints = appended;
    // A page left open for hours: past this, ask the server again for the window, downsampled,
    // rather than drawing an ever longer tail.
    if (appended > MAX_APPENDED && this.root.dataset.state !== "loading") { this.fetch(); return; }
    this.redraw();
  };

  TrendChart.prototype.redraw = function () {
    if (!this.plot) return;
    this.plot.setData(this.columns(), false);
    this.setX(this.window());
  };

  TrendChart.prototype.setX = function (w) {
    this.expected = [w[0], w[1]];
    this.plot.setScale("x", {min: w[0], max: w[1]});
  };

  TrendChart.prototype.tick = function () {
    if (!this.data) return;
    if (this.live && !this.gesture) this.redraw();
    this.tellLiveness();
  };

  TrendChart.prototype.resize = function () {
    if (!this.plot) return;
    this.plot.setSize({width: this.area.clientWidth, height: this.height()});
  };

  TrendChart.prototype.startMousePan = function (e) {
    var self = this, u = this.plot;
    var x0 = e.clientX, min0 = u.scales.x.min, max0 = u.scales.x.max, w = u.over.clientWidth;
    this.gesture = true;
    function move(ev) {
      var d = (ev.clientX - x0) / w * (max0 - min0);
      u.setScale("x", {min: min0 - d, max: max0 - d});
    }
    function up() {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      self.gesture = false;
      self.setWindow(u.scales.x.min, u.scales.x.max, true);
    }
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  };

  // Tablets: two fingers pinch to zoom and move together to pan; one finger moves the window.
  // The touch handlers sit on the plot area, which is re-made with each draw.
  TrendChart.prototype.touch = function () {
    var self = this, start = null;
    function xs(e, rect) {
      return Array.prototype.map.call(e.touches, function (t) { return t.clientX - rect.left; });
    }
    this.area.addEventListener("touchstart", function (e) {
      var u = self.plot;
      if (!u || e.touches.length > 2) return;
      var rect = u.over.getBoundingClientRect();
      start = {x: xs(e, rect), min: u.scales.x.min, max: u.scales.x.max, w: rect.width, rect: rect};
      self.gesture = true;
    }, {passive: true});
    this.area.addEventListener("touchmove", function (e) {
      var u = self.plot;
      if (!u || !start) return;
      var now = xs(e, start.rect), span0 = start.max - start.min;
      if (now.length !== start.x.length) return;
      e.preventDefault();
      var min, max;
      if (now.length === 2) {
        var ta = start.min + start.x[0] / start.w * span0, tb = start.min + start.x[1] / start.w * span0;
        var dx = now[1] - now[0];
        if (Math.abs(dx) < 10) return;
        var span = (tb - ta) * start.w / dx;
        if (span < MIN_SPAN) return;
        min = ta - now[0] / start.w * span;
        max = min + span;
      } else {
        var d = (now[0] - start.x[0]) / start.w * span0;
        min = start.min - d;
        max = start.max - d;
      }
      u.setScale("x", {min: min, max: max});
    }, {passive: false});
    this.area.addEventListener("touchend", function (e) {
      var u = self.plot;
      if (!u || !start || e.touches.length) return;
      start = null;
      self.gesture = false;
      self.setWindow(u.scales.x.min, u.scales.x.max, true);
    });
  };

  TrendChart.prototype.destroy = function () {
    window.clearInterval(this.timer);
    this.resizer.disconnect();
    this.request++;
    if (this.plot) this.plot.destroy();
  };

  var charts = [];
  function tilesChanged() { charts.forEach(function (c) { c.tilesChanged(); }); }
  document.body.addEventListener("htmx:sseMessage", tilesChanged);
  document.body.addEventListener("htmx:afterSettle", tilesChanged);
  document.body.addEventListener("htmx:oobAfterSwap", tilesChanged);

  // A window's end in the page's form: a live span in its hidden field, a fixed time (UTC)
  // in its date-and-time box (templates/pages/trend.html).
  function windowFields(form, name, text) {
    var relative = text.indexOf("now") === 0;
    var span = form.querySelector("input[type=hidden][name=" + name + "]");
    var box = form.querySelector("input[type=datetime-local][name=" + name + "]");
    if (span) span.value = relative ? text : "";
    if (box) box.value = relative ? "" : text.replace("Z", "").slice(0, 19);
  }

  // The trend page: the chart named by the page, its window kept in the address bar.
  var pageRoot = document.querySelector(".trend-chart[data-trend]");
  if (pageRoot) {
    var config = JSON.parse(pageRoot.dataset.trend);
    var form = document.querySelector(".trend-form");
    var presets = document.querySelector(".trend-presets");
    if (presets) presets.hidden = true; // the chart's own buttons replace the links
    charts.push(new TrendChart(pageRoot, {
      pens: config.pens, start: config.start, end: config.end, compare: config.compare,
      compareSelect: form ? form.elements.compare : null,
      onWindow: function (q) {
        var transport = new URLSearchParams(window.location.search).get("transport");
        if (transport) q.set("transport", transport);
        window.history.replaceState(null, "", window.location.pathname + "?" + q.toString());
        if (form) {
          windowFields(form, "start", q.get("start"));
          windowFields(form, "end", q.get("end"));
          var shown = form.querySelector(".trend-window-text");
          if (shown) shown.textContent = fill(word("window-text", "{start} to {end}"), {start: q.get("start"), end: q.get("end")});
          form.elements.compare.value = q.get("compare") || "";
        }
      },
    }));
  }

  // The overlay: a tile's value or sparkline opens its tag's trend, the last hour, with a
  // link to the same window on the trend page. Esc (the dialog's own) closes it.
  function openOverlay(tile, link) {
    var pen = tile.dataset.tag;
    var dialog = el("dialog", "trend-dialog");
    dialog.setAttribute("aria-label", word("trend", "Trend"));
    var head = el("div", "trend-dialog-head");
    var label = tile.querySelector(".tile-label");
    head.appendChild(el("h2", "", word("trend", "Trend") + " · " + (label ? label.textContent : pen)));
    var open = el("a", "trend-open", word("open-page", "Open on the trend page"));
    open.href = link.getAttribute("href");
    head.appendChild(open);
    var close = el("button", "trend-close", word("close", "Close"));
    close.type = "button";
    close.addEventListener("click", function () { dialog.close(); });
    head.appendChild(close);
    dialog.appendChild(head);
    var root = el("div");
    dialog.appendChild(root);
    document.body.appendChild(dialog);
    dialog.showModal();
    var chart = new TrendChart(root, {
      pens: [pen], start: "now-1h", end: "now",
      onWindow: function (q) { open.href = URLS.page + "?" + q.toString(); },
    });
    charts.push(chart);
    dialog.addEventListener("close", function () {
      chart.destroy();
      charts = charts.filter(function (c) { return c !== chart; });
      dialog.remove();
    });
  }
  document.body.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a.tile-trend, a.tile-spark");
    if (!link || evt.ctrlKey || evt.metaKey || evt.shiftKey || pageRoot || !URLS.data) return;
    var tile = link.closest("[data-tag]");
    if (!tile) return;
    evt.preventDefault();
    // Without uPlot (it did not load), the link's own page: the trend page.
    withUPlot(function () { openOverlay(tile, link); },
              function () { window.location.href = link.href; });
  });

  window.TrendChart = TrendChart;
})();
