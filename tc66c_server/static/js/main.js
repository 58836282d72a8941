// Wires the dashboard together: builds each panel, feeds them from the API (status poll, live
// feed), and re-renders on a language or colour-scheme switch.

import { getJson, LiveFeed } from "./api.js";
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
    onWindowChange: (period) => stats.setWindow(period),
  });
  const footer = { version: $(".footer-version"), feed: byTestId("feed-mode"), status: null };
  let feedMode = "connecting";
  let started = false;

  const feed = new LiveFeed({
    onSample: (sample) => {
      live.show(sample);
      timeline.onSample(sample);
    },
    onConnection: (event) => connection.updateConnection(event),
    onMode: (mode) => {
      feedMode = mode;
      renderFooter();
    },
  });

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
    try {
      const status = await getJson("api/status");
      footer.status = status;
      connection.updateStatus(status);
      applySettings(status.polling_interval, status.retention_minutes);
      // The server was away when the page opened: read the settings now that it answers.
      if (started && !config.config) config.start();
    } catch {
      connection.serverUnreachable();
    }
    renderFooter();
  }

  async function firstSample() {
    try {
      const sample = await getJson("api/data/latest");
      live.show(sample);
      timeline.onSample(sample);
    } catch {
      live.showNoData();
    }
  }

  const config = new ConfigForm(byTestId("config-form"), {
    onConfig: (cfg, saved) => {
      applySettings(cfg.polling_interval, cfg.data_retention_minutes);
      if (saved) refreshStatus();
    },
  });

  onLanguageChange(() => {
    byTestId("lang-switch").value = language();
    live.render();
    connection.render();
    stats.render();
    timeline.relabel();
    config.relabel();
    renderFooter();
  });

  // The status decides the interval and the windows on offer: get it before the first load.
  await refreshStatus();
  timeline.start();
  stats.start();
  config.start();
  started = true;
  firstSample();
  feed.start();
  setInterval(refreshStatus, STATUS_REFRESH_MS);
  setInterval(() => {
    live.tick();
    connection.tick();
    timeline.tick();
  }, TICK_MS);

  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => timeline.rebuild());
}

main();
