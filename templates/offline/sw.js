{% autoescape off %}// The dashboard's service worker (docs/tablets.md). It keeps the offline page and its files,
// and nothing else: a page that cannot be loaded shows the offline page (since when nothing
// is live), never a kept copy of values. Streams and API answers never pass through it.
"use strict";
var CACHE = "{{ cache }}";
var OFFLINE = {{ offline_url }};
var PRECACHE = {{ precache }};
// A proxy's answers when the dashboard behind it is down.
var SERVER_AWAY = [502, 503, 504];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(PRECACHE); })
    .then(function () { return self.skipWaiting(); }));
  // Where the browser can, everything but pages and the offline page's files goes straight to
  // the network without waking the worker (a live stream's first value waits for nobody).
  if (event.addRoutes) {
    var kept = PRECACHE.map(function (path) { return {urlPattern: path}; });
    event.addRoutes([
      {condition: {requestMode: "navigate"}, source: "fetch-event"},
      {condition: {or: kept}, source: "fetch-event"},
      {condition: {urlPattern: "/*"}, source: "network"},
    ]).catch(function () { /* an older browser: the fetch handler below decides alike */ });
  }
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key !== CACHE; })
      .map(function (key) { return caches.delete(key); }));
  }).then(function () {
    // The page's request starts while the worker starts, not after.
    return self.registration.navigationPreload && self.registration.navigationPreload.enable();
  }).then(function () { return self.clients.claim(); }));
});

function page(event) {
  return Promise.resolve(event.preloadResponse).then(function (preloaded) {
    return preloaded || fetch(event.request);
  }).then(function (response) {
    if (SERVER_AWAY.indexOf(response.status) === -1) return response;
    return caches.match(OFFLINE).then(function (offline) { return offline || response; });
  }, function () {
    return caches.match(OFFLINE).then(function (offline) { return offline || Response.error(); });
  });
}

function own(url) {
  var parsed = new URL(url);
  return parsed.origin === self.location.origin ? parsed.pathname + parsed.search : "";
}

// The offline page's own files (their addresses end in ?offline, so a live page's requests
// never get here): from the network while there is one, else as kept.
function ownFile(request) {
  return fetch(request).catch(function () {
    return caches.match(request).then(function (kept) { return kept || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  if (event.request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (PRECACHE.indexOf(own(event.request.url)) !== -1) {
    event.respondWith(ownFile(event.request));
  }
  // Anything else: not answered here, the browser fetches it as if there were no worker.
});
{% endautoescape %}
