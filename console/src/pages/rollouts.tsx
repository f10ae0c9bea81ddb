/**
 * The account's fleet rollouts: one template version taken to many of its apps' mini programs in waves (a canary,
 * then growing shares), each member an ordinary deployment. The list shows each one's plan, state and progress;
 * the form starts one over the apps picked (POST /v1/rollouts with `selection.appIds`).
 */
import { useContext, useState } from 'react';
import { Alert, Button, Card, Checkbox, Form, MessagePlugin, Radio, Space, Tag } from 'tdesign-react';
import { ACTIVE_ROLLOUT_STATES, isBad, isSettled, MEMBER_STATES, type MemberState } from '../../../shared/domain/rollout-states';
import type { AppView, RolloutInput, RolloutSummary } from '../api';
import { appKindText, formatTime, LangContext, memberStateText, rolloutStateText, type T, useT } from '../i18n';
import { AUDIT_POLL_MS } from '../poll-intervals';
import {
  CardList,
  type FieldErrors,
  FormToggle,
  LoadError,
  PageTitle,
  TemplatePicker,
  TextField,
  useLoad,
  usePolling,
  useSession,
  useSubmit,
  VersionFields,
} from '../ui';

type Plan = Pick<RolloutSummary, 'plan' | 'gate' | 'release'>;

const share = (n: number) => `${Math.round(n * 100)} %`;

/** The plan in one line: the waves, when members go live, and when the gate halts. */
export const policyText = (t: T, r: Plan): string => {
  const canary = 'count' in r.plan.canary ? t(`${r.plan.canary.count} 个`, `${r.plan.canary.count}`) : `${r.plan.canary.percent} %`;
  const waves = [t(`金丝雀 ${canary}`, `canary ${canary}`), ...r.plan.percents.map((p) => `${p} %`)].join(' → ');
  const release =
    r.release.mode === 'manual' ? t('每批手动发布', 'each wave released by hand') : t('审核通过即发布', 'released once approved');
  const phased = r.release.phased
    ? t(`，分阶段 ${r.release.phased.percents.join('/')} %`, `, phased ${r.release.phased.percents.join('/')} %`)
    : '';
  const gate = t(
    `失败超过 金丝雀 ${share(r.gate.canaryMaxBadShare)}、其后 ${share(r.gate.waveMaxBadShare)} 时暂停`,
    `halts past ${share(r.gate.canaryMaxBadShare)} failed in the canary, ${share(r.gate.waveMaxBadShare)} later`,
  );
  return `${waves} · ${release}${phased} · ${gate}`;
};

export const rolloutStateTheme = (state: RolloutSummary['state']) =>
  state === 'completed'
    ? 'success'
    : state === 'halted' || state === 'aborting' || state === 'aborted'
      ? 'danger'
      : state === 'paused'
        ? 'warning'
        : 'primary';

export const memberStateTheme = (state: MemberState) =>
  state === 'released' || state === 'approved' ? 'success' : isBad(state) ? 'danger' : isSettled(state) ? 'default' : 'primary';

/** Members per state (the states that have any), and how many have settled of all. */
export function Progress({ counts, total }: { counts: Record<MemberState, number>; total: number }) {
  const t = useT();
  const settled = MEMBER_STATES.filter(isSettled).reduce((sum, s) => sum + counts[s], 0);
  return (
    <div className="rollout-progress">
      <p>{t(`${settled}/${total} 个已结束，已发布 ${counts.released}`, `${settled} of ${total} settled, ${counts.released} released`)}</p>
      <progress value={settled} max={Math.max(total, 1)} aria-label={t('已结束的成员', 'Members settled')} />
      <Space breakLine size="small">
        {MEMBER_STATES.filter((s) => counts[s] > 0).map((s) => (
          <Tag key={s} size="small" variant="light" theme={memberStateTheme(s)} data-testid={`count-${s}`}>
            {`${memberStateText(t, s)} ${counts[s]}`}
          </Tag>
        ))}
      </Space>
    </div>
  );
}

export function RolloutsPage() {
  const t = useT();
  const lang = useContext(LangContext);
  const { api } = useSession();
  const list = useLoad(() => api.call('rollouts'), [api]);
  const [creating, setCreating] = useState(false);
  // A rollout's steps are spread over the poller's ticks and WeChat's audits (hours): the list looks twice a minute.
  usePolling(
    (list.data?.rollouts ?? []).some((r) => ACTIVE_ROLLOUT_STATES.includes(r.state)),
    list.reload,
    AUDIT_POLL_MS,
  );
  return (
    <>
      <PageTitle extra={<FormToggle open={creating} onToggle={setCreating} label={t('新建发布批次', 'New rollout')} />}>
        {t('发布批次', 'Rollouts')}
      </PageTitle>
      <p className="muted">
        {t(
          '把同一个模板版本分批发布到多个应用的小程序：先发金丝雀批次，审核通过后再逐批扩大；失败过多时自动暂停。',
          'Take one template version to many apps’ mini programs in waves: a canary first, then growing waves; too many failures halt it.',
        )}
      </p>
      {creating ? <CreateRollout onCreated={(id) => (window.location.hash = `#/rollouts/${id}`)} /> : null}
      <CardList error={list.error} items={list.data?.rollouts} empty={t('还没有发布批次。', 'No rollouts yet.')}>
        {(r) => (
          // TDesign's Card passes no data attributes on: the test finds the card by its wrapper.
          <div key={r.id} data-testid={`rollout-${r.id}`}>
            <Card bordered>
              <h2>
                <a href={`#/rollouts/${r.id}`}>{`v${r.userVersion}`}</a>
              </h2>
              <Space breakLine>
                <Tag theme={rolloutStateTheme(r.state)}>{rolloutStateText(t, r.state)}</Tag>
                <Tag variant="outline">{t(`模板 ${r.templateId}`, `template ${r.templateId}`)}</Tag>
              </Space>
              <p className="muted">{policyText(t, r)}</p>
              <Progress counts={r.counts} total={r.memberCount} />
              <p className="muted">{t(`创建于 ${formatTime(lang, r.createdAt)}`, `Created ${formatTime(lang, r.createdAt)}`)}</p>
            </Card>
          </div>
        )}
      </CardList>
    </>
  );
}

/** The first error at `path` or under it (`waves.percents.2`), for a control that stands for the whole list. */
const errorUnder = (errors: FieldErrors, path: string): string | undefined =>
  [...errors].find(([key]) => key === path || key.startsWith(`${path}.`))?.[1];

const numbersOf = (text: string): number[] =>
  text
    .split(/[\s,，%]+/)
    .filter(Boolean)
    .map(Number);

function CreateRollout({ onCreated }: { onCreated(id: string): void }) {
  const t = useT();
  const { api } = useSession();
  const templates = useLoad(() => api.call('templates'), [api]);
  const apps = useLoad(() => api.call('apps'), [api]);
  const [templateId, setTemplateId] = useState<number | null>(null);
  const [userVersion, setUserVersion] = useState('');
  const [userDesc, setUserDesc] = useState('');
  const [appIds, setAppIds] = useState<AppView['id'][]>([]);
  const [canary, setCanary] = useState('1');
  const [percents, setPercents] = useState('10, 50, 100');
  const [mode, setMode] = useState<'on-approval' | 'manual'>('on-approval');
  const { busy, fieldErrors: errors, error, submit } = useSubmit();
  const all = templates.data?.templates ?? [];
  const latest = all.filter((template) => template.latest);
  // Only an app with an authorized mini program can be built; the others would fail at once.
  const eligible = (apps.data?.apps ?? []).filter((app) => app.miniProgramAppid);
  /** A template's code line: the development mini program it was uploaded from. */
  const lineOf = (id: number) => all.find((template) => template.templateId === id)?.sourceMiniProgramAppid;
  const picked = eligible.filter((app) => appIds.includes(app.id));
  // Unless chosen, the newest template of the code line the picked apps are built from.
  const chosenTemplate =
    templateId ??
    (latest.find((template) => picked[0] && template.sourceMiniProgramAppid === lineOf(picked[0].templateId)) ?? latest[0])?.templateId;
  const otherLine = picked.filter((app) => chosenTemplate !== undefined && lineOf(app.templateId) !== lineOf(chosenTemplate));

  const create = () => {
    const body: RolloutInput = {
      templateId: chosenTemplate ?? 0,
      userVersion,
      userDesc,
      selection: { appIds },
      waves: { canary: { count: Number(canary) }, percents: numbersOf(percents) },
      release: { mode },
    };
    return submit(async () => {
      const rollout = await api.call('createRollout', { body });
      void MessagePlugin.success(t(`已开始发布 v${rollout.userVersion}`, `Rollout of v${rollout.userVersion} started`));
      onCreated(rollout.id);
    });
  };

  return (
    <Card title={t('新建发布批次', 'New rollout')} bordered className="gap">
      <Form labelAlign="top" onSubmit={() => void create()} preventSubmitDefault>
        <TemplatePicker templates={templates} value={chosenTemplate} onChange={setTemplateId} error={errors.get('templateId')}>
          {otherLine.length > 0 ? (
            <p className="warn-text" data-testid="other-code-line">
              {t(
                `${otherLine.map((app) => app.name).join('、')} 使用另一个代码模板：发布后将换成所选模板的代码。`,
                `${otherLine.map((app) => app.name).join(', ')} ${otherLine.length > 1 ? 'are' : 'is'} built from another code template: this would replace its code.`,
              )}
            </p>
          ) : null}
        </TemplatePicker>
        <VersionFields
          errors={errors}
          version={userVersion}
          onVersion={setUserVersion}
          description={userDesc}
          onDescription={setUserDesc}
          placeholder="2.0.0"
        />
        <fieldset className="form-section" data-testid="rollout-apps">
          <legend>{t('发布到这些应用', 'Apps to include')}</legend>
          <LoadError error={apps.error} />
          {apps.data && eligible.length === 0 ? (
            <p className="muted">{t('还没有已授权小程序的应用。', 'No app has an authorized mini program yet.')}</p>
          ) : null}
          {eligible.length > 0 ? (
            <Checkbox.Group
              value={appIds}
              onChange={(value) => setAppIds(eligible.filter((app) => value.includes(app.id)).map((app) => app.id))}
              options={[
                { checkAll: true, label: t('全选', 'All') },
                ...eligible.map((app) => ({
                  value: app.id,
                  label: `${app.name} · ${appKindText(t, app.kind)} · ${app.miniProgramAppid ?? ''}`,
                })),
              ]}
            />
          ) : null}
          {errorUnder(errors, 'selection') ? <p className="error-text">{errorUnder(errors, 'selection')}</p> : null}
        </fieldset>
        <fieldset className="form-section">
          <legend>{t('分批策略', 'Waves and release')}</legend>
          <TextField
            label={t('金丝雀批次的应用数', 'Apps in the canary')}
            error={errorUnder(errors, 'waves.canary')}
            help={t('先发布这几个；它们全部结束后才继续。', 'These go first; the rest wait until they all settle.')}
            value={canary}
            onChange={setCanary}
            name="canary"
          />
          <TextField
            label={t('之后各批累计覆盖的比例（%）', 'Later waves, as the share of all apps each reaches (%)')}
            error={errorUnder(errors, 'waves.percents')}
            help={t('逐批递增，最后一批为 100，例如 10, 50, 100。', 'Increasing, the last is 100, e.g. 10, 50, 100.')}
            value={percents}
            onChange={setPercents}
            name="percents"
          />
          <Radio.Group value={mode} onChange={(value) => setMode(value === 'manual' ? 'manual' : 'on-approval')}>
            <Radio value="on-approval">{t('审核通过即发布上线', 'Release each one once WeChat approves it')}</Radio>
            <Radio value="manual">{t('审核通过后等待，逐批手动发布', 'Hold approved ones; release each wave by hand')}</Radio>
          </Radio.Group>
          <p className="muted">
            {t(
              '金丝雀批次有任何审核未通过或失败、之后某批超过 10 % 时自动暂停，待处理后继续。',
              'It halts by itself when any canary member is rejected or fails, or more than 10 % of a later wave; you resume it once dealt with.',
            )}
          </p>
        </fieldset>
        {error ? <Alert theme="error" message={error} className="gap" data-testid="create-error" /> : null}
        <Button type="submit" theme="primary" loading={busy} className="gap">
          {t('开始发布', 'Start the rollout')}
        </Button>
      </Form>
    </Card>
  );
}
