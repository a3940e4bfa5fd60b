// Counts what a person does in the page, from the browser's own trusted events (not the test's calls): every
// press (pointerdown) on anything but a text field, and every text field typed into (once per field per page,
// its tap included). Installed with Playwright's add_init_script, so it runs in every page before the page's
// own code; it reports through the binding the test exposes as window.__fcCount.
(() => {
  const TEXT_TYPES = new Set(["text", "email", "password", "search", "tel", "url", "number", "date", "time",
                              "datetime-local"]);
  const isText = (el) => !!el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && TEXT_TYPES.has(el.type)));
  const describe = (el) => {
    const target = el.closest("a, button, label, input, select, textarea, summary") || el;
    const words = (target.innerText || target.value || target.getAttribute("aria-label") || "").trim();
    return `${target.tagName.toLowerCase()}: ${words.replace(/\s+/g, " ").slice(0, 60)}`;
  };
  const typed = new Set();
  document.addEventListener("pointerdown", (event) => {
    if (event.isTrusted && !isText(event.target)) window.__fcCount("press", describe(event.target));
  }, true);
  document.addEventListener("input", (event) => {
    if (!event.isTrusted || !isText(event.target)) return;
    const key = event.target.name || event.target.id;
    if (typed.has(key)) return;
    typed.add(key);
    window.__fcCount("typed", key);
  }, true);
})();
