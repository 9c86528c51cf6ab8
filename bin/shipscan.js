#!/usr/bin/env node
// `npx shipscan [options]`: the CLI of `npm start` without npm's own lines on stdout, so `--json`
// output is exactly one JSON document. The TypeScript sources run through tsx, as `npm start` does.
'use strict';
require('tsx/cjs/api').register();
require('../local/start.ts');
