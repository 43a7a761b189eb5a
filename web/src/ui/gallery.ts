// The gallery: samples, uploads and saved results with thumbnails; upload by
// drag and drop or the file picker with a progress bar; the webcam source.
import { html, nothing } from "lit";
import { LightElement } from "./base.ts";
import { groupImages, humanBytes, SOURCE_LABEL, SOURCE_ORDER, type ImageInfo } from "../lib/images.ts";

export interface UploadState {
  active: boolean;
  name: string;
  percent: number;
  /** "uploading" | "done" | "failed" */
  phase: string;
  message: string;
}

export class GpixGallery extends LightElement {
  static override properties = {
    images: { attribute: false },
    thumbs: { attribute: false },
    selected: { type: String },
    upload: { attribute: false },
    webcam: { type: Boolean },
    loading: { type: Boolean },
    dragOver: { state: true },
  };
  declare images: ImageInfo[];
  declare thumbs: Map<string, string>;
  declare selected: string;
  declare upload: UploadState | null;
  declare webcam: boolean;
  declare loading: boolean;
  declare dragOver: boolean;

  constructor() {
    super();
    this.images = [];
    this.thumbs = new Map();
    this.selected = "";
    this.upload = null;
    this.webcam = false;
    this.loading = true;
    this.dragOver = false;
  }

  private hasFiles(e: DragEvent): boolean {
    return !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  }

  private onDragOver(e: DragEvent): void {
    if (!this.hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    this.dragOver = true;
  }

  private onDrop(e: DragEvent): void {
    if (!this.hasFiles(e)) return;
    e.preventDefault();
    this.dragOver = false;
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (files.length) this.emit("upload-files", files);
  }

  private onPick(e: Event): void {
    const input = e.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    input.value = "";
    if (files.length) this.emit("upload-files", files);
  }

  private card(im: ImageInfo) {
    const sel = im.id === this.selected && !this.webcam;
    const thumb = this.thumbs.get(im.id);
    return html`<li class="card-wrap">
      <button class="card ${sel ? "selected" : ""}" data-testid="image-card" data-image-id=${im.id}
        data-source=${im.source} aria-pressed=${sel ? "true" : "false"}
        aria-label="${im.name}, ${im.width}×${im.height}" title=${im.name}
        @click=${() => this.emit("select-image", im.id)}>
        ${thumb
          ? html`<img class="thumb" src=${thumb} alt="" loading="lazy" decoding="async" data-testid="thumbnail" />`
          : html`<span class="thumb thumb-loading" aria-hidden="true"></span>`}
        <span class="card-name">${im.name}</span>
        <span class="card-meta muted">${im.width}×${im.height} · ${humanBytes(im.sizeBytes)}</span>
      </button>
      ${im.source !== "sample"
        ? html`<button class="icon card-delete" data-testid="image-delete" aria-label="Delete ${im.name}"
            title="Delete" @click=${() => this.emit("delete-image", im.id)}>✕</button>`
        : nothing}
    </li>`;
  }

  override render() {
    const groups = groupImages(this.images);
    const up = this.upload;
    return html`<section class="gallery ${this.dragOver ? "drag-over" : ""}" data-testid="gallery" aria-label="Images"
        @dragover=${(e: DragEvent) => this.onDragOver(e)}
        @dragleave=${() => (this.dragOver = false)}
        @drop=${(e: DragEvent) => this.onDrop(e)}>
      <div class="dropzone" data-testid="dropzone">
        <p><strong>Drop JPEG or PNG images here</strong> or</p>
        <label class="button" for="upload-input">Choose files…</label>
        <input id="upload-input" class="visually-hidden" type="file" multiple
          accept="image/jpeg,image/png,.jpg,.jpeg,.png" data-testid="upload-input"
          aria-label="Upload images" @change=${(e: Event) => this.onPick(e)} />
        <button class="button ${this.webcam ? "active" : ""}" data-testid="webcam-toggle"
          aria-pressed=${this.webcam ? "true" : "false"} @click=${() => this.emit("webcam-toggle")}>
          ${this.webcam ? "Stop webcam" : "Use webcam"}
        </button>
        ${up
          ? html`<div class="upload-status" data-testid="upload" data-phase=${up.phase}>
              <progress max="100" .value=${up.percent} data-testid="upload-progress"
                aria-label="Upload progress" aria-valuenow=${up.percent}></progress>
              <span data-testid="upload-status" role="status">${up.message}</span>
            </div>`
          : nothing}
      </div>
      ${this.loading && this.images.length === 0 ? html`<p class="muted" role="status">Loading images…</p>` : nothing}
      ${SOURCE_ORDER.map((src) =>
        groups[src].length
          ? html`<h2 class="group-title">${SOURCE_LABEL[src]} <span class="muted">(${groups[src].length})</span></h2>
              <ul class="cards" data-testid="gallery-${src}">${groups[src].map((im) => this.card(im))}</ul>`
          : nothing,
      )}
    </section>`;
  }
}
customElements.define("gpix-gallery", GpixGallery);
