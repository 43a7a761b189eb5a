// Engine RPCs over Connect (connect-node: HTTP/1.1 and HTTP/2, JSON and
// binary, GET for the side-effect-free ones) and over the REST routes:
// ListImages (samples, pagination, source filter), GetImage, DeleteImage,
// ListFilters, ListBackends and ProcessImage (by id, inline bytes, output
// format, quality, max_width, save, backends).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
	ImageFormat, ImageSource, ParameterType, connectVariants, imageClient,
} from "./lib/connect.mjs";
import {
	SAMPLE_IDS, connectUnaryVariants, imageInfo, isJpeg, isPng, listAllIds, sampleBytes, sha256hex, step, stopServer, uploadRaw,
} from "./lib/gpix.mjs";
import { request } from "./lib/http.mjs";
import { startServer } from "./lib/server.mjs";

let server;
before(async () => {
	server = await startServer();
});
after(async () => {
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

/** Awaits `promise` and asserts it rejects with a ConnectError of `code`. */
async function rejectsWith(promise, code, messageRe) {
	await assert.rejects(promise, (e) => {
		assert.ok(e instanceof ConnectError, `a ConnectError, got ${e}`);
		assert.equal(e.code, code, `code ${Code[e.code]} (${e.rawMessage})`);
		if (messageRe) assert.match(e.rawMessage, messageRe);
		return true;
	});
}

async function uploadChelsea(name = "engine-test.png") {
	const res = await uploadRaw(server.baseUrl, sampleBytes("chelsea.png"), { name });
	assert.equal(res.status, 201, res.text());
	return res.json().imageId;
}

const CHELSEA = { width: 451, height: 300, size: 240512, sha256: sha256hex(sampleBytes("chelsea.png")) };

// Read-only methods: every Connect variant, GET included.
for (const variant of connectVariants) {
	describe(`read-only RPCs, ${variant.name}`, () => {
		test("ListImages lists the six samples with stable ids", async () => {
			const client = imageClient(server.baseUrl, variant);
			const res = await client.listImages({ source: ImageSource.SAMPLE, pageSize: 100 });
			const ids = res.images.map((i) => i.id).sort();
			assert.deepEqual(ids, SAMPLE_IDS);
			for (const im of res.images) {
				assert.equal(im.source, ImageSource.SAMPLE, `${im.id} is a sample`);
				assert.equal(im.contentUrl, `/v1/images/${im.id}/content`);
			}
			const storm = res.images.find((i) => i.id === "sample-storm");
			assert.equal(storm.name, "storm.jpg");
			assert.equal(storm.format, ImageFormat.JPEG);
		});

		test("ListImages with page_size 2 follows nextPageToken through every image", async () => {
			const client = imageClient(server.baseUrl, variant);
			const all = (await client.listImages({ pageSize: 1000 })).images.map((i) => i.id);
			const seen = [];
			let pageToken = "";
			let pages = 0;
			do {
				const res = await client.listImages({ pageSize: 2, pageToken });
				assert.ok(res.images.length <= 2, `page ${pages} has ${res.images.length} images`);
				assert.ok(res.images.length > 0 || !res.nextPageToken, "only the last page may be empty");
				seen.push(...res.images.map((i) => i.id));
				pageToken = res.nextPageToken;
				pages++;
				assert.ok(pages <= all.length + 1, "pagination ends");
			} while (pageToken);
			assert.equal(new Set(seen).size, seen.length, `no image twice: ${seen}`);
			assert.deepEqual([...seen].sort(), [...all].sort());
			assert.ok(pages >= 3, `six samples in pages of two take at least three pages, took ${pages}`);
		});

		test("GetImage describes sample-chelsea; its sha256 is that of the content bytes", async () => {
			const client = imageClient(server.baseUrl, variant);
			const im = await client.getImage({ imageId: "sample-chelsea" });
			assert.equal(im.id, "sample-chelsea");
			assert.equal(im.name, "chelsea.png");
			assert.equal(im.format, ImageFormat.PNG);
			assert.equal(im.width, CHELSEA.width);
			assert.equal(im.height, CHELSEA.height);
			assert.equal(im.sizeBytes, BigInt(CHELSEA.size));
			assert.equal(im.source, ImageSource.SAMPLE);
			assert.equal(im.contentUrl, "/v1/images/sample-chelsea/content");
			const content = await request(server.baseUrl, { path: im.contentUrl, httpVersion: variant.httpVersion });
			assert.equal(content.status, 200);
			assert.equal(im.sha256, sha256hex(content.body), "sha256 of GET content");
			assert.equal(im.sha256, CHELSEA.sha256, "sha256 of the file on disk");
		});

		test("ListFilters: grayscale, blur (sigma NUMBER 0.1..50 default 2, border ENUM)", async () => {
			const client = imageClient(server.baseUrl, variant);
			const { filters } = await client.listFilters({});
			const names = filters.map((f) => f.name);
			for (const n of ["grayscale", "blur", "invert"]) assert.ok(names.includes(n), `${n} in ${names}`);
			const blur = filters.find((f) => f.name === "blur");
			assert.ok(blur.backends.includes("cpu"), "blur runs on cpu");
			const sigma = blur.parameters.find((p) => p.name === "sigma");
			assert.ok(sigma, "blur has sigma");
			assert.equal(sigma.type, ParameterType.NUMBER);
			assert.equal(sigma.min, 0.1);
			assert.equal(sigma.max, 50);
			assert.deepEqual(sigma.defaultValue?.kind, { case: "numberValue", value: 2 });
			const border = blur.parameters.find((p) => p.name === "border");
			assert.ok(border, "blur has border");
			assert.equal(border.type, ParameterType.ENUM);
			for (const o of ["reflect", "clamp", "wrap"]) assert.ok(border.options.includes(o), `border option ${o}`);
			assert.equal(border.defaultValue?.kind?.case, "stringValue");
			assert.ok(border.options.includes(border.defaultValue.kind.value), "border default is one of its options");
		});

		test("ListBackends: cpu available, cuda listed as unavailable with a detail", async () => {
			const client = imageClient(server.baseUrl, variant);
			const res = await client.listBackends({});
			const cpu = res.backends.find((b) => b.name === "cpu");
			assert.ok(cpu, "cpu listed");
			assert.equal(cpu.available, true);
			const cuda = res.backends.find((b) => b.name === "cuda");
			assert.ok(cuda, "cuda listed");
			assert.equal(cuda.available, false, "no GPU backend on this machine");
			assert.ok(cuda.detail.length > 0, "cuda says why it is unavailable");
			assert.equal(res.defaultBackend, "cpu");
		});
	});
}

// Methods with effects: POST only.
for (const variant of connectUnaryVariants()) {
	describe(`ProcessImage and DeleteImage, ${variant.name}`, () => {
		test("ListImages source IMAGE_SOURCE_UPLOAD lists uploads only", async () => {
			const client = imageClient(server.baseUrl, variant);
			const id = await uploadChelsea();
			const res = await client.listImages({ source: ImageSource.UPLOAD, pageSize: 1000 });
			assert.ok(res.images.some((i) => i.id === id), "the new upload is listed");
			for (const im of res.images) assert.equal(im.source, ImageSource.UPLOAD, `${im.id} is an upload`);
		});

		test("DeleteImage of an upload: then GetImage is not_found", async () => {
			const client = imageClient(server.baseUrl, variant);
			const id = await uploadChelsea();
			assert.equal((await client.getImage({ imageId: id })).id, id);
			await client.deleteImage({ imageId: id });
			await rejectsWith(client.getImage({ imageId: id }), Code.NotFound);
			assert.ok(!(await listAllIds(server.baseUrl)).includes(id), "no longer listed");
			const content = await request(server.baseUrl, { path: `/v1/images/${id}/content` });
			assert.equal(content.status, 404, "content is gone");
		});

		test("DeleteImage of a sample is permission_denied and the sample stays", async () => {
			const client = imageClient(server.baseUrl, variant);
			await rejectsWith(client.deleteImage({ imageId: "sample-rocket" }), Code.PermissionDenied);
			assert.equal((await client.getImage({ imageId: "sample-rocket" })).id, "sample-rocket");
		});

		test("ProcessImage by id to PNG: bytes, dimensions, backend and timing", async () => {
			const client = imageClient(server.baseUrl, variant);
			const res = await client.processImage({
				source: { case: "imageId", value: "sample-chelsea" },
				filters: [step("grayscale")],
				output: { format: ImageFormat.PNG },
			});
			assert.ok(isPng(res.imageData), "PNG magic");
			assert.equal(res.contentType, "image/png");
			const info = imageInfo(res.imageData);
			assert.deepEqual([info.width, info.height], [CHELSEA.width, CHELSEA.height]);
			assert.deepEqual([res.width, res.height], [CHELSEA.width, CHELSEA.height]);
			assert.equal(res.backend, "cpu");
			assert.ok(res.timing, "timing is set");
			assert.ok(res.timing.totalMs > 0, `total_ms ${res.timing.totalMs}`);
			assert.ok(res.timing.decodeMs > 0 && res.timing.encodeMs > 0, "decode and encode timed");
			assert.ok(res.timing.totalMs >= res.timing.filterMs, "total covers the filters");
			assert.equal(res.resultImageId, "", "no result id without save");
		});

		test("ProcessImage by inline bytes keeps the input format (JPEG in, JPEG out)", async () => {
			const client = imageClient(server.baseUrl, variant);
			const res = await client.processImage({
				source: { case: "imageData", value: sampleBytes("rocket.jpg") },
				filters: [step("invert")],
			});
			assert.ok(isJpeg(res.imageData), "JPEG magic");
			assert.equal(res.contentType, "image/jpeg");
			assert.deepEqual(imageInfo(res.imageData), { format: "jpeg", width: 640, height: 427 });
		});

		test("ProcessImage output quality: JPEG quality 10 is smaller than 95", async () => {
			const client = imageClient(server.baseUrl, variant);
			const sizes = {};
			for (const quality of [10, 95]) {
				const res = await client.processImage({
					source: { case: "imageId", value: "sample-chelsea" },
					filters: [step("sharpen")],
					output: { format: ImageFormat.JPEG, quality },
				});
				assert.ok(isJpeg(res.imageData), "JPEG magic");
				sizes[quality] = res.imageData.length;
			}
			assert.ok(sizes[10] * 2 < sizes[95], `quality 10: ${sizes[10]} bytes, 95: ${sizes[95]} bytes`);
		});

		test("ProcessImage max_width downscales keeping the aspect ratio", async () => {
			const client = imageClient(server.baseUrl, variant);
			const res = await client.processImage({
				source: { case: "imageId", value: "sample-chelsea" },
				filters: [step("invert")],
				output: { format: ImageFormat.PNG, maxWidth: 100 },
			});
			const info = imageInfo(res.imageData);
			assert.equal(info.width, 100);
			const expected = (CHELSEA.height * 100) / CHELSEA.width; // 66.5
			assert.ok(Math.abs(info.height - expected) <= 1, `height ${info.height} ≈ ${expected}`);
			assert.deepEqual([res.width, res.height], [info.width, info.height]);
		});

		test("ProcessImage save=true stores an IMAGE_SOURCE_RESULT image", async () => {
			const client = imageClient(server.baseUrl, variant);
			const res = await client.processImage({
				source: { case: "imageId", value: "sample-chelsea" },
				filters: [step("blur", { sigma: 1 })],
				output: { format: ImageFormat.PNG, maxWidth: 64 },
				save: true,
			});
			assert.match(res.resultImageId, /\S/, "result id set");
			const results = await client.listImages({ source: ImageSource.RESULT, pageSize: 1000 });
			assert.ok(results.images.some((i) => i.id === res.resultImageId), "listed as a result");
			const im = await client.getImage({ imageId: res.resultImageId });
			assert.equal(im.source, ImageSource.RESULT);
			assert.equal(im.format, ImageFormat.PNG);
			assert.deepEqual([im.width, im.height], [res.width, res.height]);
			assert.equal(im.sha256, sha256hex(res.imageData), "the stored bytes are the returned ones");
		});

		test("ProcessImage backend cuda is failed_precondition, an unknown backend invalid_argument", async () => {
			const client = imageClient(server.baseUrl, variant);
			const base = { source: { case: "imageId", value: "sample-chelsea" }, filters: [step("invert")] };
			await rejectsWith(client.processImage({ ...base, backend: "cuda" }), Code.FailedPrecondition, /cuda/);
			await rejectsWith(client.processImage({ ...base, backend: "warp-drive" }), Code.InvalidArgument, /warp-drive/);
			const cpu = await client.processImage({ ...base, backend: "cpu" });
			assert.equal(cpu.backend, "cpu");
			const auto = await client.processImage({ ...base, backend: "auto" });
			assert.equal(auto.backend, "cpu");
		});
	});
}

describe("REST routes", () => {
	const get = (path) => request(server.baseUrl, { path });

	test("GET /v1/images lists the samples; page_size=2 pages follow nextPageToken", async () => {
		const all = await get("/v1/images?page_size=1000");
		assert.equal(all.status, 200);
		const allIds = all.json().images.map((i) => i.id);
		for (const id of SAMPLE_IDS) assert.ok(allIds.includes(id), `${id} listed`);
		const seen = [];
		let token = "";
		do {
			const res = await get(`/v1/images?page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
			assert.equal(res.status, 200, res.text());
			const body = res.json();
			assert.ok((body.images ?? []).length <= 2);
			seen.push(...(body.images ?? []).map((i) => i.id));
			token = body.nextPageToken ?? "";
		} while (token && seen.length <= allIds.length);
		assert.deepEqual([...seen].sort(), [...allIds].sort());
	});

	test("GET /v1/images?source=IMAGE_SOURCE_UPLOAD&page_size=10 lists uploads only", async () => {
		const id = await uploadChelsea("rest-upload.png");
		const res = await get("/v1/images?source=IMAGE_SOURCE_UPLOAD&page_size=10");
		assert.equal(res.status, 200, res.text());
		const images = res.json().images ?? [];
		assert.ok(images.length >= 1 && images.length <= 10);
		for (const im of images) assert.equal(im.source, "IMAGE_SOURCE_UPLOAD");
		// the new upload is on some page of the upload listing
		const uploads = [];
		let token = "";
		do {
			const page = (await get(`/v1/images?source=IMAGE_SOURCE_UPLOAD&page_size=10${token ? `&page_token=${encodeURIComponent(token)}` : ""}`)).json();
			uploads.push(...(page.images ?? []).map((i) => i.id));
			token = page.nextPageToken ?? "";
		} while (token);
		assert.ok(uploads.includes(id));
	});

	test("GET /v1/images/sample-chelsea: proto3 JSON of the Image", async () => {
		const res = await get("/v1/images/sample-chelsea");
		assert.equal(res.status, 200);
		assert.match(res.headers["content-type"], /^application\/json/);
		const im = res.json();
		assert.equal(im.format, "IMAGE_FORMAT_PNG");
		assert.equal(im.width, CHELSEA.width);
		assert.equal(im.height, CHELSEA.height);
		assert.equal(im.sizeBytes, String(CHELSEA.size), "int64 as a JSON string");
		assert.equal(im.sha256, CHELSEA.sha256);
		assert.equal(im.contentUrl, "/v1/images/sample-chelsea/content");
		assert.equal(im.source, "IMAGE_SOURCE_SAMPLE");
	});

	test("DELETE /v1/images/{id}: uploads go (then 404), samples are 403 permission_denied", async () => {
		const id = await uploadChelsea("rest-delete.png");
		const del = await request(server.baseUrl, { method: "DELETE", path: `/v1/images/${id}` });
		assert.equal(del.status, 200, del.text());
		assert.deepEqual(del.json(), {});
		const gone = await get(`/v1/images/${id}`);
		assert.equal(gone.status, 404);
		assert.equal(gone.json().code, "not_found");
		const sample = await request(server.baseUrl, { method: "DELETE", path: "/v1/images/sample-storm" });
		assert.equal(sample.status, 403);
		assert.equal(sample.json().code, "permission_denied");
	});

	test("GET /v1/filters and /v1/backends", async () => {
		const filters = (await get("/v1/filters")).json().filters;
		const blur = filters.find((f) => f.name === "blur");
		const sigma = blur.parameters.find((p) => p.name === "sigma");
		assert.deepEqual([sigma.type, sigma.min, sigma.max, sigma.defaultValue], ["PARAMETER_TYPE_NUMBER", 0.1, 50, 2]);
		const border = blur.parameters.find((p) => p.name === "border");
		assert.equal(border.type, "PARAMETER_TYPE_ENUM");
		assert.deepEqual(border.options.slice(0, 3), ["reflect", "clamp", "wrap"]);
		const backends = (await get("/v1/backends")).json();
		assert.equal(backends.backends.find((b) => b.name === "cpu").available, true);
		const cuda = backends.backends.find((b) => b.name === "cuda");
		assert.equal(cuda.available ?? false, false);
		assert.ok(cuda.detail);
	});

	test("POST /v1/images/{id}:process and POST /v1/process (JSON) run ProcessImage", async () => {
		const body = JSON.stringify({
			filters: [{ name: "blur", params: { sigma: 1.5 } }],
			output: { format: "IMAGE_FORMAT_PNG", maxWidth: 50 },
		});
		const byId = await request(server.baseUrl, {
			method: "POST", path: "/v1/images/sample-chelsea:process",
			headers: { "content-type": "application/json" }, body,
		});
		assert.equal(byId.status, 200, byId.text());
		const r1 = byId.json();
		assert.equal(r1.contentType, "image/png");
		assert.equal(r1.width, 50);
		assert.ok(isPng(Buffer.from(r1.imageData, "base64")), "imageData is base64 PNG");
		assert.ok(r1.timing.totalMs > 0);

		const inline = await request(server.baseUrl, {
			method: "POST", path: "/v1/process",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ imageData: sampleBytes("chelsea.png").toString("base64"), ...JSON.parse(body) }),
		});
		assert.equal(inline.status, 200, inline.text());
		const r2 = inline.json();
		assert.equal(r2.width, 50);
		assert.equal(r2.imageData, r1.imageData, "same pipeline, same image, same bytes");
	});

	test("REST ProcessImage backend cuda is 400 failed_precondition", async () => {
		const res = await request(server.baseUrl, {
			method: "POST", path: "/v1/images/sample-chelsea:process",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ backend: "cuda", filters: [{ name: "invert" }] }),
		});
		assert.equal(res.status, 400);
		assert.equal(res.json().code, "failed_precondition");
	});
});
