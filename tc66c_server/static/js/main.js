// Wires the dashboard together: builds each panel, feeds them from the API (meters list,
// status poll, live feed), switches the detail panels to the meter chosen on the overview
// (remembered in the URL hash, `#meter=out`), and re-renders on a language or colour-scheme
// switch.

import { getJson, LiveFeed, meterApi } from "./api.js";
import { colourSlot, meterHash, parseMeterHash, pickMeter } from "./bench.js";
import { CHART_KEYS } from "./charts.js";
import { ConfigForm } from "./config.js";
import { ConnectionPanel } from "./connection.js";
import { $, byTestId, el, setText } from "./dom.js";
import { formatDuration } from "./format.js";
import {
  detectLanguage,
  LANGUAGES,
  language,
  locale,
  onLanguageChange,
  setLanguage,
  t,
} from "./i18n.js";
import { LivePanel } from "./live.js";
import { AddMeterForm } from "./meterform.js";
import { Overview } from "./overview.js";
import { PairsView } from "./pairview.js";
import { StatsPanel } from "./stats.js";
import { Timeline } from "./timeline.js";

const STATUS_REFRESH_MS = 5000;
const TICK_MS = 250;

function setUpLanguage() {
  const select = byTestId("lang-switch");
  for (const [code, name] of LANGUAGES) select.append(el("option", { value: code, lang: code }, name));
  const lang = detectLanguage();
  select.value = lang;
  setLanguage(lang, { remember: false });
  select.addEventListener("change", () => setLanguage(select.value));
}

async function main() {
  setUpLanguage();

  const live = new LivePanel($(".live"));
  const connection = new ConnectionPanel($(".connection"), byTestId("demo-badge"));
  const stats = new StatsPanel(byTestId("stats"));
  const figures = Object.fromEntries(CHART_KEYS.map((k) => [k, byTestId(`chart-${k}`)]));
  const timeline = new Timeline({
    figures,
    windowGroup: byTestId("window-select"),
    toolbar: $(".toolbar"),
    legend: byTestId("chart-legend"),
    onWindowChange: (period) => stats.setWindow(period),
  });
  const benchPanel = byTestId("bench");
  const overview = new Overview(benchPanel, {
    onSelect: (id) => select(id, { fromUser: true }),
    onChanged: () => refreshMeters(),
  });
  const addMeter = new AddMeterForm(byTestId("add-meter-form"), byTestId("add-meter-toggle"), {
    onAdded: () => refreshMeters(),
  });
  const pairs = new PairsView(byTestId("pairs"));
  const tags = [byTestId("live-meter"), byTestId("conn-meter")];
  const footer = { version: $(".footer-version"), feed: byTestId("feed-mode"), status: null };
  let feedMode = "connecting";
  let started = false;
  /** `api/meters`' list; null on a server without it (then the seed's routes are used). */
  let meters = null;
  /** The meter the detail panels show (null: the seed's routes, the first meter). */
  let selected = null;
  let knownIds = "";

  const feed = new LiveFeed({
    onSample,
    onConnection: (event) => {
      overview.onConnection(event);
      if (isSelected(event.meter)) connection.updateConnection(event);
    },
    onMode: (mode) => {
      feedMode = mode;
      renderFooter();
    },
    poll: async () => {
      if (!meters) {
        onSample(await getJson("api/data/latest"));
        return;
      }
      const answer = await getJson("api/meters");
      for (const m of answer.meters || []) if (m.last_sample) onSample({ ...m.last_sample, meter: m.id });
    },
  });

  function isSelected(id) {
    return id === undefined || id === null || selected === null || id === selected;
  }

  function onSample(sample) {
    const id = sample.meter ?? selected;
    overview.onSample(id, sample);
    timeline.onSample(sample, id);
    if (isSelected(sample.meter)) live.show(sample);
  }

  /** The bench as the charts and pairs see it: id, colour slot, name. */
  function benchView() {
    return (meters || []).map((m, i) => ({ id: m.id, slot: colourSlot(i), name: m.name || m.id }));
  }

  async function refreshMeters() {
    let answer;
    try {
      answer = await getJson("api/meters");
    } catch {
      return; // a server without meters (the seed's routes serve) or away (the status says)
    }
    meters = Array.isArray(answer.meters) ? answer.meters : [];
    const ids = meters.map((m) => m.id);
    const next = pickMeter(ids, selected === null ? parseMeterHash(location.hash) : null, selected);
    benchPanel.hidden = ids.length === 0;
    overview.setMeters(meters, next);
    timeline.setMeters(benchView());
    pairs.setMeters(benchView());
    if (next !== selected) select(next);
    renderTags();
    // A removed meter takes its pairs with it.
    if (started && ids.join("\n") !== knownIds) pairs.loadPairs();
    knownIds = ids.join("\n");
  }

  /** Show meter `id` in the detail panels; from a card click it also goes in the URL. */
  function select(id, { fromUser = false } = {}) {
    if (fromUser && id) history.replaceState(null, "", meterHash(id));
    if (id === selected) return;
    selected = id;
    overview.setSelected(id);
    timeline.setMeter(id);
    stats.setMeter(id);
    config.setMeter(id);
    renderTags();
    if (!started) return;
    live.clear();
    const known = (meters || []).find((m) => m.id === id);
    if (known && known.last_sample) live.show(known.last_sample); // at once, then fresh
    firstSample();
    refreshStatus();
  }

  function renderTags() {
    const several = Boolean(meters && meters.length > 1);
    for (const tag of tags) {
      tag.hidden = !several;
      setText(tag, several ? selected || "" : "");
    }
  }

  function applySettings(intervalS, retentionMinutes) {
    live.setInterval(intervalS);
    feed.setInterval(intervalS);
    timeline.setInterval(intervalS);
    timeline.setRetention(retentionMinutes);
  }

  function renderFooter() {
    const s = footer.status;
    const parts = [];
    if (s && s.version) parts.push(t("footer.version", { version: s.version }));
    if (s && Number.isFinite(s.uptime_s)) {
      parts.push(t("footer.uptime", { uptime: formatDuration(locale(), s.uptime_s) }));
    }
    setText(footer.version, parts.join(" · "));
    footer.feed.dataset.mode = feedMode;
    setText(footer.feed, t(`footer.feed.${feedMode}`));
  }

  async function refreshStatus() {
    const asked = selected;
    try {
      const status = await getJson(meterApi(asked, "status"));
      if (asked !== selected) return; // another meter was chosen meanwhile
      footer.status = status;
      connection.updateStatus(status);
      applySettings(status.polling_interval, status.retention_minutes);
      // The server was away when the page opened: read the settings now that it answers.
      if (started && !config.config) config.start();
    } catch (err) {
      if (err.status === 404 && asked !== null) {
        refreshMeters(); // the meter was removed (another tab, the API)
        return;
      }
      connection.serverUnreachable();
    }
    renderFooter();
  }

  async function firstSample() {
    const asked = selected;
    try {
      const sample = await getJson(meterApi(asked, "data/latest"));
      if (asked !== selected) return;
      live.show(sample);
      timeline.onSample(sample, asked);
    } catch {
      if (asked === selected) live.showNoData();
    }
  }

  const config = new ConfigForm(byTestId("config-form"), {
    onConfig: (cfg, saved) => {
      applySettings(cfg.polling_interval, cfg.data_retention_minutes);
      if (saved) {
        refreshStatus();
        refreshMeters();
      }
    },
  });

  onLanguageChange(() => {
    byTestId("lang-switch").value = language();
    live.render();
    connection.render();
    stats.render();
    timeline.relabel();
    config.relabel();
    overview.render();
    addMeter.relabel();
    pairs.relabel();
    renderFooter();
  });

  window.addEventListener("hashchange", () => {
    const id = parseMeterHash(location.hash);
    if (id && meters && meters.some((m) => m.id === id)) select(id);
  });

  // The meters decide which one the panels show, the status its interval and the windows on
  // offer: get both before the first load.
  await refreshMeters();
  await refreshStatus();
  timeline.start();
  stats.start();
  config.start();
  started = true;
  pairs.start();
  firstSample();
  feed.start();
  setInterval(() => {
    refreshStatus();
    refreshMeters();
  }, STATUS_REFRESH_MS);
  setInterval(() => {
    live.tick();
    connection.tick();
    timeline.tick();
    overview.tick();
  }, TICK_MS);

  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    timeline.rebuild();
    pairs.rebuild();
  });
}

main();
