/**
 * Runs the simulator as its own process: `tsx infra/wechat-sim/main.ts`, configured by SIM_* variables (see
 * env.ts). Prints the base URL on stdout so a parent process or a human can point the client at it.
 */
import { seedDemoPlatform } from './demo';
import { simulatorOptionsFromEnv } from './env';
import { startWeChatSimulator } from './index';
import { simulatorFile } from './persistence';

async function main(): Promise<void> {
  const { options, seedDemo, stateFile } = simulatorOptionsFromEnv(process.env);
  // With SIM_STATE_FILE it comes back where it stopped, on its saved port unless SIM_PORT names one.
  const saved = stateFile === undefined ? undefined : simulatorFile(stateFile);
  const sim = await startWeChatSimulator({
    ...options,
    ...(saved ? { persistence: saved.persistence, port: options.port || saved.port || 0 } : {}),
  });
  if (seedDemo) seedDemoPlatform(sim);
  process.stdout.write(`WeChat simulator listening on ${sim.baseUrl} (component ${options.component.appId})\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping WeChat simulator\n`);
    sim.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
