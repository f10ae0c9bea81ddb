/**
 * The simulator kept in a file: a restarted simulator comes back on its port with what it held (mini programs,
 * authorizations, tokens), whatever fields the state has; a damaged file stops the start instead of being lost.
 */

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWeChatSimulator } from './index';
import { readSimulatorFile, simulatorFile } from './persistence';
import { COMPONENT, wxPost } from './test-support';

const APPID = 'wx0123456789abcd01';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wxa-sim-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function postFresh(url: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const startFrom = (path: string) => {
  const file = simulatorFile(path);
  return startWeChatSimulator({ component: COMPONENT, port: file.port ?? 0, persistence: file.persistence });
};

describe('simulator persistence', () => {
  it('comes back on its port with its mini programs, authorizations and tokens', async () => {
    const path = join(dir, 'wechat-sim.json');
    const first = await startFrom(path);
    first.addMiniProgram({ appId: APPID, nickName: '持久', principalName: '测试科技有限公司' });
    const ticket = await first.pushVerifyTicket();
    const token = await wxPost(first, '/cgi-bin/component/api_component_token', {
      component_appid: COMPONENT.appId,
      component_appsecret: COMPONENT.secret,
      component_verify_ticket: ticket,
    });
    const componentToken = String(token.body.component_access_token);
    const preAuth = await wxPost(first, `/cgi-bin/component/api_create_preauthcode?component_access_token=${componentToken}`, {
      component_appid: COMPONENT.appId,
    });
    await first.scanAuthorization({ preAuthCode: String(preAuth.body.pre_auth_code), appId: APPID, redirectUri: 'https://example.com/cb' });
    const before = first.miniProgram(APPID);
    await first.close();
    // Written durably: the file and nothing else (no temp file left behind).
    expect(readdirSync(dir)).toEqual(['wechat-sim.json']);

    const second = await startFrom(path);
    try {
      expect(second.baseUrl).toBe(first.baseUrl);
      expect(second.miniProgram(APPID)).toEqual(before);
      expect(before?.authorization).toBe('authorized');
      // The component token issued before the restart is still accepted (a new connection: fetch's pool still
      // holds one to the first simulator on the same port).
      const again = await postFresh(`${second.baseUrl}/cgi-bin/component/api_create_preauthcode?component_access_token=${componentToken}`, {
        component_appid: COMPONENT.appId,
      });
      expect(again).toMatchObject({ pre_auth_code: expect.any(String) });
    } finally {
      await second.close();
    }
  });

  it('keeps the rollout settings: audit profiles and call-rate limits', async () => {
    const path = join(dir, 'wechat-sim.json');
    const first = await startFrom(path);
    const profile = { templateId: 9, minMs: 1000, medianMs: 5000, maxMs: 60_000, rejectRate: 0.1, seed: 3 };
    first.setAuditProfile(profile);
    first.setRateLimits([{ path: '/wxa/submit_audit', perDay: 100 }]);
    await first.close();
    const second = await startFrom(path);
    try {
      expect(second.auditProfiles()).toEqual([profile]);
      expect(second.rateLimits()).toEqual([{ path: '/wxa/submit_audit', perDay: 100 }]);
    } finally {
      await second.close();
    }
  });

  it('refuses a damaged file, saying how to start afresh, and a missing one starts empty', () => {
    const path = join(dir, 'wechat-sim.json');
    expect(readSimulatorFile(path)).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '{"port": 1234, "state": ');
    expect(() => readSimulatorFile(path)).toThrow(/move it away \(or delete it\)/);
    writeFileSync(path, '{"port": "x"}');
    expect(() => readSimulatorFile(path)).toThrow(/not a saved simulator/);
  });
});
