// Gallery helpers: image records as the UI keeps them. Pure module.

export type Source = "sample" | "upload" | "result";

export interface ImageInfo {
  id: string;
  name: string;
  width: number;
  height: number;
  sizeBytes: number;
  source: Source;
  format: "jpeg" | "png" | "";
  contentUrl: string;
  createdAt?: string;
}

export const SOURCE_ORDER: Source[] = ["sample", "upload", "result"];
export const SOURCE_LABEL: Record<Source, string> = { sample: "Samples", upload: "Uploads", result: "Results" };

/** Groups images by source, newest uploads/results first, samples by name. */
export function groupImages(images: readonly ImageInfo[]): Record<Source, ImageInfo[]> {
  const out: Record<Source, ImageInfo[]> = { sample: [], upload: [], result: [] };
  for (const im of images) out[im.source].push(im);
  out.sample.sort((a, b) => a.name.localeCompare(b.name));
  const newest = (a: ImageInfo, b: ImageInfo) => (b.createdAt ?? "").localeCompare(a.createdAt ?? "") || a.id.localeCompare(b.id);
  out.upload.sort(newest);
  out.result.sort(newest);
  return out;
}

/** Adds or replaces one image by id. */
export function upsertImage(images: readonly ImageInfo[], im: ImageInfo): ImageInfo[] {
  const i = images.findIndex((x) => x.id === im.id);
  if (i < 0) return [...images, im];
  const out = images.slice();
  out[i] = im;
  return out;
}

export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A download name for a processed result: "rocket-blur-edge.png". */
export function resultFileName(sourceName: string, filters: readonly string[], contentType: string): string {
  const base = sourceName.replace(/\.[^.]+$/, "") || "image";
  const ext = contentType.includes("png") ? "png" : "jpg";
  const tag = filters.length ? `-${filters.slice(0, 4).join("-")}` : "";
  return `${base}${tag}.${ext}`.replace(/[^\w.-]+/g, "_");
}

/** Files a user dropped or picked that look like images we can upload. */
export function acceptableFile(f: { name: string; type: string }): boolean {
  return /^image\/(jpeg|png)$/.test(f.type) || /\.(jpe?g|png)$/i.test(f.name);
}
