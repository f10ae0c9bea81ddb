import { useState } from 'react';
import { Alert, Button, Card, Form, MessagePlugin, Radio, Space, Tag } from 'tdesign-react';
import { IOT_VIDEO_THEME_DEFAULTS } from '../../../shared/domain/iot-video-template';
import type { AppView, NewAppInput } from '../api';
import { appKindText, appStatusText, appTargetText, useT } from '../i18n';
import { CardList, FormToggle, PageTitle, TemplatePicker, TextField, useLoad, useSession, useSubmit } from '../ui';
import {
  byCategory,
  IotConfigForm,
  iotDraftOf,
  LowcodeForm,
  lowcodeDraftOf,
  parseExt,
  pluginsOf,
  productIdsOf,
  toIotConfig,
} from './app-forms';

export const statusTheme = (status: AppView['status']) =>
  status === 'released' || status === 'approved'
    ? 'success'
    : status === 'rejected' || status === 'failed'
      ? 'danger'
      : status === 'unlinked'
        ? 'default'
        : 'primary';

export function AppsPage() {
  const t = useT();
  const { api } = useSession();
  const apps = useLoad(() => api.call('apps'), [api]);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageTitle extra={<FormToggle open={creating} onToggle={setCreating} label={t('创建应用', 'Create an app')} />}>
        {t('应用', 'Apps')}
      </PageTitle>
      {creating ? <CreateApp onCreated={(app) => (window.location.hash = `#/apps/${app.id}`)} /> : null}
      <CardList error={apps.error} items={apps.data?.apps} empty={t('还没有应用。', 'No apps yet.')}>
        {(app) => (
          <Card key={app.id} bordered className="app-card">
            <h2>
              <a href={`#/apps/${app.id}`}>{app.name}</a>
            </h2>
            <Space breakLine>
              <Tag variant="outline">{appKindText(t, app.kind)}</Tag>
              <Tag theme={statusTheme(app.status)}>{appStatusText(t, app.status)}</Tag>
            </Space>
            <p className="muted">{appTargetText(t, app.miniProgramAppid)}</p>
          </Card>
        )}
      </CardList>
    </>
  );
}

function CreateApp({ onCreated }: { onCreated(app: AppView): void }) {
  const t = useT();
  const { api } = useSession();
  const templates = useLoad(() => api.call('templates'), [api]);
  const [kind, setKind] = useState<NewAppInput['kind']>('iot-video');
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState<number | null>(null);
  const [iot, setIot] = useState(() => iotDraftOf(null));
  const [lowcode, setLowcode] = useState(() => lowcodeDraftOf(null));
  const { busy, fieldErrors: errors, error, submit, refuse } = useSubmit();
  const latest = (templates.data?.templates ?? []).filter((template) => template.latest);

  const create = () => {
    const common = { name, templateId: templateId ?? latest[0]?.templateId ?? 0 };
    let body: NewAppInput;
    let reminderOrder: Parameters<typeof byCategory>[1] = [];
    if (kind === 'iot-video') {
      const built = toIotConfig(iot);
      reminderOrder = built.reminderOrder;
      body = { kind, ...common, config: built.config, productIds: productIdsOf(iot), requiredPlugins: [] };
    } else {
      const ext = parseExt(t, lowcode.ext);
      if ('error' in ext) return refuse(new Map([['config.ext', ext.error]]));
      const plugins = pluginsOf(t, lowcode);
      if ('errors' in plugins) return refuse(plugins.errors);
      body = { kind, ...common, requiredPlugins: plugins.plugins, config: { ext: ext.ext, extPages: {} } };
    }
    return submit(
      async () => {
        const app = await api.call('createApp', { body });
        void MessagePlugin.success(t(`已创建应用 ${app.name}`, `App ${app.name} created`));
        onCreated(app);
      },
      { fields: (failure) => byCategory(failure.fieldErrors(t), reminderOrder) },
    );
  };

  return (
    <Card title={t('创建应用', 'Create an app')} bordered className="gap">
      <Form labelAlign="top" onSubmit={() => void create()} preventSubmitDefault>
        <fieldset className="form-section">
          <legend>{t('应用类型', 'Kind')}</legend>
          <Radio.Group value={kind} onChange={(value) => setKind(value === 'lowcode' ? 'lowcode' : 'iot-video')} variant="default-filled">
            <Radio.Button value="iot-video">{t('IoT Video 小程序', 'IoT Video mini program')}</Radio.Button>
            <Radio.Button value="lowcode">{t('低码应用（微搭）', 'Low-code app (WeDa)')}</Radio.Button>
          </Radio.Group>
        </fieldset>
        <TextField label={t('应用名称', 'App name')} error={errors.get('name')} value={name} onChange={setName} name="name" />
        <TemplatePicker
          templates={templates}
          value={templateId ?? latest[0]?.templateId}
          onChange={setTemplateId}
          error={errors.get('templateId')}
        />
        {kind === 'iot-video' ? (
          <IotConfigForm
            draft={iot}
            onChange={setIot}
            errors={errors}
            warnings={new Map()}
            themeDefaults={IOT_VIDEO_THEME_DEFAULTS}
            onResetColour={(colour) => setIot({ ...iot, [colour]: '' })}
          />
        ) : (
          <LowcodeForm draft={lowcode} onChange={setLowcode} errors={errors} pluginsEditable />
        )}
        {error ? <Alert theme="error" message={error} className="gap" /> : null}
        <Button type="submit" theme="primary" loading={busy} className="gap">
          {t('创建应用', 'Create the app')}
        </Button>
      </Form>
    </Card>
  );
}
