/**
 * The cloud entry of a function: provider event in, provider result out (through the shim), with the function
 * composed lazily on the first invocation so that a broken configuration fails that invocation loudly instead
 * of crashing module load, and a warm instance reuses everything it built. Every invocation gets its own metrics
 * collector here, flushed as one record when it ends (./metrics.ts): the one place that wraps every handler.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { once } from './compose';
import { withInvocationMetrics } from './metrics';
import { makeCloudHandler, type ScheduledEvent } from './shim';

export interface ComposedFunction {
  http?: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  schedule?: (event: ScheduledEvent, context: Context) => Promise<unknown>;
}

/** `name`: the function's name in serverless.yml, the `function` dimension of its metrics. */
export function cloudEntry(kinds: { name: string; http: boolean; schedule: boolean }, compose: () => Promise<ComposedFunction>) {
  const composed = once(compose);
  /** The composed handler of `kind`; a function composed without it fails the invocation, not the module load. */
  const handlerOf = async <K extends keyof ComposedFunction>(kind: K): Promise<NonNullable<ComposedFunction[K]>> => {
    const fn = (await composed())[kind];
    if (!fn) throw new Error(`the function was composed without a ${kind} handler`);
    return fn;
  };
  return makeCloudHandler({
    ...(kinds.http
      ? {
          http: (event: APIGatewayProxyEvent, context: Context) =>
            withInvocationMetrics(
              { function: kinds.name, trigger: 'http' },
              async () => (await handlerOf('http'))(event, context),
              (result) => result.statusCode >= 500,
            ),
        }
      : {}),
    ...(kinds.schedule
      ? {
          schedule: (event: ScheduledEvent, context: Context) =>
            withInvocationMetrics({ function: kinds.name, trigger: 'schedule' }, async () => (await handlerOf('schedule'))(event, context)),
        }
      : {}),
  });
}
