/**
 * Answers an AWS SDK client's calls in-process, for the services that have no emulator on this
 * machine (SNS, SQS visibility changes, Secrets Manager in the offline stack). The middleware sits
 * at the start of the client's stack, so the handler under test builds and sends its commands
 * exactly as in Lambda; only the network round trip is replaced.
 */
export interface LocalCall {
  command: string;
  input: Record<string, unknown>;
}

type Answer = (call: LocalCall) => Record<string, unknown>;

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: unknown, context: { commandName?: string }) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

export function answerLocally<T>(client: T, answer: Answer, calls: LocalCall[] = []): T {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (_next, context) => async (args) => {
      const call = { command: context.commandName ?? 'unknown', input: args.input };
      calls.push(call);
      return { output: { $metadata: { httpStatusCode: 200 }, ...answer(call) }, response: {} };
    },
    { step: 'initialize', name: 'shipscanLocalAnswer', priority: 'high' },
  );
  return client;
}
