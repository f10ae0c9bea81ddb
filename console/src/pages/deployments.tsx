import { useContext } from 'react';
import { Card, Tag } from 'tdesign-react';
import { isInFlightState, isOpenState } from '../../../shared/domain/deployment-states';
import { deploymentStateText, formatTime, LangContext, useT } from '../i18n';
import { CardList, PageTitle, useLoad, usePolling, useSession } from '../ui';

/** Every deployment of the account, newest first; kept current while one of them is in flight. */
export function DeploymentsPage() {
  const t = useT();
  const lang = useContext(LangContext);
  const { api } = useSession();
  const list = useLoad(() => api.call('deployments', { query: { limit: 50 } }), [api]);
  // An audit takes days: the list refreshes for our own steps only (the deployment's page watches its audit).
  const inFlight = (list.data?.deployments ?? []).some((d) => isInFlightState(d.state) && d.state !== 'auditing');
  usePolling(inFlight, list.reload, 3000);
  return (
    <>
      <PageTitle>{t('部署', 'Deployments')}</PageTitle>
      <CardList error={list.error} items={list.data?.deployments} empty={t('暂无部署', 'None yet')}>
        {(d) => (
          <Card key={d.id} bordered>
            <h2>
              <a href={`#/deployments/${d.id}`}>{`v${d.userVersion}`}</a>
            </h2>
            <Tag theme={isOpenState(d.state, d.failure) ? 'primary' : 'default'}>{deploymentStateText(t, d.state)}</Tag>
            <p className="muted">{`${d.miniProgramAppid} · ${formatTime(lang, d.createdAt)}`}</p>
            <p className="muted">
              <a href={`#/apps/${d.appId}`}>{t('查看应用', 'Open the app')}</a>
            </p>
          </Card>
        )}
      </CardList>
    </>
  );
}
