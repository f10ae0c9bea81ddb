/**
 * Webhook throughput and lag, and what the outbox costs a state change (issue 16).
 *
 * - Outbox cost: the same transition stored with its `deployment.state_changed` event in one batch (what the
 *   pipeline does) against stored alone, on the same SQLite file; per-change latency p50/p99.
 * - Throughput: 10,000 state changes (1,000 deployments × 10 transitions) sit in the outbox; a local receiver answers
 *   each request in 50 ms and serves at most RECEIVER_CONCURRENCY at once, so its own limit is
 *   RECEIVER_CONCURRENCY / 50 ms. The worker runs (as the timer would, back to back) until every event is delivered
 *   and verified; time to all delivered, deliveries per second against that limit, and lag (event → delivered).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIFECYCLE } from '../infra/testing/lifecycle';
import { openCollections } from '../shared/app/context';
import { createEndpointService } from '../shared/app/webhooks/endpoints';
import { commitWithEvents } from '../shared/app/webhooks/outbox';
import { createWebhookWorker } from '../shared/app/webhooks/worker';
import { createDeployment, type Deployment, transition } from '../shared/domain/deployment';
import { newDeploymentId } from '../shared/domain/ids';
import { deploymentStateEvents } from '../shared/domain/webhooks/state-changes';
import { createLogger } from '../shared/runtime/logger';
import { createSecretBox } from '../shared/store/secret-box';
import { openSqliteStore } from '../shared/store/sqlite';
import { fmt, main, numberArg, percentile, ratio } from './support';

const DEPLOYMENTS = numberArg('deployments', 1_000);
const RECEIVER_MS = 50;
const RECEIVER_CONCURRENCY = 32;
const WORKER_CONCURRENCY = 32;

/** Ten transitions a deployment: its whole lifecycle but the last (`released`). */
const TEN = LIFECYCLE.slice(0, 10);

main(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-bench-webhooks-'));
  const store = openSqliteStore({ path: join(dir, 'wxa.db') });
  const db = openCollections(store);
  const box = createSecretBox(randomBytes(32));
  const base = { store, box, mode: 'local' as const, clock: () => Date.now(), randomBytes: (n: number) => randomBytes(n) };
  const bytes = (n: number) => randomBytes(n);

  // The receiver: verifies the signature (as a real one would: HMAC over id.timestamp.body), answers in 50 ms.
  let secretKey = Buffer.alloc(0);
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const seen = new Set<string>();
  let bad = 0;
  let allDelivered: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allDelivered = resolve;
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const serve = () => {
        inFlight += 1;
        setTimeout(() => {
          const id = String(req.headers['webhook-id']);
          const expected = `v1,${createHmac('sha256', secretKey)
            .update(`${id}.${req.headers['webhook-timestamp']}.${Buffer.concat(chunks)}`)
            .digest('base64')}`;
          if (String(req.headers['webhook-signature']).split(' ').includes(expected)) seen.add(id);
          else bad += 1;
          res.writeHead(204).end();
          inFlight -= 1;
          waiting.shift()?.();
          if (seen.size >= DEPLOYMENTS * TEN.length) allDelivered();
        }, RECEIVER_MS);
      };
      if (inFlight < RECEIVER_CONCURRENCY) serve();
      else waiting.push(serve);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const { secret } = await createEndpointService(base).create('acc_bench', 'acc_bench', { url, eventTypes: ['deployment.state_changed'] });
  secretKey = Buffer.from(secret.slice('whsec_'.length), 'base64');

  const newDeployments = async (n: number): Promise<Deployment[]> => {
    const out: Deployment[] = [];
    for (let i = 0; i < n; i++) {
      const d = createDeployment(
        {
          id: newDeploymentId(bytes),
          accountId: 'acc_bench',
          appId: 'app_bench',
          miniProgramAppid: 'wx0123456789abcdef',
          templateId: 1,
          userVersion: '1.0.0',
          userDesc: 'bench',
          extJson: '{}',
        },
        { at: Date.now(), actor: { kind: 'system' } },
      );
      await db.deployments.insert(d.id, d);
      out.push(d);
    }
    return out;
  };

  /** One transition of each deployment per round; returns each change's latency in ms. */
  const changeAll = async (deployments: Deployment[], withOutbox: boolean): Promise<number[]> => {
    const latencies: number[] = [];
    for (const command of TEN) {
      for (let i = 0; i < deployments.length; i++) {
        const d = deployments[i] as Deployment;
        const started = performance.now();
        const stored = await db.deployments.get(d.id);
        if (!stored) throw new Error('lost a deployment');
        const result = transition(stored.data, command, { at: Date.now(), actor: { kind: 'system' }, random: Math.random });
        const write = db.deployments.updateWrite(d.id, stored.version, result.deployment);
        if (withOutbox) await commitWithEvents(store, [write], deploymentStateEvents(stored.data, result.deployment, bytes));
        else await store.commit([write]);
        latencies.push(performance.now() - started);
        deployments[i] = result.deployment;
      }
    }
    return latencies;
  };

  const plain = await changeAll(await newDeployments(DEPLOYMENTS), false);
  const outboxed = await changeAll(await newDeployments(DEPLOYMENTS), true);

  const worker = createWebhookWorker({
    ...base,
    log: createLogger({ level: 'error' }),
    random: Math.random,
    concurrency: WORKER_CONCURRENCY,
  });
  const started = performance.now();
  const lags: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const run = await worker.run({ budgetMs: 60_000 });
      lags.push(...run.lagsMs);
      if (run.delivered === 0 && run.fannedOut === 0) await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await done;
  const elapsedMs = performance.now() - started;
  running = false;
  await loop;
  server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const total = DEPLOYMENTS * TEN.length;
  const rate = total / (elapsedMs / 1000);
  const limit = RECEIVER_CONCURRENCY / (RECEIVER_MS / 1000);
  const p = (values: number[], q: number) => percentile(values, q);
  return {
    name: 'webhooks',
    title: 'Webhooks: delivery throughput and the outbox’s cost',
    command: 'npx tsx bench/webhooks.ts',
    rows: [
      {
        figure: `time until all ${fmt(total)} state changes are delivered and verified`,
        value: `${fmt(elapsedMs / 1000, 1)} s`,
        baseline: `${fmt(total / limit, 1)} s at the receiver's own limit`,
        ratio: ratio(elapsedMs / 1000, total / limit),
        target: '— (informational)',
        met: null,
      },
      {
        figure: 'deliveries per second',
        value: `${fmt(rate)} /s`,
        baseline: `${fmt(limit)} /s (receiver: ${RECEIVER_CONCURRENCY} at once × 50 ms)`,
        ratio: ratio(rate, limit),
        target: '— (informational)',
        met: null,
      },
      {
        figure: 'state change with its outbox event, p50 / p99',
        value: `${fmt(p(outboxed, 50), 2)} / ${fmt(p(outboxed, 99), 2)} ms`,
        baseline: `${fmt(p(plain, 50), 2)} / ${fmt(p(plain, 99), 2)} ms without`,
        ratio: ratio(p(outboxed, 50), p(plain, 50)),
        target: '— (informational)',
        met: null,
      },
    ],
    notes: [
      `- ${fmt(DEPLOYMENTS)} deployments × ${TEN.length} transitions; SQLite file store; one endpoint; the worker drains ${WORKER_CONCURRENCY} queues (one per deployment) at once, each in sequence order.`,
      `- Lag (event written → delivered), which includes the time the events waited while they were all being written: p50 ${fmt(p(lags, 50) / 1000, 1)} s, p99 ${fmt(p(lags, 99) / 1000, 1)} s. Signatures that did not verify: ${bad}.`,
      '- Outbox cost: read + transition + one batch, the same change with and without its event row, same file, interleaved by deployment set (plain first).',
    ],
    durationMs: 0,
  };
});
