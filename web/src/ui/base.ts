import { LitElement } from "lit";

/** Lit element rendering into light DOM: one global stylesheet (app.css)
 * styles everything, and tests and assistive tech see a plain document. */
export class LightElement extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected emit<T>(type: string, detail?: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "-");
}
