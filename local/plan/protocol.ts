import type { PlanValue } from './serialize';

/** One resource as the program declared it (inputs as sent to the provider, secrets masked). */
export interface PlannedResource {
  /** Pulumi type token, e.g. `aws:lambda/function:Function` or `shipscan:aws:AwsScanner`. */
  type: string;
  /** Logical (Pulumi) name. */
  name: string;
  urn?: string;
  /** URN of the parent resource; absent for top-level resources. */
  parent?: string;
  /** Plain JSON; secret Outputs appear as "[secret]", assets as `{ "@asset": ... }`, archives as `{ "@archive": ... }`. */
  inputs: Record<string, unknown>;
  /** Id the mocks assigned (custom resources only). */
  id?: string;
  /** false for ComponentResources. */
  custom?: boolean;
  /** true for resources read with `.get()` rather than declared. */
  read?: boolean;
}

export interface WorkerRequest {
  kind: 'plan';
  program: string;
  project: string;
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  awsRegion: string;
  azureLocation: string;
}

export type WorkerReply =
  | { kind: 'result'; resources: PlannedResource[]; outputs: Record<string, PlanValue> }
  /** userError: a configuration the real program refuses too (no stack trace needed); stack: for --verbose. */
  | { kind: 'error'; message: string; userError?: boolean; stack?: string };
