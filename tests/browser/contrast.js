// Every visible text of the page against what is drawn under it: WCAG 2 contrast, AA at
// 4.5:1 (3:1 for large text). Used by tests/browser/test_themes_browser.py.
// The background is the nearest one drawn: a colour, or each colour of a hatch (gradient),
// with any half-transparent layers between; opacity fades the text toward it.
() => {
  function parse(text) {
    const m = /rgba?\(([^)]+)\)/.exec(text || "");
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, under) {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
  }
  function lum(c) {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  }
  function ratio(a, b) {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  function underneath(el) {
    const layers = [];
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      opacity *= parseFloat(cs.opacity);
      const image = cs.backgroundImage;
      if (image && image !== "none" && image.includes("gradient")) {
        const stops = [...image.matchAll(/rgba?\([^)]+\)/g)].map((m) => parse(m[0]));
        if (stops.length) return {layers, base: stops, opacity};
      }
      const colour = parse(cs.backgroundColor);
      if (colour && colour[3] > 0) {
        if (colour[3] >= 1) return {layers, base: [colour], opacity};
        layers.push(colour);
      }
    }
    return {layers, base: [[255, 255, 255, 1]], opacity};
  }
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue;
    seen.add(el);
    if (el.closest("svg, script, style, template, option, [hidden]")) continue;
    const cs = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (cs.visibility !== "visible" || box.width < 1 || box.height < 1) continue;
    const {layers, base, opacity} = underneath(el);
    let worst = null;
    for (const stop of base) {
      const bg = layers.reduceRight((under, layer) => over(layer, under), stop);
      let ink = over(parse(cs.color), bg);
      if (opacity < 1) ink = over([...ink.slice(0, 3), opacity], bg);
      const r = ratio(ink, bg);
      if (worst === null || r < worst.ratio) worst = {ratio: r, ink, bg};
    }
    const size = parseFloat(cs.fontSize), weight = parseInt(cs.fontWeight, 10);
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    found.push({
      text: node.textContent.trim().slice(0, 40),
      where: el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""),
      ratio: Math.round(worst.ratio * 100) / 100, least: large ? 3 : 4.5,
      ink: worst.ink.slice(0, 3).map(Math.round).join(","), bg: worst.bg.slice(0, 3).map(Math.round).join(","),
    });
  }
  return found;
}
