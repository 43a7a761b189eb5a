// The gpix API as the UI uses it: Connect over fetch (unary and server
// streaming work over HTTP/1.1) to gpix.v1.ImageService at the UI's own
// origin, plus the plain-HTTP upload route (XMLHttpRequest, for progress).

import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ImageService, ImageFormat } from "../gen/gpix/v1/image_service_pb.ts";
import { parseErrorBody, toAppError, type AppError } from "../lib/errors.ts";
import type { FilterMeta } from "../lib/params.ts";
import type { WireStep } from "../lib/pipeline.ts";
import type { ImageInfo } from "../lib/images.ts";
import {
  imageInfoFromJson,
  toBackendInfo,
  toFilterMeta,
  toFilterSteps,
  toImageInfo,
  type BackendInfo,
} from "./convert.ts";

export type OutputFormat = "same" | "jpeg" | "png";

export interface ProcessUpdate {
  percent: number;
  status: string;
  stage: string;
  resultImageId: string;
  totalMs?: number;
}

export interface ServerInfo {
  version: string;
  apiVersion: string;
}

function formatEnum(f: OutputFormat): ImageFormat {
  return f === "jpeg" ? ImageFormat.JPEG : f === "png" ? ImageFormat.PNG : ImageFormat.UNSPECIFIED;
}

export class Api {
  readonly base: string;
  private client: Client<typeof ImageService>;

  constructor(base: string) {
    this.base = base.replace(/\/+$/, "");
    // Binary protobuf: smaller than JSON for image bytes; errors stay JSON.
    const transport = createConnectTransport({ baseUrl: this.base, useBinaryFormat: true });
    this.client = createClient(ImageService, transport);
  }

  url(path: string): string {
    return path.startsWith("http") ? path : this.base + path;
  }

  async version(): Promise<ServerInfo> {
    const r = await this.client.getVersion({});
    return { version: r.version, apiVersion: r.apiVersion };
  }

  async filters(): Promise<FilterMeta[]> {
    const r = await this.client.listFilters({});
    return r.filters.map(toFilterMeta);
  }

  async backends(): Promise<{ backends: BackendInfo[]; defaultBackend: string }> {
    const r = await this.client.listBackends({});
    return { backends: r.backends.map(toBackendInfo), defaultBackend: r.defaultBackend };
  }

  async images(): Promise<ImageInfo[]> {
    const out: ImageInfo[] = [];
    let pageToken = "";
    for (let page = 0; page < 50; page++) {
      const r = await this.client.listImages({ pageSize: 100, pageToken });
      out.push(...r.images.map(toImageInfo));
      pageToken = r.nextPageToken;
      if (!pageToken) break;
    }
    return out;
  }

  async image(id: string): Promise<ImageInfo> {
    return toImageInfo(await this.client.getImage({ imageId: id }));
  }

  async deleteImage(id: string): Promise<void> {
    await this.client.deleteImage({ imageId: id });
  }

  /** A small JPEG of a stored image (ProcessImage with no filters). */
  async thumbnail(id: string, maxWidth: number, signal?: AbortSignal): Promise<Blob> {
    const r = await this.client.processImage(
      { source: { case: "imageId", value: id }, filters: [], output: { format: ImageFormat.JPEG, quality: 70, maxWidth, maxHeight: maxWidth } },
      { signal },
    );
    return new Blob([r.imageData as Uint8Array<ArrayBuffer>], { type: r.contentType || "image/jpeg" });
  }

  /** Full-resolution Process with streamed progress; the last update carries
   * the saved result's id. */
  async *process(
    req: { imageId: string; filters: WireStep[]; backend: string; format: OutputFormat; quality: number },
    signal?: AbortSignal,
  ): AsyncGenerator<ProcessUpdate> {
    const stream = this.client.process(
      {
        imageId: req.imageId,
        filters: toFilterSteps(req.filters),
        backend: req.backend === "auto" ? "" : req.backend,
        output: { format: formatEnum(req.format), quality: req.quality },
      },
      { signal },
    );
    for await (const m of stream) {
      yield { percent: m.percent, status: m.status, stage: m.stage, resultImageId: m.resultImageId, totalMs: m.timing?.totalMs };
    }
  }

  /** POST /v1/images as multipart/form-data with upload progress. */
  upload(file: File, onProgress: (loaded: number, total: number) => void, signal?: AbortSignal): Promise<ImageInfo> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.url(`/v1/images?name=${encodeURIComponent(file.name)}`));
      xhr.responseType = "text";
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
      xhr.onload = () => {
        if (xhr.status === 201 || xhr.status === 200) {
          try {
            const body = JSON.parse(xhr.responseText) as { imageId?: string; image?: Record<string, unknown> };
            const im = imageInfoFromJson(body.image ?? { id: body.imageId, name: file.name });
            onProgress(file.size, file.size);
            resolve(im);
          } catch (e) {
            reject(toAppError(e, "upload"));
          }
          return;
        }
        reject({ ...parseErrorBody(xhr.status, xhr.responseText), context: "upload" } satisfies AppError);
      };
      xhr.onerror = () => reject({ code: "unavailable", message: "upload failed: cannot reach the server", context: "upload" } satisfies AppError);
      xhr.onabort = () => reject({ code: "canceled", message: "upload canceled", context: "upload" } satisfies AppError);
      signal?.addEventListener("abort", () => xhr.abort());
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  }
}
