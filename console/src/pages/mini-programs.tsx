import { Alert, Button, Card, Space, Tag } from 'tdesign-react';
import type { MiniProgramView } from '../api';
import { miniProgramStatusText, type T, useT } from '../i18n';
import { CardList, PageTitle, useLoad, useSession } from '../ui';
import { unbindWithWarning } from './unbind';

const roleText = (t: T, role: MiniProgramView['roles'][number]) =>
  role === 'primary' ? t('主小程序', 'primary') : t('发布目标', 'publish target');

/** What the admin must do about a mini program that is not simply authorized. */
function whatToDo(t: T, mp: MiniProgramView): string | null {
  if (mp.status === 'needs-reauth') {
    return mp.roles.includes('primary')
      ? t(
          '授权已失效：请主小程序管理员在“账号”页点击“重新扫码授权”，进行中的部署会自动继续。',
          'The authorization lapsed: have the primary’s admin scan again (Account page, “Scan again”); deployments in flight resume by themselves.',
        )
      : t(
          '授权已失效：请在所属应用页点击“重新授权小程序”并由管理员扫码，进行中的部署会自动继续。',
          'The authorization lapsed: on its app’s page click “Authorize another mini program” and have the admin scan; deployments in flight resume by themselves.',
        );
  }
  if (mp.status === 'unauthorized')
    return t(
      '小程序已在微信中解除授权，需重新扫码授权后才能发布。',
      'The mini program revoked the authorization in WeChat: it must be authorized again to publish.',
    );
  if (mp.missingPermissionSets.length) {
    return t(
      `缺少权限集：${mp.missingPermissionSets.map((s) => `${s.id} ${s.name}`).join('、')}。请重新扫码并勾选这些权限。`,
      `Missing permission sets: ${mp.missingPermissionSets.map((s) => `${s.id} ${s.name}`).join(', ')}. Scan again and grant them.`,
    );
  }
  return null;
}

export function MiniProgramsPage() {
  const t = useT();
  const { api } = useSession();
  const list = useLoad(() => api.call('miniPrograms'), [api]);
  return (
    <>
      <PageTitle>{t('小程序', 'Mini programs')}</PageTitle>
      <CardList error={list.error} items={list.data?.miniPrograms} empty={t('还没有授权的小程序。', 'No mini program authorized yet.')}>
        {(mp) => {
          const advice = whatToDo(t, mp);
          return (
            <div key={mp.appid} data-testid={`mini-program-${mp.appid}`}>
              <Card bordered>
                <h2>{mp.nickname}</h2>
                <p className="muted">{mp.appid}</p>
                <Space breakLine>
                  <Tag theme={mp.status === 'authorized' ? 'success' : 'warning'}>{miniProgramStatusText(t, mp.status)}</Tag>
                  {mp.roles.map((role) => (
                    <Tag key={role} variant="outline">
                      {roleText(t, role)}
                    </Tag>
                  ))}
                </Space>
                <p>{t(`主体：${mp.subject}`, `Subject: ${mp.subject}`)}</p>
                {mp.linkedAppId ? (
                  <p>
                    <a href={`#/apps/${mp.linkedAppId}`}>{t('查看所属应用', 'Open its app')}</a>
                  </p>
                ) : null}
                {advice ? <Alert theme="warning" message={advice} /> : null}
                {mp.roles.length > 0 ? (
                  <Button
                    className="gap"
                    theme="danger"
                    variant="outline"
                    onClick={() => void unbindWithWarning(t, api, mp).then((done) => done && list.reload())}
                  >
                    {t('解绑', 'Unbind')}
                  </Button>
                ) : null}
              </Card>
            </div>
          );
        }}
      </CardList>
    </>
  );
}
