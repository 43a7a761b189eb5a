// Generic HTTP steps. Later features reuse them; add domain steps in their own
// files beside this one.
//
//   Given I use HTTP/2
//   Given the request header "x-request-id" is "abc"
//   When I GET "/v1/version"
//   When I POST JSON {} to "/gpix.v1.ImageService/GetVersion"
//   When I POST JSON to "/v1/process":            (body in a """ doc string)
//   When I POST "hello" with content type "text/plain" to "/gpix.v1.ImageService/GetVersion"
//   When I call gpix.v1.ImageService/GetVersion with {}
//   Then the response status is 200
//   Then the response header "x-request-id" is "abc" | is present
//   Then the response content type is "application/json"
//   Then the JSON field "version" is "v0.1.0"       (the value is JSON: "text", 3, true, null)
//   Then the JSON field "startedAt" is a timestamp
//   Then the JSON field "filters.0.name" matches "^[a-z]+$"
//   Then the error code is "invalid_argument"
//   Then the server log contains "GetVersion called at"
//   Then the server log has a line matching "GetVersion called at \d{4}-"
import assert from "node:assert/strict";
import { Given, Then, When } from "../../tests/integration/lib/cucumber.mjs";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$/;

/** Follows "a.b.0.c" or "a.b[0].c" into a parsed JSON value. */
function field(obj, path) {
	let cur = obj;
	for (const key of path.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean)) {
		if (cur === null || typeof cur !== "object" || !(key in cur)) return undefined;
		cur = cur[key];
	}
	return cur;
}

function parseLiteral(text) {
	try {
		return JSON.parse(text);
	} catch {
		assert.fail(`not a JSON value in the step: ${text}`);
	}
}

Given("the gpix server is running", function () {
	assert.ok(this.server.running, "gpixd is running");
});

Given(/^I use HTTP\/(1\.1|2)$/, function (version) {
	this.httpVersion = version;
});

Given("the request header {string} is {string}", function (name, value) {
	this.requestHeaders[name.toLowerCase()] = value;
});

When("I GET {string}", async function (path) {
	await this.send("GET", path);
});

When(/^I send (GET|HEAD|DELETE|OPTIONS|POST|PUT|PATCH) "([^"]*)"$/, async function (method, path) {
	await this.send(method, path);
});

When(/^I POST JSON (.+) to "([^"]*)"$/, async function (body, path) {
	await this.send("POST", path, { body, headers: { "content-type": "application/json" } });
});

When(/^I POST JSON to "([^"]*)":?$/, async function (path, docString) {
	await this.send("POST", path, { body: docString, headers: { "content-type": "application/json" } });
});

When("I POST {string} with content type {string} to {string}", async function (body, type, path) {
	await this.send("POST", path, { body, headers: { "content-type": type } });
});

When(/^I call ([\w.]+\/\w+) with (.+)$/, async function (method, body) {
	await this.send("POST", `/${method}`, { body, headers: { "content-type": "application/json" } });
});

Then("the response status is {int}", function (status) {
	assert.ok(this.response, "no request was sent yet");
	assert.equal(this.response.status, status, `status (body: ${this.response.text().slice(0, 300)})`);
});

Then("the response header {string} is {string}", function (name, value) {
	assert.equal(this.response.headers[name.toLowerCase()], value);
});

Then("the response header {string} is present", function (name) {
	assert.ok(this.response.headers[name.toLowerCase()], `header ${name} is present`);
});

Then("the response content type is {string}", function (type) {
	const got = (this.response.headers["content-type"] ?? "").split(";")[0].trim();
	assert.equal(got, type);
});

Then(/^the JSON field "([^"]*)" is a timestamp$/, function (path) {
	assert.match(String(field(this.json(), path)), RFC3339_UTC);
});

Then(/^the JSON field "([^"]*)" is (?!a timestamp$)(.+)$/, function (path, literal) {
	assert.deepEqual(field(this.json(), path), parseLiteral(literal), `JSON field ${path}`);
});

Then("the JSON field {string} matches {string}", function (path, re) {
	assert.match(String(field(this.json(), path)), new RegExp(re), `JSON field ${path}`);
});

Then("the JSON field {string} exists", function (path) {
	assert.notEqual(field(this.json(), path), undefined, `JSON field ${path} exists`);
});

Then("the error code is {string}", function (code) {
	assert.equal(this.json().code, code, `error body: ${this.response.text().slice(0, 300)}`);
});

Then("the server log contains {string}", async function (text) {
	await this.server.waitForLog(new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), 5000);
});

Then("the server log has a line matching {string}", async function (re) {
	await this.server.waitForLog(new RegExp(re), 5000);
});
