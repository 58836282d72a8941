// The chart toolbar: window preset buttons, pan / zoom / reset / pause buttons, the
// all-meters switch and its legend, the status line, and the CSV export link of what is on
// screen. It renders state and reports clicks; timeline.js decides what they do.

import { dataUrl, rangeUrl } from "./api.js";
import { el, setText } from "./dom.js";
import { t } from "./i18n.js";
import { windowName } from "./windows.js";

export class ChartControls {
  /**
   * @param {HTMLElement} windowGroup the preset buttons' container
   * @param {HTMLElement} toolbar the buttons, status line and export link
   * @param {HTMLElement | null} legend the meters' colours in the all-meters view
   * @param {{onWindow: (period: string) => void, onAction: (action: string) => void}} handlers
   */
  constructor(windowGroup, toolbar, legend, { onWindow, onAction }) {
    this.windowGroup = windowGroup;
    this.toolbar = toolbar;
    this.legend = legend;
    this.legendKey = "";
    this.allButton = toolbar.querySelector('[data-action="all-meters"]');
    this.onWindow = onWindow;
    this.exportLink = toolbar.querySelector('[data-testid="export-csv"]');
    this.statusEl = toolbar.querySelector('[data-testid="chart-status"]');
    this.followButton = toolbar.querySelector('[data-action="follow"]');
    this.resetButton = toolbar.querySelector('[data-action="reset-zoom"]');
    toolbar.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (button && !button.disabled) onAction(button.dataset.action);
    });
  }

  /** Show the offered windows with `period` pressed. */
  renderWindows(offered, period) {
    const group = this.windowGroup;
    group.dataset.selected = period;
    const buttons = [...group.querySelectorAll("button[data-window]")];
    if (buttons.map((b) => b.dataset.window).join() === offered.join()) {
      // Same choices: update in place so keyboard focus stays on the pressed button.
      for (const b of buttons) {
        b.setAttribute("aria-pressed", String(b.dataset.window === period));
        setText(b, windowName(b.dataset.window));
      }
      return;
    }
    group.replaceChildren();
    for (const p of offered) {
      const button = el("button", {
        type: "button",
        class: "btn btn-window",
        "data-window": p,
        "aria-pressed": String(p === period),
      }, windowName(p));
      button.addEventListener("click", () => this.onWindow(p));
      group.append(button);
    }
  }

  /**
   * Show the view's state: `following` live or not, `zoomed`, `loadState` ("loading",
   * "ready", "error"), every meter or one (`allMeters`, of `meters`); the export link covers
   * `meter`'s `period`, narrowed to `view` when not following.
   */
  render({ following, zoomed, loadState, period, view, meter = null, meters = [], allMeters }) {
    this.resetButton.disabled = !zoomed;
    this.followButton.dataset.following = String(following);
    setText(this.followButton, following ? t("charts.pause") : t("charts.follow"));
    let status;
    if (loadState === "error") status = "error";
    else if (loadState === "loading") status = "loading";
    else status = following ? "live" : zoomed ? "zoomed" : "paused";
    this.statusEl.dataset.state = status;
    setText(this.statusEl, t(`charts.status.${status}`));
    this.toolbar.dataset.following = String(following);

    const csv = { meter, format: "csv", fields: "all" };
    const href = following || !view ? dataUrl(period, csv) : rangeUrl(view.min, view.max, csv);
    this.exportLink.setAttribute("href", href);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    // With several meters the file says whose samples it holds.
    const tag = meter && meters.length > 1 ? `${safeName(meter)}-` : "";
    this.exportLink.setAttribute("download", `tc66c-${tag}${stamp}-${period}.csv`);
    this.exportLink.title = meter && meters.length > 1 ? t("charts.export_meter", { meter }) : "";
    this.#renderBench(meters, Boolean(allMeters));
  }

  /** The all-meters switch (offered from two meters) and the legend of the meters' colours. */
  #renderBench(meters, allMeters) {
    if (this.allButton) {
      this.allButton.hidden = meters.length < 2;
      this.allButton.setAttribute("aria-pressed", String(allMeters));
      setText(this.allButton, t("charts.all_meters"));
    }
    if (!this.legend) return;
    this.legend.hidden = !allMeters;
    const key = allMeters ? JSON.stringify(meters) : "";
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.replaceChildren();
    if (!allMeters) return;
    for (const m of meters) {
      const item = el("span", { class: `legend-item m-c${m.slot}`, "data-meter": m.id });
      item.append(el("span", { class: "legend-swatch", "aria-hidden": "true" }), m.name);
      this.legend.append(item);
    }
  }
}

/** A meter id fit for a file name (ids are letters, digits, "-" and "_" already). */
function safeName(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, "_");
}
