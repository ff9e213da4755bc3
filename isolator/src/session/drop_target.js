// Evaluated in a world of its own in the main frame when the user drops a
// drag: what lies under the drop point (x, y in CSS px; the server calls
// this function). Answers JSON for `gates::keyboard::drop::DropTarget`.
(x, y) => {
  const TEXT_TYPES = ["", "text", "search", "email", "url", "tel", "password", "number"];
  let el = document.elementFromPoint(x, y);
  // Into open shadow roots, as deep as they go.
  for (let i = 0; el && el.shadowRoot && i < 64; i++) {
    const inner = el.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  if (!el) return JSON.stringify({ k: "none" });
  const tag = el.tagName;
  if (["IFRAME", "FRAME", "OBJECT", "EMBED", "PORTAL", "FENCEDFRAME"].includes(tag)) {
    return JSON.stringify({ k: "unknown" });
  }
  if (tag === "TEXTAREA" ||
      (tag === "INPUT" && TEXT_TYPES.includes((el.getAttribute("type") || "").toLowerCase()))) {
    return JSON.stringify({ k: "field", v: el.value || "" });
  }
  if (el.isContentEditable) {
    let root = el;
    while (root.parentElement && root.parentElement.isContentEditable) root = root.parentElement;
    return JSON.stringify({ k: "field", v: root.textContent || "" });
  }
  // A custom element with no open shadow root may hide a closed one.
  if (tag.includes("-") && !el.shadowRoot) return JSON.stringify({ k: "unknown" });
  return JSON.stringify({ k: "none" });
}
