// WCAG 2.x contrast audit for every visible element that directly owns text.
// Usage (Playwright):  results = page.evaluate(open("contrast.js").read(), {root: "body", minRatio: 0})
// Returns {count, failures, items:[{text, selector, fg, bg, ratio, large, required, pass, bgImage}]}
// - Colours are normalised through a 1x1 canvas, so rgb()/rgba()/hex/oklch()/color-mix() all work.
// - Background: walks up the ancestors collecting background-color layers until an opaque one,
//   then alpha-composites them (page canvas = html/body colour or white) and composites the text
//   colour (which may be semi-transparent) on top. Element `opacity` is multiplied into alpha.
// - Background images/gradients cannot be resolved: such items carry bgImage=true (check by eye).
(opts) => {
  const {root = "body", minRatio = 0} = opts || {};
  const cv = document.createElement("canvas");
  cv.width = cv.height = 1;
  const ctx = cv.getContext("2d", {willReadFrequently: true});
  const toRGBA = (css) => {
    if (!css || css === "transparent") return [0, 0, 0, 0];
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0,0,0,0)";
    ctx.fillStyle = css;                 // invalid colours leave the previous value
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, bottom) => {        // src-over compositing, bottom assumed opaque
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [L1, L2] = [lum(a), lum(b)].sort((x, y) => y - x); return (L1 + 0.05) / (L2 + 0.05); };
  const hex = (c) => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
  const canvasColour = () => {
    for (const el of [document.body, document.documentElement]) {
      const c = toRGBA(getComputedStyle(el).backgroundColor);
      if (c[3] > 0) return over(c, [255, 255, 255, 1]);
    }
    return [255, 255, 255, 1];
  };
  const CANVAS = canvasColour();
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;          // sr-only / collapsed
    if (r.bottom < 0 && r.right < 0) return false;            // parked off-screen
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || parseFloat(s.opacity) === 0) return false;
      if (s.clip === "rect(0px, 0px, 0px, 0px)" || /inset\(50%\)/.test(s.clipPath)) return false;
    }
    return true;
  };
  const cssPath = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      let p = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(p + "#" + e.id); break; }
      const cls = [...e.classList].filter(c => !c.startsWith("svelte-")).slice(0, 2);
      if (cls.length) p += "." + cls.join(".");
      parts.unshift(p);
    }
    return parts.join(" > ");
  };
  const effectiveBg = (el) => {
    const layers = [];
    let bgImage = false, opacity = 1;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      opacity *= parseFloat(s.opacity);
      if (s.backgroundImage && s.backgroundImage !== "none") bgImage = true;
      const c = toRGBA(s.backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = CANVAS;
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return {bg, bgImage, opacity};
  };
  const items = [];
  const walker = document.createTreeWalker(document.querySelector(root) || document.body, NodeFilter.SHOW_ELEMENT);
  for (let el = walker.currentNode; el; el = walker.nextNode()) {
    if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "SVG"].includes(el.tagName)) continue;
    let own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
    const isField = (el.tagName === "TEXTAREA" || el.tagName === "INPUT") && !["hidden", "checkbox", "radio"].includes(el.type);
    if (isField) own = el.value || el.placeholder || "";
    if (!own || !visible(el)) continue;
    const s = getComputedStyle(el);
    const {bg, bgImage, opacity} = effectiveBg(el);
    const fgRaw = toRGBA((isField && !el.value) ? getComputedStyle(el, "::placeholder").color : s.color);
    const fg = over([fgRaw[0], fgRaw[1], fgRaw[2], fgRaw[3] * opacity], bg);
    const size = parseFloat(s.fontSize), weight = parseInt(s.fontWeight, 10) || 400;
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    const required = large ? 3 : 4.5;
    const r = Math.round(ratio(fg, bg) * 100) / 100;
    if (r < minRatio) continue;
    items.push({
      text: own.replace(/\s+/g, " ").slice(0, 60), selector: cssPath(el),
      fg: hex(fg), bg: hex(bg), ratio: r, fontSize: size, large, required, pass: r >= required,
      placeholder: isField && !el.value, bgImage,
    });
  }
  items.sort((a, b) => a.ratio - b.ratio);
  return {count: items.length, failures: items.filter(i => !i.pass).length, canvas: hex(CANVAS), items};
}
