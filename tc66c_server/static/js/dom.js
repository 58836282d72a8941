// Small DOM helpers. Text always goes in through textContent, never as HTML, because much of
// it comes from the meter or the server (device strings, port names, error messages).

/** The element with data-testid `id` (the page's stable hooks), or throw. */
export function byTestId(id, root = document) {
  const el = root.querySelector(`[data-testid="${id}"]`);
  if (!el) throw new Error(`missing element data-testid=${id}`);
  return el;
}

/** The element matching `selector`, or throw. */
export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

/** A new element with attributes and text content. */
export function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  if (text) node.textContent = text;
  return node;
}

/** Set text only when it changed (keeps screen readers from re-announcing live regions). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
