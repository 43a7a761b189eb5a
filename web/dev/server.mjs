#!/usr/bin/env node
// Development server for the web UI: serves web/dist/ and forwards the API
// (/gpix.*, /grpc.*, /v1/*, /healthz, /readyz, /metrics) to a running gpixd.
// GET /ws is forwarded too, or, with --mock-ws (for a gpixd that has no
// WebSocket endpoint yet), answered here per shared/api/API.md by calling
// gpixd's ProcessImage RPC for each preview and frame.
//
//   node dev/server.mjs --gpixd http://127.0.0.1:8080 [--listen 127.0.0.1:5173]
//                       [--mock-ws] [--allowed-origins a,b]
//
// Not used in production: gpixd serves the built UI itself (--web-dir).
import http from "node:http";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";

const here = path.dirname(fileURLToPath(import.meta.url));

export function parseArgs(argv) {
  const o = { gpixd: "http://127.0.0.1:8080", listen: "127.0.0.1:5173", mockWs: false, allowedOrigins: [], dist: path.join(here, "..", "dist") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--gpixd") o.gpixd = argv[++i];
    else if (a === "--listen") o.listen = argv[++i];
    else if (a === "--mock-ws") o.mockWs = true;
    else if (a === "--allowed-origins") o.allowedOrigins = argv[++i].split(",").filter(Boolean);
    else if (a === "--dist") o.dist = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg" };
const API = /^\/(gpix\.|grpc\.|v1\/|healthz$|readyz$|metrics$)/;

export async function startDevServer(opts) {
  const upstream = new URL(opts.gpixd);

  const proxy = (req, res) => {
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on("error", (e) => {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "unavailable", message: `dev proxy: ${e.message}` }));
    });
    req.pipe(up);
  };

  const serveStatic = async (req, res) => {
    const u = new URL(req.url, "http://x");
    let rel = decodeURIComponent(u.pathname).replace(/^\/+/, "") || "index.html";
    if (rel.split("/").some((s) => s.startsWith("."))) rel = "index.html";
    const file = path.join(opts.dist, rel);
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error("not a file");
      res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream", "cache-control": rel.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache" });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  };

  const server = http.createServer((req, res) => {
    const p = new URL(req.url, "http://x").pathname;
    if (API.test(p)) proxy(req, res);
    else void serveStatic(req, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 32 << 20 });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url, "http://x").pathname !== "/ws") {
      socket.destroy();
      return;
    }
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}` && !opts.allowedOrigins.includes(origin)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    if (!opts.mockWs) {
      // Forward the upgrade to gpixd as it is.
      const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, headers: { ...req.headers, host: upstream.host } });
      up.on("upgrade", (ur, us, uh) => {
        socket.write(`HTTP/1.1 101 Switching Protocols\r\n${Object.entries(ur.headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n`);
        if (uh.length) socket.write(uh);
        if (head.length) us.write(head);
        us.pipe(socket).pipe(us);
      });
      up.on("response", (ur) => {
        socket.end(`HTTP/1.1 ${ur.statusCode} ${ur.statusMessage}\r\nContent-Length: 0\r\n\r\n`);
      });
      up.on("error", () => socket.destroy());
      up.end();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => mockSession(ws, upstream));
  });

  const [host, port] = opts.listen.split(":");
  await new Promise((resolve) => server.listen(Number(port), host, resolve));
  const addr = server.address();
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function rpc(upstream, method, body) {
  const r = await fetch(new URL(`/gpix.v1.ImageService/${method}`, upstream), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) throw Object.assign(new Error(j.message), { code: j.code ?? "unknown" });
  return j;
}

/** One WebSocket session answered with ProcessImage calls (latest wins). */
function mockSession(ws, upstream) {
  const st = { imageId: "", filters: [], previewWidth: 640 };
  let busy = false;
  let pendingTune = null;
  let pendingFrameHeader = null;
  const send = (o) => ws.readyState === 1 && ws.send(JSON.stringify(o));

  const runTune = async (seq) => {
    busy = true;
    try {
      const r = await rpc(upstream, "ProcessImage", {
        imageId: st.imageId,
        filters: st.filters,
        output: { format: "IMAGE_FORMAT_JPEG", quality: 80, maxWidth: st.previewWidth || 640 },
      });
      send({ type: "preview", seq, width: r.width, height: r.height, contentType: r.contentType, timing: r.timing, filters: st.filters });
      if (ws.readyState === 1) ws.send(Buffer.from(r.imageData, "base64"));
    } catch (e) {
      send({ type: "error", code: e.code ?? "internal", message: e.message, seq });
    } finally {
      busy = false;
      if (pendingTune !== null) {
        const s = pendingTune;
        pendingTune = null;
        void runTune(s);
      }
    }
  };

  ws.on("message", (data, isBinary) => {
    if (isBinary) {
      const h = pendingFrameHeader;
      pendingFrameHeader = null;
      if (!h) return send({ type: "error", code: "invalid_argument", message: "binary message without a frame header" });
      rpc(upstream, "ProcessImage", {
        imageData: Buffer.from(data).toString("base64"),
        filters: h.filters ?? [],
        output: { format: "IMAGE_FORMAT_JPEG", quality: 80, maxWidth: h.previewWidth || 640 },
      })
        .then((r) => {
          send({ type: "frame", seq: h.seq, width: r.width, height: r.height, contentType: r.contentType, timing: r.timing });
          if (ws.readyState === 1) ws.send(Buffer.from(r.imageData, "base64"));
        })
        .catch((e) => send({ type: "error", code: e.code ?? "internal", message: e.message, seq: h.seq }));
      return;
    }
    let m;
    try {
      m = JSON.parse(String(data));
    } catch {
      return send({ type: "error", code: "invalid_argument", message: "malformed JSON" });
    }
    switch (m.type) {
      case "ping":
        return send({ type: "pong" });
      case "tune":
        if (m.imageId) st.imageId = m.imageId;
        if (Array.isArray(m.filters) && m.filters.length) st.filters = m.filters;
        if (m.previewWidth) st.previewWidth = m.previewWidth;
        if (!st.imageId) return send({ type: "error", code: "invalid_argument", message: "imageId is required", seq: m.seq });
        if (busy) pendingTune = m.seq;
        else void runTune(m.seq);
        return;
      case "frame":
        pendingFrameHeader = m;
        return;
      default:
        return send({ type: "error", code: "invalid_argument", message: `unknown message type ${JSON.stringify(m.type)}`, ...(m.seq !== undefined ? { seq: m.seq } : {}) });
    }
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const s = await startDevServer(opts);
  console.log(`dev server: ${s.url} (API: ${opts.gpixd}${opts.mockWs ? ", /ws mocked" : ""})`);
}
