// The add-pair form: an input meter, an output meter and an optional name, sent to
// `POST api/pairs`; the server's reasons for a refusal are shown in words.

import { ApiError, postJson } from "./api.js";
import { writeErrorKey } from "./bench.js";
import { byTestId, el, setText } from "./dom.js";
import { t } from "./i18n.js";

export class AddPairForm {
  /**
   * @param {HTMLFormElement} form
   * @param {HTMLButtonElement} toggle the button that shows and hides the form
   * @param {{onAdded: (pair: object) => void}} handlers
   */
  constructor(form, toggle, { onAdded }) {
    this.form = form;
    this.toggle = toggle;
    this.onAdded = onAdded;
    this.input = byTestId("pair-input", form);
    this.output = byTestId("pair-output", form);
    this.name = byTestId("pair-id", form);
    this.message = byTestId("add-pair-message", form);
    this.meters = [];
    this.said = null;
    toggle.addEventListener("click", () => this.show(form.hidden));
    byTestId("add-pair-cancel", form).addEventListener("click", () => this.show(false));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  /** The meters to choose from ([{id}]); the output defaults to the second one. */
  setMeters(meters) {
    const ids = meters.map((m) => m.id).join("\n");
    if (ids === this.meters.map((m) => m.id).join("\n")) return; // keep an open list open
    this.meters = meters;
    [this.input, this.output].forEach((select, n) => {
      const wanted = select.value;
      select.replaceChildren(...meters.map((m) => el("option", { value: m.id }, m.id)));
      const fallback = meters[Math.min(n, meters.length - 1)]?.id ?? "";
      select.value = meters.some((m) => m.id === wanted) ? wanted : fallback;
    });
  }

  show(open) {
    this.form.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) this.input.focus();
    else this.toggle.focus();
  }

  relabel() {
    if (this.said) this.#say(this.said.key, this.said.state, this.said.params);
  }

  async submit() {
    const body = { input: this.input.value, output: this.output.value };
    const id = this.name.value.trim();
    if (id) body.id = id;
    let pair;
    try {
      pair = await postJson("api/pairs", body);
    } catch (err) {
      const fields = err instanceof ApiError && err.details.fields ? err.details.fields : null;
      const details = fields
        ? Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join("; ")
        : "";
      if (fields) this.#say("pairs.add_invalid", "error", { details });
      else this.#say(writeErrorKey(err), "error", { message: err.message || String(err) });
      return;
    }
    this.name.value = "";
    this.#say("pairs.added", "success", { pair: pair.id });
    this.onAdded(pair);
  }

  #say(key, state, params = null) {
    this.said = { key, state, params };
    this.message.dataset.state = state;
    let text = t(key, params || {});
    if (params && params.details) text = `${text} ${params.details}`;
    setText(this.message, text.trim());
  }
}
