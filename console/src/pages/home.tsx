import { useContext, useState } from 'react';
import { Alert, Button, Card, Descriptions, MessagePlugin, Tag } from 'tdesign-react';
import { formatTime, LangContext, miniProgramStatusText, useT } from '../i18n';
import { publishBlockedText } from '../notice-texts';
import { AuthorizationDialog, Busy, confirm, LoadError, PageTitle, plainError, useLoad, usePolling, useSession } from '../ui';
import { unbindWithWarning } from './unbind';

/** The account: its primary mini program (bind by QR, unbind with the seed's warning), its keys and its history. */
export function HomePage() {
  const t = useT();
  const lang = useContext(LangContext);
  const { api, replaceKey } = useSession();
  const account = useLoad(() => api.call('account'), [api]);
  const [binding, setBinding] = useState(false);
  // When the primary was bound as the dialog opened: a scan in the dialog binds it anew (a re-scan of the same one too).
  const [boundAtOpen, setBoundAtOpen] = useState<number | null>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const data = account.data;
  const primary = data?.primaryMiniProgram ?? null;
  const primaryBound = data?.canPublish ?? false;
  // While the bind dialog is open, the scan may complete at any moment on the admin's phone.
  usePolling(binding, account.reload);

  const rotate = async () => {
    const ok = await confirm({
      header: t('轮换 API 密钥？', 'Rotate the API key?'),
      body: t(
        '将签发新密钥；当前密钥在下一次轮换前仍可使用，更早的密钥立即失效。',
        'A new key is issued; the current one keeps working until the next rotation, any older one stops now.',
      ),
      confirmText: t('轮换', 'Rotate'),
      cancelText: t('取消', 'Cancel'),
    });
    if (!ok) return;
    try {
      const { apiKey } = await api.call('rotateKey');
      setNewKey(apiKey);
      // The tab goes on with the new key: with the old one, the next rotation would lock it out.
      replaceKey(apiKey);
    } catch (error) {
      void MessagePlugin.error(plainError(t, error));
    }
  };

  if (!data) return account.error ? <LoadError error={account.error} /> : <Busy />;
  const status = data.primaryMiniProgramStatus;
  return (
    <>
      <PageTitle
        extra={
          <Button variant="outline" onClick={() => void rotate()}>
            {t('轮换密钥', 'Rotate key')}
          </Button>
        }
      >
        {data.name}
      </PageTitle>
      {newKey ? (
        <Alert
          theme="success"
          className="gap"
          title={t('新密钥（只显示这一次）', 'New key (shown this once)')}
          message={<code className="secret">{newKey}</code>}
          close
          onClose={() => setNewKey(null)}
        />
      ) : null}
      <Card title={t('主小程序', 'Primary mini program')} bordered className="gap" data-testid="primary-card">
        <p className="muted">
          {t(
            '发布前须先绑定账号的主小程序（它确定账号的主体）；之后只能授权相同主体的小程序。',
            'Bind the account’s primary mini program first (it fixes the account’s subject); only mini programs of the same subject can then be authorized.',
          )}
        </p>
        {primary && status ? (
          <Descriptions
            column={1}
            items={[
              { label: t('名称', 'Name'), content: status.nickname },
              { label: 'AppID', content: primary.appid },
              { label: t('主体', 'Subject'), content: primary.subject },
              {
                label: t('状态', 'Status'),
                content: primaryBound ? (
                  <Tag theme={status.status === 'authorized' ? 'success' : 'warning'} data-testid="primary-status">
                    {miniProgramStatusText(t, status.status)}
                  </Tag>
                ) : (
                  <Tag theme="danger" data-testid="primary-status">
                    {t('已解绑', 'unbound')}
                  </Tag>
                ),
              },
            ]}
          />
        ) : (
          <p data-testid="primary-status">{t('尚未绑定主小程序。', 'No primary mini program is bound yet.')}</p>
        )}
        {status?.status === 'needs-reauth' && primaryBound ? (
          <Alert
            theme="warning"
            message={t('授权已失效：请主小程序管理员重新扫码授权。', 'The authorization lapsed: ask the primary’s admin to scan again.')}
          />
        ) : null}
        {!data.canPublish && primary && data.publishBlockedCode ? (
          <Alert theme="warning" className="gap" data-testid="publish-blocked" message={publishBlockedText(t, data)} />
        ) : null}
        <div className="actions">
          <Button
            theme="primary"
            onClick={() => {
              setBoundAtOpen(primaryBound ? (primary?.boundAt ?? null) : null);
              setBinding(true);
            }}
          >
            {primaryBound ? t('重新扫码授权', 'Scan again') : t('绑定主小程序', 'Bind the primary mini program')}
          </Button>
          {primaryBound && primary && status ? (
            <Button
              theme="danger"
              variant="outline"
              onClick={() =>
                void unbindWithWarning(t, api, { appid: primary.appid, nickname: status.nickname, roles: ['primary'] }).then(
                  (done) => done && account.reload(),
                )
              }
            >
              {t('解绑主小程序', 'Unbind the primary')}
            </Button>
          ) : null}
        </div>
      </Card>
      <AuthorizationDialog
        visible={binding}
        header={t('绑定主小程序', 'Bind the primary mini program')}
        intro={
          primaryBound && primary?.boundAt !== boundAtOpen ? (
            <Alert
              theme="success"
              message={t(`已绑定：${status?.nickname ?? ''}`, `Bound: ${status?.nickname ?? ''}`)}
              data-testid="bind-done"
            />
          ) : (
            <p>
              {t(
                '目标小程序管理员微信扫码授权，将本账号绑定小程序。',
                'The mini program’s admin scans with WeChat to bind it to this account.',
              )}
            </p>
          )
        }
        body={{ purpose: 'bind-primary' }}
        onClose={() => setBinding(false)}
      />
      <Card title={t('账号动态', 'Account history')} bordered className="gap">
        {data.history.length === 0 ? (
          <p className="muted">{t('暂无记录', 'Nothing yet')}</p>
        ) : (
          <ul className="plain-list">
            {[...data.history].reverse().map((event) => (
              <li key={`${event.at}-${event.event}`}>
                <time>{formatTime(lang, event.at)}</time> {event.message}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
