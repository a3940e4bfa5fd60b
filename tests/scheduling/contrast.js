// Contrast of every button and button-styled link that is shown, computed from getComputedStyle: the text colour
// against the first opaque background found walking up from the element (translucent ones blended on the way).
// Returns [{text, color, background, ratio}] for each; the test asserts each ratio is at least 4.5.
(() => {
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const blend = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = blend(layer, result);
    return result;
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const selector = "button, a.button, .button, .button-primary, .button-secondary, .account-button, " +
                   "input[type=submit], .slot-choice label";
  return [...document.querySelectorAll(selector)].filter((el) => el.getClientRects().length > 0 &&
      getComputedStyle(el).visibility !== "hidden").map((el) => {
    const bg = background(el);
    const fg = blend(parse(getComputedStyle(el).color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return {text: (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 50),
            color: getComputedStyle(el).color, background: `rgb(${bg.slice(0, 3).map(Math.round).join(", ")})`,
            ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100};
  });
})()
