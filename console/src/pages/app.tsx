import { useContext, useEffect, useState } from 'react';
import { Alert, Button, Card, Form, MessagePlugin, Space, Tag } from 'tdesign-react';
import { isOpenState } from '../../../shared/domain/deployment-states';
import type { ApiError, AppView } from '../api';
import { appKindText, appStatusText, appTargetText, deploymentStateText, formatTime, LangContext, useT } from '../i18n';
import { warningFieldLabel, warningText } from '../notice-texts';
import {
  AuthorizationDialog,
  Busy,
  type FieldErrors,
  LoadError,
  PageTitle,
  plainError,
  TextField,
  useLoad,
  usePolling,
  useSession,
  useSubmit,
  VersionFields,
} from '../ui';
import {
  byCategory,
  IotConfigForm,
  type IotDraft,
  iotDraftOf,
  type LowcodeDraft,
  LowcodeForm,
  lowcodeDraftOf,
  parseExt,
  productIdsOf,
  toIotConfig,
} from './app-forms';
import { statusTheme } from './apps';

export function AppPage({ appId }: { appId: string }) {
  const t = useT();
  const { api } = useSession();
  const app = useLoad(() => api.call('app', { params: { appId } }), [api, appId]);
  const [authorizing, setAuthorizing] = useState(false);
  // The app as the dialog opened: a scan in the dialog links the mini program anew (the same one too), which updates it.
  const [updatedAtOpen, setUpdatedAtOpen] = useState<number | null>(null);
  usePolling(authorizing, app.reload);
  const data = app.data;
  if (!data) return app.error ? <LoadError error={app.error} /> : <Busy />;
  return (
    <>
      <PageTitle
        extra={
          <Button
            theme="primary"
            onClick={() => {
              setUpdatedAtOpen(data.updatedAt);
              setAuthorizing(true);
            }}
          >
            {data.miniProgramAppid ? t('重新授权小程序', 'Authorize another mini program') : t('去授权', 'Authorize a mini program')}
          </Button>
        }
      >
        {data.name}
      </PageTitle>
      <Space breakLine className="gap">
        <Tag variant="outline">{appKindText(t, data.kind)}</Tag>
        <Tag theme={statusTheme(data.status)} data-testid="app-status">
          {appStatusText(t, data.status)}
        </Tag>
        <span className="muted">{appTargetText(t, data.miniProgramAppid)}</span>
      </Space>
      {data.linkLostReason ? <Alert theme="warning" className="gap" message={data.linkLostReason.message} /> : null}
      <AuthorizationDialog
        visible={authorizing}
        header={t('授权小程序给应用', 'Authorize a mini program for this app')}
        intro={
          <>
            <p>
              {t(
                '小程序管理员使用手机微信扫码后，选择授予权限。支持将小程序重复授权和授权给其他应用，但仅对最新授权的应用生效。仅支持授权与主小程序相同主体的小程序。',
                'The mini program’s admin scans with WeChat and grants the permissions. A mini program can be authorized again or to another app; the latest authorization wins. Only mini programs of the primary’s subject can be authorized.',
              )}
            </p>
            {data.miniProgramAppid && data.updatedAt !== updatedAtOpen ? (
              <Alert
                theme="success"
                message={t(`当前小程序：${data.miniProgramAppid}`, `Current mini program: ${data.miniProgramAppid}`)}
                data-testid="authorize-done"
              />
            ) : null}
          </>
        }
        body={{ purpose: 'authorize-app', appId }}
        onClose={() => setAuthorizing(false)}
      />
      {data.warnings.length > 0 ? (
        <Alert
          theme="warning"
          className="gap"
          title={t('建议处理', 'Worth fixing')}
          message={
            <ul className="plain-list">
              {data.warnings.map((w) => (
                <li key={w.field}>{`${warningFieldLabel(t, w.field)}${t('：', ': ')}${warningText(t, w)}`}</li>
              ))}
            </ul>
          }
        />
      ) : null}
      <ConfigCard app={data} onSaved={app.reload} />
      <BuildCard app={data} />
    </>
  );
}

function ConfigCard({ app, onSaved }: { app: AppView; onSaved(): void }) {
  const t = useT();
  const { api } = useSession();
  const [iot, setIot] = useState<IotDraft>(() =>
    iotDraftOf(app.kind === 'iot-video' ? app.config : null, app.kind === 'iot-video' ? app.productIds : []),
  );
  const [lowcode, setLowcode] = useState<LowcodeDraft>(() => lowcodeDraftOf(app.kind === 'lowcode' ? app.config : null));
  const { busy, fieldErrors: errors, error, submit, refuse, setError } = useSubmit();
  // The app's own warnings, by the field paths the form uses.
  const warnings = new Map(app.warnings.map((w) => [w.field, warningText(t, w)]));

  const saved = () => {
    void MessagePlugin.success(t('配置已保存', 'Config saved'));
    onSaved();
  };
  const save = () => {
    if (app.kind !== 'iot-video') {
      const ext = parseExt(t, lowcode.ext);
      if ('error' in ext) return refuse(new Map([['config.ext', ext.error]]));
      return submit(
        async () => {
          await api.call('putConfig', { params: { appId: app.id }, body: { ...app.config, ext: ext.ext } });
          saved();
        },
        { fields: (failure) => failure.fieldErrors(t, 'config.') },
      );
    }
    const { config, reminderOrder } = toIotConfig(iot, {
      ...(app.config.privacyGuide ? { privacyGuide: app.config.privacyGuide } : {}),
      ...(app.config.serverDomains ? { serverDomains: app.config.serverDomains } : {}),
    });
    const productIds = productIdsOf(iot);
    // The call that failed says where its errors go: the config's under `config.` (reminders by category), the
    // products' all on the products field.
    let fieldsOf = (failure: ApiError): FieldErrors => byCategory(failure.fieldErrors(t, 'config.'), reminderOrder);
    return submit(
      async () => {
        await api.call('putConfig', { params: { appId: app.id }, body: config });
        if (productIds.join() !== app.productIds.join()) {
          fieldsOf = (failure) => new Map([['productIds', [...failure.fieldErrors(t).values()][0] ?? plainError(t, failure)]]);
          await api.call('putProducts', { params: { appId: app.id }, body: { productIds } });
        }
        saved();
      },
      { fields: (failure) => fieldsOf(failure) },
    );
  };

  const resetColour = async (colour: 'mainColor' | 'secondaryColor') => {
    try {
      const reset = await api.call('resetTheme', { params: { appId: app.id }, body: { colours: [colour] } });
      if (reset.kind === 'iot-video') setIot({ ...iot, [colour]: reset.config.theme[colour] ?? '' });
      void MessagePlugin.success(t('已重置为模板默认配色', 'Back to the template’s colour'));
    } catch (failure) {
      setError(plainError(t, failure));
    }
  };

  return (
    <Card title={app.kind === 'iot-video' ? t('小程序配置', 'Mini program config') : t('应用配置', 'App config')} bordered className="gap">
      <Form labelAlign="top" onSubmit={() => void save()} preventSubmitDefault>
        {app.kind === 'iot-video' ? (
          <IotConfigForm
            draft={iot}
            onChange={setIot}
            errors={errors}
            warnings={warnings}
            themeDefaults={app.themeDefaults ?? { mainColor: '', secondaryColor: '' }}
            onResetColour={(c) => void resetColour(c)}
          />
        ) : (
          <LowcodeForm
            draft={lowcode}
            onChange={setLowcode}
            errors={errors}
            pluginsEditable={false}
            existingPlugins={app.requiredPlugins}
          />
        )}
        {error ? <Alert theme="error" message={error} className="gap" data-testid="config-error" /> : null}
        <Button type="submit" theme="primary" loading={busy} className="gap">
          {t('保存配置', 'Save config')}
        </Button>
      </Form>
    </Card>
  );
}

function BuildCard({ app }: { app: AppView }) {
  const t = useT();
  const lang = useContext(LangContext);
  const { api } = useSession();
  const deployments = useLoad(
    () => api.call('deployments', { query: { appId: app.id, limit: 20 } }),
    [api, app.id, app.latestDeployment?.id],
  );
  const [userVersion, setUserVersion] = useState('');
  const [userDesc, setUserDesc] = useState('');
  const [testers, setTesters] = useState('');
  const { busy, fieldErrors: errors, error, submit, setError } = useSubmit();
  // The summary carries no failure: the app's status is `failed` only while its latest deployment's failure is retryable.
  const latest = app.latestDeployment;
  const open = latest && isOpenState(latest.state, { retryable: app.status === 'failed' }) ? latest : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: another app's error is not this one's
  useEffect(() => setError(null), [app.id]);

  const build = () =>
    submit(async () => {
      const list = testers.split(/[\s,，]+/).filter(Boolean);
      const deployment = await api.call('build', { params: { appId: app.id }, body: { userVersion, userDesc, testers: list } });
      window.location.hash = `#/deployments/${deployment.id}`;
    });

  return (
    <Card title={t('部署发布', 'Deploy and publish')} bordered className="gap">
      {open ? (
        <Alert
          theme="info"
          message={
            <span>
              {t('进行中的部署：', 'Deployment in progress: ')}
              <a href={`#/deployments/${open.id}`}>{`${open.id} · ${deploymentStateText(t, open.state)}`}</a>
            </span>
          }
        />
      ) : (
        <Form labelAlign="top" onSubmit={() => void build()} preventSubmitDefault>
          <p className="muted">
            {t('立即构建后将生成体验二维码，用手机微信扫码体验。', 'A build makes an experience QR code to open on a phone with WeChat.')}
          </p>
          <VersionFields
            errors={errors}
            version={userVersion}
            onVersion={setUserVersion}
            description={userDesc}
            onDescription={setUserDesc}
            placeholder="1.0.0"
          />
          <TextField
            label={t('体验者微信号（逗号分隔，选填）', 'Testers’ WeChat ids (comma-separated, optional)')}
            error={errors.get('testers')}
            value={testers}
            onChange={setTesters}
            name="testers"
          />
          {error ? <Alert theme="error" message={error} className="gap" /> : null}
          {app.miniProgramAppid ? (
            <Button type="submit" theme="primary" loading={busy}>
              {t('立即构建', 'Build now')}
            </Button>
          ) : null}
          {!app.miniProgramAppid ? (
            <p className="muted">{t('先授权小程序，才能构建。', 'Authorize a mini program first to build.')}</p>
          ) : null}
        </Form>
      )}
      <h2 className="subhead">{t('部署记录', 'Deployments')}</h2>
      <LoadError error={deployments.error} />
      {deployments.data ? (
        deployments.data.deployments.length === 0 ? (
          <p className="muted">{t('暂无部署', 'None yet')}</p>
        ) : (
          <ul className="plain-list">
            {deployments.data.deployments.map((d) => (
              <li key={d.id}>
                <a href={`#/deployments/${d.id}`}>{`v${d.userVersion}`}</a> <Tag size="small">{deploymentStateText(t, d.state)}</Tag>{' '}
                <span className="muted">{formatTime(lang, d.createdAt)}</span>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </Card>
  );
}
