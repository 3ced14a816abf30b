// strip-bom 5 is an ES module, which Jest cannot require() on Node 20; @microsoft/app-manifest
// requires it. The same function, as CommonJS, for the test run only (jest.config.js maps it).
'use strict';
module.exports = function stripBom(string) {
  if (typeof string !== 'string') throw new TypeError(`Expected a string, got ${typeof string}`);
  return string.charCodeAt(0) === 0xfeff ? string.slice(1) : string;
};
module.exports.default = module.exports;
