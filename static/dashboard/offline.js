// The offline page (templates/offline/page.html): the theme the last page had, since when
// nothing is live (live.js notes the time of each live message), and a retry every 10 s.
(function () {
  "use strict";
  var stored = {};
  try {
    stored.theme = localStorage.getItem("wincc-dashboard:theme");
    stored.lastLive = parseInt(localStorage.getItem("wincc-dashboard:last-live") || "", 10);
  } catch (e) { /* storage refused: the device's theme, and no time */ }
  if (stored.theme === "dark" || stored.theme === "light") {
    document.documentElement.dataset.theme = stored.theme;
  }

  // In UTC on a 24-hour clock, as every time in the product; the date when not today.
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function when(ms) {
    var at = new Date(ms), iso = at.toISOString();
    var time = two(at.getUTCHours()) + ":" + two(at.getUTCMinutes()) + " UTC";
    return iso.slice(0, 10) === new Date().toISOString().slice(0, 10) ? time : iso.slice(0, 10) + " " + time;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var line = document.querySelector("[data-offline-since]");
    if (line && stored.lastLive > 0) {
      // The sentence comes from the page, in its language; "{time}" marks where the time goes.
      line.textContent = line.dataset.offlineSince.replace("{time}", when(stored.lastLive));
    }
  });
  // The address is still the page asked for: loading it again shows it once it answers.
  function retry() { window.location.reload(); }
  window.addEventListener("online", retry);
  window.setInterval(retry, 10000);
})();
