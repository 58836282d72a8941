// The configuration form of the selected meter: port (from `api/ports`, or typed; `auto`,
// `demo`), polling interval and (the server's) retention, saved with
// `POST api/meters/<id>/config`. The server validates; its message for each bad field is
// shown next to that field. A 403 asks for the write token.

import { ApiError, getJson, getToken, meterApi, postJson, setToken } from "./api.js";
import { byTestId, el, setText } from "./dom.js";
import { formatPlain, parseDecimal } from "./format.js";
import { locale, t } from "./i18n.js";

const FIELDS = ["port", "polling_interval", "data_retention_minutes"];

export class ConfigForm {
  /** `onConfig(config, saved)` is called with the server's configuration, read or saved. */
  constructor(form, { onConfig }) {
    this.form = form;
    this.onConfig = onConfig;
    this.inputs = {
      port: byTestId("config-port", form),
      polling_interval: byTestId("config-interval", form),
      data_retention_minutes: byTestId("config-retention", form),
    };
    this.tokenField = form.querySelector(".token-field");
    this.tokenInput = byTestId("config-token", form);
    this.message = byTestId("config-message", form);
    this.submitButton = byTestId("config-submit", form);
    this.datalist = form.querySelector("#port-list");
    this.detected = byTestId("config-detected", form);
    this.config = null; // the server's configuration, once read
    this.meter = null; // null: the seed's route (the first meter)
    this.started = false;
    this.ports = [];
    this.dirty = false;
    this.messageKey = null;
    this.messageParams = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    form.addEventListener("input", () => {
      this.dirty = true;
    });
    byTestId("config-rescan", form).addEventListener("click", () => this.loadPorts());
    if (getToken()) {
      this.tokenField.hidden = false;
      this.tokenInput.value = getToken();
    }
  }

  async start() {
    this.started = true;
    await Promise.all([this.loadConfig(), this.loadPorts()]);
  }

  /** Show and change another meter's settings (its values replace anything typed). */
  setMeter(id) {
    if (id === this.meter) return;
    this.meter = id;
    this.config = null;
    this.messageKey = null;
    this.#clearErrors();
    setText(this.message, "");
    if (this.started) this.loadConfig();
  }

  async loadConfig() {
    const meter = this.meter;
    try {
      const config = await getJson(meterApi(meter, "config"));
      if (meter !== this.meter) return;
      this.#fill(config);
      this.onConfig(config, false);
    } catch {
      this.#say("config.load_failed", "error");
    }
  }

  async loadPorts() {
    try {
      const answer = await getJson("api/ports");
      this.ports = Array.isArray(answer.ports) ? answer.ports : [];
    } catch {
      this.ports = [];
    }
    this.#renderPorts();
  }

  /** Re-render texts after a language switch. */
  relabel() {
    this.#renderPorts();
    if (this.config && !this.dirty) this.#fill(this.config);
    if (this.messageKey) this.#say(this.messageKey, this.message.dataset.state, this.messageParams);
  }

  async submit() {
    this.#clearErrors();
    if (!this.tokenField.hidden) setToken(this.tokenInput.value.trim());
    const changes = this.#changes();
    if (Object.keys(changes).length === 0) {
      this.#say("config.no_change", "info");
      return;
    }
    this.submitButton.disabled = true;
    this.#say("config.saving", "info");
    try {
      const config = await postJson(meterApi(this.meter, "config"), changes);
      this.dirty = false;
      this.#fill(config);
      this.#say("config.saved", "success");
      this.onConfig(config, true);
    } catch (err) {
      this.#failed(err);
    } finally {
      this.submitButton.disabled = false;
    }
  }

  #failed(err) {
    if (!(err instanceof ApiError)) {
      this.#say("config.failed", "error", { message: String(err) });
      return;
    }
    if (err.status === 403 || err.status === 401) {
      this.tokenField.hidden = false;
      this.#say("config.need_token", "error");
      this.tokenInput.focus();
      return;
    }
    const fields = err.details && err.details.fields ? err.details.fields : null;
    if (err.status === 400 && fields) {
      const other = [];
      let first = null;
      for (const [name, text] of Object.entries(fields)) {
        if (FIELDS.includes(name)) {
          this.#fieldError(name, String(text));
          first = first || this.inputs[name];
        } else {
          other.push(`${name}: ${text}`);
        }
      }
      this.#say("config.invalid", "error", { details: other.join("; ") });
      first?.focus();
      return;
    }
    if (err.status === 0) this.#say("config.unreachable", "error");
    else this.#say("config.failed", "error", { message: err.message });
  }

  /** The fields whose value differs from the server's, converted to the API's types. */
  #changes() {
    const c = this.config || {};
    const out = {};
    const port = this.inputs.port.value.trim();
    if (port !== (c.port ?? "")) out.port = port;
    const interval = this.#number(this.inputs.polling_interval.value);
    if (interval !== c.polling_interval) out.polling_interval = interval;
    const retention = this.#number(this.inputs.data_retention_minutes.value);
    if (retention !== c.data_retention_minutes) out.data_retention_minutes = retention;
    return out;
  }

  /** The typed number, or the raw text so the server names what is wrong with it. */
  #number(text) {
    const n = parseDecimal(text);
    return Number.isFinite(n) ? n : text.trim();
  }

  #fill(config) {
    this.config = config;
    const loc = locale();
    this.inputs.port.value = config.port ?? "";
    this.inputs.polling_interval.value = formatPlain(loc, config.polling_interval);
    this.inputs.data_retention_minutes.value = formatPlain(loc, config.data_retention_minutes);
    this.dirty = false;
  }

  #renderPorts() {
    const options = [
      ["auto", t("config.port_auto")],
      ["demo", t("config.port_demo")],
      ...this.ports.map((p) => [
        String(p.device),
        [p.description, p.manufacturer, p.likely_meter ? t("config.likely_meter") : ""]
          .filter((s) => s && s !== "n/a")
          .join(" · "),
      ]),
    ];
    this.datalist.replaceChildren(
      ...options.map(([value, label]) => {
        const option = el("option", { value });
        option.label = label;
        option.textContent = label;
        return option;
      }),
    );
    this.detected.replaceChildren();
    const meters = this.ports.filter((p) => p.likely_meter);
    if (meters.length === 0) {
      this.detected.append(el("span", { class: "hint" }, t("config.no_meter_found")));
      return;
    }
    this.detected.append(el("span", { class: "hint" }, t("config.meter_found")));
    for (const p of meters) {
      const button = el("button", { type: "button", class: "btn btn-chip" }, String(p.device));
      button.title = t("config.use_port", { port: String(p.device) });
      button.addEventListener("click", () => {
        this.inputs.port.value = String(p.device);
        this.dirty = true;
        this.inputs.port.focus();
      });
      this.detected.append(button);
    }
  }

  #clearErrors() {
    for (const name of FIELDS) {
      const box = byTestId(`error-${name}`, this.form);
      box.hidden = true;
      box.textContent = "";
      this.inputs[name].removeAttribute("aria-invalid");
    }
  }

  #fieldError(name, text) {
    const box = byTestId(`error-${name}`, this.form);
    box.textContent = text;
    box.hidden = false;
    this.inputs[name].setAttribute("aria-invalid", "true");
  }

  #say(key, state, params = null) {
    this.messageKey = key;
    this.messageParams = params;
    this.message.dataset.state = state;
    let text = t(key, params || {});
    if (params && params.details) text = `${text} ${params.details}`;
    setText(this.message, text.trim());
  }
}
