/**
 * `npm run demo:fleet`: a rollout over two dozen simulated mini programs, over HTTP. A canary of two, then 25 %, then
 * everyone; WeChat rejects one canary audit, the gate halts the rollout by itself, the operator retries the member and
 * resumes, and the waves go on to the end. Each poller tick prints the rollout's state and its members per state.
 */

import { expectStatus } from '../infra/local/driver';
import { authorizeNewApp, readyApp, startSeededPlatform } from '../infra/testing/seeded-platform';
import * as z from '../shared/domain/zod';

const APPS = 24;
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

const rolloutView = z.object({
  id: z.string(),
  state: z.string(),
  currentWave: z.number(),
  stateReason: z.nullable(z.string()),
  waves: z.array(z.object({ size: z.number(), counts: z.record(z.string(), z.number()) })),
  members: z.array(
    z.object({
      appId: z.string(),
      wave: z.number(),
      state: z.string(),
      deploymentId: z.nullable(z.string()),
      miniProgramAppid: z.nullable(z.string()),
    }),
  ),
});

const summary = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');

async function main() {
  const p = await startSeededPlatform();
  p.sim.setQuota({ submitRest: 1000, submitLimit: 1000 });
  try {
    console.log(`\n${bold('wxa-deploy fleet demo')}  local runtime ${p.url}  ·  WeChat simulator ${p.sim.baseUrl}\n`);
    const first = await readyApp(p);
    const { api } = first;
    const appIds = [first.appId];
    for (let i = 1; i < APPS; i++) appIds.push((await authorizeNewApp(p, api, first.subject)).appId);
    for (const appId of appIds) expectStatus(await api.put(`/v1/apps/${appId}/rollout-settings`, { labels: ['beta'] }), 200);
    console.log(`${APPS} apps, each with its authorized mini program, labelled "beta"\n`);

    const body = {
      templateId: 101,
      userVersion: '2.0.0',
      userDesc: 'fleet demo',
      selection: { labels: ['beta'] },
      waves: { canary: { count: 2 }, percents: [25, 100] },
    };
    let r = rolloutView.parse(expectStatus(await api.post('/v1/rollouts', body), 201).body);
    console.log(`rollout ${r.id}: waves of ${r.waves.map((w) => w.size).join(' → ')}\n`);

    const decided = new Set<string>();
    let rejectedOne = false;
    for (let tick = 1; tick <= 40 && r.state !== 'completed'; tick++) {
      await p.pollNow();
      r = rolloutView.parse(expectStatus(await api.get(`/v1/rollouts/${r.id}`), 200).body);
      const waves = r.waves.map((w, i) => `w${i}[${summary(w.counts)}]`).join(' ');
      console.log(`tick ${String(tick).padStart(2)}  ${r.state.padEnd(9)} wave ${r.currentWave}  ${waves}`);
      if (r.state === 'halted') {
        console.log(`\n  ${bold('halted by the gate')}: ${r.stateReason}`);
        console.log('  the operator retries the rejected member and resumes\n');
        expectStatus(await api.post(`/v1/rollouts/${r.id}/retry`), 200);
        expectStatus(await api.post(`/v1/rollouts/${r.id}/resume`), 200);
        continue;
      }
      // WeChat decides the audits under review: the first canary audit is rejected, everything else approved.
      for (const m of r.members.filter((x) => x.state === 'auditing' && x.deploymentId && !decided.has(x.deploymentId))) {
        decided.add(m.deploymentId ?? '');
        const reject: boolean = !rejectedOne && m.wave === 0;
        rejectedOne ||= reject;
        await p.sim.decideAudit(
          m.miniProgramAppid ?? '',
          reject ? 'reject' : 'approve',
          reject ? { reason: '1:小程序名称与内容不符' } : {},
        );
      }
    }
    console.log(
      `\nrollout ${r.id} ${bold(r.state)}: ${summary(
        Object.fromEntries(
          Object.entries(
            r.waves.reduce<Record<string, number>>((all, w) => {
              for (const [k, n] of Object.entries(w.counts)) all[k] = (all[k] ?? 0) + n;
              return all;
            }, {}),
          ),
        ),
      )}\n`,
    );
  } finally {
    await p.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
