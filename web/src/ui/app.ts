// <gpix-app>: owns the state (images, filter catalogue, pipeline, preview,
// jobs, errors) and the two channels to the server: Connect RPCs (Api) and
// the live-preview WebSocket (PreviewSocket).
import { html } from "lit";
import { LightElement } from "./base.ts";
import "./gallery.ts";
import "./drawer.ts";
import "./viewer.ts";
import "./process.ts";
import "./errors.ts";
import type { UploadState } from "./gallery.ts";
import type { PipelineAction } from "./drawer.ts";
import type { ParamChange } from "./param.ts";
import type { PreviewStats, PreviewView } from "./viewer.ts";
import type { ProcessView } from "./process.ts";
import type { ShownError } from "./errors.ts";
import { Api, type OutputFormat } from "../api/client.ts";
import type { BackendInfo } from "../api/convert.ts";
import { serverBase, wsUrl } from "../config.ts";
import { toAppError, type AppError } from "../lib/errors.ts";
import { resultFileName, upsertImage, type ImageInfo } from "../lib/images.ts";
import type { FilterMeta } from "../lib/params.ts";
import {
  addStep,
  dropBefore,
  moveStepBy,
  removeStep,
  resetStep,
  setParam,
  toggleStep,
  wireSteps,
  type Step,
} from "../lib/pipeline.ts";
import { PreviewSocket, type SocketLike, type WsState } from "../lib/ws.ts";

const THUMB_WIDTH = 192;
const MAX_ERRORS = 5;

const WS_LABEL: Record<WsState, string> = {
  idle: "Not connected",
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
};

interface Webcam {
  stream: MediaStream;
  video: HTMLVideoElement;
  canvas: HTMLCanvasElement;
  timer: ReturnType<typeof setTimeout> | null;
  sentFrames: Map<number, string>;
}

export class GpixApp extends LightElement {
  private api = new Api(serverBase());
  private ws: PreviewSocket;

  private version = "";
  private images: ImageInfo[] = [];
  private loadingImages = true;
  private thumbs = new Map<string, string>();
  private thumbQueue: ImageInfo[] = [];
  private thumbsRunning = 0;
  private catalog: FilterMeta[] = [];
  private backends: BackendInfo[] = [];
  private defaultBackend = "";
  private backend = "auto";
  private format: OutputFormat = "same";
  private quality = 90;
  private steps: Step[] = [];
  private selectedId = "";
  private previewWidth = 640;
  private view: PreviewView | null = null;
  private note = "";
  private stats: PreviewStats = { fps: 0, latencyMs: null, meanLatencyMs: null };
  private busy = false;
  private wsState: WsState = "idle";
  private wsAttempt = 0;
  private upload: UploadState | null = null;
  private job: ProcessView | null = null;
  private jobAbort: AbortController | null = null;
  private errors: ShownError[] = [];
  private errorId = 0;
  private drawerOpen = true;
  private webcam: Webcam | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    super();
    this.ws = new PreviewSocket({
      url: wsUrl(),
      factory: (url) => new WebSocket(url) as unknown as SocketLike,
      onState: (s, d) => {
        this.wsState = s;
        this.wsAttempt = d.attempt;
        this.requestUpdate();
      },
      onPreview: (ev) => {
        if (this.webcam || ev.request.imageId !== this.selectedId || !this.view) return;
        const url = URL.createObjectURL(new Blob([ev.data as BlobPart], { type: ev.meta.contentType || "image/jpeg" }));
        this.showAfter(url, ev.meta.seq, ev.meta.width, ev.meta.height, ev.meta.timing?.totalMs ?? null);
      },
      onFrame: (ev) => {
        const cam = this.webcam;
        if (!cam) return;
        const url = URL.createObjectURL(new Blob([ev.data as BlobPart], { type: ev.meta.contentType || "image/jpeg" }));
        const before = cam.sentFrames.get(ev.meta.seq) ?? this.view?.before ?? "";
        for (const [seq, u] of cam.sentFrames) {
          if (seq < ev.meta.seq && u !== this.view?.before) URL.revokeObjectURL(u);
          if (seq <= ev.meta.seq) cam.sentFrames.delete(seq);
        }
        const oldBefore = this.view?.before;
        if (oldBefore && oldBefore !== before && oldBefore.startsWith("blob:")) URL.revokeObjectURL(oldBefore);
        if (this.view) this.view = { ...this.view, before };
        else this.view = { before, after: "", seq: 0, width: 0, height: 0, serverMs: null };
        this.showAfter(url, ev.meta.seq, ev.meta.width, ev.meta.height, ev.meta.timing?.totalMs ?? null);
      },
      onError: (e) => {
        const context = e.kind === "frame" ? "webcam" : e.kind === "tune" ? "preview" : e.id ? "process" : "server";
        this.addError({ code: e.code, message: e.message, context });
      },
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.drawerOpen = typeof matchMedia === "function" ? !matchMedia("(max-width: 899px)").matches : true;
    this.ws.start();
    this.statsTimer = setInterval(() => this.tickStats(), 500);
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.ws.stop();
    this.stopWebcam();
    if (this.statsTimer) clearInterval(this.statsTimer);
  }

  // ------------------------------------------------------------ loading

  private async load(): Promise<void> {
    const [ver, filters, backends, images] = await Promise.allSettled([
      this.api.version(),
      this.api.filters(),
      this.api.backends(),
      this.api.images(),
    ]);
    if (ver.status === "fulfilled") this.version = ver.value.version;
    if (filters.status === "fulfilled") this.catalog = filters.value;
    else this.addError(toAppError(filters.reason, "filters"));
    if (backends.status === "fulfilled") {
      this.backends = backends.value.backends;
      this.defaultBackend = backends.value.defaultBackend;
    } else this.addError(toAppError(backends.reason, "backends"));
    this.loadingImages = false;
    if (images.status === "fulfilled") {
      this.images = images.value;
      for (const im of this.images) this.queueThumb(im);
      if (!this.selectedId) {
        const first = this.images.filter((i) => i.source === "sample").sort((a, b) => a.name.localeCompare(b.name))[0] ?? this.images[0];
        if (first) this.select(first.id);
      }
    } else this.addError(toAppError(images.reason, "images"));
    this.requestUpdate();
  }

  private queueThumb(im: ImageInfo): void {
    if (this.thumbs.has(im.id)) return;
    this.thumbQueue.push(im);
    this.pumpThumbs();
  }

  private pumpThumbs(): void {
    while (this.thumbsRunning < 2 && this.thumbQueue.length) {
      const im = this.thumbQueue.shift()!;
      if (this.thumbs.has(im.id)) continue;
      this.thumbsRunning++;
      this.api
        .thumbnail(im.id, THUMB_WIDTH)
        .then((b) => this.thumbs.set(im.id, URL.createObjectURL(b)))
        .catch(() => this.thumbs.set(im.id, this.api.url(im.contentUrl)))
        .finally(() => {
          this.thumbsRunning--;
          this.thumbs = new Map(this.thumbs);
          this.requestUpdate();
          this.pumpThumbs();
        });
    }
  }

  // ------------------------------------------------------------ errors

  private addError(e: AppError): void {
    const last = this.errors[this.errors.length - 1];
    if (last && last.code === e.code && last.message === e.message && last.context === e.context) {
      this.errors = [...this.errors.slice(0, -1), { ...last, count: last.count + 1 }];
    } else {
      this.errorId += 1;
      this.errors = [...this.errors, { ...e, id: this.errorId, count: 1 }].slice(-MAX_ERRORS);
    }
    this.requestUpdate();
  }

  private dismissError(id: number): void {
    this.errors = this.errors.filter((e) => e.id !== id);
    this.requestUpdate();
  }

  // ------------------------------------------------------------ preview

  private selected(): ImageInfo | undefined {
    return this.images.find((i) => i.id === this.selectedId);
  }

  private select(id: string): void {
    if (this.webcam) this.stopWebcam();
    this.selectedId = id;
    this.refreshPreview();
  }

  private showAfter(url: string, seq: number, width: number, height: number, serverMs: number | null): void {
    const v = this.view;
    if (!v) return;
    if (v.after && v.after.startsWith("blob:")) URL.revokeObjectURL(v.after);
    this.view = { ...v, after: url, seq, width, height, serverMs };
    this.tickStats();
    this.requestUpdate();
  }

  private refreshPreview(): void {
    if (this.webcam) {
      this.requestUpdate();
      return;
    }
    const im = this.selected();
    if (!im) {
      this.ws.clearTune();
      this.view = null;
      this.requestUpdate();
      return;
    }
    const before = this.api.url(im.contentUrl);
    if (!this.view || this.view.before !== before) {
      if (this.view?.after.startsWith("blob:")) URL.revokeObjectURL(this.view.after);
      this.view = { before, after: "", seq: 0, width: im.width, height: im.height, serverMs: null };
    }
    const filters = wireSteps(this.steps);
    if (filters.length === 0) {
      this.ws.clearTune();
      if (this.view.after.startsWith("blob:")) URL.revokeObjectURL(this.view.after);
      this.view = { ...this.view, after: "", width: im.width, height: im.height, serverMs: null };
      this.note = this.steps.length ? "Every filter is off: showing the original." : "Add a filter to see a live preview.";
    } else {
      this.note = "";
      this.ws.tune({ imageId: im.id, filters, previewWidth: this.previewWidth });
    }
    this.busy = this.ws.tuneBusy;
    this.requestUpdate();
  }

  private tickStats(): void {
    const now = performance.now();
    const fps = this.ws.previewRate.rate(now);
    const s: PreviewStats = { fps, latencyMs: this.ws.latency.last, meanLatencyMs: this.ws.latency.mean };
    const busy = !this.webcam && this.ws.tuneBusy && this.wsState === "open";
    if (s.fps !== this.stats.fps || s.latencyMs !== this.stats.latencyMs || busy !== this.busy) {
      this.stats = s;
      this.busy = busy;
      this.requestUpdate();
    }
  }

  // ------------------------------------------------------------ pipeline

  private onPipeline(a: PipelineAction): void {
    switch (a.kind) {
      case "add": {
        const f = this.catalog.find((m) => m.name === a.name);
        if (f) this.steps = addStep(this.steps, f);
        break;
      }
      case "remove":
        this.steps = removeStep(this.steps, a.uid);
        break;
      case "toggle":
        this.steps = toggleStep(this.steps, a.uid, a.enabled);
        break;
      case "move":
        this.steps = moveStepBy(this.steps, a.uid, a.delta);
        break;
      case "drop":
        this.steps = dropBefore(this.steps, a.uid, a.before);
        break;
      case "reset":
        this.steps = resetStep(this.steps, a.uid, this.catalog);
        break;
      case "clear":
        this.steps = [];
        break;
    }
    this.refreshPreview();
  }

  private onParam(c: ParamChange): void {
    this.steps = setParam(this.steps, c.uid, c.param, c.raw, this.catalog);
    this.refreshPreview();
  }

  // ------------------------------------------------------------ upload

  private async uploadFiles(files: File[]): Promise<void> {
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const of = files.length > 1 ? ` (${i + 1} of ${files.length})` : "";
      const set = (u: Partial<UploadState>) => {
        this.upload = { active: true, name: f.name, percent: 0, phase: "uploading", message: "", ...this.upload, ...u };
        this.requestUpdate();
      };
      this.upload = null;
      set({ name: f.name, percent: 0, phase: "uploading", message: `Uploading ${f.name}${of}…` });
      try {
        const im = await this.api.upload(f, (loaded, total) => {
          const pct = total > 0 ? Math.min(100, Math.floor((loaded * 100) / total)) : 0;
          if (pct !== this.upload?.percent) set({ percent: pct, message: `Uploading ${f.name}${of}: ${pct}%` });
        });
        set({ active: false, percent: 100, phase: "done", message: `Uploaded ${f.name}${of}` });
        this.images = upsertImage(this.images, im);
        this.queueThumb(im);
        this.select(im.id);
      } catch (e) {
        const err = toAppError(e, "upload");
        set({ active: false, phase: "failed", message: `Upload of ${f.name} failed: ${err.code}` });
        this.addError(err);
      }
    }
  }

  private async deleteImage(id: string): Promise<void> {
    try {
      await this.api.deleteImage(id);
      this.images = this.images.filter((i) => i.id !== id);
      const t = this.thumbs.get(id);
      if (t?.startsWith("blob:")) URL.revokeObjectURL(t);
      this.thumbs.delete(id);
      if (this.selectedId === id) {
        const next = this.images.find((i) => i.source === "sample") ?? this.images[0];
        this.selectedId = "";
        if (next) this.select(next.id);
        else this.refreshPreview();
      }
      this.requestUpdate();
    } catch (e) {
      this.addError(toAppError(e, "delete"));
    }
  }

  // ------------------------------------------------------------ process

  private async runProcess(): Promise<void> {
    const im = this.selected();
    if (!im || this.job?.running) return;
    const filters = wireSteps(this.steps);
    const abort = new AbortController();
    this.jobAbort = abort;
    let job: ProcessView = { running: true, percent: 0, status: "Starting…", stage: "", resultId: "", resultUrl: "", fileName: "", failed: false };
    const set = (j: Partial<ProcessView>) => {
      job = { ...job, ...j };
      this.job = job;
      this.requestUpdate();
    };
    set({});
    try {
      let resultId = "";
      for await (const u of this.api.process(
        { imageId: im.id, filters, backend: this.backend, format: this.format, quality: this.quality },
        abort.signal,
      )) {
        set({ percent: Math.max(job.percent, u.percent), status: u.status || `${u.percent}% complete`, stage: u.stage, totalMs: u.totalMs ?? job.totalMs });
        if (u.resultImageId) resultId = u.resultImageId;
      }
      if (!resultId) throw { code: "internal", message: "the stream ended without a result" } satisfies AppError;
      let info: ImageInfo | null = null;
      try {
        info = await this.api.image(resultId);
        this.images = upsertImage(this.images, info);
        this.queueThumb(info);
      } catch {
        /* the download link works without the record */
      }
      const fmt = this.format === "same" ? (info?.format || im.format) : this.format;
      const fileName = resultFileName(im.name, filters.map((f) => f.name), fmt === "png" ? "image/png" : "image/jpeg");
      set({
        running: false,
        percent: 100,
        status: "Done",
        stage: "done",
        resultId,
        resultUrl: this.api.url(`/v1/images/${encodeURIComponent(resultId)}/content`),
        fileName,
      });
    } catch (e) {
      const err = toAppError(e, "process");
      set({ running: false, failed: true, status: err.code === "canceled" ? "Canceled" : `Failed: ${err.code}` });
      if (err.code !== "canceled") this.addError(err);
    } finally {
      if (this.jobAbort === abort) this.jobAbort = null;
    }
  }

  // ------------------------------------------------------------ webcam

  private async toggleWebcam(): Promise<void> {
    if (this.webcam) {
      this.stopWebcam();
      this.refreshPreview();
      return;
    }
    if (!navigator.mediaDevices?.getUserMedia) {
      this.addError({ code: "unimplemented", message: "this browser has no camera access (getUserMedia)", context: "webcam" });
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 } }, audio: false });
    } catch (e) {
      const name = (e as DOMException).name;
      const code = name === "NotAllowedError" ? "permission_denied" : name === "NotFoundError" ? "not_found" : "unavailable";
      this.addError({ code, message: `camera: ${(e as Error).message || name}`, context: "webcam" });
      return;
    }
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    try {
      await video.play();
    } catch {
      /* autoplay of a muted stream is allowed; a failure shows as no frames */
    }
    this.ws.clearTune();
    if (this.view?.after.startsWith("blob:")) URL.revokeObjectURL(this.view.after);
    this.view = { before: "", after: "", seq: 0, width: 0, height: 0, serverMs: null };
    this.note = "";
    this.webcam = { stream, video, canvas: document.createElement("canvas"), timer: null, sentFrames: new Map() };
    this.requestUpdate();
    this.webcamLoop();
  }

  private webcamLoop(): void {
    const cam = this.webcam;
    if (!cam) return;
    const again = (ms: number) => {
      if (this.webcam === cam) cam.timer = setTimeout(() => this.webcamLoop(), ms);
    };
    const v = cam.video;
    if (!this.ws.frameReady || v.readyState < 2 || !v.videoWidth) {
      again(20);
      return;
    }
    const w = Math.min(this.previewWidth, v.videoWidth);
    const h = Math.max(1, Math.round((w * v.videoHeight) / v.videoWidth));
    cam.canvas.width = w;
    cam.canvas.height = h;
    cam.canvas.getContext("2d")?.drawImage(v, 0, 0, w, h);
    cam.canvas.toBlob(
      (blob) => {
        if (this.webcam !== cam) return;
        if (blob) {
          const seq = this.ws.frame(
            { filters: wireSteps(this.steps), contentType: "image/jpeg", previewWidth: this.previewWidth },
            blob,
          );
          if (seq !== null) cam.sentFrames.set(seq, URL.createObjectURL(blob));
        }
        again(0);
      },
      "image/jpeg",
      0.85,
    );
  }

  private stopWebcam(): void {
    const cam = this.webcam;
    if (!cam) return;
    this.webcam = null;
    if (cam.timer) clearTimeout(cam.timer);
    for (const t of cam.stream.getTracks()) t.stop();
    cam.video.srcObject = null;
    for (const u of cam.sentFrames.values()) URL.revokeObjectURL(u);
    if (this.view) {
      if (this.view.after.startsWith("blob:")) URL.revokeObjectURL(this.view.after);
      if (this.view.before.startsWith("blob:")) URL.revokeObjectURL(this.view.before);
    }
    this.view = null;
    this.requestUpdate();
  }

  // ------------------------------------------------------------ render

  override render() {
    const im = this.selected();
    const enabled = this.steps.filter((s) => s.enabled).length;
    const heading = this.webcam ? "Webcam" : im ? `${im.name} (${im.width}×${im.height})` : "";
    return html`<header class="topbar">
        <h1 class="brand">gpix <span class="muted version" data-testid="version">${this.version}</span></h1>
        <span class="ws-status" data-testid="ws-status" data-state=${this.wsState} role="status"
          title="Live preview connection">${WS_LABEL[this.wsState]}${this.wsState === "reconnecting" && this.wsAttempt > 1 ? ` (try ${this.wsAttempt})` : ""}</span>
        <button class="drawer-toggle" data-testid="drawer-toggle" aria-controls="filter-drawer"
          aria-expanded=${this.drawerOpen ? "true" : "false"}
          @click=${() => {
            this.drawerOpen = !this.drawerOpen;
            this.requestUpdate();
          }}>Filters <span class="badge" data-testid="pipeline-count">${enabled}/${this.steps.length}</span></button>
      </header>
      <gpix-errors .errors=${this.errors} @dismiss-error=${(e: CustomEvent<number>) => this.dismissError(e.detail)}></gpix-errors>
      <main class="layout ${this.drawerOpen ? "with-drawer" : ""}">
        <gpix-viewer class="area-viewer" .view=${this.view} .stats=${this.stats} .previewWidth=${this.previewWidth}
          heading=${heading} note=${this.note} ?busy=${this.busy}
          @preview-width=${(e: CustomEvent<number>) => {
            this.previewWidth = e.detail;
            this.refreshPreview();
          }}></gpix-viewer>
        <gpix-drawer class="area-drawer" .catalog=${this.catalog} .steps=${this.steps} .open=${this.drawerOpen}
          @pipeline-action=${(e: CustomEvent<PipelineAction>) => this.onPipeline(e.detail)}
          @param-change=${(e: CustomEvent<ParamChange>) => this.onParam(e.detail)}></gpix-drawer>
        <gpix-process class="area-process" .backends=${this.backends} defaultBackend=${this.defaultBackend} backend=${this.backend}
          format=${this.format} .quality=${this.quality} .job=${this.job} ?canRun=${!!im && !this.webcam}
          @backend=${(e: CustomEvent<string>) => {
            this.backend = e.detail;
            this.requestUpdate();
          }}
          @format=${(e: CustomEvent<OutputFormat>) => {
            this.format = e.detail;
            this.requestUpdate();
          }}
          @quality=${(e: CustomEvent<number>) => {
            this.quality = Math.max(1, Math.min(100, Math.round(e.detail) || 90));
            this.requestUpdate();
          }}
          @process=${() => void this.runProcess()}
          @cancel=${() => this.jobAbort?.abort()}
          @open-result=${(e: CustomEvent<string>) => this.select(e.detail)}></gpix-process>
        <gpix-gallery class="area-gallery" .images=${this.images} .thumbs=${this.thumbs} selected=${this.selectedId}
          .upload=${this.upload} ?webcam=${!!this.webcam} ?loading=${this.loadingImages}
          @select-image=${(e: CustomEvent<string>) => this.select(e.detail)}
          @upload-files=${(e: CustomEvent<File[]>) => void this.uploadFiles(e.detail)}
          @delete-image=${(e: CustomEvent<string>) => void this.deleteImage(e.detail)}
          @webcam-toggle=${() => void this.toggleWebcam()}></gpix-gallery>
      </main>`;
  }
}
customElements.define("gpix-app", GpixApp);
