// The page's freshness in the browser: ages ticking from server timestamps, the stream
// indicator (connected / reconnecting / lost), and a wall screen's reload after an outage.
(function () {
  "use strict";
  var body = document.body;

  // Installable on tablets (docs/tablets.md): the service worker shows the offline page when
  // a page cannot load. Registered after the page has loaded, out of its way; checked for a
  // new version through the HTTP cache (the server says how long /sw.js keeps).
  var manifest = document.querySelector("link[rel=manifest][data-worker]");
  if (manifest && "serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(manifest.dataset.worker, {updateViaCache: "all"})
        .catch(function () { /* not over HTTPS, or refused: pages work as before */ });
    });
  }
  // What the offline page reads: this page's theme, and (below) when values were last live.
  function note(key, value) {
    try { localStorage.setItem("wincc-dashboard:" + key, value); } catch (e) { /* refused */ }
  }
  note("theme", document.documentElement.dataset.theme || "auto");

  var live = document.getElementById("live");
  if (!live) return;

  // The stream the page opened before its scripts (templates/partials/live_start.js): htmx's
  // SSE extension takes it over instead of opening its own, and gets what it sent meanwhile,
  // in order (its opening, then each event), once htmx has set its listeners: a microtask
  // runs before any further event of the stream. Any other URL, or a stream already refused,
  // opens anew as before.
  if (window.htmx && window.liveStart) {
    var openStream = htmx.createEventSource;
    htmx.createEventSource = function (url) {
      var early = window.liveStart;
      if (!early) return openStream(url);
      var held = early.take();
      if (early.url !== url || early.source.readyState === EventSource.CLOSED) {
        early.source.close();
        return openStream(url);
      }
      var source = early.source;
      queueMicrotask(function () {
        if (source.readyState === EventSource.OPEN) source.dispatchEvent(new Event("open"));
        held.forEach(function (evt) {
          source.dispatchEvent(new MessageEvent(evt.type, {data: evt.data, lastEventId: evt.lastEventId}));
        });
      });
      return source;
    };
  }
  var indicator = document.querySelector("[data-stream]");
  var keepalive = parseFloat(body.dataset.keepalive || "15") * 1000;
  var SILENCE = keepalive * 2 + 5000; // no message at all for this long: the stream is dead
  var LOST_AFTER = 10000;             // reconnecting for this long: call it lost
  var WALL_RELOAD_AFTER = 60000;      // a wall screen back from a long outage reloads fully
  var PROBE_EVERY = 10000;
  var RELOAD_SPREAD = 15000;
  var probeEvery = PROBE_EVERY;
  var isWall = body.classList.contains("wall");

  var offset = 0; // server clock minus browser clock
  var confirmed = {}; // site -> ms of its last good poll
  var latency = {};
  var state = "connected";
  var lastMessage = Date.now();
  var downSince = null;
  var openKeys = new Set();
  var hooked = new WeakSet();

  function serverNow() { return Date.now() + offset; }
  function setServerNow(iso) {
    var t = Date.parse(iso);
    if (!isNaN(t)) offset = t - Date.now();
  }
  function applyPulses(list) {
    list.forEach(function (p) {
      var t = Date.parse(p.confirmed);
      if (!isNaN(t)) confirmed[p.site] = t;
      latency[p.site] = p.latency_ms;
      if (p.now) setServerNow(p.now);
    });
  }
  // The page's words in its language (partials/annunciator.html), English where it has none.
  function word(name, english, values) {
    var words = document.getElementById("live-words");
    var text = (words && words.dataset[name]) || english;
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return values && key in values ? String(values[key]) : all;
    });
  }
  window.dashboardWord = word;  // annunciator.js speaks the same words
  function ageText(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return s + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  function tickAges() {
    var now = serverNow();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (isNaN(since)) return;
      var site = confirmed[el.dataset.site];
      el.textContent = ageText(now - Math.max(since, site || 0));
    });
    document.querySelectorAll("[data-confirmed-of]").forEach(function (el) {
      var t = confirmed[el.dataset.confirmedOf];
      if (t) el.textContent = ageText(now - t);
    });
    // The newest good poll among the sites listed (a wall screen's "last good data").
    document.querySelectorAll("[data-last-good]").forEach(function (el) {
      var newest = 0;
      el.dataset.lastGood.split(" ").forEach(function (s) { newest = Math.max(newest, confirmed[s] || 0); });
      el.textContent = newest ? ageText(now - newest) : word("never", "never");
    });
    document.querySelectorAll("[data-latency-of]").forEach(function (el) {
      var ms = latency[el.dataset.latencyOf];
      if (ms !== null && ms !== undefined) el.textContent = Math.round(ms) + " ms";
    });
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      // The viewer's own time of day where times.js knows the zone, UTC otherwise.
      var times = window.dashboardTimes;
      el.textContent = times && times.zone && !/^(Etc\/)?UTC$/.test(times.zone)
        ? times.clock(new Date(now), true)
        : new Date(now).toISOString().slice(11, 19) + " UTC";
    });
  }

  // What the page shows while the stream is down: nothing on it can be vouched for.
  function markStreamStale(down) {
    body.classList.toggle("stream-down", down);
    if (!down) return;
    document.querySelectorAll("[data-tag]").forEach(function (tile) {
      tile.dataset.stale = "true";
      tile.classList.add("stale", "stream-stale");
    });
  }

  function setState(next) {
    if (next === state && indicator.dataset.stream === next) return render();
    var wasDownFor = downSince ? Date.now() - downSince : 0;
    state = next;
    indicator.dataset.stream = next;
    if (next === "connected") {
      // Spread out: after a restart every wall screen comes back at once (no reconnect storm).
      if (isWall && wasDownFor >= WALL_RELOAD_AFTER) {
        window.setTimeout(function () { window.location.reload(); }, Math.random() * RELOAD_SPREAD);
        return;
      }
      downSince = null;
    } else if (downSince === null) {
      downSince = lastMessage;
    }
    markStreamStale(next !== "connected");
    render();
  }

  function render() {
    var text = indicator.querySelector(".stream-text");
    var since = ageText(Date.now() - lastMessage);
    if (state === "connected") text.textContent = word("live", "Live");
    else if (state === "reconnecting") text.textContent = word("reconnecting", "Reconnecting… last message {age} ago", {age: since});
    else text.textContent = word("lost", "Connection lost · last message {age} ago", {age: since});
  }

  var noted = 0;
  function heard() {
    lastMessage = Date.now();
    if (lastMessage - noted >= 1000) { noted = lastMessage; note("last-live", String(noted)); }
    if (state !== "connected") setState("connected");
  }

  // While lost, ask for the page itself now and then: a signed-out session (idle expiry) or a
  // revoked wall screen answers with the sign-in redirect or a refusal, and the page shows it.
  var lastProbe = 0;
  function probe() {
    lastProbe = Date.now();
    fetch(window.location.href, {cache: "no-store", credentials: "same-origin"})
      .then(function (response) {
        if (response.redirected || response.status === 403) window.location.reload();
      })
      .catch(function () { /* the server is still away; the stream keeps retrying */ });
  }

  function watchdog() {
    var quiet = Date.now() - lastMessage;
    if (state === "connected" && quiet > SILENCE) setState("reconnecting");
    if (state === "reconnecting" && downSince !== null && Date.now() - downSince > LOST_AFTER) {
      setState("lost");
    }
    if (state === "lost" && Date.now() - lastProbe > probeEvery) {
      probeEvery = PROBE_EVERY * (1 + Math.random()); // jittered, so screens do not ask in step
      probe();
    }
    render();
  }

  // SSE transport: the htmx extension swaps the fragments; we watch its events.
  body.addEventListener("htmx:sseOpen", function (evt) {
    var source = evt.detail.source;
    // `seen` is for the freshly loaded page only: a stream htmx opens anew (after a refusal)
    // must get the full snapshot, as the page may show newer frames than it was rendered with.
    var url = live.getAttribute("sse-connect");
    if (url && url.indexOf("seen=") !== -1) {
      var u = new URL(url, window.location.href);
      u.searchParams.delete("seen");
      live.setAttribute("sse-connect", u.pathname + u.search);
    }
    if (source && !hooked.has(source)) {
      hooked.add(source);
      source.addEventListener("pulse", function (e) { applyPulses([JSON.parse(e.data)]); heard(); });
      source.addEventListener("keepalive", function (e) { setServerNow(e.data); heard(); });
    }
    heard();
  });
  body.addEventListener("htmx:sseMessage", heard);
  body.addEventListener("htmx:sseError", function () {
    if (state === "connected") setState("reconnecting");
  });

  // Polling transport: each answer is a message; a failed request is a reconnect.
  body.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.elt !== live) return;
    if (evt.detail.successful) {
      var holder = document.getElementById("pulses");
      if (holder) applyPulses(JSON.parse(holder.dataset.pulses || "[]"));
      heard();
    } else if (state === "connected") {
      setState("reconnecting");
    }
  });
  body.addEventListener("htmx:sendError", function () {
    if (state === "connected") setState("reconnecting");
  });

  // An opened operator instruction stays open when its row is re-rendered.
  document.addEventListener("toggle", function (evt) {
    var key = evt.target.dataset && evt.target.dataset.keepOpen;
    if (!key) return;
    if (evt.target.open) openKeys.add(key); else openKeys.delete(key);
  }, true);
  function reopen() {
    document.querySelectorAll("details[data-keep-open]").forEach(function (d) {
      if (openKeys.has(d.dataset.keepOpen) && !d.open) d.open = true;
    });
  }
  // A swapped fragment arrives with placeholders: fill its ages at once, not a second later.
  function afterSwap() { reopen(); tickAges(); if (ackMessages.size) reapplyAckMessages(); }
  body.addEventListener("htmx:sseMessage", afterSwap);
  body.addEventListener("htmx:afterSettle", afterSwap);
  body.addEventListener("htmx:oobAfterSwap", afterSwap);

  // An acknowledge the server refused (403, 400, 404, 503) answers in plain words: show them in
  // the row, as text, since htmx swaps only successful answers. The stream may have replaced
  // the row since the click, and may replace it again: the words are kept by the alarm's key
  // for a minute and put back into whichever row shows that alarm now.
  var ackMessages = new Map();
  var ACK_MESSAGE_MS = 60000;
  function showAckMessage(row, message) {
    var line = row.querySelector(".ack-result");
    if (!line) {
      line = document.createElement("p");
      line.setAttribute("role", "status");
      row.appendChild(line);
    }
    line.className = "ack-result error";
    line.textContent = message;
  }
  function reapplyAckMessages() {
    var now = Date.now();
    ackMessages.forEach(function (entry, key) {
      if (now > entry.until) { ackMessages.delete(key); return; }
      document.querySelectorAll("[data-alarm]").forEach(function (row) {
        if (row.dataset.alarm === key && !row.querySelector(".ack-result")) {
          showAckMessage(row, entry.text);
        }
      });
    });
  }
  function ackRefused(key, message) {
    ackMessages.set(key, {text: message, until: Date.now() + ACK_MESSAGE_MS});
    document.querySelectorAll("[data-alarm]").forEach(function (row) {
      if (row.dataset.alarm === key) showAckMessage(row, message);
    });
  }
  // The answer is taken from the request itself: once the stream has replaced the clicked
  // row, htmx's events for it no longer reach the page.
  body.addEventListener("htmx:beforeRequest", function (evt) {
    var button = evt.detail.elt;
    if (!button || button.dataset.action !== "ack") return;
    var row = button.closest("[data-alarm]");
    if (!row) return;
    var key = row.dataset.alarm;
    var xhr = evt.detail.xhr;
    xhr.addEventListener("load", function () {
      if (xhr.status < 400) { ackMessages.delete(key); return; }
      var text = (xhr.responseText || "").trim().slice(0, 300);
      ackRefused(key, text || word("ackRefused", "The acknowledgement was refused (HTTP {status}).", {status: xhr.status}));
    });
    xhr.addEventListener("error", function () {
      ackRefused(key, word("ackUnreachable", "The dashboard server could not be reached; nothing was acknowledged."));
    });
  });

  // "Acknowledge all shown" refused (the list changed, 403, 400): its plain words, as text.
  body.addEventListener("htmx:responseError", function (evt) {
    var form = evt.detail.elt;
    var outcome = document.getElementById("ack-all-outcome");
    if (!form || !form.classList.contains("ack-all") || !outcome) return;
    var text = (evt.detail.xhr.responseText || "").trim().slice(0, 300);
    outcome.textContent = text || word("refused", "Refused (HTTP {status}).", {status: evt.detail.xhr.status});
    outcome.className = "ack-all-outcome ack-result error";
  });

  // The write dialog (partials/write_dialog.html): shown as a modal when htmx adds it,
  // removed when closed. A refusal that is a form (a bad value, a stale site) replaces the
  // form; one in plain text (403, 404, 429) is shown in the form's result line.
  body.addEventListener("htmx:load", function (evt) {
    var dialog = evt.detail.elt;
    if (!dialog.matches || !dialog.matches("dialog.write-dialog")) return;
    document.querySelectorAll("dialog.write-dialog").forEach(function (other) {
      if (other !== dialog) other.remove();
    });
    dialog.addEventListener("close", function () { dialog.remove(); });
    dialog.showModal();
  });
  body.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-action=close-write]");
    if (button) button.closest("dialog").close();
  });
  body.addEventListener("htmx:beforeSwap", function (evt) {
    var form = evt.detail.elt;
    var xhr = evt.detail.xhr;
    if (!form.matches || !form.matches("form.write-form") || xhr.status < 400) return;
    if ((xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      return;
    }
    var line = form.querySelector(".write-result") || document.createElement("p");
    line.className = "write-result refused";
    line.setAttribute("role", "status");
    line.textContent = (xhr.responseText || "").trim().slice(0, 300) ||
      word("writeRefused", "The write was refused (HTTP {status}).", {status: xhr.status});
    if (!line.parentNode) form.insertBefore(line, form.querySelector(".write-buttons"));
  });


  setServerNow(body.dataset.serverNow);
  try { applyPulses(JSON.parse(body.dataset.pulses || "[]")); } catch (e) { /* page without pulses */ }
  tickAges();
  window.setInterval(function () { tickAges(); watchdog(); }, 1000);
})();
