// Full-resolution Process: backend selector (from ListBackends; unavailable
// backends disabled with the reason), output format, a progress bar fed by
// the Connect server stream, and the result's download link.
import { html, nothing } from "lit";
import { LightElement } from "./base.ts";
import type { BackendInfo } from "../api/convert.ts";
import type { OutputFormat } from "../api/client.ts";

export interface ProcessView {
  running: boolean;
  percent: number;
  status: string;
  stage: string;
  resultId: string;
  resultUrl: string;
  fileName: string;
  totalMs?: number;
  failed: boolean;
}

export class GpixProcess extends LightElement {
  static override properties = {
    backends: { attribute: false },
    defaultBackend: { type: String },
    backend: { type: String },
    format: { type: String },
    quality: { type: Number },
    job: { attribute: false },
    canRun: { type: Boolean },
  };
  declare backends: BackendInfo[];
  declare defaultBackend: string;
  declare backend: string;
  declare format: OutputFormat;
  declare quality: number;
  declare job: ProcessView | null;
  declare canRun: boolean;

  constructor() {
    super();
    this.backends = [];
    this.defaultBackend = "";
    this.backend = "auto";
    this.format = "same";
    this.quality = 90;
    this.job = null;
    this.canRun = false;
  }

  override render() {
    const j = this.job;
    const chosen = this.backends.find((b) => b.name === this.backend);
    return html`<section class="process" aria-labelledby="process-title" data-testid="process-panel">
      <h2 id="process-title">Full resolution</h2>
      <div class="process-grid">
        <label>Backend
          <select data-testid="backend-select" aria-label="Backend"
            @change=${(e: Event) => this.emit("backend", (e.target as HTMLSelectElement).value)}>
            <option value="auto" ?selected=${this.backend === "auto"}>auto${this.defaultBackend ? ` (${this.defaultBackend})` : ""}</option>
            ${this.backends.map(
              (b) => html`<option value=${b.name} ?disabled=${!b.available} ?selected=${b.name === this.backend}
                  data-testid="backend-option" title=${b.available ? b.device : b.detail}>
                ${b.name}${b.available ? (b.device ? ` — ${b.device}` : "") : ` — unavailable: ${b.detail || "not available here"}`}
              </option>`,
            )}
          </select>
        </label>
        <label>Format
          <select data-testid="format-select" aria-label="Output format"
            @change=${(e: Event) => this.emit("format", (e.target as HTMLSelectElement).value)}>
            <option value="same" ?selected=${this.format === "same"}>same as input</option>
            <option value="jpeg" ?selected=${this.format === "jpeg"}>JPEG</option>
            <option value="png" ?selected=${this.format === "png"}>PNG</option>
          </select>
        </label>
        ${this.format !== "png"
          ? html`<label>Quality
              <input type="number" min="1" max="100" step="1" .value=${String(this.quality)} data-testid="quality-input"
                aria-label="JPEG quality" @change=${(e: Event) => this.emit("quality", Number((e.target as HTMLInputElement).value))} />
            </label>`
          : nothing}
      </div>
      <ul class="backend-list" data-testid="backend-list" aria-label="Backends">
        ${this.backends.map(
          (b) => html`<li data-testid="backend-info" data-backend=${b.name} data-available=${b.available ? "true" : "false"}>
            <span class="dot ${b.available ? "ok" : "off"}" aria-hidden="true"></span>
            <strong>${b.name}</strong>
            <span class="muted">${b.available ? b.device || "available" : `unavailable: ${b.detail || "not available here"}`}</span>
          </li>`,
        )}
      </ul>
      ${chosen && !chosen.available ? html`<p class="warn">${chosen.name} is unavailable: ${chosen.detail}</p>` : nothing}
      <div class="process-actions">
        <button class="primary" data-testid="process-button" ?disabled=${!this.canRun || !!j?.running}
          @click=${() => this.emit("process")}>Process full resolution</button>
        ${j?.running ? html`<button data-testid="cancel-button" @click=${() => this.emit("cancel")}>Cancel</button>` : nothing}
      </div>
      ${j
        ? html`<div class="job" data-testid="process-job" data-state=${j.running ? "running" : j.failed ? "failed" : "done"}>
            <progress max="100" .value=${j.percent} data-testid="process-progress" aria-label="Processing progress"></progress>
            <span data-testid="process-status" role="status">${j.status}${j.stage && j.running ? ` (${j.stage})` : ""}</span>
            ${j.resultUrl
              ? html`<p class="result">
                  <a class="button primary" href=${j.resultUrl} download=${j.fileName} data-testid="download-link">Download ${j.fileName}</a>
                  <button class="link" data-testid="open-result" @click=${() => this.emit("open-result", j.resultId)}>Open in gallery</button>
                  ${j.totalMs ? html`<span class="muted" data-testid="process-time">${j.totalMs.toFixed(0)} ms on the server</span>` : nothing}
                </p>`
              : nothing}
          </div>`
        : nothing}
    </section>`;
  }
}
customElements.define("gpix-process", GpixProcess);
