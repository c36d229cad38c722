// Small behaviours that need no inline script (the CSP allows none).
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form && event.target.matches("select")) form.requestSubmit();
});

// Quick search: "/" focuses the box; arrow keys move through the results; Enter opens one.
(() => {
  const box = () => document.getElementById("quick-search");
  const popup = () => document.getElementById("quick-search-results");
  const options = () => Array.from(popup().querySelectorAll("[role=option]"));

  function setActive(index) {
    const items = options();
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    const active = items[index];
    if (active) {
      box().setAttribute("aria-activedescendant", active.id);
      active.scrollIntoView({ block: "nearest" });
    } else {
      box().removeAttribute("aria-activedescendant");
    }
  }

  function activeIndex() {
    return options().findIndex((item) => item.getAttribute("aria-selected") === "true");
  }

  function close() {
    popup().replaceChildren();
    box().setAttribute("aria-expanded", "false");
    box().removeAttribute("aria-activedescendant");
  }

  document.addEventListener("keydown", (event) => {
    const input = box();
    if (!input) return;
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.target !== input) return;
    const items = options();
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      setActive(Math.min(activeIndex() + 1, items.length - 1));
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      setActive(Math.max(activeIndex() - 1, 0));
    } else if (event.key === "Enter" && activeIndex() >= 0) {
      event.preventDefault();
      window.location.assign(items[activeIndex()].querySelector("a").href);
    } else if (event.key === "Escape") {
      close();
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target !== popup()) return;
    const found = options().length > 0;
    box().setAttribute("aria-expanded", String(found));
    if (found) setActive(0);
  });

  document.addEventListener("click", (event) => {
    if (popup() && !event.target.closest(".quick-search")) close();
  });
})();
