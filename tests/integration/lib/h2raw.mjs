// One HTTP/2 request with node:http2 that keeps the response trailers (gRPC
// puts its status there), lets the caller write the body in pieces, and
// optionally leaves the request stream open (to see the server answer
// before the body is complete).
import http2 from "node:http2";

/**
 * opts: method (POST), path, headers, body (Buffer|string; written at once),
 * endStream (true: end the request after body), timeoutMs.
 * Resolves { status, headers, trailers, body: Buffer, rstCode, elapsedMs }.
 */
export function h2Request(baseUrl, { method = "POST", path, headers = {}, body, endStream = true, timeoutMs = 10000 } = {}) {
	return new Promise((ok, fail) => {
		const t0 = Date.now();
		const session = http2.connect(baseUrl);
		let status = 0;
		let resHeaders = {};
		let trailers = {};
		const chunks = [];
		let settled = false;
		const finish = (err) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			session.destroy();
			if (err && !status) fail(err);
			else ok({ status, headers: resHeaders, trailers, body: Buffer.concat(chunks), rstCode: req.rstCode, elapsedMs: Date.now() - t0 });
		};
		const timer = setTimeout(() => finish(new Error(`HTTP/2 ${method} ${path}: no complete answer in ${timeoutMs} ms`)), timeoutMs);
		session.on("error", (e) => finish(e));
		const req = session.request({ ":method": method, ":path": path, ...headers }, { endStream: false });
		const strip = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(":")));
		req.on("response", (h) => {
			status = h[":status"];
			resHeaders = strip(h);
		});
		req.on("trailers", (h) => {
			trailers = strip(h);
		});
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => finish());
		req.on("close", () => finish(new Error(`HTTP/2 ${method} ${path}: stream closed (rst ${req.rstCode}) without an answer`)));
		req.on("error", (e) => finish(e));
		if (body !== undefined) req.write(body);
		if (endStream) req.end();
	});
}

/** A response's gRPC status: from the trailers, or the headers of a trailers-only answer. */
export function grpcStatus(res) {
	const s = res.trailers["grpc-status"] ?? res.headers["grpc-status"];
	return s === undefined ? undefined : Number(s);
}

export function grpcMessage(res) {
	return decodeURIComponent(res.trailers["grpc-message"] ?? res.headers["grpc-message"] ?? "");
}
