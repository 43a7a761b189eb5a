// Where the API lives. The UI is served by gpixd itself, so by default it
// calls its own origin. A page that embeds the bundle elsewhere (the
// cross-origin tests, a dev server) can set `globalThis.GPIX_CONFIG =
// { server: "http://host:port" }` before the bundle loads.
import { wsUrlFor } from "./lib/framing.ts";

interface GpixConfig {
  server?: string;
}

export function serverBase(): string {
  const cfg = (globalThis as { GPIX_CONFIG?: GpixConfig }).GPIX_CONFIG;
  return (cfg?.server || location.origin).replace(/\/+$/, "");
}

export function wsUrl(): string {
  return wsUrlFor(serverBase());
}
