import {
  BUILD_GATE,
  blockingFor,
  evaluateReadiness,
  ITEM_FIXES,
  known,
  notKnown,
  type ReadinessFacts,
  type ReadinessItem,
  type ReadinessItemId,
  refusalReason,
} from './readiness';

const TOOLS = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 616 };

/** A mini program that went live before and lacks nothing. */
const ready = (): ReadinessFacts => ({
  funcScopeIds: [18, 30],
  requiredScopeIds: [18],
  icp: known({ status: 6, available: 1, auditData: [] }),
  basicInfo: known({ verified: true, nickname: 'Acme', signature: 'Acme shop', headImage: 'https://wx.qlogo.cn/x/0' }),
  categories: known([TOOLS]),
  everReleased: known(true),
  privacyGuide: { keysToDeclare: ['Location'], configHasContact: true, setAtWeChat: known(true) },
  locationApis: ['getLocation'],
  privacyInterfaces: known([{ api: 'wx.getLocation', status: 5 }]),
  privacyScan: null,
  domainsNeeded: ['assets.acme.example'],
  platformDomains: known(['assets.acme.example']),
  miniProgramDomainsMissing: known([]),
  plugins: { required: [], list: known([]) },
  quota: known({ rest: 15, limit: 20 }),
  latestAudit: known(null),
  ugcDeclared: false,
  orderPath: known({ online: null, applied: null }),
  ownAuditId: null,
  refusals: [],
});

const item = (items: ReadinessItem[], id: ReadinessItemId): ReadinessItem => {
  const found = items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};

describe('evaluateReadiness', () => {
  it('a social forum category needs the UGC declaration on the first submit only; declared, it is ok', () => {
    const FORUM = { first_class: '社交', second_class: '社区/论坛', first_id: 210, second_id: 1127 };
    const first = item(evaluateReadiness({ ...ready(), categories: known([FORUM]) }), 'ugc-declaration');
    expect(first).toMatchObject({ status: 'blocking', blocks: 'submit', where: expect.stringContaining('config.ugcDeclaration') });
    const declared = item(evaluateReadiness({ ...ready(), categories: known([FORUM]), ugcDeclared: true }), 'ugc-declaration');
    expect(declared.status).toBe('ok');
    const later = { ...ready(), categories: known([FORUM]), latestAudit: known({ auditId: 7, status: 0 }) };
    expect(item(evaluateReadiness(later), 'ugc-declaration').status).toBe('warning');
    // A refusal (85094) still wins over "submitted before", but not over a declaration made since.
    const refused = [{ errcode: 85094, at: 1 }];
    expect(item(evaluateReadiness({ ...later, refusals: refused }), 'ugc-declaration').status).toBe('blocking');
    expect(item(evaluateReadiness({ ...later, refusals: refused, ugcDeclared: true }), 'ugc-declaration').status).toBe('ok');
    expect(item(evaluateReadiness(ready()), 'ugc-declaration').status).toBe('ok');
  });

  it('reports every prerequisite, all ok for a mini program that lacks nothing', () => {
    const items = evaluateReadiness(ready());
    expect(items.map((i) => i.id)).toHaveLength(17);
    expect(items.filter((i) => i.status !== 'ok')).toEqual([]);
    expect(items.every((i) => i.fix === null && i.title.zh !== '' && i.title.en !== '')).toBe(true);
  });

  it('a new mini program: unfiled, no category, no privacy guide contact — all three blocking, with what to do', () => {
    const facts: ReadinessFacts = {
      ...ready(),
      icp: known({ status: 1026, available: 1, auditData: [] }),
      everReleased: known(false),
      categories: known([]),
      privacyGuide: { keysToDeclare: ['Location'], configHasContact: false, setAtWeChat: known(false) },
    };
    const items = evaluateReadiness(facts);
    expect(item(items, 'icp-filing')).toMatchObject({
      status: 'blocking',
      blocks: 'release',
      wechat: { source: 'get_icp_entrance_info', says: expect.stringContaining('1026') },
      where: expect.stringContaining('小程序备案'),
      fix: ITEM_FIXES['icp-filing'].fix,
    });
    expect(item(items, 'category')).toMatchObject({ status: 'blocking', blocks: 'submit', where: expect.stringContaining('服务类目') });
    expect(item(items, 'privacy-guide')).toMatchObject({ status: 'blocking', blocks: 'build', action: 'set-privacy-guide' });
    // The build is refused for what would stop it or its submit, not for the filing (it runs alongside the audit).
    expect(blockingFor(items, BUILD_GATE).map((i) => i.id)).toEqual(['category', 'privacy-guide']);
    expect(blockingFor(items, ['release']).map((i) => i.id)).toEqual(['icp-filing']);
  });

  it('tells the ICP statuses apart: under review warns, rejected names the reasons, a live mini program only warns', () => {
    const withIcp = (status: number, everReleased = false, auditData: { key_name: string; error: string; suggest: string }[] = []) =>
      item(
        evaluateReadiness({ ...ready(), everReleased: known(everReleased), icp: known({ status, available: 1, auditData }) }),
        'icp-filing',
      );
    expect(withIcp(4).status).toBe('warning');
    const rejected = withIcp(5, false, [{ key_name: '小程序名称', error: '与主体不符', suggest: '修改名称' }]);
    expect(rejected).toMatchObject({ status: 'blocking', blocks: 'release' });
    expect(rejected.wechat.says).toContain('小程序名称: 与主体不符 (修改名称)');
    expect(withIcp(1024, true).status).toBe('warning');
    expect(
      item(
        evaluateReadiness({ ...ready(), icp: known({ status: 1024, available: 0, auditData: [] }), everReleased: known(false) }),
        'icp-filing',
      ).wechat.says,
    ).toContain('entrance is closed');
  });

  it('reads verification and the profile from the ICP status when set 30 was not granted', () => {
    const items = evaluateReadiness({
      ...ready(),
      funcScopeIds: [18],
      basicInfo: notKnown('api unauthorized', 61007),
      icp: known({ status: 1029, available: 1, auditData: [] }),
      everReleased: known(false),
    });
    expect(item(items, 'verification')).toMatchObject({ status: 'blocking', wechat: { source: 'get_icp_entrance_info' } });
    expect(item(items, 'profile')).toMatchObject({ status: 'blocking', blocks: 'submit' });
    expect(item(items, 'permission-sets').status).toBe('warning');
    const filed = evaluateReadiness({ ...ready(), funcScopeIds: [18], basicInfo: notKnown('api unauthorized', 61007) });
    expect(item(filed, 'verification')).toMatchObject({ status: 'unknown', wechat: { errcode: 61007 } });
  });

  it('blocks what WeChat refused (penalties, quota), unless a fact read since shows it fixed', () => {
    const at = Date.UTC(2026, 11, 1);
    const items = evaluateReadiness({
      ...ready(),
      refusals: [
        { errcode: 86009, at },
        { errcode: 85008, at },
      ],
    });
    expect(item(items, 'penalties')).toMatchObject({ status: 'blocking', blocks: 'submit', wechat: { errcode: 86009 } });
    // The admin added a category since: get_category now lists it.
    expect(item(items, 'category').status).toBe('ok');
    const undo = item(evaluateReadiness({ ...ready(), refusals: [{ errcode: 87013, at }] }), 'undo-budget');
    expect(undo).toMatchObject({ status: 'warning', wechat: { errcode: 87013 } });
  });

  it('flags location APIs WeChat has not granted, missing plugins and platform domains, and another audit pending', () => {
    const items = evaluateReadiness({
      ...ready(),
      privacyInterfaces: known([{ api: 'wx.getLocation', status: 4, failReason: '理由不符' }]),
      plugins: { required: ['wxplugin0000000001'], list: known([{ appId: 'wxplugin0000000001', status: 1 }]) },
      platformDomains: known([]),
      miniProgramDomainsMissing: known(['downloaddomain https://assets.acme.example']),
      latestAudit: known({ auditId: 7, status: 2 }),
    });
    expect(item(items, 'privacy-interfaces')).toMatchObject({ status: 'blocking', wechat: { says: expect.stringContaining('理由不符') } });
    expect(item(items, 'plugins')).toMatchObject({ status: 'blocking', wechat: { says: expect.stringContaining('applying') } });
    expect(item(items, 'platform-domains')).toMatchObject({
      status: 'blocking',
      blocks: 'build',
      where: expect.stringContaining('open.weixin.qq.com'),
    });
    expect(item(items, 'mini-program-domains')).toMatchObject({ status: 'warning', action: 'set-domains' });
    expect(item(items, 'pending-audit').status).toBe('warning');
    const refused = evaluateReadiness({ ...ready(), latestAudit: known({ auditId: 7, status: 2 }), refusals: [{ errcode: 85009, at: 1 }] });
    expect(item(refused, 'pending-audit')).toMatchObject({ status: 'blocking', wechat: { errcode: 85009 } });
    expect(
      item(evaluateReadiness({ ...ready(), latestAudit: known({ auditId: 7, status: 2 }), ownAuditId: 7 }), 'pending-audit').status,
    ).toBe('ok');
  });
});

describe('refusalReason', () => {
  it("speaks with the report's voice: the item's title and fix, WeChat's errcode", () => {
    const refusal = refusalReason(85008, 'the mini program has no approved category');
    expect(refusal?.item).toBe('category');
    expect(refusal?.reason).toContain('[readiness: category]');
    expect(refusal?.reason).toContain(ITEM_FIXES.category.fix.en);
    expect(refusal?.reason).toContain('WeChat 85008');
    expect(refusalReason(85044, 'code package too large')).toBeNull();
  });
});
