import { test } from "node:test";
import assert from "node:assert/strict";
import { codeFromHttpStatus, codeName, formatError, parseErrorBody, toAppError } from "../../src/lib/errors.ts";
import { acceptableFile, groupImages, humanBytes, resultFileName, upsertImage, type ImageInfo } from "../../src/lib/images.ts";
import { fromValue, imageInfoFromJson, toFilterSteps, toValue } from "../../src/api/convert.ts";

test("Connect code numbers and names", () => {
  assert.equal(codeName(3), "invalid_argument");
  assert.equal(codeName(5), "not_found");
  assert.equal(codeName(16), "unauthenticated");
  assert.equal(codeName(99), "unknown");
  assert.equal(codeName("failed_precondition"), "failed_precondition");
  assert.equal(codeName("bogus"), "unknown");
});

test("error bodies of the plain routes", () => {
  assert.deepEqual(parseErrorBody(400, '{"code":"invalid_argument","message":"corrupt image"}'), { code: "invalid_argument", message: "corrupt image" });
  assert.deepEqual(parseErrorBody(413, "too big"), { code: "resource_exhausted", message: "too big" });
  assert.deepEqual(parseErrorBody(502, ""), { code: "internal", message: "HTTP 502" });
  assert.equal(codeFromHttpStatus(404), "not_found");
  assert.equal(codeFromHttpStatus(418), "unknown");
});

test("toAppError: ConnectError, abort, network, plain", () => {
  assert.deepEqual(toAppError({ code: 5, rawMessage: "image x not found", message: "[not_found] image x not found" }, "process"), {
    code: "not_found", message: "image x not found", context: "process",
  });
  assert.equal(toAppError({ name: "AbortError", message: "aborted" }).code, "canceled");
  const down = toAppError({ code: 2, rawMessage: "Failed to fetch", cause: new TypeError("Failed to fetch") });
  assert.deepEqual(down, { code: "unavailable", message: "cannot reach the server (Failed to fetch)" });
  assert.equal(toAppError({ code: 2, rawMessage: "something odd" }).code, "unknown");
  assert.equal(toAppError(Object.assign(new TypeError("Failed to fetch"))).code, "unavailable");
  assert.deepEqual(toAppError({ code: "permission_denied", message: "samples are read-only" }), { code: "permission_denied", message: "samples are read-only" });
  assert.equal(toAppError("boom").message, "boom");
  assert.equal(formatError({ code: "not_found", message: "x" }), "not_found: x");
});

const im = (o: Partial<ImageInfo>): ImageInfo => ({ id: "x", name: "x.png", width: 1, height: 1, sizeBytes: 1, source: "sample", format: "png", contentUrl: "/c", ...o });

test("gallery grouping and upsert", () => {
  const g = groupImages([
    im({ id: "b", name: "b.png" }),
    im({ id: "a", name: "a.png" }),
    im({ id: "u1", source: "upload", createdAt: "2026-01-01T00:00:00Z" }),
    im({ id: "u2", source: "upload", createdAt: "2026-02-01T00:00:00Z" }),
    im({ id: "r", source: "result" }),
  ]);
  assert.deepEqual(g.sample.map((i) => i.id), ["a", "b"]);
  assert.deepEqual(g.upload.map((i) => i.id), ["u2", "u1"]);
  assert.deepEqual(g.result.map((i) => i.id), ["r"]);
  const list = upsertImage([im({ id: "a" })], im({ id: "a", name: "new" }));
  assert.equal(list.length, 1);
  assert.equal(list[0]!.name, "new");
  assert.equal(upsertImage(list, im({ id: "b" })).length, 2);
});

test("file names and sizes", () => {
  assert.equal(resultFileName("rocket.jpg", ["blur", "edge"], "image/png"), "rocket-blur-edge.png");
  assert.equal(resultFileName("my photo.png", [], "image/jpeg"), "my_photo.jpg");
  assert.equal(humanBytes(512), "512 B");
  assert.equal(humanBytes(2048), "2.0 KiB");
  assert.equal(humanBytes(5 * 1024 * 1024), "5.0 MiB");
  assert.equal(acceptableFile({ name: "a.JPG", type: "" }), true);
  assert.equal(acceptableFile({ name: "a.txt", type: "text/plain" }), false);
});

test("proto conversions: Value, FilterStep, Image JSON", () => {
  assert.equal(fromValue({ kind: { case: "numberValue", value: 2 } }), 2);
  assert.equal(fromValue({ kind: { case: "boolValue", value: true } }), true);
  assert.equal(fromValue({ kind: { case: undefined } } as never), undefined);
  assert.equal(fromValue(undefined), undefined);
  assert.deepEqual(toValue("wrap"), { kind: { case: "stringValue", value: "wrap" } });
  assert.deepEqual(toFilterSteps([{ name: "blur", params: { sigma: 3, border: "clamp" } }]), [
    { name: "blur", params: { sigma: { kind: { case: "numberValue", value: 3 } }, border: { kind: { case: "stringValue", value: "clamp" } } } },
  ]);
  const info = imageInfoFromJson({ id: "u-1", name: "a.png", format: "IMAGE_FORMAT_PNG", width: 4, height: 3, sizeBytes: "120", source: "IMAGE_SOURCE_UPLOAD", contentUrl: "/v1/images/u-1/content" });
  assert.deepEqual(info, { id: "u-1", name: "a.png", width: 4, height: 3, sizeBytes: 120, source: "upload", format: "png", contentUrl: "/v1/images/u-1/content", createdAt: undefined });
});
