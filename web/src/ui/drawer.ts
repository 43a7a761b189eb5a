// The filter drawer: the catalogue from ListFilters (add a filter) and the
// pipeline being edited: steps in order, each switched on or off, reordered
// by drag and drop or with the move buttons, parameters generated from the
// metadata.
import { html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { LightElement, slug } from "./base.ts";
import "./param.ts";
import type { FilterMeta } from "../lib/params.ts";
import type { Step } from "../lib/pipeline.ts";

export type PipelineAction =
  | { kind: "add"; name: string }
  | { kind: "remove"; uid: string }
  | { kind: "toggle"; uid: string; enabled: boolean }
  | { kind: "move"; uid: string; delta: number }
  | { kind: "drop"; uid: string; before: string | null }
  | { kind: "reset"; uid: string }
  | { kind: "clear" };

const DRAG_TYPE = "application/x-gpix-step";

export class GpixDrawer extends LightElement {
  static override properties = {
    catalog: { attribute: false },
    steps: { attribute: false },
    open: { type: Boolean, reflect: true },
    query: { state: true },
    dropTarget: { state: true },
  };
  declare catalog: FilterMeta[];
  declare steps: Step[];
  declare open: boolean;
  declare query: string;
  declare dropTarget: string | null;
  private dragging: string | null = null;
  /** Keyboard reordering moves the step's DOM node, which drops focus: the
   * handle gets it back once the new order is rendered. */
  private focusUid: string | null = null;

  constructor() {
    super();
    this.catalog = [];
    this.steps = [];
    this.open = true;
    this.query = "";
    this.dropTarget = null;
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has("steps") && this.focusUid) {
      (this.querySelector(`[data-uid="${this.focusUid}"] .drag-handle`) as HTMLElement | null)?.focus();
      this.focusUid = null;
    }
  }

  private act(a: PipelineAction): void {
    this.emit<PipelineAction>("pipeline-action", a);
  }

  private meta(name: string): FilterMeta | undefined {
    return this.catalog.find((f) => f.name === name);
  }

  private onDragStart(e: DragEvent, uid: string): void {
    this.dragging = uid;
    e.dataTransfer?.setData(DRAG_TYPE, uid);
    e.dataTransfer?.setData("text/plain", uid);
    if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
    const li = (e.target as HTMLElement).closest("li");
    if (li && e.dataTransfer?.setDragImage) e.dataTransfer.setDragImage(li, 16, 16);
  }

  private targetFor(e: DragEvent, uid: string): string | null {
    const li = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const after = e.clientY > li.top + li.height / 2;
    if (!after) return uid;
    const i = this.steps.findIndex((s) => s.uid === uid);
    return this.steps[i + 1]?.uid ?? null;
  }

  private onDragOver(e: DragEvent, uid: string): void {
    if (!this.dragging && !e.dataTransfer?.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
    const t = this.targetFor(e, uid);
    this.dropTarget = t ?? "__end";
  }

  private onDrop(e: DragEvent, uid: string): void {
    const moving = e.dataTransfer?.getData(DRAG_TYPE) || this.dragging;
    if (!moving) return;
    e.preventDefault();
    this.act({ kind: "drop", uid: moving, before: this.targetFor(e, uid) });
    this.dragging = null;
    this.dropTarget = null;
  }

  private onDragEnd(): void {
    this.dragging = null;
    this.dropTarget = null;
  }

  private onHandleKey(e: KeyboardEvent, uid: string): void {
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      this.focusUid = uid;
      this.act({ kind: "move", uid, delta: e.key === "ArrowUp" ? -1 : 1 });
    }
  }

  private renderStep(s: Step, i: number) {
    const m = this.meta(s.name);
    const label = m?.displayName ?? s.name;
    const n = this.steps.length;
    return html`<li class="step ${s.enabled ? "" : "step-off"} ${this.dropTarget === s.uid ? "drop-before" : ""}"
        data-testid="pipeline-step" data-uid=${s.uid} data-filter=${s.name} data-index=${i}
        data-enabled=${s.enabled ? "true" : "false"} aria-label="Step ${i + 1}: ${label}${s.enabled ? "" : " (off)"}"
        @dragover=${(e: DragEvent) => this.onDragOver(e, s.uid)}
        @drop=${(e: DragEvent) => this.onDrop(e, s.uid)}>
      <div class="step-head">
        <span class="drag-handle" role="button" tabindex="0" draggable="true" data-testid="drag-handle"
          aria-label="Reorder ${label}: drag, or use the arrow keys" title="Drag to reorder (or arrow keys)"
          @dragstart=${(e: DragEvent) => this.onDragStart(e, s.uid)} @dragend=${() => this.onDragEnd()}
          @keydown=${(e: KeyboardEvent) => this.onHandleKey(e, s.uid)}>⋮⋮</span>
        <span class="step-index" aria-hidden="true">${i + 1}</span>
        <span class="step-name" data-testid="step-name">${label}</span>
        <label class="switch compact" title="${s.enabled ? "Turn off" : "Turn on"}">
          <input type="checkbox" role="switch" data-testid="step-toggle" .checked=${s.enabled}
            aria-label="Enable ${label}"
            @change=${(e: Event) => this.act({ kind: "toggle", uid: s.uid, enabled: (e.target as HTMLInputElement).checked })} />
          <span class="switch-track" aria-hidden="true"></span>
        </label>
        <button class="icon" data-testid="step-up" aria-label="Move ${label} up" ?disabled=${i === 0}
          @click=${() => this.act({ kind: "move", uid: s.uid, delta: -1 })}>↑</button>
        <button class="icon" data-testid="step-down" aria-label="Move ${label} down" ?disabled=${i === n - 1}
          @click=${() => this.act({ kind: "move", uid: s.uid, delta: 1 })}>↓</button>
        <button class="icon" data-testid="step-reset" aria-label="Reset ${label} to defaults" title="Defaults"
          ?disabled=${!m || m.params.length === 0} @click=${() => this.act({ kind: "reset", uid: s.uid })}>↺</button>
        <button class="icon danger" data-testid="step-remove" aria-label="Remove ${label}"
          @click=${() => this.act({ kind: "remove", uid: s.uid })}>✕</button>
      </div>
      ${m && m.params.length
        ? html`<div class="step-params" role="group" aria-label="${label} parameters">
            ${m.params.map(
              (p) => html`<gpix-param .meta=${p} .value=${s.params[p.name]} uid=${s.uid} filter=${s.name}></gpix-param>`,
            )}
          </div>`
        : nothing}
    </li>`;
  }

  override render() {
    const q = this.query.trim().toLowerCase();
    const shown = q
      ? this.catalog.filter((f) => `${f.name} ${f.displayName} ${f.description}`.toLowerCase().includes(q))
      : this.catalog;
    return html`<aside id="filter-drawer" class="drawer" data-testid="filter-drawer" aria-label="Filters" ?hidden=${!this.open}>
      <section class="pipeline-section" aria-labelledby="pipeline-title">
        <div class="section-head">
          <h2 id="pipeline-title">Pipeline</h2>
          <button class="link" data-testid="pipeline-clear" ?disabled=${this.steps.length === 0}
            @click=${() => this.act({ kind: "clear" })}>Clear</button>
        </div>
        ${this.steps.length === 0
          ? html`<p class="empty" data-testid="pipeline-empty">No filters yet: add one below.</p>`
          : nothing}
        <ol class="pipeline" data-testid="pipeline" aria-label="Pipeline steps, in order">
          ${repeat(this.steps, (s) => s.uid, (s, i) => this.renderStep(s, i))}
          <li class="drop-end ${this.dropTarget === "__end" ? "drop-before" : ""}" aria-hidden="true"
            @dragover=${(e: DragEvent) => {
              if (this.dragging) {
                e.preventDefault();
                this.dropTarget = "__end";
              }
            }}
            @drop=${(e: DragEvent) => {
              const moving = e.dataTransfer?.getData(DRAG_TYPE) || this.dragging;
              if (!moving) return;
              e.preventDefault();
              this.act({ kind: "drop", uid: moving, before: null });
              this.onDragEnd();
            }}></li>
        </ol>
      </section>
      <section class="catalog-section" aria-labelledby="catalog-title">
        <div class="section-head">
          <h2 id="catalog-title">Add a filter</h2>
          <span class="muted" data-testid="filter-count">${this.catalog.length} filters</span>
        </div>
        <input type="search" class="catalog-search" placeholder="Search filters" aria-label="Search filters"
          data-testid="filter-search" .value=${this.query}
          @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)} />
        <ul class="catalog" data-testid="filter-catalog">
          ${shown.map(
            (f) => html`<li class="filter-item" data-testid="filter-item" data-filter=${f.name}>
              <div class="filter-text">
                <span class="filter-name">${f.displayName}</span>
                ${f.plugin ? html`<span class="badge">${f.plugin}</span>` : nothing}
                <small class="muted">${f.description}</small>
                <small class="muted filter-params">${f.params.length
                  ? f.params.map((p) => p.displayName).join(" · ")
                  : "no parameters"}${f.backends.length ? ` — ${f.backends.join(", ")}` : ""}</small>
              </div>
              <button class="add" data-testid="add-filter-${slug(f.name)}" aria-label="Add ${f.displayName}"
                @click=${() => this.act({ kind: "add", name: f.name })}>Add</button>
            </li>`,
          )}
        </ul>
      </section>
    </aside>`;
  }
}
customElements.define("gpix-drawer", GpixDrawer);
