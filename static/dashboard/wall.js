// A wall screen runs unattended: it fits the dashboard to the screen it is on, pages through
// what does not fit at a readable size, turns to the screen's next dashboard, stays put while
// the dashboard holds an unacknowledged priority-1 alarm, and turns the whole screen "not
// live" when the data stops. live.js keeps the stream and the ages; this file only reads
// what live.js and the stream put in the page.
(function () {
  "use strict";
  var body = document.body;
  var main = document.querySelector("main");
  if (!body.classList.contains("wall") || !main) return;

  // A tile is never smaller than this (in % of the screen's shorter side): its value, 40 %
  // of the tile's height, stays above 5 % of a 1080p screen's height.
  var MIN_TILE_H = 18;
  var MIN_TILE_W = 30;
  var WANT_ROWS = {"panel-trend": 2, "panel-alarms": 2, "panel-site_health": 2};

  var settings = {
    pageSeconds: parseInt(body.dataset.pageSeconds, 10) || 30,
    next: body.dataset.next || "",
    url: body.dataset.settings || "",
    pauseOnAlarm: body.dataset.pauseOnAlarm === "true",
    // The screen's dashboards and the sites each shows: where a priority-1 alarm is held.
    dashboards: parseJSON(body.dataset.dashboards) || []
  };
  var pageSites = (body.dataset.sites || "").split(" ").filter(Boolean);
  var panels = Array.prototype.slice.call(main.querySelectorAll(":scope > .panel"));
  var pages = [];
  var current = 0;
  var left = settings.pageSeconds;
  var turning = false;
  var dead = false;
  var paused = false;
  var leaving = false;

  // The sentences this file writes, in the page's language (templates/pages/wall.html).
  function say(name, values) {
    var text = body.dataset["text" + name] || "";
    for (var key in values) text = text.split("{" + key + "}").join(String(values[key]));
    return text;
  }
  function parseJSON(text) {
    try { return JSON.parse(text || "null"); } catch (e) { return null; }
  }
  function vmin() { return Math.min(window.innerWidth, window.innerHeight) / 100; }
  function px(el, prop) { return parseFloat(window.getComputedStyle(el)[prop]) || 0; }
  function tilesOf(panel) {
    var grid = panel.querySelector(".panel-body.grid");
    return grid ? Array.prototype.slice.call(grid.querySelectorAll(":scope > .frag-tile")) : null;
  }
  function rowsWanted(panel) {
    for (var cls in WANT_ROWS) if (panel.classList.contains(cls)) return WANT_ROWS[cls];
    return 1;
  }

  // Split the panels into pages: each page holds what fits at the minimum size or larger.
  function paginate() {
    panels.forEach(function (panel) {
      panel.hidden = false;
      panel.style.flex = "";
      var tiles = tilesOf(panel);
      if (tiles) tiles.forEach(function (t) { t.hidden = false; });
    });
    var u = vmin();
    var gap = px(main, "rowGap");
    var avail = main.clientHeight - px(main, "paddingTop") - px(main, "paddingBottom") + gap;
    var width = main.clientWidth - px(main, "paddingLeft") - px(main, "paddingRight");
    var tileH = MIN_TILE_H * u;
    var gridGap = 0.8 * u;
    var cols = Math.max(1, Math.floor((width + gridGap) / (MIN_TILE_W * u + gridGap)));
    var result = [];
    var page = {items: [], used: 0};
    function room(overhead) {
      return Math.floor((avail - page.used - overhead + gridGap) / (tileH + gridGap));
    }
    function place(item, overhead) {
      item.overhead = overhead;
      page.items.push(item);
      page.used += overhead + item.rows * tileH + (item.rows - 1) * gridGap;
    }
    function newPage() {
      if (page.items.length) result.push(page);
      page = {items: [], used: 0};
    }
    panels.forEach(function (panel) {
      var inner = panel.querySelector(".panel-body");
      var overhead = panel.offsetHeight - inner.offsetHeight + gap;
      var tiles = tilesOf(panel);
      if (tiles) {
        var from = 0;
        while (from < tiles.length) {
          if (room(overhead) < 1) newPage();
          var rows = Math.max(1, room(overhead));
          var take = Math.min(tiles.length - from, rows * cols);
          var used = Math.ceil(take / cols);
          // Rows filled evenly (3 + 3, not 5 + 1): wider tiles, no empty stretch.
          place({panel: panel, from: from, to: from + take, cols: Math.ceil(take / used),
                 rows: used}, overhead);
          from += take;
        }
      } else {
        var want = rowsWanted(panel);
        if (room(overhead) < want) newPage();
        place({panel: panel, rows: Math.max(1, Math.min(want, room(overhead)))}, overhead);
      }
    });
    newPage();
    return result.length ? result : [{items: []}];
  }

  // Rows of a list that would be cut are left out, and the panel says how many.
  function clip(panel) {
    var inner = panel.querySelector(".panel-body");
    var rows = inner.querySelectorAll("li.alarm, li.no-alarms, tbody tr, .trend-row");
    var note = panel.querySelector(":scope > .wall-more");
    if (!note) {
      note = document.createElement("p");
      note.className = "wall-more";
      panel.appendChild(note);
    }
    rows.forEach(function (r) { r.classList.remove("wall-clipped"); });
    note.hidden = true;
    if (inner.scrollHeight <= inner.clientHeight + 1) return;
    note.hidden = false;
    var bottom = inner.getBoundingClientRect().bottom;
    var cut = 0;
    rows.forEach(function (r) {
      if (r.getBoundingClientRect().bottom > bottom + 0.5) { r.classList.add("wall-clipped"); cut += 1; }
    });
    var text = cut ? say("More", {count: cut}) : "";
    if (note.textContent !== text) note.textContent = text;  // no change, no mutation
    note.hidden = cut === 0;
  }

  // A value wider than its tile (a long count) shrinks to fit rather than being cut.
  function fitValue(el) {
    el.style.fontSize = "";
    if (el.scrollWidth > el.clientWidth + 1) {
      el.style.fontSize = (px(el, "fontSize") * el.clientWidth / el.scrollWidth * 0.97) + "px";
    }
  }

  // A label on two lines takes room from the value: the value gives way, nothing is cut.
  function fitTile(tile) {
    var value = tile.querySelector(".tile-value");
    if (!value) return;
    fitValue(value);
    var over = tile.scrollHeight - tile.clientHeight;
    if (over > 1) {
      var size = px(value, "fontSize");
      value.style.fontSize = Math.max(size - over / 1.05, size * 0.6) + "px";
    }
  }

  function refit() {
    var page = pages[current];
    if (!page) return;
    page.items.forEach(function (item) {
      if (item.cols === undefined) {
        showLines(item);  // a swapped table comes back whole
        clip(item.panel);
      } else {
        item.panel.querySelectorAll(".frag-tile:not([hidden]) .tile").forEach(fitTile);
      }
    });
  }

  // A table's rows (the sites) are paged like tiles: `item.lines` is the part on this page.
  function tableRows(panel) {
    return Array.prototype.slice.call(panel.querySelectorAll(".panel-body tbody > tr"));
  }
  function showLines(item) {
    if (!item.lines) return;
    tableRows(item.panel).forEach(function (tr, i) {
      tr.hidden = i < item.lines[0] || i >= item.lines[1];
    });
  }

  // Pages whose tables have more rows than their panel holds become as many pages as the
  // rows need, each with the next rows (the header stays); never a scrolled or cut table.
  function splitTables(list) {
    var out = [];
    list.forEach(function (page) {
      paint(page);
      var parts = 1;
      var per = [];
      page.items.forEach(function (item, i) {
        var rows = item.cols === undefined ? tableRows(item.panel) : [];
        if (!rows.length) return;
        rows.forEach(function (tr) { tr.hidden = false; });
        var bottom = item.panel.querySelector(".panel-body").getBoundingClientRect().bottom + 0.5;
        var fit = rows.filter(function (tr) {
          return tr.getBoundingClientRect().bottom <= bottom;
        }).length;
        if (fit >= rows.length) return;
        per[i] = Math.max(1, fit);
        parts = Math.max(parts, Math.ceil(rows.length / per[i]));
      });
      for (var part = 0; part < parts; part++) {
        out.push({items: page.items.map(function (item, i) {
          if (!per[i]) return item;
          var copy = {};
          for (var key in item) copy[key] = item[key];
          // A shorter table keeps its last part while a longer one turns on.
          var own = Math.ceil(tableRows(item.panel).length / per[i]);
          var from = Math.min(part, own - 1) * per[i];
          copy.lines = [from, from + per[i]];
          return copy;
        })});
      }
    });
    return out;
  }

  function show(index) {
    current = index < pages.length ? index : 0;
    left = settings.pageSeconds;
    paint(pages[current]);
    body.dataset.wallPage = String(current + 1);
    body.dataset.wallPages = String(pages.length);
    drawPager();
    refit();
  }

  // Apply a page: its panels, the share of the stage each gets, its tiles and table rows.
  function paint(page) {
    panels.forEach(function (panel) { panel.hidden = true; });
    page.items.forEach(function (item) {
      var panel = item.panel;
      panel.hidden = false;
      // Its title and padding, then a share of the rest by the rows it holds.
      panel.style.flex = item.rows + " 1 " + item.overhead + "px";
      if (item.cols !== undefined) {
        var grid = panel.querySelector(".panel-body.grid");
        grid.style.setProperty("--cols", String(item.cols));
        grid.style.gridTemplateRows = "repeat(" + item.rows + ", minmax(0, 1fr))";
        tilesOf(panel).forEach(function (t, i) { t.hidden = i < item.from || i >= item.to; });
      }
      showLines(item);
    });
  }

  function drawPager() {
    var text = document.querySelector("[data-wall-page-text]");
    var dots = document.querySelector("[data-wall-dots]");
    if (!text || !dots) return;
    text.textContent = pages.length > 1 ? say("Page", {page: current + 1, pages: pages.length}) : "";
    dots.textContent = "";
    if (pages.length < 2) return;
    pages.forEach(function (_, i) {
      var dot = document.createElement("span");
      dot.className = "wall-dot" + (i === current ? " current" : "");
      dots.appendChild(dot);
    });
  }

  function layout() {
    var keep = current;
    pages = splitTables(paginate());
    show(Math.min(keep, pages.length - 1));
  }

  // The screen's settings as they are now: a change in the admin reaches the screen here.
  function apply(s) {
    settings.pageSeconds = s.page_seconds || settings.pageSeconds;
    settings.pauseOnAlarm = !!s.pause_on_alarm;
    body.dataset.pauseOnAlarm = String(settings.pauseOnAlarm);
    if (s.dashboards) settings.dashboards = s.dashboards;
    // The annunciator reads these at each tick: sound follows the screen's record.
    body.dataset.sound = String(!!s.sound);
    body.dataset.soundPriority = String(s.sound_priority || 5);
    // The one theme attribute of every page (dashboard/themes.py); "auto": the device's.
    if (s.theme === "dark" || s.theme === "light") document.documentElement.dataset.theme = s.theme;
    else delete document.documentElement.dataset.theme;
    // Another language is drawn by the server: the page loads again in it.
    if (s.language && s.language !== document.documentElement.lang && !leaving) {
      leaving = true;
      window.location.reload();
    }
  }

  // Ask for the settings, then `then(settings or null)`; a revoked screen reloads and
  // shows the refusal, a server away leaves everything as it is.
  function fetchSettings(then) {
    turning = true;
    fetch(settings.url, {cache: "no-store", credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 403) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (s) {
        turning = false;
        if (s) apply(s);
        then(s);
      })
      .catch(function () { turning = false; then(null); });
  }

  function turn() {
    if (current + 1 < pages.length) { show(current + 1); return; }
    if (!settings.url) {
      if (settings.next) window.location.assign(settings.next); else show(0);
      return;
    }
    fetchSettings(function (s) {
      // An alarm that arrived while the settings were asked for holds the screen here.
      watch();
      if (paused || dead) { left = settings.pageSeconds; return; }
      if (s && s.next && s.next !== window.location.pathname + window.location.search) {
        window.location.assign(s.next);
        return;
      }
      show(0);
    });
  }

  function words(text) { return (text || "").split(" ").filter(Boolean); }
  function heldSites() {
    var strip = document.querySelector("[data-holding]");
    return strip ? words(strip.dataset.holding) : [];
  }
  function meets(a, b) { return a.some(function (x) { return b.indexOf(x) >= 0; }); }

  // Does page `index` show one of `sites`: a tile of it, or a list or table that has it?
  function pageShows(index, sites) {
    return pages[index].items.some(function (item) {
      var frags = item.cols !== undefined
        ? tilesOf(item.panel).slice(item.from, item.to)
        : Array.prototype.slice.call(item.panel.querySelectorAll(".frag[data-sites]"));
      return frags.some(function (f) { return meets(words(f.dataset.sites), sites); });
    });
  }

  // A held priority-1 alarm is shown, not only paused on: this dashboard's page with its
  // site, else the screen's dashboard that shows the site (the one with the fewest sites,
  // the most specific), else the rotation goes on (the strip still names the alarm).
  function showAlarm(held) {
    var here = held.filter(function (s) { return pageSites.indexOf(s) >= 0; });
    if (here.length) {
      if (!pageShows(current, here)) {
        for (var i = 0; i < pages.length; i++) if (pageShows(i, here)) { show(i); break; }
      }
      return true;
    }
    var best = null;
    settings.dashboards.forEach(function (board) {
      if (!meets(board.sites, held)) return;
      if (!best || board.sites.length < best.sites.length) best = board;
    });
    if (!best) return false;
    if (!leaving) { leaving = true; window.location.assign(best.url); }
    return true;
  }

  function everySiteStale() {
    return pageSites.length > 0 && pageSites.every(function (s) {
      return document.querySelector('.site-stale[data-site="' + CSS.escape(s) + '"]') !== null;
    });
  }

  function watch() {
    var streamDown = body.classList.contains("stream-down");
    dead = streamDown || everySiteStale();
    var stripMark = document.querySelector("[data-wall-strip-dead]");
    if (stripMark) stripMark.hidden = !dead;
    var notice = document.querySelector("[data-wall-dead]");
    if (notice) {
      notice.hidden = !dead;
      notice.querySelector("[data-wall-dead-reason]").textContent = say(streamDown ? "Lost" : "Stale");
    }
    body.classList.toggle("wall-not-live", dead);
    body.dataset.live = String(!dead);
    // A stale dashboard may still lead to the alarm; a lost stream would load an error page.
    var held = settings.pauseOnAlarm && !streamDown ? heldSites() : [];
    paused = held.length > 0 && showAlarm(held);
    body.dataset.paused = String(paused);
    var mark = document.querySelector("[data-wall-pause]");
    if (mark) mark.hidden = !paused;
  }

  function tick() {
    watch();
    // Not live: stay (the next page might not load).
    if (dead || turning) return;
    left -= 1;
    if (left > 0) return;
    if (!paused) { turn(); return; }
    // Paused until the alarm is acknowledged; the settings are still read each period, so
    // turning "pause on alarm" off in the admin releases the screen too.
    left = settings.pageSeconds;
    if (settings.url) fetchSettings(function () { watch(); });
  }

  // Unattended: a stray touch must not take the screen away. Links stop being links and
  // nothing is focusable, whatever the stream swaps in; the sound controls alone stay (the
  // browser lets sound start only after a touch, and a tone that plays can be silenced).
  var KEEP = '[data-sound="enable"], [data-sound="silence"]';
  var ACTIVE = "a[href], button, input, select, textarea, summary, [tabindex], [hx-get], [hx-post]";
  function disarm() {
    document.querySelectorAll(ACTIVE).forEach(function (el) {
      if (el.matches(KEEP)) return;
      if (el.tagName === "A") el.removeAttribute("href");
      if (el.tagName === "BUTTON" || el.tagName === "INPUT" || el.tagName === "SELECT") {
        el.disabled = true;
      }
      el.setAttribute("tabindex", "-1");
    });
  }
  // A tile the stream swapped in is disarmed a frame later; a Tab in that frame must not
  // leave focus on it.
  document.addEventListener("focusin", function (evt) {
    if (evt.target.closest && !evt.target.closest(KEEP) && evt.target.blur) evt.target.blur();
  });
  document.addEventListener("click", function (evt) {
    if (!evt.target.closest || !evt.target.closest(KEEP)) {
      evt.preventDefault();
      evt.stopPropagation();
    }
  }, true);

  // Once per frame at most, however many swaps or resizes arrive in it.
  var pending = {};
  function later(name, fn) {
    if (pending[name]) return;
    pending[name] = true;
    window.requestAnimationFrame(function () { pending[name] = false; fn(); });
  }
  // What the stream swaps in is disarmed and fitted (the click guard covers the frame between).
  // A swapped-in table gets its page's rows back before it is ever drawn whole.
  new MutationObserver(function () {
    if (pages[current]) pages[current].items.forEach(showLines);
    later("disarm", disarm);
    later("refit", refit);
  })
    .observe(body, {childList: true, subtree: true});
  window.addEventListener("resize", function () { later("layout", layout); });
  if (window.ResizeObserver) {
    // The strip and the freshness line change height with their content.
    var lastHeight = main.clientHeight;
    new ResizeObserver(function () {
      if (main.clientHeight !== lastHeight) { lastHeight = main.clientHeight; later("layout", layout); }
    }).observe(main);
  }
  // Whoever sets the screen up with a keyboard attached can look through the pages.
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "ArrowRight") show((current + 1) % pages.length);
    if (evt.key === "ArrowLeft") show((current + pages.length - 1) % pages.length);
  });
  body.addEventListener("htmx:sseMessage", function () { later("refit", refit); });
  body.addEventListener("htmx:afterSettle", function () { later("refit", refit); });

  disarm();
  layout();
  watch();
  window.setInterval(tick, 1000);
})();
