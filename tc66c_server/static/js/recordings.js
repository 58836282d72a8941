// The recordings page: start a recording, the list with summaries (stop, rename, delete,
// CSV export, report), and a comparison of up to four recordings overlaid. A pure client of
// api/recordings; every server-provided string goes in through textContent.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { ApiError, deleteJson, getJson, patchJson, postJson } from "./api.js";
import { COLOURS, MAX_COMPARED, POINTS_PER_RECORDING, alignTs, overlay, pointsOf } from "./compare.js";
import { byTestId, el, setText } from "./dom.js";
import { formatDateTime, formatDuration, formatNumber } from "./format.js";
import { LANGUAGES, detectLanguage, locale, onLanguageChange, setLanguage, t } from "./i18n.js";

const REFRESH_MS = 2000;
const picked = new Set();
let recordings = [];
let shown = "";
let chart = null;

function message(text, failed = false) {
  const node = byTestId("rec-message");
  setText(node, text);
  node.classList.toggle("field-error", failed);
}

function explain(err) {
  return err instanceof ApiError ? err.message : String(err);
}

async function loadMeters() {
  const select = byTestId("rec-meter");
  let meters = [];
  try {
    meters = (await getJson("api/meters")).meters.map((m) => m.id);
  } catch {
    meters = [];
  }
  select.replaceChildren(...meters.map((id) => el("option", { value: id }, id)));
}

function stateText(r) {
  if (r.end === null) return t("rec.running");
  return t(`rec.reason.${r.end_reason}`);
}

function actionButton(label, testid, onClick, extra = {}) {
  const button = el("button", { type: "button", class: "btn", "data-testid": testid, ...extra }, label);
  button.addEventListener("click", onClick);
  return button;
}

function row(r) {
  const loc = locale();
  const tr = el("tr", { "data-testid": "rec-row", "data-id": String(r.id) });
  const pick = el("input", { type: "checkbox", "data-testid": "rec-pick", "aria-label": t("rec.compare_pick") });
  pick.checked = picked.has(r.id);
  pick.addEventListener("change", () => {
    if (pick.checked && picked.size >= MAX_COMPARED) {
      pick.checked = false;
      message(t("rec.compare_max", { n: MAX_COMPARED }), true);
      return;
    }
    if (pick.checked) picked.add(r.id);
    else picked.delete(r.id);
    byTestId("rec-compare").disabled = picked.size < 1;
  });
  const cells = [
    el("td", {}, ""),
    el("td", { "data-testid": "rec-row-name" }, r.name),
    el("td", {}, r.meter),
    el("td", {}, formatDateTime(loc, Date.parse(r.start) / 1000)),
    el("td", { class: "num" }, formatDuration(loc, r.duration_s)),
    el("td", { class: "num", "data-testid": "rec-row-energy" }, formatNumber(loc, r.energy_wh, 4)),
    el("td", { class: "num" }, formatNumber(loc, r.charge_mah, 1)),
    el("td", { "data-testid": "rec-row-state", class: r.end === null ? "rec-running" : "" }, stateText(r)),
  ];
  cells[0].append(pick);
  const actions = el("td", {});
  const box = el("div", { class: "rec-actions" });
  if (r.end === null) box.append(actionButton(t("rec.stop"), "rec-stop", () => stop(r.id)));
  box.append(actionButton(t("rec.rename"), "rec-rename", () => rename(r)));
  const csv = el("a", { class: "btn", href: `api/recordings/${r.id}/data?format=csv`, "data-testid": "rec-csv" }, t("rec.export"));
  const report = el("a", { class: "btn", href: `recordings/${r.id}/report`, target: "_blank", rel: "noopener", "data-testid": "rec-report" }, t("rec.report"));
  box.append(csv, report);
  box.append(actionButton(t("rec.delete"), "rec-delete", () => remove(r), { class: "btn btn-danger" }));
  actions.append(box);
  tr.append(...cells, actions);
  return tr;
}

function render() {
  const rows = byTestId("rec-rows");
  rows.replaceChildren(...recordings.map(row));
  byTestId("rec-empty").hidden = recordings.length > 0;
  byTestId("rec-compare").disabled = picked.size < 1;
}

async function refresh() {
  try {
    const answer = await getJson("api/recordings");
    const text = JSON.stringify(answer.recordings);
    if (text === shown) return; // unchanged: keep the rows (focus, scroll) as they are
    shown = text;
    recordings = answer.recordings;
    for (const id of [...picked]) if (!recordings.some((r) => r.id === id)) picked.delete(id);
    render();
  } catch (err) {
    message(explain(err), true);
  }
}

async function start(event) {
  event.preventDefault();
  const name = byTestId("rec-name").value.trim();
  const meter = byTestId("rec-meter").value;
  if (!name) {
    message(t("rec.name_needed"), true);
    return;
  }
  try {
    const r = await postJson("api/recordings", meter ? { name, meter } : { name });
    message(t("rec.started", { name: r.name }));
    byTestId("rec-name").value = "";
    await refresh();
  } catch (err) {
    message(explain(err), true);
  }
}

async function downloadGtrec(event) {
  event.preventDefault();
  const meter = byTestId("rec-meter").value || "m1";
  const interval = Number(byTestId("rec-gtrec-interval").value);
  message(t("rec.gtrec_running"));
  try {
    const r = await postJson(`api/meters/${encodeURIComponent(meter)}/gtrec`, { interval_s: interval });
    message(t("rec.gtrec_done", { name: r.name, n: r.sample_count }));
    await refresh();
  } catch (err) {
    message(explain(err), true);
  }
}

async function stop(id) {
  try {
    await postJson(`api/recordings/${id}/stop`, {});
    await refresh();
  } catch (err) {
    message(explain(err), true);
  }
}

async function rename(r) {
  const name = window.prompt(t("rec.rename_prompt"), r.name);
  if (name === null) return;
  try {
    await patchJson(`api/recordings/${r.id}`, { name });
    await refresh();
  } catch (err) {
    message(explain(err), true);
  }
}

async function remove(r) {
  if (!window.confirm(t("rec.delete_confirm", { name: r.name }))) return;
  try {
    await deleteJson(`api/recordings/${r.id}`);
    picked.delete(r.id);
    await refresh();
  } catch (err) {
    message(explain(err), true);
  }
}

function sideBySide(chosen) {
  const loc = locale();
  const head = el("tr", {}, "");
  head.append(el("th", {}, ""));
  chosen.forEach((r, k) => {
    const th = el("th", { scope: "col" });
    const swatch = el("span", { class: "rec-swatch" });
    swatch.style.background = COLOURS[k];
    th.append(swatch, document.createTextNode(r.name));
    head.append(th);
  });
  const lines = [
    ["rec.duration", (r) => formatDuration(loc, r.duration_s)],
    ["rec.run_time", (r) => formatDuration(loc, r.run_time_s)],
    ["rec.energy", (r) => formatNumber(loc, r.energy_wh, 4)],
    ["rec.charge", (r) => formatNumber(loc, r.charge_mah, 1)],
    ["rec.power_avg", (r) => (r.power ? formatNumber(loc, r.power.avg, 3) : "–")],
    ["rec.power_max", (r) => (r.power ? formatNumber(loc, r.power.max, 3) : "–")],
    ["rec.voltage_min", (r) => (r.voltage ? formatNumber(loc, r.voltage.min, 3) : "–")],
    ["rec.voltage_max", (r) => (r.voltage ? formatNumber(loc, r.voltage.max, 3) : "–")],
    ["rec.current_max", (r) => (r.current ? formatNumber(loc, r.current.max, 3) : "–")],
    ["rec.pd_levels", (r) => r.pd_levels.map((v) => `${v} V`).join(", ") || "–"],
    ["rec.state", stateText],
  ];
  const body = lines.map(([key, fn]) => {
    const tr = el("tr", { "data-testid": "rec-side-row" });
    tr.append(el("th", { scope: "row" }, t(key)), ...chosen.map((r) => el("td", { class: "num" }, fn(r))));
    return tr;
  });
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  tbody.append(...body);
  byTestId("rec-side").replaceChildren(thead, tbody);
}

async function compare() {
  const chosen = recordings.filter((r) => picked.has(r.id)).slice(0, MAX_COMPARED);
  if (!chosen.length) return;
  const align = byTestId("rec-align").value;
  const answers = await Promise.all(
    chosen.map((r) => getJson(`api/recordings/${r.id}/data?max_points=${POINTS_PER_RECORDING}`)),
  );
  const columns = overlay(answers.map((a) => pointsOf(a, "power")), chosen.map((r) => alignTs(r, align)));
  const panel = byTestId("rec-comparison");
  panel.hidden = false;
  sideBySide(chosen);
  const target = byTestId("rec-chart");
  if (chart) chart.destroy();
  const width = Math.max(target.clientWidth || 600, 280);
  chart = new uPlot(
    {
      width,
      height: 300,
      scales: { x: { time: false } },
      axes: [
        { values: (u, splits) => splits.map((s) => formatDuration(locale(), s)) },
        { label: `${t("q.power")} (W)` },
      ],
      series: [
        { label: t("rec.elapsed") },
        ...chosen.map((r, k) => ({ label: r.name, stroke: COLOURS[k], width: 1.5, spanGaps: true })),
      ],
    },
    columns,
    target,
  );
  target.dataset.points = String(columns[0].length);
  target.dataset.series = String(chosen.length);
  byTestId("rec-compare-report").href = `recordings/report?ids=${chosen.map((r) => r.id).join(",")}`;
}

function setupLanguage() {
  const select = byTestId("lang-switch");
  select.replaceChildren(...LANGUAGES.map(([code, name]) => el("option", { value: code }, name)));
  const lang = detectLanguage();
  select.value = lang;
  select.addEventListener("change", () => setLanguage(select.value));
  onLanguageChange(() => {
    document.title = t("rec.title");
    render();
  });
  setLanguage(lang, { remember: false });
}

async function main() {
  setupLanguage();
  byTestId("rec-start-form").addEventListener("submit", start);
  byTestId("rec-gtrec-form").addEventListener("submit", downloadGtrec);
  byTestId("rec-compare").addEventListener("click", () => compare().catch((err) => message(explain(err), true)));
  await loadMeters();
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

main();
