/**
 * The WeChat simulator: a real HTTP server that behaves like WeChat's third-party-platform API for everything
 * our client uses (see `types.ts` for the contract and reference/wechat-open-platform.md §9).
 */
import { Simulator } from './simulator';
import type { SimulatorOptions, WeChatSimulator } from './types';

export { DEMO_MINI_PROGRAMS, DEMO_PLUGINS, DEMO_TEMPLATES, type DemoPlatform, seedDemoPlatform } from './demo';
export { DEMO_COMPONENT, type EnvSimulatorOptions, SIM_ENV_VARS, simulatorOptionsFromEnv } from './env';
export { SimulatorError } from './errors';
export { MAX_PUSH_ATTEMPTS } from './pushes';
export { NO_FAULTS } from './simulator';
export { DEFAULT_FUNC_SCOPE_IDS, DEFAULT_QUOTA, GRACE_MS, TICKET_TTL_MS } from './state';
// The contract (types.ts) is public as a whole: every type a caller of the simulator may name.
export type * from './types';

export function startWeChatSimulator(options: SimulatorOptions): Promise<WeChatSimulator> {
  return Simulator.start(options);
}
