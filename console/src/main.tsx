/**
 * The operator console: a React app on TDesign, served from our own origin, talking only to the public API.
 * Pages are addressed by the URL hash (`#/apps/app_…`), so the same files work under /console/ and on a static host.
 */
import 'tdesign-react/es/_util/react-19-adapter';
import 'tdesign-react/es/style/index.css';
import './console.css';
import { useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Button, ConfigProvider, Space } from 'tdesign-react';
import enConfig from 'tdesign-react/es/locale/en_US';
import zhConfig from 'tdesign-react/es/locale/zh_CN';
import { ApiError, apiBase, apiClient } from './api';
import { initialLang, type Lang, LangContext, rememberLang, useT } from './i18n';
import { AdminPage } from './pages/admin';
import { AppPage } from './pages/app';
import { AppsPage } from './pages/apps';
import { DeploymentPage } from './pages/deployment';
import { DeploymentsPage } from './pages/deployments';
import { HomePage } from './pages/home';
import { MiniProgramsPage } from './pages/mini-programs';
import { RolloutPage } from './pages/rollout';
import { RolloutsPage } from './pages/rollouts';
import { SignInPage } from './pages/sign-in';
import { type Session, SessionContext } from './ui';

/** The key lives for this tab only (sessionStorage): never in a URL, a cookie or localStorage. */
const KEY_ITEM = 'wxa-console-key';
const ROLE_ITEM = 'wxa-console-role';

const readRoute = () => window.location.hash.replace(/^#/, '') || '/';

function useRoute(): string {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const changed = () => {
      setRoute(readRoute());
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function Page({ route, role }: { route: string; role: Session['role'] }) {
  if (role === 'admin') return <AdminPage />;
  const [, first, id] = route.split('/');
  if (first === 'apps' && id) return <AppPage appId={id} />;
  if (first === 'apps') return <AppsPage />;
  if (first === 'deployments' && id) return <DeploymentPage deploymentId={id} />;
  if (first === 'deployments') return <DeploymentsPage />;
  if (first === 'mini-programs') return <MiniProgramsPage />;
  if (first === 'rollouts' && id) return <RolloutPage rolloutId={id} />;
  if (first === 'rollouts') return <RolloutsPage />;
  return <HomePage />;
}

function Shell({ lang, setLang }: { lang: Lang; setLang(lang: Lang): void }) {
  const t = useT();
  const route = useRoute();
  const base = useMemo(apiBase, []);
  const [credentials, setCredentials] = useState<{ key: string; role: Session['role'] } | null>(() => {
    const key = window.sessionStorage.getItem(KEY_ITEM);
    const role = window.sessionStorage.getItem(ROLE_ITEM);
    return key && (role === 'account' || role === 'admin') ? { key, role } : null;
  });
  // Why the tab was signed out without asking: its key stopped working (rotated twice since, elsewhere).
  const [keyRefused, setKeyRefused] = useState(false);
  const session = useMemo<Session | null>(() => {
    if (!credentials) return null;
    const signOut = () => {
      window.sessionStorage.removeItem(KEY_ITEM);
      window.sessionStorage.removeItem(ROLE_ITEM);
      setCredentials(null);
      window.location.hash = '#/';
    };
    return {
      api: apiClient(base, credentials.key, () => {
        setKeyRefused(true);
        signOut();
      }),
      role: credentials.role,
      signOut: () => {
        setKeyRefused(false);
        signOut();
      },
      replaceKey: (key: string) => {
        window.sessionStorage.setItem(KEY_ITEM, key);
        setCredentials({ key, role: credentials.role });
      },
    };
  }, [credentials, base]);

  const signIn = async (key: string): Promise<void> => {
    const api = apiClient(base, key);
    // An account key reads its account; the admin key is refused there but authenticated on an admin route
    // (a made-up account id answers 404, not 401).
    let role: Session['role'];
    try {
      await api.call('account');
      role = 'account';
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) throw error;
      try {
        await api.call('accountById', { params: { accountId: 'acc_0' } });
        role = 'admin';
      } catch (adminError) {
        if (adminError instanceof ApiError && adminError.status === 404) role = 'admin';
        else throw error;
      }
    }
    window.sessionStorage.setItem(KEY_ITEM, key);
    window.sessionStorage.setItem(ROLE_ITEM, role);
    setKeyRefused(false);
    setCredentials({ key, role });
  };

  const nav =
    session?.role === 'account'
      ? [
          ['#/', t('账号', 'Account')],
          ['#/apps', t('应用', 'Apps')],
          ['#/mini-programs', t('小程序', 'Mini programs')],
          ['#/deployments', t('部署', 'Deployments')],
          ['#/rollouts', t('发布批次', 'Rollouts')],
        ]
      : [];
  const current = `#/${route.split('/')[1] ?? ''}`;

  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="#/">
          wxa-deploy <span>{t('控制台', 'console')}</span>
        </a>
        <nav aria-label={t('主导航', 'Main')}>
          {nav.map(([href, label]) => (
            <a
              key={href}
              href={href}
              aria-current={current === href ? 'page' : undefined}
              className={current === href ? 'active' : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        <Space className="topbar-actions">
          <Button variant="text" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')} lang={lang === 'zh' ? 'en' : 'zh'}>
            {lang === 'zh' ? 'English' : '中文'}
          </Button>
          {session ? (
            <Button variant="outline" onClick={session.signOut}>
              {t('退出', 'Sign out')}
            </Button>
          ) : null}
        </Space>
      </header>
      <main>
        {session ? (
          <SessionContext.Provider value={session}>
            <Page route={route} role={session.role} />
          </SessionContext.Provider>
        ) : (
          <SignInPage onSignIn={signIn} keyRefused={keyRefused} />
        )}
      </main>
    </div>
  );
}

function Root() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = (next: Lang) => {
    rememberLang(next);
    setLangState(next);
  };
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = lang === 'zh' ? 'wxa-deploy 控制台' : 'wxa-deploy console';
  }, [lang]);
  return (
    <LangContext.Provider value={lang}>
      <ConfigProvider globalConfig={lang === 'zh' ? zhConfig : enConfig}>
        <Shell lang={lang} setLang={setLang} />
      </ConfigProvider>
    </LangContext.Provider>
  );
}

/**
 * TDesign's dialogs (and DialogPlugin's confirmations) render no dialog role: give each one its role, modality and
 * name (its header) as it appears, so screen readers and keyboard users know where they are.
 */
function labelDialogs() {
  const label = () => {
    document.querySelectorAll<HTMLElement>('.t-dialog:not([role])').forEach((dialog) => {
      dialog.setAttribute('role', 'dialog');
      dialog.setAttribute('aria-modal', 'true');
      const header = dialog.querySelector('.t-dialog__header-content, .t-dialog__header');
      if (header?.textContent) dialog.setAttribute('aria-label', header.textContent.trim());
    });
  };
  new MutationObserver(label).observe(document.body, { childList: true, subtree: true });
}

/**
 * Inside another site's frame the console does not render (clickjacking: a click on its buttons could be lured from
 * the framing page). The backend forbids framing by header (frame-ancestors 'none'); a static host may send no such
 * header, and a <meta> policy cannot say frame-ancestors. A frame that blocks scripts renders nothing at all.
 */
const framed = (): boolean => {
  try {
    return window.top !== window.self;
  } catch {
    return true;
  }
};

function FramedNotice() {
  return (
    <main className="framed">
      <p lang="zh-CN">控制台不能嵌入其他网页，请在新窗口中打开。</p>
      <p lang="en">The console cannot be shown inside another page: open it in a window of its own.</p>
      <a href={window.location.href} target="_blank" rel="noopener noreferrer">
        {window.location.href}
      </a>
    </main>
  );
}

labelDialogs();
const container = document.getElementById('root');
if (container) createRoot(container).render(framed() ? <FramedNotice /> : <Root />);
