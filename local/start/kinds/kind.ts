/**
 * One replayer per kind of event (local/replay/detect.ts): it applies the stack's own routing (the
 * EventBridge rule, the Event Grid subscription filter) and drives the deployed handler code with what
 * gets through, reporting every event, scan and finding to the run's recorder. A new kind of event is a
 * new module beside this one, listed in ./index.ts; the core (run.ts) and the outputs do not change.
 */
import type { ItemOfKind, ReplayKind } from '../../replay/detect';
import type { RunRecorder } from '../recorder';
import type { EmbeddedStack } from '../stack';
import type { EventRef } from '../summary';

export interface Progress {
  (line: string): void;
}

export interface ReplayInput<K extends ReplayKind> {
  item: ItemOfKind<K>;
  ref: EventRef;
}

/** What the routing lets through: the input and the body the pipeline receives (e.g. the EventBridge envelope). */
export interface Delivery<K extends ReplayKind> extends ReplayInput<K> {
  body: Record<string, unknown>;
}

export type Route = { deliver: true; body: Record<string, unknown> } | { deliver: false; by: string; reason: string };

export interface ReplayContext {
  stack: EmbeddedStack;
  /** Images of workloads the stubs do not know (`--image`). */
  images: readonly string[];
  /** Files whose bytes stand for the objects that object events name (`--object`). */
  objects: readonly string[];
  recorder: RunRecorder;
  progress: Progress;
}

export interface Replayer<K extends ReplayKind> {
  kind: K;
  /** The half of the embedded stack this kind needs running. */
  cloud: 'aws' | 'azure';
  /** A short label for tables and reports. */
  label(item: ItemOfKind<K>): string;
  route(item: ItemOfKind<K>): Route;
  replay(deliveries: Delivery<K>[], context: ReplayContext): Promise<void>;
}
