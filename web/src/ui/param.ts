// One parameter control, generated from its ListFilters metadata: a slider
// with a number field for NUMBER/INTEGER (number field only when the range
// is too wide for a slider), a select for ENUM, a switch for BOOL.
import { html, nothing } from "lit";
import { LightElement, slug } from "./base.ts";
import { effectiveStep, formatValue, sliderUseful, type ParamMeta, type ParamValue } from "../lib/params.ts";

export interface ParamChange {
  uid: string;
  param: string;
  raw: unknown;
  /** true while a slider moves (live preview), false on a committed change */
  live: boolean;
}

export class GpixParam extends LightElement {
  static override properties = {
    meta: { attribute: false },
    value: { attribute: false },
    uid: { type: String },
    filter: { type: String },
    disabled: { type: Boolean },
  };
  declare meta: ParamMeta;
  declare value: ParamValue;
  declare uid: string;
  declare filter: string;
  declare disabled: boolean;

  private change(raw: unknown, live: boolean): void {
    this.emit<ParamChange>("param-change", { uid: this.uid, param: this.meta.name, raw, live });
  }

  override render() {
    const p = this.meta;
    if (!p) return nothing;
    const id = `p-${this.uid}-${slug(p.name)}`;
    const tid = `param-${slug(this.filter)}-${slug(p.name)}`;
    const help = p.description ? html`<small id="${id}-help" class="param-help">${p.description}</small>` : nothing;
    const describedBy = p.description ? `${id}-help` : nothing;
    switch (p.type) {
      case "bool":
        return html`<div class="param param-bool" data-testid="${tid}-field">
          <label class="switch" for=${id}>
            <input id=${id} type="checkbox" role="switch" data-testid=${tid}
              .checked=${this.value === true} ?disabled=${this.disabled}
              aria-describedby=${describedBy}
              @change=${(e: Event) => this.change((e.target as HTMLInputElement).checked, false)} />
            <span class="switch-track" aria-hidden="true"></span>
            <span class="param-label">${p.displayName}</span>
          </label>
          ${help}
        </div>`;
      case "enum":
        return html`<div class="param param-enum" data-testid="${tid}-field">
          <label class="param-label" for=${id}>${p.displayName}</label>
          <select id=${id} data-testid=${tid} ?disabled=${this.disabled} aria-describedby=${describedBy}
            @change=${(e: Event) => this.change((e.target as HTMLSelectElement).value, false)}>
            ${p.options.map((o) => html`<option value=${o} ?selected=${o === this.value}>${o}</option>`)}
          </select>
          ${help}
        </div>`;
      default: {
        const step = effectiveStep(p);
        const slider = sliderUseful(p);
        const v = typeof this.value === "number" ? this.value : Number(this.value);
        return html`<div class="param param-number" data-testid="${tid}-field">
          <div class="param-head">
            <label class="param-label" for=${slider ? id : `${id}-n`}>${p.displayName}</label>
            <output class="param-value" for=${id} data-testid="${tid}-value">${formatValue(p, this.value)}</output>
          </div>
          <div class="param-inputs">
            ${slider
              ? html`<input id=${id} type="range" data-testid=${tid}
                  min=${p.min} max=${p.max} step=${step || "any"} .value=${String(v)}
                  ?disabled=${this.disabled} aria-describedby=${describedBy}
                  aria-valuetext=${formatValue(p, this.value)}
                  @input=${(e: Event) => this.change((e.target as HTMLInputElement).value, true)}
                  @change=${(e: Event) => this.change((e.target as HTMLInputElement).value, false)} />`
              : nothing}
            <input id="${id}-n" type="number" class="param-number-input" data-testid="${tid}-number"
              aria-label="${p.displayName} value" min=${p.min} max=${p.max} step=${step || "any"}
              .value=${String(v)} ?disabled=${this.disabled}
              @change=${(e: Event) => this.change((e.target as HTMLInputElement).value, false)} />
          </div>
          ${help}
        </div>`;
      }
    }
  }
}
customElements.define("gpix-param", GpixParam);
