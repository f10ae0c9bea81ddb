/**
 * One rollout: its state and why, the buttons its state allows (pause, resume, abort, retry the failed members,
 * release a held wave), its waves with members per state, every member with its deployment, and its history. Kept
 * current while it runs (poll-intervals.ts).
 */
import { useContext, useState } from 'react';
import { Alert, Button, Card, Checkbox, Descriptions, Space, Tag } from 'tdesign-react';
import type { AbortOptions } from '../../../shared/domain/rollout';
import { ACTIVE_ROLLOUT_STATES, countStates, isBad, MEMBER_STATES } from '../../../shared/domain/rollout-states';
import type { EndpointName, RolloutView } from '../api';
import { actorText, formatTime, LangContext, memberStateText, rolloutCommandText, rolloutStateText, type T, useT, waveName } from '../i18n';
import { rolloutPollIntervalOf, STEP_POLL_MS } from '../poll-intervals';
import { Busy, confirm, HistoryCard, LoadError, PageTitle, useLoad, usePolling, useSession, useSubmit } from '../ui';
import { memberStateTheme, Progress, policyText, rolloutStateTheme } from './rollouts';

type Action = Extract<EndpointName, 'pauseRollout' | 'resumeRollout' | 'abortRollout' | 'retryRollout' | 'releaseWave'>;

/** The wave a manual rollout holds approved members for: the earliest started one not released yet. */
const heldWave = (r: RolloutView): number | null => {
  if (r.release.mode !== 'manual' || !['running', 'paused', 'halted'].includes(r.state)) return null;
  return r.waves.find((w) => w.wave <= r.currentWave && !w.released)?.wave ?? null;
};

/** Which buttons the state allows (shared/domain/rollout.ts's transitions; the API refuses the rest). */
function actionsOf(r: RolloutView): Action[] {
  const actions: Action[] = [];
  if (r.state === 'running') actions.push('pauseRollout');
  if (r.state === 'paused' || r.state === 'halted') actions.push('resumeRollout');
  if (heldWave(r) !== null) actions.push('releaseWave');
  if (r.state !== 'aborting' && r.state !== 'aborted' && r.members.some((m) => isBad(m.state))) actions.push('retryRollout');
  if (r.state === 'running' || r.state === 'paused' || r.state === 'halted') actions.push('abortRollout');
  return actions;
}

const actionText = (t: T, action: Action, r: RolloutView): string =>
  ({
    pauseRollout: t('暂停', 'Pause'),
    resumeRollout: r.state === 'halted' ? t('接受失败并继续', 'Accept the failures and resume') : t('继续', 'Resume'),
    abortRollout: t('中止发布', 'Abort the rollout'),
    retryRollout: t(
      `重试失败的 ${r.members.filter((m) => isBad(m.state)).length} 个`,
      `Retry the ${r.members.filter((m) => isBad(m.state)).length} failed`,
    ),
    releaseWave: t(`发布${waveName(t, heldWave(r) ?? 0)}`, `Release the ${waveName(t, heldWave(r) ?? 0)}`),
  })[action];

export function RolloutPage({ rolloutId }: { rolloutId: string }) {
  const t = useT();
  const lang = useContext(LangContext);
  const { api } = useSession();
  const rollout = useLoad(() => api.call('rollout', { params: { rolloutId } }), [api, rolloutId]);
  // App names for the members (the rollout names them by id).
  const apps = useLoad(() => api.call('apps'), [api]);
  const { busy, doing, error, submit } = useSubmit<Action>();
  const r = rollout.data;
  const pollEvery = r
    ? rolloutPollIntervalOf(
        r.state,
        r.members.map((m) => m.state),
      )
    : null;
  usePolling(pollEvery !== null, rollout.reload, pollEvery ?? STEP_POLL_MS);

  if (!r) return rollout.error ? <LoadError error={rollout.error} /> : <Busy />;

  /** `only`: the one member a retry is for (its row's button); the top button retries every failed one. */
  const act = async (action: Action, only?: string) => {
    // What abort does to audits under way and to released members: the dialog's choices (the API's defaults unticked).
    const abortOptions: AbortOptions = { inReview: 'withdraw', released: 'leave' };
    if (action === 'abortRollout') {
      const ok = await confirm({
        header: t('中止这次发布？', 'Abort this rollout?'),
        body: <AbortChoices t={t} options={abortOptions} />,
        confirmText: actionText(t, action, r),
        cancelText: t('返回', 'Back'),
        danger: true,
      });
      if (!ok) return;
    }
    await submit(
      async () => {
        const params = { rolloutId };
        if (action === 'abortRollout') await api.call(action, { params, body: abortOptions });
        else if (action === 'retryRollout') await api.call(action, { params, body: only ? { appIds: [only] } : {} });
        else if (action === 'releaseWave') await api.call(action, { params, body: { wave: heldWave(r) ?? 0 } });
        else await api.call(action, { params });
      },
      { doing: action },
    );
    rollout.reload();
  };

  const appName = (appId: string) => apps.data?.apps.find((app) => app.id === appId)?.name ?? appId;
  const total = r.members.length;
  const active = ACTIVE_ROLLOUT_STATES.includes(r.state);
  // The members as they stand (the rollout's own `counts` are as the driver last counted them).
  const counts = countStates(r.members);
  return (
    <>
      <PageTitle extra={<a href="#/rollouts">{t('返回发布批次', 'Back to rollouts')}</a>}>
        {t(`发布批次 v${r.userVersion}`, `Rollout of v${r.userVersion}`)}
      </PageTitle>
      <Space breakLine className="gap" align="center">
        <Tag theme={rolloutStateTheme(r.state)} size="large" data-testid="rollout-state" data-state={r.state}>
          {rolloutStateText(t, r.state)}
        </Tag>
        <span className="muted">
          {active
            ? t(`当前：${waveName(t, r.currentWave)}`, `Now: ${waveName(t, r.currentWave)}`)
            : t(`止于：${waveName(t, r.currentWave)}`, `Ended at: ${waveName(t, r.currentWave)}`)}
        </span>
        {active ? (
          <span className="muted" role="status">
            {t('自动刷新中…', 'Updating by itself…')}
          </span>
        ) : null}
      </Space>
      {/* Why the gate halted it, or what an abort still waits for; the history says the rest. */}
      {r.stateReason && (r.state === 'halted' || r.state === 'aborting') ? (
        <Alert
          theme={r.state === 'halted' ? 'error' : 'info'}
          className="gap"
          title={r.state === 'halted' ? t('为何暂停', 'Why it halted') : t('中止中', 'Aborting')}
          message={<span data-testid="rollout-reason">{r.stateReason}</span>}
        />
      ) : null}
      {r.waiting ? (
        <Alert
          theme="warning"
          className="gap"
          message={t(
            `审核额度不足（剩余 ${r.waiting.rest}，保留 ${r.waiting.reserve}），将于 ${formatTime(lang, r.waiting.until)} 额度恢复后继续提审。`,
            `Audit quota is short (${r.waiting.rest} left, ${r.waiting.reserve} kept in reserve): submits go on when it renews, ${formatTime(lang, r.waiting.until)}.`,
          )}
        />
      ) : null}
      {error ? <Alert theme="error" className="gap" message={error} data-testid="action-error" /> : null}
      <div className="actions gap">
        {actionsOf(r).map((action) => (
          <Button
            key={action}
            theme={action === 'abortRollout' ? 'danger' : 'primary'}
            variant={action === 'abortRollout' || action === 'pauseRollout' ? 'outline' : 'base'}
            loading={doing === action}
            disabled={busy}
            onClick={() => void act(action)}
          >
            {actionText(t, action, r)}
          </Button>
        ))}
      </div>
      <div className="two-columns">
        <Card bordered className="gap" title={t('进度', 'Progress')}>
          <Progress counts={counts} total={total} />
          <ol className="plain-list waves" data-testid="waves">
            {r.waves.map((w) => (
              <li key={w.wave} data-testid={`wave-${w.wave}`}>
                <strong>{waveName(t, w.wave)}</strong>
                <span className="muted">{t(` · ${w.size} 个应用`, ` · ${w.size} apps`)}</span>
                {w.wave === r.currentWave && active ? (
                  <Tag size="small" theme="primary" variant="outline" className="wave-tag">
                    {t('当前', 'current')}
                  </Tag>
                ) : null}
                {r.release.mode === 'manual' && w.released ? (
                  <Tag size="small" theme="success" variant="outline" className="wave-tag">
                    {t('已放行', 'released by hand')}
                  </Tag>
                ) : null}
                <div className="wave-counts">
                  {MEMBER_STATES.filter((s) => (w.counts[s] ?? 0) > 0)
                    .map((s) => `${memberStateText(t, s)} ${w.counts[s]}`)
                    .join(' · ')}
                </div>
              </li>
            ))}
          </ol>
        </Card>
        <Card bordered className="gap" title={t('详情', 'Details')}>
          <Descriptions
            column={1}
            items={[
              { label: t('模板', 'Template'), content: String(r.templateId) },
              { label: t('版本描述', 'Description'), content: r.userDesc || '—' },
              { label: t('策略', 'Policy'), content: policyText(t, r) },
              {
                label: t('预计完成', 'Estimated end'),
                // The API estimates a rollout under way only (null once it ended or while it aborts).
                content: r.estimatedEndAt
                  ? formatTime(lang, r.estimatedEndAt)
                  : active && r.state !== 'aborting'
                    ? t('首个审核结果出来后估算', 'Estimated once WeChat decided a first audit')
                    : '—',
              },
              { label: t('创建', 'Created'), content: `${formatTime(lang, r.createdAt)} · ${actorText(t, r.createdBy)}` },
            ]}
          />
        </Card>
      </div>
      <Card bordered className="gap" title={t(`成员（${total}）`, `Members (${total})`)}>
        <ul className="plain-list members" data-testid="members">
          {r.members.map((m) => (
            <li key={m.appId} data-testid={`member-${m.appId}`} data-state={m.state}>
              <div className="member-head">
                <a href={`#/apps/${m.appId}`}>{appName(m.appId)}</a>
                <span className="muted">{m.miniProgramAppid ?? t('无小程序', 'no mini program')}</span>
                <span className="muted">{waveName(t, m.wave)}</span>
                <Tag size="small" theme={memberStateTheme(m.state)}>
                  {memberStateText(t, m.state)}
                </Tag>
                {m.deploymentId ? <a href={`#/deployments/${m.deploymentId}`}>{t('查看部署', 'Open the deployment')}</a> : null}
                {m.previousDeploymentIds.length > 0 ? (
                  <span className="muted">
                    {t('此前：', 'Earlier: ')}
                    {m.previousDeploymentIds.map((id, i) => (
                      <a key={id} href={`#/deployments/${id}`}>
                        {t(`第 ${i + 1} 次`, `attempt ${i + 1}`)}
                      </a>
                    ))}
                  </span>
                ) : null}
              </div>
              {m.reason && m.state !== 'released' ? (
                <div className={isBad(m.state) ? 'danger-text cause' : 'muted cause'} data-testid="member-reason">
                  {m.reason}
                </div>
              ) : null}
              {isBad(m.state) && actionsOf(r).includes('retryRollout') ? (
                <Button
                  size="small"
                  variant="outline"
                  className="member-retry"
                  disabled={busy}
                  onClick={() => void act('retryRollout', m.appId)}
                >
                  {t('重试此应用', 'Retry this app')}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      </Card>
      <HistoryCard
        title={t('历史', 'History')}
        lines={r.history.map((entry) => ({
          at: entry.at,
          title: rolloutCommandText(t, entry.command),
          change: `${entry.from ? `${rolloutStateText(t, entry.from)} → ` : ''}${rolloutStateText(t, entry.to)} · ${actorText(t, entry.actor)}`,
          cause: entry.cause,
          tone: entry.to === 'halted' || entry.to === 'aborted' ? 'error' : entry.to === 'completed' ? 'success' : 'primary',
        }))}
      />
    </>
  );
}

/**
 * The abort dialog's text and choices. It renders outside the page's tree (TDesign's dialog plugin), so it gets the
 * texts' function and writes the choices into `options`, which the caller sends once the operator confirms.
 */
function AbortChoices({ t, options }: { t: T; options: AbortOptions }) {
  const [leaveInReview, setLeaveInReview] = useState(options.inReview === 'leave');
  const [rollBack, setRollBack] = useState(options.released === 'rollback');
  return (
    <div className="abort-choices">
      <p>
        {t(
          '未开始的应用将跳过，构建中或待发布的将取消。中止后不可恢复。',
          'Apps not started are skipped, builds and approved versions cancelled. This cannot be undone.',
        )}
      </p>
      <Checkbox
        checked={leaveInReview}
        onChange={(on) => {
          setLeaveInReview(on);
          options.inReview = on ? 'leave' : 'withdraw';
        }}
      >
        {t('审核中的保留审核（默认撤回审核）', 'Leave audits under way (by default they are withdrawn)')}
      </Checkbox>
      <Checkbox
        checked={rollBack}
        onChange={(on) => {
          setRollBack(on);
          options.released = on ? 'rollback' : 'leave';
        }}
      >
        {t('已发布的回退到上一版本（默认保持上线）', 'Roll released ones back to their previous version (by default they stay live)')}
      </Checkbox>
    </div>
  );
}
