/**
 * Loaded by mocha before any test (.mocharc.json `require`): silences the output that is expected and
 * says nothing about the tests, so a line in `npm test` output that looks like a failure is one.
 * The AWS SDK warns once per process that its releases after January 2027 need Node 22; this project
 * supports Node 20 (package.json engines), and child processes the tests start inherit the setting.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
