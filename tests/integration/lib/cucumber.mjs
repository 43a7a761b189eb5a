// The step definitions in features/ import cucumber through this file: it
// lives inside the test package (tests/), so "@cucumber/cucumber" resolves to
// tests/node_modules — the same copy the cucumber-js command runs from.
export * from "@cucumber/cucumber";
