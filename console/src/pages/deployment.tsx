import { useContext, useState } from 'react';
import { Alert, Button, Card, Descriptions, Form, MessagePlugin, Space, Steps, Tag } from 'tdesign-react';
import { isInFlightState } from '../../../shared/domain/deployment-states';
import type { DeploymentView, EndpointName } from '../api';
import { actorText, commandText, deploymentStateText, formatTime, LangContext, type T, useT } from '../i18n';
import { pollIntervalOf, STEP_POLL_MS } from '../poll-intervals';
import {
  Busy,
  confirm,
  Field,
  HistoryCard,
  KeyedImage,
  LoadError,
  PageTitle,
  TextInput,
  useLoad,
  usePolling,
  useSession,
  useSubmit,
} from '../ui';

type State = DeploymentView['state'];
type Action = Extract<EndpointName, 'cancel' | 'retry' | 'submit' | 'undo' | 'speedup' | 'release' | 'rollback'>;

/** Which buttons a state offers (the state machine of shared/domain/deployment.ts; the API refuses the rest). */
function actionsOf(d: DeploymentView): Action[] {
  switch (d.state) {
    case 'building':
    case 'configuring':
      return ['cancel'];
    case 'built':
      return ['submit', 'cancel'];
    case 'auditing':
      return ['speedup', 'undo'];
    case 'approved':
      return ['release', 'cancel'];
    case 'rejected':
    case 'withdrawn':
      return ['submit', 'cancel'];
    case 'failed':
      return d.failure?.retryable ? ['retry', 'cancel'] : [];
    case 'released':
      return ['rollback'];
    default:
      return [];
  }
}

const actionText = (t: T, action: Action, state: State) =>
  ({
    cancel: t('取消部署发布', 'Cancel the deployment'),
    retry: t('重试', 'Retry'),
    submit: state === 'built' ? t('提交微信审核', 'Submit for WeChat audit') : t('重新提交审核', 'Submit again'),
    undo: t('撤回审核', 'Withdraw the audit'),
    speedup: t('加急审核', 'Speed up the audit'),
    release: t('发布上线', 'Release'),
    rollback: t('版本回退', 'Roll back'),
  })[action];

/** The irreversible ones are confirmed first, saying what cannot be undone. */
const confirmationOf = (t: T, action: Action): { header: string; body: string; danger: boolean } | null =>
  ({
    cancel: {
      header: t('取消这次部署？', 'Cancel this deployment?'),
      body: t(
        '取消后不可恢复，应用回到配置步骤，需重新构建。',
        'This cannot be undone: the app goes back to configuring and needs a new build.',
      ),
      danger: true,
    },
    undo: {
      header: t('撤回审核？', 'Withdraw the audit?'),
      body: t(
        '撤回后需重新提交；每个小程序每天最多撤回 5 次、每月 10 次。',
        'You will have to submit again; WeChat allows 5 withdrawals a day and 10 a month per mini program.',
      ),
      danger: true,
    },
    release: {
      header: t('发布上线？', 'Release?'),
      body: t('发布后所有用户将使用这个版本。', 'Every user gets this version once it is released.'),
      danger: false,
    },
    rollback: {
      header: t('回退到上一个版本？', 'Roll back to the previous version?'),
      body: t('每次发布只能回退一次，回退后不可撤销。', 'A release can be rolled back once, and the rollback cannot be undone.'),
      danger: true,
    },
    speedup: null,
    retry: null,
    submit: null,
  })[action];

/** The step of the five (build, experience, audit, approved, released) a state is at; a closed one shows the first. */
const PHASE_OF: Readonly<Record<State, number>> = {
  configuring: 0,
  building: 0,
  built: 1,
  submitting: 2,
  auditing: 2,
  rejected: 2,
  withdrawn: 2,
  approved: 3,
  releasing: 4,
  released: 4,
  'rolled-back': 4,
  failed: 0,
  cancelled: 0,
  voided: 0,
};

export function DeploymentPage({ deploymentId }: { deploymentId: string }) {
  const t = useT();
  const lang = useContext(LangContext);
  const { api } = useSession();
  const deployment = useLoad(() => api.call('deployment', { params: { deploymentId } }), [api, deploymentId]);
  const d = deployment.data;
  const { busy, doing, error, submit } = useSubmit<Action>();
  const pollEvery = d ? pollIntervalOf(d.state) : null;
  usePolling(pollEvery !== null, deployment.reload, pollEvery ?? STEP_POLL_MS);
  const showQuota = d !== undefined && ['built', 'auditing', 'rejected', 'withdrawn'].includes(d.state);
  const quota = useLoad(() => (showQuota ? api.call('quota') : Promise.resolve(null)), [api, showQuota, d?.state]);

  if (!d) return deployment.error ? <LoadError error={deployment.error} /> : <Busy />;

  const act = async (action: Action) => {
    const question = confirmationOf(t, action);
    if (question && !(await confirm({ ...question, confirmText: actionText(t, action, d.state), cancelText: t('返回', 'Back') }))) return;
    await submit(
      async () => {
        await api.call(action, { params: { deploymentId } });
        if (action === 'cancel') void MessagePlugin.info(t('已取消，应用回到配置步骤。', 'Cancelled: the app is back to configuring.'));
      },
      { doing: action },
    );
    // Done or refused, the page shows the state the deployment is in now.
    deployment.reload();
  };

  const failedPhase = d.state === 'rejected' || d.state === 'failed' || d.state === 'cancelled' || d.state === 'voided';
  return (
    <>
      <PageTitle extra={<a href={`#/apps/${d.appId}`}>{t('返回应用', 'Back to the app')}</a>}>
        {t(`部署 v${d.userVersion}`, `Deployment v${d.userVersion}`)}
      </PageTitle>
      <Space breakLine className="gap" align="center">
        <Tag
          theme={failedPhase ? 'danger' : d.state === 'released' || d.state === 'approved' ? 'success' : 'primary'}
          size="large"
          data-testid="deployment-state"
          data-state={d.state}
        >
          {deploymentStateText(t, d.state)}
        </Tag>
        {isInFlightState(d.state) ? (
          <span className="muted" role="status">
            {t('自动刷新中…', 'Updating by itself…')}
          </span>
        ) : null}
        {d.buildStep ? <span className="muted">{t(`构建步骤：${d.buildStep}`, `Build step: ${d.buildStep}`)}</span> : null}
      </Space>
      <Steps
        className="gap steps"
        current={PHASE_OF[d.state]}
        options={[
          { title: t('构建', 'Build') },
          { title: t('体验版', 'Experience') },
          { title: t('微信审核', 'WeChat audit') },
          { title: t('审核通过', 'Approved') },
          { title: t('上线发布', 'Released') },
        ]}
      />
      {d.stateReason ? (
        <Alert
          theme={failedPhase ? 'error' : 'info'}
          className="gap"
          title={d.state === 'rejected' ? t('审核未通过原因', 'Why WeChat rejected it') : t('说明', 'Note')}
          message={<span data-testid="state-reason">{d.stateReason}</span>}
        />
      ) : null}
      {d.audit && d.audit.screenshots.length > 0 ? (
        <Card bordered className="gap" title={t('审核截图', 'Audit screenshots')}>
          <ul className="plain-list" data-testid="audit-screenshots">
            {d.audit.screenshots.map((mediaId, i) => (
              <li key={mediaId}>
                <KeyedImage
                  endpoint="screenshot"
                  params={{ deploymentId, mediaId }}
                  alt={t(`审核未通过截图 ${i + 1}`, `Rejection screenshot ${i + 1}`)}
                  className="audit-screenshot"
                />
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
      {d.failure ? (
        <Alert
          theme="error"
          className="gap"
          title={d.failure.retryable ? t('失败（可重试）', 'Failed (retryable)') : t('失败', 'Failed')}
          message={`${d.failure.reason}${d.failure.errcode !== null ? ` (errcode ${d.failure.errcode})` : ''}`}
        />
      ) : null}
      {error ? <Alert theme="error" className="gap" message={error} data-testid="action-error" /> : null}
      <div className="actions gap">
        {actionsOf(d).map((action) => (
          <Button
            key={action}
            theme={action === 'cancel' || action === 'undo' || action === 'rollback' ? 'danger' : 'primary'}
            variant={action === 'cancel' || action === 'speedup' ? 'outline' : 'base'}
            loading={doing === action}
            disabled={busy}
            onClick={() => void act(action)}
          >
            {actionText(t, action, d.state)}
          </Button>
        ))}
      </div>
      <div className="two-columns">
        <Card bordered className="gap" title={t('体验二维码', 'Experience QR code')}>
          {d.qrAssetId ? (
            <KeyedImage
              endpoint="qrcode"
              params={{ deploymentId }}
              version={d.qrAssetId}
              alt={t('体验版小程序二维码', 'Experience version QR code')}
              className="experience-qr"
            />
          ) : (
            <p className="muted">
              {d.state === 'building'
                ? t('构建完成后显示（通常 3 分钟内）。', 'Shown once the build is done (usually within 3 minutes).')
                : t('无', 'None')}
            </p>
          )}
          <Testers deployment={d} onChanged={deployment.reload} />
        </Card>
        <Card bordered className="gap" title={t('详情', 'Details')}>
          <Descriptions
            column={1}
            items={[
              { label: t('小程序', 'Mini program'), content: d.miniProgramAppid },
              { label: t('模板', 'Template'), content: String(d.templateId) },
              { label: t('版本描述', 'Description'), content: d.userDesc || '—' },
              { label: t('审核单', 'Audit id'), content: d.audit ? String(d.audit.auditId) : '—' },
              {
                label: t('剩余审核额度', 'Audit quota left'),
                content: quota.data
                  ? t(
                      `提审 ${quota.data.rest}/${quota.data.limit}，加急 ${quota.data.speedupRest}/${quota.data.speedupLimit}`,
                      `submits ${quota.data.rest}/${quota.data.limit}, speed-ups ${quota.data.speedupRest}/${quota.data.speedupLimit}`,
                    )
                  : '—',
              },
              { label: t('创建时间', 'Created'), content: formatTime(lang, d.createdAt) },
            ]}
          />
        </Card>
      </div>
      <HistoryCard
        title={t('部署历史', 'History')}
        lines={d.history.map((entry) => ({
          at: entry.at,
          title: commandText(t, entry.command),
          change: `${deploymentStateText(t, entry.from)} → ${deploymentStateText(t, entry.to)} · ${actorText(t, entry.actor)}`,
          cause: entry.cause,
          ...(entry.errcode !== undefined ? { note: `errcode ${entry.errcode}` } : {}),
          tone: entry.to === 'failed' || entry.to === 'rejected' ? 'error' : entry.to === 'released' ? 'success' : 'primary',
        }))}
      />
    </>
  );
}

function Testers({ deployment, onChanged }: { deployment: DeploymentView; onChanged(): void }) {
  const t = useT();
  const { api } = useSession();
  const [more, setMore] = useState('');
  const { error, submit } = useSubmit();
  const bind = (testers?: string[]) =>
    submit(async () => {
      await api.call('testers', { params: { deploymentId: deployment.id }, body: testers ? { testers } : {} });
      setMore('');
      onChanged();
    });
  const addTesters = () => {
    const testers = more.split(/[\s,，]+/).filter(Boolean);
    // An empty field adds nothing (no disabled button: TDesign's greys fail the contrast check).
    if (testers.length > 0) void bind(testers);
  };
  if (deployment.state !== 'built' && deployment.boundTesters.length === 0 && deployment.refusedTesters.length === 0) return null;
  return (
    <div className="testers">
      <h3>{t('体验者', 'Testers')}</h3>
      <p>{deployment.boundTesters.length ? deployment.boundTesters.join(', ') : t('无', 'none')}</p>
      {deployment.refusedTesters.length ? (
        <Alert
          theme="warning"
          message={
            <div>
              {deployment.refusedTesters.map((r) => (
                <div key={r.wechatId}>{`${r.wechatId}: ${r.reason} (${r.errcode})`}</div>
              ))}
              <Button size="small" variant="outline" onClick={() => void bind()}>
                {t('重新绑定被拒的体验者', 'Bind the refused testers again')}
              </Button>
            </div>
          }
        />
      ) : null}
      {deployment.state === 'built' ? (
        // A form of its own: the label above the input (TDesign's side label cut it at 100 px), Enter adds.
        <Form labelAlign="top" onSubmit={addTesters} preventSubmitDefault>
          <Field label={t('添加体验者微信号', 'Add testers (WeChat ids)')} error={error ?? undefined}>
            {(id, describedBy) => (
              <Space breakLine>
                <TextInput id={id} describedBy={describedBy} value={more} onChange={setMore} name="testers" invalid={!!error} />
                <Button type="submit" variant="outline">
                  {t('添加', 'Add')}
                </Button>
              </Space>
            )}
          </Field>
        </Form>
      ) : null}
    </div>
  );
}
