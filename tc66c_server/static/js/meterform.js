// The add-meter form: port (typed, or one the server found), name and polling interval, sent
// to `POST api/meters`. The server validates; its message for each bad field is shown next
// to that field, as in the settings form.

import { ApiError, postJson } from "./api.js";
import { meterFieldName, newMeterBody, writeErrorKey } from "./bench.js";
import { byTestId, setText } from "./dom.js";
import { parseDecimal } from "./format.js";
import { t } from "./i18n.js";

/** The API's field names, each with its input. */
const FIELDS = { port: "add-port", id: "add-name", polling_interval: "add-interval" };

export class AddMeterForm {
  /**
   * @param {HTMLFormElement} form
   * @param {HTMLButtonElement} toggle the button that shows and hides the form
   * @param {{onAdded: (meter: object) => void}} handlers
   */
  constructor(form, toggle, { onAdded }) {
    this.form = form;
    this.toggle = toggle;
    this.onAdded = onAdded;
    this.message = byTestId("add-message", form);
    this.submitButton = byTestId("add-submit", form);
    this.messageKey = null;
    this.messageParams = null;
    toggle.addEventListener("click", () => this.show(form.hidden));
    byTestId("add-cancel", form).addEventListener("click", () => this.show(false));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  /** Open (true) or close the form. */
  show(open) {
    this.form.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) byTestId(FIELDS.port, this.form).focus();
    else this.toggle.focus();
  }

  relabel() {
    if (this.messageKey) this.#say(this.messageKey, this.message.dataset.state, this.messageParams);
  }

  async submit() {
    this.#clearErrors();
    const body = newMeterBody(
      {
        port: byTestId(FIELDS.port, this.form).value,
        name: byTestId(FIELDS.id, this.form).value,
        interval: byTestId(FIELDS.polling_interval, this.form).value,
      },
      parseDecimal,
    );
    this.submitButton.disabled = true;
    this.#say("bench.adding", "info");
    try {
      const meter = await postJson("api/meters", body);
      this.form.reset();
      this.#say("bench.added", "success", { meter: meter.id });
      this.onAdded(meter);
    } catch (err) {
      this.#failed(err);
    } finally {
      this.submitButton.disabled = false;
    }
  }

  #failed(err) {
    const fields = err instanceof ApiError && err.status === 400 ? err.details.fields : null;
    if (!fields) {
      this.#say(writeErrorKey(err), "error", { message: err.message || String(err) });
      return;
    }
    const other = [];
    let first = null;
    for (const [key, text] of Object.entries(fields)) {
      const name = meterFieldName(key);
      if (name in FIELDS) {
        const input = byTestId(FIELDS[name], this.form);
        const box = byTestId(`add-error-${name}`, this.form);
        box.textContent = String(text);
        box.hidden = false;
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      } else {
        other.push(`${key}: ${text}`);
      }
    }
    this.#say("bench.add_invalid", "error", { details: other.join("; ") });
    first?.focus();
  }

  #clearErrors() {
    for (const [name, testId] of Object.entries(FIELDS)) {
      const box = byTestId(`add-error-${name}`, this.form);
      box.hidden = true;
      box.textContent = "";
      byTestId(testId, this.form).removeAttribute("aria-invalid");
    }
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
