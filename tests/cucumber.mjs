// cucumber-js configuration; paths are relative to the repository root,
// where test.sh runs it:
//   node tests/node_modules/@cucumber/cucumber/bin/cucumber.js --config tests/cucumber.mjs
export default {
	paths: ["features/**/*.feature"],
	import: ["features/support/**/*.mjs", "features/steps/**/*.mjs"],
	format: ["progress"],
	strict: true,
	forceExit: false,
};
