// An annotation's text next to its marker on one chart: shown while the pointer is near the
// marker (the chart's cursor), and while a marker is focused or tapped (keyboard, phones).
// The markers are small buttons over the top edge of the plotting area, kept outside the
// chart's role="img" box so they can take focus; every text goes in through textContent.

import { formatDateTime } from "./format.js";
import { locale, t } from "./i18n.js";

/** Half the width of a marker's tap target, in CSS pixels. */
const MARK_HALF_PX = 11;

export class AnnotationTips {
  /** @param {HTMLElement} figure the chart's <figure>; the layer goes after its `.plot` */
  constructor(figure) {
    this.figure = figure;
    this.layer = document.createElement("div");
    this.layer.className = "annotation-layer";
    this.layer.dataset.testid = "annotation-layer";
    this.tip = document.createElement("div");
    this.tip.className = "annotation-tip";
    this.tip.id = `annotation-tip-${figure.dataset.key || "chart"}`;
    this.tip.setAttribute("role", "tooltip");
    this.tip.dataset.testid = "annotation-tip";
    this.tip.hidden = true;
    this.layer.append(this.tip);
    const plot = figure.querySelector(".plot");
    plot.after(this.layer);
    // The charts share one cursor: only the chart under the pointer shows the text.
    this.pointerInside = false;
    plot.addEventListener("pointerenter", () => {
      this.pointerInside = true;
    });
    plot.addEventListener("pointerleave", () => {
      this.pointerInside = false;
    });
    /** Marker button per annotation id (kept across redraws, so focus survives them). */
    this.marks = new Map();
    /** The annotation whose marker is focused or tapped: it wins over the hover. */
    this.pinned = null;
    this.hovered = null;
  }

  /** Place the layer over the plotting area and a marker on each annotation in view. */
  draw(u, annotations) {
    const plot = this.figure.querySelector(".plot");
    this.layer.style.left = `${plot.offsetLeft + u.over.offsetLeft}px`;
    this.layer.style.top = `${plot.offsetTop + u.over.offsetTop}px`;
    this.layer.style.width = `${u.over.clientWidth}px`;
    const { min, max } = u.scales.x;
    const shown = new Set();
    for (const a of annotations) {
      if (!(a.ts >= min && a.ts <= max)) continue;
      const key = String(a.id ?? `${a.ts}:${a.text}`);
      shown.add(key);
      let mark = this.marks.get(key);
      if (!mark) {
        mark = this.#mark(a);
        this.marks.set(key, mark);
        this.layer.append(mark);
      }
      mark.annotation = a;
      mark.style.left = `${u.valToPos(a.ts, "x") - MARK_HALF_PX}px`;
    }
    for (const [key, mark] of this.marks) {
      if (shown.has(key)) continue;
      if (this.pinned === mark.annotation) this.pinned = null;
      mark.remove();
      this.marks.delete(key);
    }
    this.#render(u);
  }

  /** The annotation near the chart's cursor (or null): shown unless a marker is pinned. */
  hover(u, annotation) {
    const near = this.pointerInside ? annotation : null;
    if (near === this.hovered) return;
    this.hovered = near;
    this.#render(u);
  }

  #mark(a) {
    const mark = document.createElement("button");
    mark.type = "button";
    mark.className = "annotation-mark";
    mark.dataset.testid = "annotation-mark";
    mark.dataset.kind = a.kind || "";
    mark.setAttribute("aria-label", t("charts.annotation", { text: a.text }));
    const pin = () => {
      this.pinned = mark.annotation;
      mark.setAttribute("aria-describedby", this.tip.id);
      this.#render();
    };
    const unpin = () => {
      if (this.pinned === mark.annotation) this.pinned = null;
      mark.removeAttribute("aria-describedby");
      this.#render();
    };
    mark.addEventListener("focus", pin);
    mark.addEventListener("blur", unpin);
    // A tap does not focus a button in every mobile browser: focus it, so a tap elsewhere
    // (blur) hides the text again.
    mark.addEventListener("click", () => {
      if (document.activeElement !== mark) mark.focus();
      pin();
    });
    mark.addEventListener("mouseenter", () => {
      this.hovered = mark.annotation;
      this.#render();
    });
    mark.addEventListener("mouseleave", () => {
      this.hovered = null;
      this.#render();
    });
    mark.addEventListener("keydown", (e) => {
      if (e.key === "Escape") mark.blur();
    });
    return mark;
  }

  #render(u) {
    const a = this.pinned || this.hovered;
    if (!a) {
      this.tip.hidden = true;
      this.figure.dataset.annotationTip = "";
      return;
    }
    this.tip.textContent = `${formatDateTime(locale(), a.ts)} · ${a.text}`;
    this.tip.dataset.kind = a.kind || "";
    this.tip.hidden = false;
    this.figure.dataset.annotationTip = a.kind || "note";
    const mark = [...this.marks.values()].find((m) => m.annotation === a);
    const x = mark ? mark.offsetLeft + MARK_HALF_PX : u ? u.valToPos(a.ts, "x") : 0;
    // Centred on the marker, kept inside the chart's width.
    const width = this.layer.clientWidth;
    const tipWidth = this.tip.offsetWidth;
    const left = Math.max(0, Math.min(x - tipWidth / 2, width - tipWidth));
    this.tip.style.left = `${left}px`;
  }
}
