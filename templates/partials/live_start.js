// Opens the page's live stream while its scripts still load, and holds what it sends until
// htmx takes the stream over (static/dashboard/live.js): the first live value then waits for
// the slower of the two, not for both in a row (docs/live.md).
(function () {
  "use strict";
  var meta = document.querySelector("meta[name=live-stream]");
  if (!meta || !window.EventSource) return;
  var source = new EventSource(meta.content, {withCredentials: true});
  var names = meta.dataset.events.split(" ");
  var held = [];
  function hold(evt) { held.push(evt); }
  names.forEach(function (name) { source.addEventListener(name, hold); });
  window.liveStart = {
    url: meta.content,
    source: source,
    take: function () {
      names.forEach(function (name) { source.removeEventListener(name, hold); });
      window.liveStart = null;
      return held;
    }
  };
})();
