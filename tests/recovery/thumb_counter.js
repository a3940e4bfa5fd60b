// Counts what a thumb does in the page, from the browser's own trusted events (not the test's calls): every press
// (pointerdown), every key pressed (keydown), and a swipe whenever the page had to scroll before a press to bring
// its target into view. Installed with Playwright's add_init_script, so it runs in every page before the page's
// own code; it reports through the binding the test exposes as window.__fcThumb.
(() => {
  let scrolled = false;
  const describe = (el) => {
    const target = el.closest("a, button, label, input, select, textarea, summary") || el;
    const words = (target.id || target.innerText || target.value || "").trim();
    return `${target.tagName.toLowerCase()}: ${words.replace(/\s+/g, " ").slice(0, 60)}`;
  };
  window.addEventListener("scroll", (event) => { if (event.isTrusted) scrolled = true; }, true);
  document.addEventListener("pointerdown", (event) => {
    if (!event.isTrusted) return;
    if (scrolled) window.__fcThumb("swipe", describe(event.target));
    scrolled = false;
    window.__fcThumb("tap", describe(event.target));
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.isTrusted) window.__fcThumb("keystroke", event.key.length === 1 ? "a character" : event.key);
  }, true);
})();
