/**
 * `api`: the frontends' reads and setup. For now: a health check that proves the store answers.
 */
import { z } from 'zod';
import { cloudEntry } from '../../shared/runtime/entry';
import { platform, type Platform } from '../../shared/runtime/compose';
import { createHttpFunction } from '../../shared/runtime/http/stack';
import { json, route } from '../../shared/runtime/http/route';
import { defineCollection } from '../../shared/store/port';

const healthProbes = defineCollection({ name: 'healthProbes', schema: z.object({ at: z.number() }) });

export type ApiDeps = Pick<Platform, 'config' | 'log' | 'store'> & { clock?: () => number };

export function makeHandler(deps: ApiDeps) {
  const clock = deps.clock ?? Date.now;
  const probes = deps.store.collection(healthProbes);
  return createHttpFunction({
    name: 'api',
    log: deps.log,
    maxBodyBytes: deps.config.maxBodyBytes,
    corsOrigins: deps.config.corsOrigins,
    adminApiKey: deps.config.adminApiKey,
    routes: [
      route({
        method: 'GET',
        path: '/v1/health',
        auth: 'public',
        summary: 'Liveness and store round-trip',
        response: z.object({ ok: z.literal(true), storeRoundTripMs: z.number() }),
        handle: async () => {
          const started = clock();
          // A short-lived write + read proves the store accepts writes, not just that the process runs.
          await probes.insert(`probe-${started}-${Math.random().toString(36).slice(2)}`, { at: started }, { expiresAt: started + 60_000 });
          return json(200, { ok: true, storeRoundTripMs: clock() - started });
        },
      }),
    ],
  });
}

export const handler = cloudEntry({ http: true, schedule: false }, async () => ({ http: makeHandler(await platform()) }));
