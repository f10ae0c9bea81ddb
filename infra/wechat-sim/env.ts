/**
 * Simulator options from environment variables, for `main.ts` and for anyone starting it in-process from the
 * same variables. Every problem is reported at once, naming the variable.
 */

import { ConfigError } from '../../shared/domain/errors';
import * as z from '../../shared/domain/zod';
import type { FaultConfig, SimulatorOptions } from './types';

/** A well-formed but obviously fake key and secret, so the simulator starts with zero configuration. */
export const DEMO_COMPONENT = {
  appId: 'wx5afe1e0c7c5e8a01',
  secret: 'simsecret0123456789abcdef0123456',
  token: 'simtoken',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
} as const;

const int = (min: number) => z.coerce.number().check(z.int(), z.gte(min));
const rate = z.coerce.number().check(z.gte(0), z.lte(1));
const flag = z.pipe(
  z.enum(['0', '1', 'true', 'false']),
  z.transform((v) => v === '1' || v === 'true'),
);

const envSchema = z.object({
  SIM_PORT: z._default(int(0).check(z.lte(65535)), 0),
  SIM_HOST: z._default(z.string().check(z.minLength(1)), '127.0.0.1'),
  SIM_COMPONENT_APPID: z._default(z.string().check(z.minLength(1)), DEMO_COMPONENT.appId),
  SIM_COMPONENT_SECRET: z._default(z.string().check(z.minLength(1)), DEMO_COMPONENT.secret),
  SIM_TOKEN: z._default(z.string().check(z.minLength(1)), DEMO_COMPONENT.token),
  SIM_ENCODING_AES_KEY: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9]{43}$/, 'must be 43 characters of [A-Za-z0-9]')),
    DEMO_COMPONENT.encodingAESKey,
  ),
  SIM_COMPONENT_EVENT_URL: z.optional(z.url()),
  SIM_MESSAGE_URL_TEMPLATE: z.optional(z.string().check(z.minLength(1))),
  SIM_TICKET_INTERVAL_MS: z._default(int(0), 0),
  SIM_AUDIT_DELAY_MS: z.optional(int(0)),
  SIM_TOKEN_TTL_SECONDS: z.optional(int(1)),
  SIM_PRIVACY_SCAN_MS: z.optional(int(0)),
  SIM_SEED_DEMO: z._default(flag, false),
  SIM_STATE_FILE: z.optional(z.string().check(z.minLength(1))),
  SIM_FAULT_SYSTEM_ERROR_RATE: z.optional(rate),
  SIM_FAULT_HTTP5XX_RATE: z.optional(rate),
  SIM_FAULT_LATENCY_MS: z.optional(int(0)),
  SIM_FAULT_HANG_RATE: z.optional(rate),
  SIM_FAULT_DROP_PUSH_RATE: z.optional(rate),
  SIM_FAULT_DUPLICATE_PUSH_RATE: z.optional(rate),
  SIM_FAULT_REORDER_PUSHES: z.optional(flag),
});

export const SIM_ENV_VARS: readonly string[] = Object.keys(envSchema.shape);

export interface EnvSimulatorOptions {
  options: SimulatorOptions;
  seedDemo: boolean;
  /** Where to keep the state across restarts (persistence.ts); undefined: in memory only. */
  stateFile: string | undefined;
}

export function simulatorOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): EnvSimulatorOptions {
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key.startsWith('SIM_') && value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    const field = String(parsed.error.issues[0]?.path[0] ?? '');
    throw new ConfigError(`invalid simulator environment: ${problems.join('; ')}`, { field });
  }
  const e = parsed.data;
  const faults: Partial<FaultConfig> = {
    ...(e.SIM_FAULT_SYSTEM_ERROR_RATE === undefined ? {} : { systemErrorRate: e.SIM_FAULT_SYSTEM_ERROR_RATE }),
    ...(e.SIM_FAULT_HTTP5XX_RATE === undefined ? {} : { http5xxRate: e.SIM_FAULT_HTTP5XX_RATE }),
    ...(e.SIM_FAULT_LATENCY_MS === undefined ? {} : { latencyMs: e.SIM_FAULT_LATENCY_MS }),
    ...(e.SIM_FAULT_HANG_RATE === undefined ? {} : { hangRate: e.SIM_FAULT_HANG_RATE }),
    ...(e.SIM_FAULT_DROP_PUSH_RATE === undefined ? {} : { dropPushRate: e.SIM_FAULT_DROP_PUSH_RATE }),
    ...(e.SIM_FAULT_DUPLICATE_PUSH_RATE === undefined ? {} : { duplicatePushRate: e.SIM_FAULT_DUPLICATE_PUSH_RATE }),
    ...(e.SIM_FAULT_REORDER_PUSHES === undefined ? {} : { reorderPushes: e.SIM_FAULT_REORDER_PUSHES }),
  };
  const options: SimulatorOptions = {
    port: e.SIM_PORT,
    host: e.SIM_HOST,
    component: {
      appId: e.SIM_COMPONENT_APPID,
      secret: e.SIM_COMPONENT_SECRET,
      token: e.SIM_TOKEN,
      encodingAESKey: e.SIM_ENCODING_AES_KEY,
    },
    ticketIntervalMs: e.SIM_TICKET_INTERVAL_MS,
    auditDecisionDelayMs: e.SIM_AUDIT_DELAY_MS ?? null,
    faults,
    ...(e.SIM_COMPONENT_EVENT_URL === undefined ? {} : { componentEventUrl: e.SIM_COMPONENT_EVENT_URL }),
    ...(e.SIM_MESSAGE_URL_TEMPLATE === undefined ? {} : { messageUrlTemplate: e.SIM_MESSAGE_URL_TEMPLATE }),
    ...(e.SIM_TOKEN_TTL_SECONDS === undefined ? {} : { tokenTtlSeconds: e.SIM_TOKEN_TTL_SECONDS }),
    ...(e.SIM_PRIVACY_SCAN_MS === undefined ? {} : { privacyScanMs: e.SIM_PRIVACY_SCAN_MS }),
  };
  return { options, seedDemo: e.SIM_SEED_DEMO, stateFile: e.SIM_STATE_FILE };
}
