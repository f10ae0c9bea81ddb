/**
 * Simulator options from environment variables, for `main.ts` and for anyone starting it in-process from the
 * same variables. Every problem is reported at once, naming the variable.
 */
import { z } from 'zod';
import { ConfigError } from '../../shared/domain/errors';
import type { FaultConfig, SimulatorOptions } from './types';

/** A well-formed but obviously fake key and secret, so the simulator starts with zero configuration. */
export const DEMO_COMPONENT = {
  appId: 'wx5afe1e0c7c5e8a01',
  secret: 'simsecret0123456789abcdef0123456',
  token: 'simtoken',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
} as const;

const int = (min: number) => z.coerce.number().int().min(min);
const rate = z.coerce.number().min(0).max(1);
const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

const envSchema = z.object({
  SIM_PORT: int(0).max(65535).default(0),
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SIM_COMPONENT_APPID: z.string().min(1).default(DEMO_COMPONENT.appId),
  SIM_COMPONENT_SECRET: z.string().min(1).default(DEMO_COMPONENT.secret),
  SIM_TOKEN: z.string().min(1).default(DEMO_COMPONENT.token),
  SIM_ENCODING_AES_KEY: z
    .string()
    .regex(/^[A-Za-z0-9]{43}$/, 'must be 43 characters of [A-Za-z0-9]')
    .default(DEMO_COMPONENT.encodingAESKey),
  SIM_COMPONENT_EVENT_URL: z.url().optional(),
  SIM_MESSAGE_URL_TEMPLATE: z.string().min(1).optional(),
  SIM_TICKET_INTERVAL_MS: int(0).default(0),
  SIM_AUDIT_DELAY_MS: int(0).optional(),
  SIM_TOKEN_TTL_SECONDS: int(1).optional(),
  SIM_PRIVACY_SCAN_MS: int(0).optional(),
  SIM_SEED_DEMO: flag.default(false),
  SIM_STATE_FILE: z.string().min(1).optional(),
  SIM_FAULT_SYSTEM_ERROR_RATE: rate.optional(),
  SIM_FAULT_HTTP5XX_RATE: rate.optional(),
  SIM_FAULT_LATENCY_MS: int(0).optional(),
  SIM_FAULT_HANG_RATE: rate.optional(),
  SIM_FAULT_DROP_PUSH_RATE: rate.optional(),
  SIM_FAULT_DUPLICATE_PUSH_RATE: rate.optional(),
  SIM_FAULT_REORDER_PUSHES: flag.optional(),
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
