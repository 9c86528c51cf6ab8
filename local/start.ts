/** Entry point of `npm start` (see local/start/run.ts and `npm start -- --help`). */
import { main } from './start/run';

// The SDK's notice about future Node versions is not news to someone running the offline demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
