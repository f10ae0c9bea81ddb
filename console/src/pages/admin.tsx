import { useContext, useState } from 'react';
import { Alert, Button, Card, Descriptions, Form, Tag } from 'tdesign-react';
import type { AccountView } from '../api';
import { formatTime, LangContext, useT } from '../i18n';
import { PageTitle, TextField, useSession, useSubmit } from '../ui';

/** The platform admin: creates accounts (the key is shown once) and looks one up by id. */
export function AdminPage() {
  const t = useT();
  const lang = useContext(LangContext);
  const { api } = useSession();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ account: AccountView; apiKey: string } | null>(null);
  const [lookupId, setLookupId] = useState('');
  const [found, setFound] = useState<AccountView | null>(null);
  const [copied, setCopied] = useState(false);

  const creation = useSubmit();
  const lookup = useSubmit();
  // One field each: its own error, else the plain one, shown under it (no alert).
  const nameError = creation.fieldErrors.get('name') ?? creation.error ?? undefined;
  const lookupError = lookup.error ?? undefined;

  const create = () =>
    creation.submit(async () => {
      setCreated(await api.call('createAccount', { body: { name } }));
      setCopied(false);
      setName('');
    });
  const lookUp = () => {
    setFound(null);
    return lookup.submit(async () => setFound(await api.call('accountById', { params: { accountId: lookupId.trim() } })));
  };

  return (
    <>
      <PageTitle>{t('平台管理', 'Platform admin')}</PageTitle>
      <Card title={t('创建账号', 'Create an account')} bordered className="gap">
        <Form labelAlign="top" onSubmit={() => void create()} preventSubmitDefault>
          <TextField label={t('账号名称', 'Account name')} error={nameError} value={name} onChange={setName} name="name" />
          <Button type="submit" theme="primary">
            {t('创建', 'Create')}
          </Button>
        </Form>
        {created ? (
          <Alert
            className="gap"
            theme="success"
            title={t(
              `已创建账号 ${created.account.name}（${created.account.id}）`,
              `Account ${created.account.name} (${created.account.id}) created`,
            )}
            message={
              <div>
                <p>
                  {t(
                    'API 密钥只显示这一次，请立即复制并交给账号管理员：',
                    'The API key is shown this once: copy it now and hand it to the account’s admin:',
                  )}
                </p>
                <code className="secret" data-testid="new-api-key">
                  {created.apiKey}
                </code>
                <Button
                  size="small"
                  variant="outline"
                  onClick={() =>
                    void navigator.clipboard?.writeText(created.apiKey).then(
                      () => setCopied(true),
                      () => setCopied(false),
                    )
                  }
                >
                  {copied ? t('已复制', 'Copied') : t('复制', 'Copy')}
                </Button>
                <p className="muted">
                  {t(
                    '密钥轮换：账号管理员用此密钥登录后在“账号”页点击“轮换密钥”。',
                    'Rotation: the account’s admin signs in with this key and clicks “Rotate key” on the Account page.',
                  )}
                </p>
              </div>
            }
          />
        ) : null}
      </Card>
      <Card title={t('查看账号', 'Look up an account')} bordered className="gap">
        <Form labelAlign="top" onSubmit={() => void lookUp()} preventSubmitDefault>
          <TextField
            label={t('账号 ID（acc_…）', 'Account id (acc_…)')}
            error={lookupError}
            value={lookupId}
            onChange={setLookupId}
            name="accountId"
          />
          <Button type="submit" variant="outline">
            {t('查看', 'Look up')}
          </Button>
        </Form>
        {found ? (
          <Descriptions
            className="gap"
            column={1}
            items={[
              { label: t('名称', 'Name'), content: found.name },
              { label: 'ID', content: found.id },
              { label: t('有效密钥数', 'Live keys'), content: String(found.apiKeyCount) },
              {
                label: t('主小程序', 'Primary mini program'),
                content: found.primaryMiniProgramStatus
                  ? `${found.primaryMiniProgramStatus.nickname} · ${found.primaryMiniProgramStatus.status}`
                  : t('未绑定', 'not bound'),
              },
              {
                label: t('可发布', 'Can publish'),
                content: found.canPublish ? <Tag theme="success">{t('是', 'yes')}</Tag> : <Tag theme="warning">{t('否', 'no')}</Tag>,
              },
              { label: t('创建时间', 'Created'), content: formatTime(lang, found.createdAt) },
            ]}
          />
        ) : null}
      </Card>
    </>
  );
}
