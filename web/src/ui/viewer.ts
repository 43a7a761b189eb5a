// The preview: the live result over the original with a before/after split
// slider, the FPS / latency read-outs and the preview resolution control.
import { html, nothing } from "lit";
import { LightElement } from "./base.ts";

export interface PreviewView {
  /** URL of the original (an image's content, or the webcam frame sent) */
  before: string;
  /** URL of the newest preview; empty while none has arrived */
  after: string;
  seq: number;
  width: number;
  height: number;
  serverMs: number | null;
}

export interface PreviewStats {
  fps: number;
  latencyMs: number | null;
  meanLatencyMs: number | null;
}

export const PREVIEW_WIDTHS = [256, 480, 640, 960, 1280];

export class GpixViewer extends LightElement {
  static override properties = {
    view: { attribute: false },
    stats: { attribute: false },
    previewWidth: { type: Number },
    heading: { type: String },
    note: { type: String },
    busy: { type: Boolean },
    split: { state: true },
  };
  declare view: PreviewView | null;
  declare stats: PreviewStats;
  declare previewWidth: number;
  declare heading: string;
  declare note: string;
  declare busy: boolean;
  declare split: number;

  constructor() {
    super();
    this.view = null;
    this.stats = { fps: 0, latencyMs: null, meanLatencyMs: null };
    this.previewWidth = 640;
    this.heading = "";
    this.note = "";
    this.busy = false;
    this.split = 50;
  }

  override render() {
    const v = this.view;
    const s = this.stats;
    return html`<section class="viewer" aria-labelledby="viewer-title" data-testid="viewer" ?data-busy=${this.busy}>
      <div class="viewer-bar">
        <h2 id="viewer-title" class="viewer-title" data-testid="viewer-title">${this.heading || "No image selected"}</h2>
        <label class="inline">Preview width
          <select data-testid="preview-width" aria-label="Preview width" @change=${(e: Event) =>
            this.emit("preview-width", Number((e.target as HTMLSelectElement).value))}>
            ${PREVIEW_WIDTHS.map((w) => html`<option value=${w} ?selected=${w === this.previewWidth}>${w}px</option>`)}
          </select>
        </label>
      </div>
      <div class="stage" style="--split:${this.split}%;${v && v.width > 0 && v.height > 0 ? `aspect-ratio:${v.width} / ${v.height};` : ""}">
        ${v && v.before
          ? html`<img class="layer after" data-testid="preview-image" alt="Preview: filtered image"
                src=${v.after || v.before} data-seq=${v.seq} data-width=${v.width} data-height=${v.height} />
              <img class="layer before" data-testid="before-image" alt="Before: original image" src=${v.before}
                aria-hidden=${v.after ? "false" : "true"} />
              <span class="tag tag-before" aria-hidden="true">Before</span>
              <span class="tag tag-after" aria-hidden="true">After</span>
              <div class="split-line" aria-hidden="true"></div>`
          : html`<p class="placeholder muted">Pick an image from the gallery, upload one, or use the webcam.</p>`}
        ${this.busy ? html`<span class="spinner" data-testid="preview-busy" aria-label="Updating preview"></span>` : nothing}
      </div>
      <div class="viewer-controls">
        <label class="compare">
          <span>Before / after</span>
          <input type="range" min="0" max="100" step="1" .value=${String(this.split)} data-testid="compare-slider"
            aria-label="Before and after split: percent of the original shown"
            @input=${(e: Event) => (this.split = Number((e.target as HTMLInputElement).value))} />
        </label>
        <dl class="stats" aria-label="Live preview statistics">
          <div><dt>FPS</dt><dd data-testid="preview-fps">${s.fps.toFixed(1)}</dd></div>
          <div><dt>Latency</dt><dd data-testid="preview-latency">${s.latencyMs === null ? "–" : `${Math.round(s.latencyMs)} ms`}</dd></div>
          <div><dt>Avg</dt><dd data-testid="preview-latency-avg">${s.meanLatencyMs === null ? "–" : `${Math.round(s.meanLatencyMs)} ms`}</dd></div>
          <div><dt>Server</dt><dd data-testid="preview-server-ms">${v?.serverMs == null ? "–" : `${v.serverMs.toFixed(1)} ms`}</dd></div>
          <div><dt>Size</dt><dd data-testid="preview-size">${v && v.width ? `${v.width}×${v.height}` : "–"}</dd></div>
          <div><dt>Seq</dt><dd data-testid="preview-seq">${v?.seq ?? 0}</dd></div>
        </dl>
      </div>
      ${this.note ? html`<p class="note muted" data-testid="viewer-note" role="status">${this.note}</p>` : nothing}
    </section>`;
  }
}
customElements.define("gpix-viewer", GpixViewer);
