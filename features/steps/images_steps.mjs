// Steps for features/images.feature: uploading, listing, processing and
// deleting images. The generic HTTP steps (status, JSON fields, error code)
// are in http_steps.mjs.
import assert from "node:assert/strict";
import { Given, Then, When } from "../../tests/integration/lib/cucumber.mjs";
import { imageInfo, isPng, listAllIds, pngClaiming, sampleBytes } from "../../tests/integration/lib/gpix.mjs";
import { request } from "../../tests/integration/lib/http.mjs";

function listed(world) {
	return world.json().images ?? [];
}

async function upload(world, bytes, type, name) {
	await world.send("POST", `/v1/images${name ? `?name=${encodeURIComponent(name)}` : ""}`, {
		body: bytes,
		headers: { "content-type": type },
	});
	if (world.response.status === 201) world.uploadedId = world.response.json().imageId;
}

Then("the listed images are exactly {string}", function (ids) {
	const want = ids.split(",").map((s) => s.trim()).sort();
	assert.deepEqual(listed(this).map((i) => i.id).sort(), want);
});

Then("every listed image has source {string}", function (source) {
	const images = listed(this);
	assert.ok(images.length > 0, "some images are listed");
	for (const im of images) assert.equal(im.source, source, `${im.id}`);
});

When("I upload the sample file {string} as {string}", async function (file, type) {
	await upload(this, sampleBytes(file), type, file);
});

When(/^I upload (an empty file|a text file|the first half of "[^"]+"|a PNG claiming \d+ by \d+ pixels) as "([^"]+)"$/,
	async function (what, type) {
		let bytes;
		let m;
		if (what === "an empty file") bytes = Buffer.alloc(0);
		else if (what === "a text file") bytes = Buffer.from("Dear diary, today I took no pictures.\n");
		else if ((m = /^the first half of "([^"]+)"$/.exec(what))) {
			const whole = sampleBytes(m[1]);
			bytes = whole.subarray(0, Math.floor(whole.length / 2));
		} else {
			m = /(\d+) by (\d+)/.exec(what);
			bytes = pngClaiming(Number(m[1]), Number(m[2]));
		}
		await upload(this, bytes, type, "suspicious.jpg");
	});

Then("the response header {string} points at the uploaded image", function (name) {
	assert.ok(this.uploadedId, "an image was uploaded");
	assert.equal(this.response.headers[name.toLowerCase()], `/v1/images/${this.uploadedId}`);
});

When("I list the uploaded images", async function () {
	this.uploadsListed = [];
	let token = "";
	do {
		const res = await this.send("GET", `/v1/images?source=IMAGE_SOURCE_UPLOAD&page_size=50${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
		assert.equal(res.status, 200);
		this.uploadsListed.push(...(res.json().images ?? []));
		token = res.json().nextPageToken ?? "";
	} while (token);
});

Then("the uploaded image is listed", function () {
	assert.ok(this.uploadsListed.some((i) => i.id === this.uploadedId), `${this.uploadedId} is listed`);
	for (const im of this.uploadsListed) assert.equal(im.source, "IMAGE_SOURCE_UPLOAD");
});

Then("the uploaded image's content is the bytes of {string}", async function (file) {
	const res = await request(this.server.baseUrl, { path: `/v1/images/${this.uploadedId}/content`, httpVersion: this.httpVersion });
	assert.equal(res.status, 200);
	assert.ok(res.body.equals(sampleBytes(file)), "the stored bytes are the uploaded ones");
});

When("I process the sample file {string} with filters {string} and {string} as {string}", async function (file, filters, param, format) {
	const q = new URLSearchParams({ filters, format });
	const [k, v] = param.split("=");
	q.set(k, v);
	await this.send("POST", `/v1/process?${q}`, {
		body: sampleBytes(file),
		headers: { "content-type": file.endsWith(".png") ? "image/png" : "image/jpeg" },
	});
});

Then("the response body is a PNG image of {int} by {int} pixels", function (width, height) {
	assert.ok(isPng(this.response.body), "PNG signature");
	const info = imageInfo(this.response.body);
	assert.deepEqual([info.width, info.height], [width, height]);
});

Then("the result image is listed as {string}", async function (source) {
	const id = this.json().resultImageId;
	assert.ok(id, "the response names the saved result");
	const res = await request(this.server.baseUrl, { path: `/v1/images/${id}` });
	assert.equal(res.status, 200);
	assert.equal(res.json().source, source);
	assert.ok((await listAllIds(this.server.baseUrl)).includes(id));
});

When("I delete the uploaded image", async function () {
	assert.ok(this.uploadedId, "an image was uploaded");
	await this.send("DELETE", `/v1/images/${this.uploadedId}`);
});

When("I GET the uploaded image", async function () {
	await this.send("GET", `/v1/images/${this.uploadedId}`);
});

Given("I note which images are listed", async function () {
	this.idsBefore = (await listAllIds(this.server.baseUrl)).sort();
});

Then("no new image is listed", async function () {
	assert.deepEqual((await listAllIds(this.server.baseUrl)).sort(), this.idsBefore);
});
