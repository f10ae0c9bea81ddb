import { checkPlugins, missingPlugins, PluginsMissingError, type RequiredPlugin, requiredPluginsSchema } from './plugins';

const shopping: RequiredPlugin = { appId: 'wx34345ae5855f892d', alias: 'shopping', version: '1.2.0', name: '小程序交易组件' };
const video: RequiredPlugin = { appId: 'wx1319af22356934bf', alias: 'xp2p', version: 'latest', name: 'IoT Video P2P' };

describe('plugins', () => {
  test('an approved plugin (status 2) is present; absent, applying, rejected and timed out are missing', () => {
    expect(missingPlugins([shopping], [{ appId: shopping.appId, status: 2 }])).toEqual([]);
    expect(missingPlugins([shopping, video], [])).toEqual([
      { appId: shopping.appId, name: '小程序交易组件', alias: 'shopping', status: 'absent' },
      { appId: video.appId, name: 'IoT Video P2P', alias: 'xp2p', status: 'absent' },
    ]);
    expect(missingPlugins([shopping], [{ appId: shopping.appId, status: 1 }])[0]?.status).toBe('applying');
    expect(missingPlugins([shopping], [{ appId: shopping.appId, status: 3 }])[0]?.status).toBe('rejected');
    expect(missingPlugins([shopping], [{ appId: shopping.appId, status: 4 }])[0]?.status).toBe('expired');
  });

  test('the refusal names the missing plugin and says where to add it (seed 000 FAQ)', () => {
    const decision = checkPlugins('wx0123456789abcdef', [shopping, video], [{ appId: video.appId, status: 2 }]);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.error).toBeInstanceOf(PluginsMissingError);
    expect(decision.error.code).toBe('PLUGIN_MISSING');
    expect(decision.error.message).toContain('"小程序交易组件" (wx34345ae5855f892d)');
    expect(decision.error.message).toContain('插件管理');
    expect(decision.error.message).not.toContain('IoT Video P2P');
    expect(decision.error.details).toMatchObject({ miniProgramAppid: 'wx0123456789abcdef', missing: [{ alias: 'shopping' }] });
  });

  test('no plugins needed: allowed', () => {
    expect(checkPlugins('wx0123456789abcdef', [], [])).toEqual({ ok: true });
  });

  test('a plugin listed twice (same appid or alias) is refused with its index', () => {
    const parsed = requiredPluginsSchema.safeParse([shopping, { ...video, alias: 'shopping' }]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual([1]);
  });
});
