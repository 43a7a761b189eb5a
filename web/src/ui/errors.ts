// Server errors as the user sees them: the code and the message, one per
// line, dismissible; repeats of the same error are counted, not stacked.
import { html, nothing } from "lit";
import { LightElement } from "./base.ts";
import type { AppError } from "../lib/errors.ts";

export interface ShownError extends AppError {
  id: number;
  count: number;
}

export class GpixErrors extends LightElement {
  static override properties = { errors: { attribute: false } };
  declare errors: ShownError[];

  constructor() {
    super();
    this.errors = [];
  }

  override render() {
    if (!this.errors.length) return nothing;
    return html`<div class="errors" data-testid="error-list" role="alert" aria-live="assertive">
      ${this.errors.map(
        (e) => html`<div class="error" data-testid="error" data-code=${e.code} data-context=${e.context ?? ""}>
          <span class="error-context">${e.context ? `${e.context}: ` : ""}</span>
          <code data-testid="error-code">${e.code}</code>
          <span data-testid="error-message" class="error-message">${e.message}</span>
          ${e.count > 1 ? html`<span class="badge" data-testid="error-count">×${e.count}</span>` : nothing}
          <button class="icon" data-testid="error-dismiss" aria-label="Dismiss error"
            @click=${() => this.emit("dismiss-error", e.id)}>✕</button>
        </div>`,
      )}
    </div>`;
  }
}
customElements.define("gpix-errors", GpixErrors);
