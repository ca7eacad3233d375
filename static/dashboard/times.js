/* Times in the viewer's zone. The server writes every time in UTC, as <time datetime="...">
   with the text in one of four shapes (2026-10-25 02:30:00, 2026-10-25 02:30, 02:30:00,
   02:30; a German page writes the date 25.10.2026): the same bytes go to every viewer of a live panel, so only the browser knows the
   viewer's zone. This rewrites each such text in that zone, in the same shape (a time of day
   on another day gets its date), keeps the UTC time in the title, and adds the offset where
   the local time alone does not say which instant it is: in an hour a clock change repeats,
   and within a day of a change. Elements marked data-zone-name name the zone shown. Without
   JavaScript the page stays in UTC, as its labels then say. */
(function () {
  "use strict";
  var SHAPES = [
    [/^(\d{4}-\d\d-\d\d|\d\d\.\d\d\.\d{4}) \d\d:\d\d:\d\d$/, true, true],
    [/^(\d{4}-\d\d-\d\d|\d\d\.\d\d\.\d{4}) \d\d:\d\d$/, true, false],
    [/^\d\d:\d\d:\d\d$/, false, true],
    [/^\d\d:\d\d$/, false, false]
  ];
  var HOUR = 3600e3, DAY = 24 * HOUR;
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* old */ }

  function two(n) { return (n < 10 ? "0" : "") + n; }
  var german = /^de\b/.test(document.documentElement.lang || "");
  function day(d) {
    return german ? two(d.getDate()) + "." + two(d.getMonth() + 1) + "." + d.getFullYear()
      : d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
  }
  function clock(d, seconds) {
    return two(d.getHours()) + ":" + two(d.getMinutes()) + (seconds ? ":" + two(d.getSeconds()) : "");
  }
  function offsetOf(t) { return -new Date(t).getTimezoneOffset(); }
  function offsetText(minutes) {
    var sign = minutes < 0 ? "-" : "+", m = Math.abs(minutes);
    return "UTC" + sign + Math.floor(m / 60) + (m % 60 ? ":" + two(m % 60) : "");
  }
  function wall(t) { var d = new Date(t); return day(d) + " " + clock(d, true); }
  // The offset is worth saying when this local time also names another instant an hour
  // away (the repeated hour), or when the zone changes its offset within a day of it.
  function offsetNeeded(t) {
    if (wall(t) === wall(t - HOUR) || wall(t) === wall(t + HOUR)) return true;
    return offsetOf(t - DAY) !== offsetOf(t + DAY);
  }

  function localize(el) {
    if (el.dataset.localTime) return;
    var t = Date.parse(el.getAttribute("datetime"));
    var text = el.textContent.trim();
    if (isNaN(t)) return;
    for (var i = 0; i < SHAPES.length; i++) {
      if (!SHAPES[i][0].test(text)) continue;
      var d = new Date(t), withDate = SHAPES[i][1] || day(d) !== day(new Date());
      var shown = (withDate ? day(d) + " " : "") + clock(d, SHAPES[i][2]);
      if (offsetNeeded(t)) shown += " " + offsetText(offsetOf(t));
      if (!el.title) el.title = new Date(t).toISOString().slice(0, 19).replace("T", " ") + " UTC";
      el.dataset.localTime = "1";
      if (shown !== text) el.textContent = shown;
      return;
    }
  }

  function localizeIn(root) {
    if (!zone || zone === "UTC" || zone === "Etc/UTC") {
      // The server's UTC is the viewer's: only a repeated hour could need saying, and UTC has none.
      return;
    }
    if (root.matches && root.matches("time[datetime]")) localize(root);
    if (root.querySelectorAll) {
      root.querySelectorAll("time[datetime]").forEach(localize);
      root.querySelectorAll("[data-zone-name]").forEach(function (el) { el.textContent = zone; });
    }
  }

  window.dashboardTimes = { zone: zone, clock: clock };
  function start() {
    localizeIn(document);
    // Live panels are swapped in by htmx (SSE or polling): localize whatever arrives.
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) { if (node.nodeType === 1) localizeIn(node); });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
