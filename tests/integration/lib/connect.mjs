// Connect clients for the tests, from the code generated out of proto/
// (tests/integration/gen, made by scripts/gen-proto-es.sh).
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, file_google_protobuf_empty } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

export * from "../gen/gpix/v1/image_service_pb.js";
export { Health, HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.js";
import { ImageService } from "../gen/gpix/v1/image_service_pb.js";

/** Every combination a Connect client can choose, for table-driven tests. */
export const connectVariants = [];
for (const httpVersion of ["1.1", "2"]) {
	for (const useBinaryFormat of [false, true]) {
		for (const useHttpGet of [false, true]) {
			connectVariants.push({
				httpVersion,
				useBinaryFormat,
				useHttpGet,
				name: `Connect ${useBinaryFormat ? "proto" : "JSON"} ${useHttpGet ? "GET" : "POST"} over HTTP/${httpVersion}`,
			});
		}
	}
}

export function transport(baseUrl, { httpVersion = "1.1", useBinaryFormat = false, useHttpGet = false } = {}) {
	return createConnectTransport({ baseUrl, httpVersion, useBinaryFormat, useHttpGet });
}

export function imageClient(baseUrl, variant = {}) {
	return createClient(ImageService, transport(baseUrl, variant));
}

/**
 * A client for gpix.v1.ImageService/NoSuchMethod: a method the real service
 * does not have, described at run time so that no generated code pretends it
 * exists.
 */
export function unknownMethodClient(baseUrl, variant = {}) {
	const file = create(FileDescriptorProtoSchema, {
		name: "gpix_test/unknown_method.proto",
		package: "gpix.v1",
		dependency: ["google/protobuf/empty.proto"],
		syntax: "proto3",
		service: [
			{
				name: "ImageService",
				method: [
					{
						name: "NoSuchMethod",
						inputType: ".google.protobuf.Empty",
						outputType: ".google.protobuf.Empty",
					},
				],
			},
		],
	});
	const registry = createFileRegistry(file, (name) =>
		name === "google/protobuf/empty.proto" ? file_google_protobuf_empty : undefined,
	);
	const service = registry.getService("gpix.v1.ImageService");
	return createClient(service, transport(baseUrl, variant));
}
