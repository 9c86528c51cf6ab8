import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Powertools logger (structured JSON), metrics (EMF) and tracer (X-Ray) for one function. */
export interface Telemetry {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export function createTelemetry(serviceName: string, namespace: string): Telemetry {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace }),
    tracer: new Tracer({ serviceName }),
  };
}
