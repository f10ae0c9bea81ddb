/**
 * The cloud entry of a function: provider event in, provider result out (through the shim), with the function
 * composed lazily on the first invocation so that a broken configuration fails that invocation loudly instead
 * of crashing module load, and a warm instance reuses everything it built.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { once } from './compose';
import { makeCloudHandler, type ScheduledEvent } from './shim';

export interface ComposedFunction {
  http?: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  schedule?: (event: ScheduledEvent, context: Context) => Promise<unknown>;
}

export function cloudEntry(kinds: { http: boolean; schedule: boolean }, compose: () => Promise<ComposedFunction>) {
  const composed = once(compose);
  const missing = (kind: string) => new Error(`the function was composed without a ${kind} handler`);
  return makeCloudHandler({
    ...(kinds.http
      ? {
          http: async (event: APIGatewayProxyEvent, context: Context) => {
            const fn = (await composed()).http;
            if (!fn) throw missing('http');
            return fn(event, context);
          },
        }
      : {}),
    ...(kinds.schedule
      ? {
          schedule: async (event: ScheduledEvent, context: Context) => {
            const fn = (await composed()).schedule;
            if (!fn) throw missing('schedule');
            return fn(event, context);
          },
        }
      : {}),
  });
}
