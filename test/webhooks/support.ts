/**
 * What the webhook tests share: a receiver written the way an integrator would (the official `standardwebhooks`
 * library verifies every delivery; nothing of ours checks it), and a world of a real SQLite store, the endpoint
 * service and the delivery worker, with state changes that write their events through the outbox.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { openCollections } from '../../shared/app/context';
import { createEndpointService } from '../../shared/app/webhooks/endpoints';
import { commitWithEvents } from '../../shared/app/webhooks/outbox';
import { createWebhookWorker, type WebhookWorkerDeps } from '../../shared/app/webhooks/worker';
import { createDeployment, type Deployment, type DeploymentCommand, transition } from '../../shared/domain/deployment';
import { type AccountId, newDeploymentId } from '../../shared/domain/ids';
import { deploymentStateEvents } from '../../shared/domain/webhooks/state-changes';
import { createLogger } from '../../shared/runtime/logger';
import type { DocumentStore } from '../../shared/store/port';
import { createSecretBox } from '../../shared/store/secret-box';
import { openSqliteStore } from '../../shared/store/sqlite';

export interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
  timestamp: number;
}

export interface Receiver {
  url: string;
  /** Verified deliveries in arrival order (every one, repeats included). */
  received: Received[];
  /** Requests the official library refused to verify. */
  unverified: number;
  /** Every request that reached it, answered or not. */
  requests: number;
  /** What it answers next; 2xx = accepted. */
  status: number;
  secrets: string[];
  /** Resolves once `count` verified deliveries have arrived. */
  arrived: (count: number) => Promise<void>;
  close: () => Promise<void>;
}

/** A receiver that verifies with `standardwebhooks` against any of `secrets` (a rotation hands it two). */
export async function startReceiver(options: { delayMs?: number; status?: number } = {}): Promise<Receiver> {
  const waiters = new Set<{ count: number; resolve: () => void }>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiver.requests += 1;
      const answer = () => {
        if (receiver.status < 200 || receiver.status >= 300) {
          res.writeHead(receiver.status).end('receiver down');
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        for (const secret of receiver.secrets) {
          try {
            const payload = new Webhook(secret).verify(body, headers) as { type: string; data: Record<string, unknown> };
            receiver.received.push({
              id: headers['webhook-id'] ?? '',
              type: payload.type,
              data: payload.data,
              timestamp: Number(headers['webhook-timestamp']),
            });
            for (const waiter of [...waiters]) {
              if (receiver.received.length >= waiter.count) {
                waiters.delete(waiter);
                waiter.resolve();
              }
            }
            res.writeHead(204).end();
            return;
          } catch {
            // try the next secret
          }
        }
        receiver.unverified += 1;
        res.writeHead(400).end('bad signature');
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    received: [],
    unverified: 0,
    requests: 0,
    status: options.status ?? 204,
    secrets: [],
    arrived: (count) =>
      new Promise<void>((resolve) => {
        if (receiver.received.length >= count) resolve();
        else waiters.add({ count, resolve });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

export const DATA_KEY = Buffer.alloc(32, 7);
export const ACCOUNT = 'acc_webhooks' as AccountId;

export interface World {
  store: DocumentStore;
  path: string;
  endpoints: ReturnType<typeof createEndpointService>;
  worker: ReturnType<typeof createWebhookWorker>;
  /** What `worker` was made with, for a test that makes its own with one part changed. */
  workerDeps: WebhookWorkerDeps;
  /** A new deployment (in `configuring`, no event yet). */
  newDeployment: (accountId?: AccountId) => Promise<Deployment>;
  /** One transition, stored with its events in one batch (what the pipeline does). */
  change: (d: Deployment, command: DeploymentCommand) => Promise<Deployment>;
  close: () => Promise<void>;
}

export function openWorld(options: { path?: string; clock?: () => number; worker?: Partial<WebhookWorkerDeps> } = {}): World {
  const dir = options.path ? null : mkdtempSync(join(tmpdir(), 'wxa-webhooks-'));
  const path = options.path ?? join(dir ?? '', 'wxa.db');
  const store = openSqliteStore({ path });
  // Read through, not captured: a test that installs jest's fake Date after opening the world moves this clock too.
  const clock = options.clock ?? (() => Date.now());
  const box = createSecretBox(DATA_KEY);
  const db = openCollections(store);
  const base = { store, box, mode: 'local' as const, clock, randomBytes: (n: number) => randomBytes(n) };
  const workerDeps: WebhookWorkerDeps = { ...base, log: createLogger({ level: 'error' }), random: Math.random, ...options.worker };
  return {
    store,
    path,
    endpoints: createEndpointService(base),
    worker: createWebhookWorker(workerDeps),
    workerDeps,
    newDeployment: async (accountId = ACCOUNT) => {
      const d = createDeployment(
        {
          id: newDeploymentId((n) => randomBytes(n)),
          accountId,
          appId: 'app_webhooks',
          miniProgramAppid: 'wx0123456789abcdef',
          templateId: 1,
          userVersion: '1.0.0',
          userDesc: 'webhooks',
          extJson: '{}',
        },
        { at: clock(), actor: { kind: 'system' } },
      );
      await db.deployments.insert(d.id, d);
      return d;
    },
    change: async (d, command) => {
      const stored = await db.deployments.get(d.id);
      if (!stored) throw new Error(`no deployment ${d.id}`);
      const result = transition(stored.data, command, { at: clock(), actor: { kind: 'system' }, random: Math.random });
      if (!result.changed) throw new Error(`${command.type} changed nothing in ${stored.data.state}`);
      await commitWithEvents(
        store,
        [db.deployments.updateWrite(d.id, stored.version, result.deployment)],
        deploymentStateEvents(stored.data, result.deployment, (n) => randomBytes(n)),
      );
      return result.deployment;
    },
    close: async () => {
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { LIFECYCLE } from '../../infra/testing/lifecycle';
