// The annunciator: a tone per priority while the banner shows an unacknowledged alarm,
// repeating until it is acknowledged or this screen silences it for a few minutes; a
// vibration on tablets and a system notification for a tab in the background.
//
// The tones are made here with the Web Audio API (no sound files to ship or license).
// Browsers start audio only after a person interacted with the page: the "Enable sound"
// button is that interaction, and the choice is remembered (localStorage) so a wall screen
// that reloads tries again by itself and asks only when the browser still refuses.
// Silencing touches nothing in WinCC; the server records it (POST /alarms/silence/).
(function () {
  "use strict";
  var holder = document.querySelector("[data-annunciator]");
  var controls = document.querySelector("[data-sound-controls]");
  if (!holder || !controls) return;

  var KEY_SOUND = "wdash.sound";          // "off" when this person turned their sound off
  var KEY_ENABLED = "wdash.sound.enabled"; // "1" once someone enabled sound on this screen
  var KEY_SILENCE = "wdash.sound.silence"; // {until: ms, newest: iso} of the last silence
  var KEY_ASKED = "wdash.notify.asked";    // the notification question was asked once
  // Per priority rank (1 most urgent): pitch, beeps per tone, seconds between tones.
  var TONES = {
    1: {hz: 880, beeps: 3, every: 2},
    2: {hz: 740, beeps: 2, every: 4},
    3: {hz: 587, beeps: 1, every: 8},
    4: {hz: 440, beeps: 1, every: 15},
    5: {hz: 392, beeps: 1, every: 15}
  };
  var buttons = {
    enable: controls.querySelector('[data-sound="enable"]'),
    silence: controls.querySelector('[data-sound="silence"]'),
    toggle: controls.querySelector('[data-sound="toggle"]')
  };
  var stateLine = controls.querySelector("[data-sound-state]");
  var silenceMinutes = parseInt(controls.dataset.silenceMinutes || "5", 10);
  var context = null;
  var lastTone = 0;
  var lastNewest = null;

  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: the choice lasts for this page only */ }
  }
  // A wall screen's sound is a setting of its record (body data, refreshed by wall.js at
  // each turn of the rotation); anywhere else it is this person's choice.
  var body = document.body;
  var wall = body.classList.contains("wall");
  function soundOn() { return wall ? body.dataset.sound === "true" : stored(KEY_SOUND) !== "off"; }
  // The least urgent rank that sounds: every rank, unless the wall screen's record says less.
  function audible(current) {
    var least = wall ? parseInt(body.dataset.soundPriority || "5", 10) || 5 : 5;
    return !!current && current.rank <= least;
  }
  // An ISO time as milliseconds (0 when absent): compared as numbers, never as text.
  function ms(iso) { var t = Date.parse(iso || ""); return isNaN(t) ? 0 : t; }

  function banner() {
    var el = holder.querySelector("[data-banner]");
    if (!el || el.dataset.banner !== "on") return null;
    return {
      rank: parseInt(el.dataset.rank || "5", 10),
      newest: el.dataset.newest || "",
      top: el.dataset.top || "",
      text: (el.querySelector(".banner-text") || el).textContent.trim()
    };
  }

  function silence() {
    try { return JSON.parse(stored(KEY_SILENCE) || "null"); } catch (e) { return null; }
  }
  // Silenced while the time runs and no alarm newer than the silenced ones arrived.
  function silenced(now, current) {
    var s = silence();
    return !!(s && now < s.until && current && ms(current.newest) <= ms(s.newest));
  }

  function audio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!context) {
      try { context = new Context(); } catch (e) { return null; }
    }
    return context;
  }
  function running() { return !!(context && context.state === "running"); }

  function tone(rank) {
    var spec = TONES[rank] || TONES[5];
    var ctx = audio();
    if (!ctx) return;
    var start = ctx.currentTime;
    for (var i = 0; i < spec.beeps; i++) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = spec.hz;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(start + i * 0.25);
      osc.stop(start + i * 0.25 + 0.15);
    }
  }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  function enable() {
    store(KEY_ENABLED, "1");
    store(KEY_SOUND, null);
    var ctx = audio();
    if (ctx && ctx.resume) ctx.resume().then(render, render);
    if (window.Notification && Notification.permission === "default" && !stored(KEY_ASKED)) {
      store(KEY_ASKED, "1");
      try { Notification.requestPermission(); } catch (e) { /* old browsers */ }
    }
    render();
  }

  function silenceNow() {
    var current = banner();
    store(KEY_SILENCE, JSON.stringify({
      until: Date.now() + silenceMinutes * 60000, newest: current ? current.newest : ""
    }));
    var body = new URLSearchParams({minutes: String(silenceMinutes)});
    fetch(controls.dataset.silenceUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf() || ""}
    }).catch(function () { /* recorded when the server is back; the screen stays silent */ });
    render();
  }

  function toggle() {
    store(KEY_SOUND, soundOn() ? "off" : null);
    if (soundOn()) enable(); else render();
  }

  // Something new: vibrate (tablets), and notify when this tab is in the background.
  function announce(current) {
    if (navigator.vibrate) {
      try { navigator.vibrate([200, 100, 200]); } catch (e) { /* not allowed here */ }
    }
    if (document.hidden && window.Notification && Notification.permission === "granted") {
      try {
        new Notification(say("alarmNotice", "Priority {rank} alarm", {rank: current.rank}),
                         {body: current.text, tag: "wdash"});
      } catch (e) { /* notifications need a service worker on some platforms */ }
    }
  }

  // The page's words (live.js reads them from partials/annunciator.html).
  function say(name, english, values) {
    return window.dashboardWord ? window.dashboardWord(name, english, values) : english;
  }

  function render() {
    var now = Date.now();
    var current = banner();
    var asked = /[?&]sound=1(&|$)/.test(window.location.search);
    var quiet = silenced(now, current);
    var sounding = audible(current) && soundOn() && running() && !quiet;
    buttons.toggle.textContent = soundOn() ? say("soundOn", "Sound on") : say("soundOff", "Sound off");
    buttons.toggle.setAttribute("aria-pressed", soundOn() ? "true" : "false");
    if (wall) {
      // Unattended: the record decides on/off, so no toggle; "Enable sound" whenever the
      // browser still blocks a sound the record asks for; "Silence" only while a tone plays.
      buttons.toggle.hidden = true;
      buttons.enable.hidden = !soundOn() || running();
      buttons.silence.hidden = !sounding;
    } else {
      buttons.enable.hidden = !soundOn() || running() || !(current || asked || stored(KEY_ENABLED));
      buttons.silence.hidden = !soundOn() || !current || quiet;
    }
    var s = silence();
    if (quiet && s) {
      var until = new Date(s.until).toLocaleTimeString(document.documentElement.lang || undefined);
      stateLine.textContent = say("silenced", "Silenced until {time}", {time: until});
    } else if (soundOn() && audible(current) && !running()) {
      stateLine.textContent = say("blocked", "Sound is blocked until enabled");
    } else {
      stateLine.textContent = "";
    }
    controls.dataset.sounding = sounding ? "yes" : "no";
  }

  function tick() {
    var now = Date.now();
    var current = banner();
    if (current && lastNewest !== null && ms(current.newest) > lastNewest) announce(current);
    lastNewest = current ? ms(current.newest) : 0;
    render();
    if (!audible(current) || !soundOn() || !running() || silenced(now, current)) return;
    var every = (TONES[current.rank] || TONES[5]).every * 1000;
    if (now - lastTone >= every) {
      lastTone = now;
      tone(current.rank);
    }
  }

  buttons.enable.addEventListener("click", enable);
  buttons.silence.addEventListener("click", silenceNow);
  buttons.toggle.addEventListener("click", toggle);
  // The banner is a live fragment: react as soon as it is swapped, not at the next tick.
  new MutationObserver(function () { tick(); }).observe(holder, {childList: true, subtree: true});

  // Enabled before on this screen: try again without a click (the browser may still refuse).
  if (soundOn() && (stored(KEY_ENABLED) || wall)) {
    var ctx = audio();
    if (ctx && ctx.resume) ctx.resume().then(render, render);
  }
  tick();
  window.setInterval(tick, 1000);
})();
