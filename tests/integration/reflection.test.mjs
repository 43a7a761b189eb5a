// gRPC server reflection, v1 and v1alpha: a real reflection client
// (grpc-js-reflection-client) lists the services and rebuilds ImageService
// from what the server sends; raw ServerReflectionInfo calls (@grpc/grpc-js
// + proto-loader on proto/grpc/reflection/*) check file_containing_symbol,
// file_by_filename and error_response, decoding every returned file with
// @bufbuild/protobuf's FileDescriptorProtoSchema.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { GrpcReflection } from "grpc-js-reflection-client";
import { stopServer } from "./lib/gpix.mjs";
import { repoRoot, startServer } from "./lib/server.mjs";

const SERVICES = [
	"gpix.v1.ImageService",
	"grpc.health.v1.Health",
	"grpc.reflection.v1.ServerReflection",
	"grpc.reflection.v1alpha.ServerReflection",
];
const METHODS = [
	"GetVersion", "ListFilters", "ListBackends", "ListImages", "GetImage", "DeleteImage", "Upload", "ProcessImage", "Process", "Tune",
];

let server;
before(async () => {
	server = await startServer();
});
after(async () => {
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false);
	assert.deepEqual({ code, signal }, { code: 0, signal: null });
});

for (const version of ["v1", "v1alpha"]) {
	describe(`grpc-js-reflection-client, ${version}`, () => {
		let reflection;
		before(() => {
			reflection = new GrpcReflection(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), {}, version);
		});

		test("listServices names ImageService, Health and both reflection services", async () => {
			const services = await reflection.listServices();
			for (const s of SERVICES) assert.ok(services.includes(s), `${s} in ${services}`);
		});

		test("listMethods rebuilds ImageService's ten methods with their streaming kinds", async () => {
			const methods = await reflection.listMethods("gpix.v1.ImageService");
			assert.deepEqual(methods.map((m) => m.name).sort(), [...METHODS].sort());
			const kind = Object.fromEntries(methods.map((m) => [m.name, [m.definition.requestStream, m.definition.responseStream]]));
			assert.deepEqual(kind.Upload, [true, false]);
			assert.deepEqual(kind.Process, [false, true]);
			assert.deepEqual(kind.Tune, [true, true]);
			assert.deepEqual(kind.GetVersion, [false, false]);
		});

		test("a client built from the reflected descriptor calls the server", async () => {
			const descriptor = await reflection.getDescriptorBySymbol("gpix.v1.ImageService");
			// this library's package object speaks the proto field names (image_id), whatever keepCase says
			const pkg = descriptor.getPackageObject({ keepCase: true, longs: String, enums: String, defaults: true });
			const client = new pkg.gpix.v1.ImageService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
			try {
				const res = await new Promise((ok, fail) => client.getVersion({}, (e, r) => (e ? fail(e) : ok(r))));
				assert.equal(res.version, "v0.1.0");
				const img = await new Promise((ok, fail) => client.getImage({ image_id: "sample-chelsea" }, (e, r) => (e ? fail(e) : ok(r))));
				assert.equal(img.format, "IMAGE_FORMAT_PNG");
				assert.equal(img.width, 451);
				assert.equal(img.content_url, "/v1/images/sample-chelsea/content");
			} finally {
				client.close();
			}
		});

		test("an unknown symbol is an error", async () => {
			await assert.rejects(reflection.getDescriptorBySymbol("no.such.Symbol"), /not found/i);
		});
	});
}

/** A raw ServerReflectionInfo stream for `version`; send() resolves the response to one request. */
function rawReflection(version) {
	const def = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
		includeDirs: [join(repoRoot, "proto"), "/usr/include"],
		defaults: true,
		oneofs: true,
	});
	const Svc = grpc.loadPackageDefinition(def).grpc.reflection[version].ServerReflection;
	const client = new Svc(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
	const call = client.serverReflectionInfo();
	const pending = [];
	call.on("data", (r) => pending.shift()?.ok(r));
	call.on("error", (e) => {
		for (const p of pending.splice(0)) p.fail(e);
	});
	return {
		send(req) {
			return new Promise((ok, fail) => {
				pending.push({ ok, fail });
				call.write(req);
			});
		},
		close() {
			call.end();
			client.close();
		},
	};
}

const decodeFiles = (res) => res.fileDescriptorResponse.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));

for (const version of ["v1", "v1alpha"]) {
	describe(`ServerReflectionInfo by hand, ${version}`, () => {
		let r;
		before(() => {
			r = rawReflection(version);
		});
		after(() => r.close());

		test("list_services, several requests on one stream, original_request echoed", async () => {
			const res = await r.send({ listServices: "" });
			assert.equal(res.messageResponse, "listServicesResponse");
			const names = res.listServicesResponse.service.map((s) => s.name);
			for (const s of SERVICES) assert.ok(names.includes(s), `${s} in ${names}`);
			assert.equal(res.originalRequest?.messageRequest, "listServices");
			const again = await r.send({ listServices: "*" });
			assert.deepEqual(again.listServicesResponse.service.map((s) => s.name).sort(), [...names].sort());
		});

		test("file_containing_symbol gpix.v1.ImageService: image_service.proto and its dependencies, as FileDescriptorProtos", async () => {
			const res = await r.send({ fileContainingSymbol: "gpix.v1.ImageService" });
			assert.equal(res.messageResponse, "fileDescriptorResponse", JSON.stringify(res.errorResponse));
			const files = decodeFiles(res);
			const names = files.map((f) => f.name);
			assert.equal(names[0], "gpix/v1/image_service.proto", "the file that defines the symbol comes first");
			for (const dep of [
				"google/api/annotations.proto", "google/api/http.proto", "google/protobuf/descriptor.proto",
				"google/protobuf/struct.proto", "google/protobuf/timestamp.proto",
			]) {
				assert.ok(names.includes(dep), `${dep} in ${names}`);
			}
			const main = files[0];
			assert.equal(main.package, "gpix.v1");
			for (const dep of ["google/api/annotations.proto", "google/protobuf/struct.proto", "google/protobuf/timestamp.proto"]) {
				assert.ok(main.dependency.includes(dep), `image_service.proto imports ${dep}`);
			}
			for (const dep of main.dependency) assert.ok(names.includes(dep), `dependency ${dep} was sent`);
			const svc = main.service.find((s) => s.name === "ImageService");
			assert.deepEqual(svc.method.map((m) => m.name).sort(), [...METHODS].sort());
			// the set is complete: a registry resolves every type the service uses
			const byName = new Map(files.map((f) => [f.name, f]));
			const registry = createFileRegistry(main, (name) => byName.get(name));
			const service = registry.getService("gpix.v1.ImageService");
			assert.equal(service.methods.length, METHODS.length);
			assert.equal(service.method.process.output.typeName, "gpix.v1.ProcessResponse");
			assert.ok(registry.getMessage("google.protobuf.Value"), "struct.proto's types resolve");
		});

		test("file_containing_symbol of a message and of a method", async () => {
			for (const symbol of ["gpix.v1.ProcessImageRequest", "gpix.v1.ImageService.Tune", "grpc.health.v1.HealthCheckRequest"]) {
				const res = await r.send({ fileContainingSymbol: symbol });
				assert.equal(res.messageResponse, "fileDescriptorResponse", `${symbol}: ${JSON.stringify(res.errorResponse)}`);
				assert.ok(decodeFiles(res).length >= 1);
			}
		});

		test("file_by_filename gpix/v1/image_service.proto", async () => {
			const res = await r.send({ fileByFilename: "gpix/v1/image_service.proto" });
			assert.equal(res.messageResponse, "fileDescriptorResponse");
			assert.equal(decodeFiles(res)[0].name, "gpix/v1/image_service.proto");
		});

		test("unknown symbol and unknown file: error_response NOT_FOUND, the stream stays usable", async () => {
			const sym = await r.send({ fileContainingSymbol: "no.such.Symbol" });
			assert.equal(sym.messageResponse, "errorResponse");
			assert.equal(sym.errorResponse.errorCode, grpc.status.NOT_FOUND);
			assert.match(sym.errorResponse.errorMessage, /no\.such\.Symbol/);
			const file = await r.send({ fileByFilename: "no/such/file.proto" });
			assert.equal(file.messageResponse, "errorResponse");
			assert.equal(file.errorResponse.errorCode, grpc.status.NOT_FOUND);
			const ok = await r.send({ listServices: "" });
			assert.equal(ok.messageResponse, "listServicesResponse");
		});
	});
}
