/**
 * Two languages, Chinese first (the seeds are Chinese). Each text is written where it is shown, in both languages
 * side by side (`t('绑定', 'Bind')`), so a screen reads as one piece in either and no key can go missing.
 */
import { createContext, useContext } from 'react';
import type { AppView, DeploymentView, MiniProgramView, RolloutView } from './api';
import type { T } from './api-errors';

export type { T } from './api-errors';

export type Lang = 'zh' | 'en';

export const LangContext = createContext<Lang>('zh');
export const useT = (): T => {
  const lang = useContext(LangContext);
  return (zh, en) => (lang === 'zh' ? zh : en);
};

/** The language a visitor chose last time (not a secret: localStorage), Chinese by default. */
export const initialLang = (): Lang => (window.localStorage.getItem('wxa-console-lang') === 'en' ? 'en' : 'zh');
export const rememberLang = (lang: Lang) => window.localStorage.setItem('wxa-console-lang', lang);

export const deploymentStateText = (t: T, state: DeploymentView['state']): string =>
  ({
    configuring: t('配置中', 'configuring'),
    building: t('构建中', 'building'),
    built: t('已生成体验版', 'built'),
    submitting: t('提交审核中', 'submitting'),
    auditing: t('微信审核中', 'in WeChat review'),
    approved: t('审核通过', 'approved'),
    releasing: t('发布中', 'releasing'),
    released: t('已发布', 'released'),
    rejected: t('审核未通过', 'rejected'),
    withdrawn: t('已撤回审核', 'withdrawn'),
    cancelled: t('已取消', 'cancelled'),
    failed: t('失败', 'failed'),
    voided: t('已作废', 'voided'),
    'rolled-back': t('已回退', 'rolled back'),
  })[state];

export const appKindText = (t: T, kind: AppView['kind']): string => (kind === 'iot-video' ? 'IoT Video' : t('低码应用', 'Low-code'));

/** The mini program an app publishes to, or that it has none yet. */
export const appTargetText = (t: T, appid: AppView['miniProgramAppid']): string =>
  appid ? t(`小程序 ${appid}`, `Mini program ${appid}`) : t('未授权小程序', 'No mini program yet');

export const appStatusText = (t: T, status: AppView['status']): string =>
  ({
    unlinked: t('未授权小程序', 'no mini program'),
    configuring: t('待部署', 'ready to build'),
    building: t('构建中', 'building'),
    built: t('已生成体验版', 'built'),
    'in-review': t('微信审核中', 'in review'),
    rejected: t('审核未通过', 'rejected'),
    withdrawn: t('已撤回审核', 'withdrawn'),
    approved: t('审核通过', 'approved'),
    releasing: t('发布中', 'releasing'),
    released: t('已发布', 'released'),
    failed: t('失败', 'failed'),
  })[status];

export const miniProgramStatusText = (t: T, status: MiniProgramView['status']): string =>
  ({
    authorized: t('已授权', 'authorized'),
    unauthorized: t('已解除授权', 'unauthorized'),
    'needs-reauth': t('需重新授权', 'needs re-authorization'),
  })[status];

export const commandText = (t: T, command: DeploymentView['history'][number]['command']): string =>
  ({
    startBuild: t('开始构建', 'build started'),
    buildCommitted: t('代码已上传', 'code committed'),
    privacyGuideSet: t('隐私指引已设置', 'privacy guide set'),
    domainsSet: t('服务器域名已设置', 'server domains set'),
    qrStored: t('体验二维码已生成', 'experience QR stored'),
    buildSucceeded: t('构建完成', 'build finished'),
    cancel: t('取消部署', 'cancelled'),
    submitAudit: t('提交审核', 'submitted for audit'),
    auditSubmitted: t('微信已受理审核', 'WeChat accepted the audit'),
    auditApproved: t('审核通过', 'audit approved'),
    auditRejected: t('审核未通过', 'audit rejected'),
    auditDelayed: t('审核延后', 'audit delayed'),
    withdraw: t('撤回审核', 'audit withdrawn'),
    startRelease: t('开始发布', 'release started'),
    released: t('已发布', 'released'),
    releaseAlreadyDone: t('已发布（微信确认）', 'released (WeChat confirmed)'),
    rollback: t('版本回退', 'rolled back'),
    fail: t('失败', 'failed'),
    retry: t('重试', 'retried'),
    void: t('作废', 'voided'),
  })[command];

export const actorText = (t: T, actor: DeploymentView['createdBy']): string =>
  ({ account: t('账号', 'account'), admin: t('平台管理员', 'platform admin'), wechat: t('微信', 'WeChat'), system: t('系统', 'system') })[
    actor.kind
  ] + (actor.id ? ` ${actor.id}` : '');

export const formatTime = (lang: Lang, at: number): string =>
  new Date(at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' });

export const rolloutStateText = (t: T, state: RolloutView['state']): string =>
  ({
    running: t('进行中', 'running'),
    paused: t('已暂停', 'paused'),
    halted: t('已被闸门暂停', 'halted by its gate'),
    aborting: t('中止中', 'aborting'),
    aborted: t('已中止', 'aborted'),
    completed: t('已完成', 'completed'),
  })[state];

export const memberStateText = (t: T, state: RolloutView['members'][number]['state']): string =>
  ({
    pending: t('等待中', 'pending'),
    starting: t('启动中', 'starting'),
    building: t('构建中', 'building'),
    auditing: t('微信审核中', 'in WeChat review'),
    approved: t('审核通过', 'approved'),
    phasing: t('分阶段发布中', 'phased release'),
    releasing: t('发布中', 'releasing'),
    released: t('已发布', 'released'),
    rejected: t('审核未通过', 'rejected'),
    failed: t('失败', 'failed'),
    skipped: t('已跳过', 'skipped'),
    cancelled: t('已取消', 'cancelled'),
    withdrawn: t('已撤回审核', 'withdrawn'),
    left: t('保持原样', 'left as it was'),
    'rolled-back': t('已回退', 'rolled back'),
  })[state];

export const rolloutCommandText = (t: T, command: RolloutView['history'][number]['command']): string =>
  ({
    create: t('创建', 'created'),
    pause: t('暂停', 'paused'),
    resume: t('继续', 'resumed'),
    halt: t('闸门暂停', 'halted by the gate'),
    abort: t('中止', 'abort'),
    aborted: t('中止完成', 'aborted'),
    advance: t('进入下一批', 'next wave'),
    complete: t('完成', 'completed'),
    retry: t('重试失败成员', 'failed members retried'),
    releaseWave: t('发布本批', 'wave released'),
    waitForQuota: t('等待审核额度', 'waiting for audit quota'),
    quotaAvailable: t('审核额度恢复', 'audit quota available'),
  })[command];

/** The first wave is the canary; the later ones are numbered from 1. */
export const waveName = (t: T, wave: number): string => (wave === 0 ? t('金丝雀批次', 'canary') : t(`第 ${wave} 批`, `wave ${wave}`));
