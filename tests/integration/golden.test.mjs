// Golden images: a sample (chelsea.png, downscaled to 128 px wide by
// output.max_width) through small deterministic pipelines, encoded as PNG,
// decoded with pngjs (pure JS) and compared pixel by pixel with the files in
// golden/ within ±1 per channel. GPIX_UPDATE_GOLDEN=1 rewrites them from the
// server under test instead (see golden/README.md).
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import pngjs from "pngjs";
import { isPng, stopServer } from "./lib/gpix.mjs";
import { request } from "./lib/http.mjs";
import { startServer } from "./lib/server.mjs";

const { PNG } = pngjs;
const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "golden");
const UPDATE = process.env.GPIX_UPDATE_GOLDEN === "1";
const TOLERANCE = 1; // per channel, 0..255

// name → pipeline; every case runs on sample-chelsea with max_width 128
export const GOLDEN_CASES = {
	"chelsea-grayscale": [{ name: "grayscale" }],
	"chelsea-invert": [{ name: "invert" }],
	"chelsea-blur2": [{ name: "blur", params: { sigma: 2 } }],
	"chelsea-grayscale-invert-blur2": [{ name: "grayscale" }, { name: "invert" }, { name: "blur", params: { sigma: 2 } }],
	"chelsea-edge": [{ name: "edge" }],
	"chelsea-sepia": [{ name: "sepia" }],
};

let server;
before(async () => {
	server = await startServer();
});
after(async () => {
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false);
	assert.deepEqual({ code, signal }, { code: 0, signal: null });
});

async function render(filters) {
	const res = await request(server.baseUrl, {
		method: "POST",
		path: "/v1/images/sample-chelsea:process",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ filters, output: { format: "IMAGE_FORMAT_PNG", maxWidth: 128 } }),
	});
	assert.equal(res.status, 200, res.text().slice(0, 300));
	const png = Buffer.from(res.json().imageData, "base64");
	assert.ok(isPng(png), "the server answered a PNG");
	return png;
}

/** Largest per-channel difference and how many channels differ by more than TOLERANCE. */
function compare(got, want) {
	assert.deepEqual([got.width, got.height], [want.width, want.height], "dimensions");
	let maxDiff = 0;
	let over = 0;
	let firstOver;
	for (let i = 0; i < want.data.length; i++) {
		const d = Math.abs(got.data[i] - want.data[i]);
		if (d > maxDiff) maxDiff = d;
		if (d > TOLERANCE) {
			over++;
			if (firstOver === undefined) {
				const px = i >> 2;
				firstOver = `pixel (${px % want.width}, ${Math.floor(px / want.width)}) channel ${i & 3}: got ${got.data[i]}, want ${want.data[i]}`;
			}
		}
	}
	return { maxDiff, over, firstOver };
}

for (const [name, filters] of Object.entries(GOLDEN_CASES)) {
	test(`golden ${name}.png: ${filters.map((f) => f.name).join(" → ")} matches within ±${TOLERANCE}`, async () => {
		const file = join(GOLDEN_DIR, `${name}.png`);
		const png = await render(filters);
		if (UPDATE) {
			writeFileSync(file, png);
			return;
		}
		assert.ok(existsSync(file), `${file} is missing: regenerate with GPIX_UPDATE_GOLDEN=1 (golden/README.md)`);
		const got = PNG.sync.read(png); // RGBA, whatever the PNG's color type
		const want = PNG.sync.read(readFileSync(file));
		assert.equal(got.width, 128);
		const { maxDiff, over, firstOver } = compare(got, want);
		assert.equal(over, 0, `${over} channel values differ by more than ${TOLERANCE} (max ${maxDiff}); first: ${firstOver}`);
	});
}

test("the golden pipeline is deterministic: two runs give identical pixels", async () => {
	const filters = GOLDEN_CASES["chelsea-blur2"];
	const a = PNG.sync.read(await render(filters));
	const b = PNG.sync.read(await render(filters));
	assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)));
});

test("the comparison can fail: invert is not within tolerance of grayscale", { skip: UPDATE }, () => {
	const a = PNG.sync.read(readFileSync(join(GOLDEN_DIR, "chelsea-invert.png")));
	const b = PNG.sync.read(readFileSync(join(GOLDEN_DIR, "chelsea-grayscale.png")));
	assert.ok(compare(a, b).over > 1000);
});

// The goldens come from the server itself; these check that what they hold
// is what the filters mean, against the unfiltered downscale.
test("the goldens mean what they say: invert = 255 - original, grayscale = BT.601 luma (±2)", { skip: UPDATE }, async () => {
	const orig = PNG.sync.read(await render([]));
	const inv = PNG.sync.read(readFileSync(join(GOLDEN_DIR, "chelsea-invert.png")));
	const gray = PNG.sync.read(readFileSync(join(GOLDEN_DIR, "chelsea-grayscale.png")));
	let worstInv = 0;
	let worstGray = 0;
	for (let i = 0; i < orig.data.length; i += 4) {
		for (let c = 0; c < 3; c++) worstInv = Math.max(worstInv, Math.abs(inv.data[i + c] - (255 - orig.data[i + c])));
		const luma = 0.299 * orig.data[i] + 0.587 * orig.data[i + 1] + 0.114 * orig.data[i + 2];
		worstGray = Math.max(worstGray, Math.abs(gray.data[i] - luma));
		assert.equal(gray.data[i], gray.data[i + 1], "gray: R = G");
		assert.equal(gray.data[i], gray.data[i + 2], "gray: R = B");
	}
	assert.ok(worstInv <= 2, `invert is off by up to ${worstInv}`);
	assert.ok(worstGray <= 2.5, `grayscale is off by up to ${worstGray.toFixed(2)}`);
});
