/** Entry point of `npm start` and `npx shipscan` (see local/start/run.ts and `--help`). */
import { EXIT } from './start/exit-codes';
import { HelpRequested, parseStartOptions } from './start/options';

// The SDK's notice about future Node versions is not news to someone running the offline demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose') || /(^|,)shipscan(,|$)/.test(process.env.DEBUG ?? '');

// Options are checked before the stack's modules (cloud SDKs, emulators) load, so --help and usage errors answer at once.
try {
  parseStartOptions(argv);
} catch (error) {
  const help = error instanceof HelpRequested;
  (help ? process.stdout : process.stderr).write(`${(error as Error).message}\n`);
  process.exit(help ? EXIT.ok : EXIT.usage);
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only once the options are valid (see above)
const { main } = require('./start/run') as typeof import('./start/run');
main(argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`shipscan failed: ${error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error)}\n`);
    process.exit(EXIT.internal);
  },
);
