// Plain-HTTP image routes: POST /v1/images (raw body and multipart/form-data
// from curl -F), GET|HEAD /v1/images/{id}/content with a strong ETag and
// If-None-Match → 304, and raw POST /v1/process (image in, image out) with
// its Server-Timing and x-gpix-* headers; over HTTP/1.1 and HTTP/2.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { imageInfo, isJpeg, isPng, sampleBytes, sha256hex, stopServer, uploadRaw } from "./lib/gpix.mjs";
import { curl, request } from "./lib/http.mjs";
import { repoRoot, startServer } from "./lib/server.mjs";

let server;
before(async () => {
	server = await startServer();
});
after(async () => {
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

const ID_RE = /^[A-Za-z0-9._-]+$/;

function checkUploadResponse(res, { name, format, width, height, bytes }) {
	assert.equal(res.status, 201, res.text());
	assert.match(res.headers["content-type"], /^application\/json/);
	const body = res.json();
	assert.match(body.imageId, ID_RE);
	assert.equal(res.headers.location, `/v1/images/${body.imageId}`);
	const im = body.image;
	assert.equal(im.id, body.imageId);
	assert.equal(im.name, name);
	assert.equal(im.format, format);
	assert.equal(im.width, width);
	assert.equal(im.height, height);
	assert.equal(im.sizeBytes, String(bytes.length));
	assert.equal(im.sha256, sha256hex(bytes));
	assert.equal(im.source, "IMAGE_SOURCE_UPLOAD");
	assert.equal(im.contentUrl, `/v1/images/${body.imageId}/content`);
	return body.imageId;
}

for (const httpVersion of ["1.1", "2"]) {
	describe(`POST /v1/images over HTTP/${httpVersion}`, () => {
		test("a raw PNG body: 201, Location, UploadResponse JSON; GetImage agrees", async () => {
			const bytes = sampleBytes("chelsea.png");
			const res = await uploadRaw(server.baseUrl, bytes, { name: "my cat.png", httpVersion });
			const id = checkUploadResponse(res, {
				name: "my cat.png", format: "IMAGE_FORMAT_PNG", width: 451, height: 300, bytes,
			});
			const got = await request(server.baseUrl, { path: `/v1/images/${id}`, httpVersion });
			assert.equal(got.status, 200);
			assert.deepEqual(got.json(), res.json().image);
		});

		test("a raw JPEG body", async () => {
			const bytes = sampleBytes("rocket.jpg");
			const res = await uploadRaw(server.baseUrl, bytes, { contentType: "image/jpeg", name: "rocket.jpg", httpVersion });
			checkUploadResponse(res, { name: "rocket.jpg", format: "IMAGE_FORMAT_JPEG", width: 640, height: 427, bytes });
		});
	});
}

describe("POST /v1/images multipart/form-data (curl -F)", () => {
	for (const [flag, label] of [[[], "HTTP/1.1"], [["--http2-prior-knowledge"], "HTTP/2"]]) {
		test(`curl -F file=@rocket.jpg over ${label}`, async () => {
			const file = join(repoRoot, "data/samples/rocket.jpg");
			const res = await curl([...flag, "-F", `file=@${file}`, `${server.baseUrl}/v1/images`]);
			assert.equal(res.exitCode, 0, res.stderr);
			checkUploadResponse(res, {
				name: "rocket.jpg", format: "IMAGE_FORMAT_JPEG", width: 640, height: 427, bytes: sampleBytes("rocket.jpg"),
			});
		});
	}

	test("multipart with another field before the file", async () => {
		const file = join(repoRoot, "data/samples/chelsea.png");
		const res = await curl(["-F", "note=hello", "-F", `file=@${file};type=image/png;filename=cat.png`, `${server.baseUrl}/v1/images`]);
		checkUploadResponse(res, {
			name: "cat.png", format: "IMAGE_FORMAT_PNG", width: 451, height: 300, bytes: sampleBytes("chelsea.png"),
		});
	});
});

for (const httpVersion of ["1.1", "2"]) {
	describe(`GET|HEAD /v1/images/{id}/content over HTTP/${httpVersion}`, () => {
		const path = "/v1/images/sample-storm/content";
		const bytes = sampleBytes("storm.jpg");
		const etag = `"${sha256hex(bytes)}"`;

		test("GET: the stored bytes, Content-Type, Content-Length and a strong ETag", async () => {
			const res = await request(server.baseUrl, { path, httpVersion });
			assert.equal(res.status, 200);
			assert.equal(res.headers["content-type"], "image/jpeg");
			assert.equal(Number(res.headers["content-length"]), bytes.length);
			assert.equal(res.headers.etag, etag, "ETag is the quoted sha256");
			assert.ok(res.body.equals(bytes), "the bytes of data/samples/storm.jpg");
		});

		test("If-None-Match with the ETag: 304 with no body; another ETag: 200", async () => {
			const res = await request(server.baseUrl, { path, httpVersion, headers: { "if-none-match": etag } });
			assert.equal(res.status, 304);
			assert.equal(res.body.length, 0);
			assert.equal(res.headers.etag, etag);
			const list = await request(server.baseUrl, { path, httpVersion, headers: { "if-none-match": `"nope", ${etag}` } });
			assert.equal(list.status, 304, "a list containing the ETag matches");
			const star = await request(server.baseUrl, { path, httpVersion, headers: { "if-none-match": "*" } });
			assert.equal(star.status, 304, "* matches any current representation");
			const other = await request(server.baseUrl, { path, httpVersion, headers: { "if-none-match": `"${"0".repeat(64)}"` } });
			assert.equal(other.status, 200);
			assert.equal(other.body.length, bytes.length);
		});

		// HTTP/1.1 HEAD answers Content-Length: 0 (and Connection: close).
		const headTodo = httpVersion === "1.1"
			? {}
			: {};
		test("HEAD: the GET headers, no body", headTodo, async () => {
			const res = await request(server.baseUrl, { method: "HEAD", path, httpVersion });
			assert.equal(res.status, 200);
			assert.equal(res.headers["content-type"], "image/jpeg");
			assert.equal(Number(res.headers["content-length"]), bytes.length);
			assert.equal(res.headers.etag, etag);
			assert.equal(res.body.length, 0);
		});

		test("an uploaded image's content is what was uploaded", async () => {
			const up = await uploadRaw(server.baseUrl, sampleBytes("chelsea.png"), { httpVersion });
			assert.equal(up.status, 201);
			const res = await request(server.baseUrl, { path: up.json().image.contentUrl, httpVersion });
			assert.equal(res.status, 200);
			assert.equal(res.headers["content-type"], "image/png");
			assert.ok(res.body.equals(sampleBytes("chelsea.png")));
		});

		test("an unknown id is 404", async () => {
			const res = await request(server.baseUrl, { path: "/v1/images/no-such-image/content", httpVersion });
			assert.equal(res.status, 404);
		});
	});
}

/** "queue;dur=1.2, decode;dur=3" → { queue: 1.2, decode: 3 } */
function serverTiming(header) {
	const out = {};
	for (const part of String(header ?? "").split(",")) {
		const [name, ...params] = part.trim().split(";");
		const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
		if (name) out[name.trim()] = dur ? Number(dur.slice(4)) : NaN;
	}
	return out;
}

for (const httpVersion of ["1.1", "2"]) {
	describe(`raw POST /v1/process over HTTP/${httpVersion}`, () => {
		test("PNG in, ?format=png: PNG bytes, x-gpix-width/height, Server-Timing", async () => {
			const res = await request(server.baseUrl, {
				method: "POST",
				path: "/v1/process?filters=grayscale,blur&blur.sigma=3&format=png",
				headers: { "content-type": "image/png" },
				body: sampleBytes("chelsea.png"),
				httpVersion,
			});
			assert.equal(res.status, 200, res.text().slice(0, 200));
			assert.equal(res.headers["content-type"], "image/png");
			assert.ok(isPng(res.body), "PNG magic");
			const info = imageInfo(res.body);
			assert.deepEqual([info.width, info.height], [451, 300]);
			assert.equal(Number(res.headers["x-gpix-width"]), 451);
			assert.equal(Number(res.headers["x-gpix-height"]), 300);
			assert.equal(info.colorType, 0, "grayscale gives a gray PNG");
			const t = serverTiming(res.headers["server-timing"]);
			for (const k of ["queue", "decode", "filter", "encode"]) {
				assert.ok(Number.isFinite(t[k]) && t[k] >= 0, `Server-Timing ${k} in "${res.headers["server-timing"]}"`);
			}
			assert.ok(t.decode > 0 && t.filter > 0 && t.encode > 0, "the stages took time");
		});

		test("JPEG in, no format: JPEG out; quality changes the size", async () => {
			const sizes = [];
			for (const quality of [20, 95]) {
				const res = await request(server.baseUrl, {
					method: "POST",
					path: `/v1/process?filters=sharpen&quality=${quality}&backend=cpu`,
					headers: { "content-type": "image/jpeg" },
					body: sampleBytes("rocket.jpg"),
					httpVersion,
				});
				assert.equal(res.status, 200, res.text().slice(0, 200));
				assert.equal(res.headers["content-type"], "image/jpeg");
				assert.ok(isJpeg(res.body), "JPEG magic");
				assert.deepEqual(imageInfo(res.body), { format: "jpeg", width: 640, height: 427 });
				assert.equal(res.headers["x-gpix-backend"], "cpu");
				sizes.push(res.body.length);
			}
			assert.ok(sizes[0] < sizes[1], `quality 20 (${sizes[0]} B) < quality 95 (${sizes[1]} B)`);
		});

		test("a filter that changes the size: rotate 90 swaps width and height", async () => {
			const res = await request(server.baseUrl, {
				method: "POST",
				path: "/v1/process?filters=rotate&rotate.angle=90&format=jpeg",
				headers: { "content-type": "image/png" },
				body: sampleBytes("chelsea.png"),
				httpVersion,
			});
			assert.equal(res.status, 200, res.text().slice(0, 200));
			assert.deepEqual(imageInfo(res.body), { format: "jpeg", width: 300, height: 451 });
			assert.equal(Number(res.headers["x-gpix-width"]), 300);
		});

		test("an unknown filter is 400 invalid_argument naming it", async () => {
			const res = await request(server.baseUrl, {
				method: "POST",
				path: "/v1/process?filters=grayscale,sparkle",
				headers: { "content-type": "image/png" },
				body: sampleBytes("chelsea.png"),
				httpVersion,
			});
			assert.equal(res.status, 400);
			assert.equal(res.json().code, "invalid_argument");
			assert.match(res.json().message, /sparkle/);
		});
	});
}

test("raw POST /v1/process with curl --data-binary", async () => {
	const file = join(repoRoot, "data/samples/chelsea.png");
	const res = await curl([
		"-H", "Content-Type: image/png", "--data-binary", `@${file}`,
		`${server.baseUrl}/v1/process?filters=edge&format=png`,
	]);
	assert.equal(res.status, 200);
	assert.ok(isPng(res.body));
	assert.match(res.headers["server-timing"] ?? "", /queue;dur=[\d.]+.*decode;dur=[\d.]+.*filter;dur=[\d.]+.*encode;dur=[\d.]+/);
});
