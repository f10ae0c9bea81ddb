/**
 * `npm run demo`: the product in one minute. Starts the local runtime and the WeChat simulator, then walks an
 * IoT Video console's flow (seed 003) over HTTP, printing each step with its state and how long it took:
 * account → bind primary → app → authorize → configure → build (saves the experience QR) → submit → audit
 * decided → release → unbind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { authorize, createAccount, deploymentOf, expectStatus, type Platform, pngOfWidth, startPlatform } from '../infra/local/driver';
import { DEMO_MINI_PROGRAMS, DEMO_PLUGINS } from '../infra/wechat-sim';
import { EXAMPLE_PRODUCT_IDS, exampleIotVideoConfig } from '../shared/domain/examples';
import * as z from '../shared/domain/zod';

const root = resolve(__dirname, '..');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

let stepNo = 0;
async function step<T>(title: string, run: () => Promise<T>, describe: (value: T) => string): Promise<T> {
  stepNo += 1;
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  const label = `${String(stepNo).padStart(2)}. ${title}`;
  console.log(`${label.padEnd(34, ' ')} ${describe(value).padEnd(58, ' ')} ${dim(`${ms.toFixed(0).padStart(5)} ms`)}`);
  return value;
}

const idOf = (body: unknown) => z.object({ id: z.string() }).parse(body).id;

async function main() {
  const primary = DEMO_MINI_PROGRAMS[0];
  const camera = DEMO_MINI_PROGRAMS[1];
  if (!primary || !camera) throw new Error('the simulator has no demo mini programs');
  const started = performance.now();
  const p: Platform = await startPlatform();
  console.log(`\n${bold('wxa-deploy demo')}  local runtime ${p.url}  ·  WeChat simulator ${p.sim.baseUrl}\n`);
  try {
    const account = await step(
      'create account',
      () => createAccount(p, primary.principalName),
      (a) => `${a.id} (API key shown once)`,
    );
    const { api } = account;

    await step(
      'bind primary mini program',
      () => authorize(p, api, 'bind-primary', primary.appId),
      (r) => `${primary.appId} ${primary.nickName} → ${r.result.code}`,
    );

    const images = await step(
      'upload config images',
      async () => {
        const upload = async (width: number) =>
          idOf(expectStatus(await api.raw('POST', '/v1/assets', pngOfWidth(width), { 'content-type': 'image/png' }), 201).body);
        return {
          appDownloadQr: await upload(150),
          instructions: await upload(370),
          manual: await upload(600),
          homeBottom: await upload(750),
          doorLockTop: await upload(750),
        } as Parameters<typeof exampleIotVideoConfig>[0];
      },
      (i) => `5 images (app QR ${i?.appDownloadQr})`,
    );

    const appId = await step(
      'create iot-video app',
      async () =>
        idOf(
          expectStatus(
            await api.post('/v1/apps', {
              kind: 'iot-video',
              name: '艾克米摄像机',
              templateId: 201,
              requiredPlugins: [{ appId: DEMO_PLUGINS.iotVideo, alias: 'iotvideo', version: '1.5.0', name: 'IoT Video 插件' }],
              config: exampleIotVideoConfig(images),
              // Seed 003 step 3: the app is linked to the products its devices belong to.
              productIds: EXAMPLE_PRODUCT_IDS,
            }),
            201,
          ).body,
        ),
      (id) => `${id}, template 201`,
    );

    await step(
      'authorize target mini program',
      () => authorize(p, api, 'authorize-app', camera.appId, appId),
      (r) => `${camera.appId} ${camera.nickName} → ${r.result.code}`,
    );

    await step(
      'configure (theme colours)',
      async () =>
        expectStatus(
          await api.put(`/v1/apps/${appId}/config`, {
            ...exampleIotVideoConfig(images),
            theme: { mainColor: '#E34D59', secondaryColor: '#FFF0ED' },
          }),
          200,
        ),
      () => 'main #E34D59, secondary #FFF0ED',
    );

    const built = await step(
      'build',
      async () =>
        deploymentOf(
          expectStatus(
            await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0', userDesc: '首个版本', testers: ['tester001'] }),
            202,
          ),
        ),
      (d) => `${d.id} → ${d.state}`,
    );

    const qrPath = await step(
      'save experience QR',
      async () => {
        const reply = expectStatus(await api.get(`/v1/deployments/${built.id}/qrcode`), 200);
        const qr = reply.body as Buffer;
        const dir = join(root, '.data', 'demo');
        mkdirSync(dir, { recursive: true });
        // WeChat sends a JPEG; the extension follows what was stored.
        const file = join(dir, `experience-qr-${built.id}.${reply.headers.get('content-type') === 'image/png' ? 'png' : 'jpg'}`);
        writeFileSync(file, qr);
        return file;
      },
      (file) => relative(process.cwd(), file),
    );

    const submitted = await step(
      'submit for audit',
      async () => deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200)),
      (d) => `audit ${d.audit?.auditId} → ${d.state}`,
    );

    await step(
      'WeChat approves (push)',
      async () => {
        await p.sim.decideAudit(camera.appId, 'approve');
        return deploymentOf(expectStatus(await api.get(`/v1/deployments/${submitted.id}`), 200));
      },
      (d) => `weapp_audit_success → ${d.state}`,
    );

    await step(
      'release',
      async () => deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/release`), 200)),
      (d) => `${d.state}, ${d.history.length} transitions in its history`,
    );

    await step(
      'unbind',
      async () =>
        z.object({ voided: z.number() }).parse(expectStatus(await api.post(`/v1/mini-programs/${camera.appId}/unbind`, {}), 200).body),
      (r) => `${camera.appId} detached, ${r.voided} in-flight voided`,
    );

    console.log(
      `\n${bold('done')} in ${((performance.now() - started) / 1000).toFixed(1)} s — the experience QR is at ${relative(process.cwd(), qrPath)}`,
    );
    // The demo's ports close with it; `npm start` keeps the backend (and its console) up on PORT.
    console.log(
      `the same job in a browser: ${bold('npm start')}, then open the console at ${bold(`http://127.0.0.1:${process.env.PORT ?? 3000}/console/`)}\n`,
    );
  } finally {
    await p.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
