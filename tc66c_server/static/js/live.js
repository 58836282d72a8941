// The live values panel: the latest sample's numbers and how old they are. A sample older
// than a few polling intervals is shown as stale, so a frozen reading never passes for a live
// one.

import { byTestId, setText } from "./dom.js";
import { formatDateTime, formatDuration, formatQuantity, parseTimestamp } from "./format.js";
import { locale, t } from "./i18n.js";
import { QUANTITIES } from "./quantities.js";

/** How many polling intervals without a sample before the values are stale. */
export const STALE_INTERVALS = 3;
/** Never call a sample stale younger than this: network jitter at short intervals. */
const MIN_STALE_S = 2;

export class LivePanel {
  constructor(root) {
    this.root = root;
    this.ageEl = byTestId("age", root);
    this.ageText = this.ageEl.querySelector(".age-text");
    this.staleLabel = this.ageEl.querySelector(".stale-label");
    this.sample = null;
    this.sampleAgeS = null; // the sample's age when it arrived
    this.receivedAtMs = 0;
    this.intervalS = 1;
    this.noData = false;
  }

  /** Show a sample from the stream or `api/data/latest`. */
  show(sample) {
    this.sample = sample;
    this.noData = false;
    this.sampleAgeS = Number.isFinite(sample.age_s) ? Math.max(0, sample.age_s) : 0;
    this.receivedAtMs = performance.now();
    this.render();
  }

  /** Forget the shown sample (another meter was chosen). */
  clear() {
    this.sample = null;
    this.noData = false;
    this.render();
  }

  /** The server has no sample at all yet (503 from `api/data/latest`). */
  showNoData() {
    if (this.sample) return;
    this.noData = true;
    this.tick();
  }

  setInterval(intervalS) {
    if (intervalS > 0) this.intervalS = intervalS;
  }

  /** Seconds since the shown sample was taken (by the server's clock), or null. */
  ageS() {
    if (!this.sample) return null;
    return this.sampleAgeS + (performance.now() - this.receivedAtMs) / 1000;
  }

  /** Redraw every value (after a new sample or a language switch). */
  render() {
    const loc = locale();
    const s = this.sample;
    for (const q of QUANTITIES) {
      const node = this.root.querySelector(`[data-testid="value-${q.key}"]`);
      if (!node) continue;
      const v = s && typeof s[q.key] === "number" ? s[q.key] : null;
      node.dataset.value = v === null ? "" : String(v);
      setText(node, formatQuantity(loc, q.key, v));
    }
    if (s) {
      const ts = parseTimestamp(s.timestamp);
      if (Number.isFinite(ts)) this.ageEl.title = formatDateTime(loc, ts);
    }
    this.tick();
  }

  /** Update the age line and the stale state (called a few times a second). */
  tick() {
    const age = this.ageS();
    const staleAfter = Math.max(MIN_STALE_S, STALE_INTERVALS * this.intervalS);
    const stale = age === null || age > staleAfter;
    this.root.dataset.state = age === null ? "empty" : stale ? "stale" : "fresh";
    this.ageEl.dataset.stale = String(stale);
    this.ageEl.dataset.age = age === null ? "" : age.toFixed(1);
    this.staleLabel.hidden = !(stale && age !== null);
    let text;
    if (age === null) text = this.noData ? t("live.no_data") : t("live.waiting");
    else text = t("live.age", { age: formatDuration(locale(), age) });
    setText(this.ageText, text);
  }
}
