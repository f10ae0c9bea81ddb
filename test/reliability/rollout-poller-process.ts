/**
 * A review poller as a process of its own, for rollouts.test.ts to SIGKILL at random points: the production tick
 * (functions/review-poller `makeHandler`: audits due, then the rollouts) over the test's SQLite file, tick after
 * tick, each `STEP_MS` later on a clock of its own starting at `CLOCK_START` (past every lease a killed poller
 * left and every resume delay). Before each tick it records a fresh verify ticket at its own time, as pollUntil
 * does (a clock hours ahead has no usable ticket otherwise). It says `tick <n> <clock>` as each tick starts and
 * `done <n>` as it ends, so the test knows where a kill landed and which clock comes next.
 *
 * Run: node --import tsx test/reliability/rollout-poller-process.ts, with the platform's environment plus
 * CLOCK_START, STEP_MS, TICKS and SIM_URL (the simulator, whose control API pushes the ticket).
 */

import { makeHandler } from '../../functions/review-poller/handler';
import * as z from '../../shared/domain/zod';
import { servicesWithClock } from './clocked-services';

const settings = z
  .extend(
    z.object({
      CLOCK_START: z.coerce.number().check(z.int()),
      STEP_MS: z.coerce.number().check(z.int(), z.positive()),
      TICKS: z.coerce.number().check(z.int(), z.positive()),
    }),
    { SIM_URL: z.url() },
  )
  .parse(process.env);

async function main(): Promise<void> {
  const poller = servicesWithClock(process.env, settings.CLOCK_START);
  const tick = makeHandler(poller.services, { concurrency: 8 });
  for (let n = 0; n < settings.TICKS; n++) {
    const at = settings.CLOCK_START + n * settings.STEP_MS;
    poller.setClock(at);
    process.stdout.write(`tick ${n} ${at}\n`);
    const answer = await fetch(`${settings.SIM_URL}/sim/ticket`, { method: 'POST' });
    const { ticket } = z.object({ ticket: z.string() }).parse(await answer.json());
    await poller.services.wechat.tokens.recordVerifyTicket(ticket, at);
    await tick({
      kind: 'schedule',
      provider: 'local-timer',
      triggerName: 'poll-due',
      time: new Date(at).toISOString(),
      payload: undefined,
    });
    process.stdout.write(`done ${n}\n`);
  }
  await poller.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
