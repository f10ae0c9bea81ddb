/**
 * The server domains (服务器域名) and web-view domains (业务域名) of a mini program the platform develops. Such a
 * mini program may only reach the domains the platform sets for it (`/wxa/modify_domain`, `/wxa/setwebviewdomain`),
 * and releasing through the platform drops any other domain it had (doc 设置服务器域名,
 * Third-party_Platforms/2.0/api/Mini_Program_Basic_Info/Server_Address_Configuration; WxJava `WxOpenMaService`
 * API_MODIFY_DOMAIN). A build therefore sets what its code needs: the host serving the app's uploaded images (the
 * backend's `PUBLIC_BASE_URL`), as a downloadFile domain, plus the domains the app's owner lists.
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import.
 */
import * as z from './zod';

/** The lists of `modify_domain` this product sets, and `setwebviewdomain`'s one. */
export const DOMAIN_LISTS = ['requestdomain', 'wsrequestdomain', 'uploaddomain', 'downloaddomain'] as const;
export type DomainList = (typeof DOMAIN_LISTS)[number];
export type DomainSet = Record<DomainList, string[]> & { webviewdomain: string[] };

/** The doc's limit per list ("设置数量均最大支持200个"). */
const MAX_DOMAINS_PER_LIST = 200;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * A domain as WeChat takes it: scheme and host (and a port if any), nothing after. The doc's rules: an ICP-filed
 * domain, never an IP address, never api.weixin.qq.com; https (wss for sockets).
 */
const origin = (scheme: 'https' | 'wss') =>
  z.pipe(
    z.string(),
    z.transform((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.issues.push({ code: 'custom', message: `a domain looks like ${scheme}://example.com`, input: value });
        return z.NEVER;
      }
      const problems = [
        url.protocol !== `${scheme}:` && `use ${scheme}://`,
        (url.pathname !== '/' || url.search !== '' || url.hash !== '' || value.endsWith('/')) && 'no path, query or trailing slash',
        (IPV4.test(url.hostname) || url.hostname.startsWith('[')) && 'WeChat takes no IP address, only a domain',
        url.hostname === 'api.weixin.qq.com' && 'api.weixin.qq.com cannot be a server domain',
        url.username !== '' && 'no user name',
      ].filter((p): p is string => typeof p === 'string');
      if (problems.length > 0) {
        ctx.issues.push({ code: 'custom', message: `${value}: ${problems.join('; ')}`, input: value });
        return z.NEVER;
      }
      return url.origin;
    }),
  );

const list = (scheme: 'https' | 'wss') => z._default(z.array(origin(scheme)).check(z.maxLength(MAX_DOMAINS_PER_LIST)), []);

/** The domains an app's code reaches besides the backend's asset host, by what it uses them for. */
export const serverDomainsSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** wx.request. */
    request: list('https'),
    /** wx.connectSocket. */
    socket: list('wss'),
    /** wx.uploadFile. */
    upload: list('https'),
    /** wx.downloadFile (the asset host is added by the build). */
    download: list('https'),
    /** `<web-view>` pages (业务域名), set with setwebviewdomain. */
    webview: list('https'),
  }),
);
export type ServerDomains = z.infer<typeof serverDomainsSchema>;

/** The scheme and host of a URL, as WeChat lists domains. */
const originOf = (url: string): string => new URL(url).origin;

/**
 * Every domain a build needs: the asset host of `publicBaseUrl` (the ext_json's image URLs point there) as a
 * download domain, and the app's own lists.
 */
export const domainsNeeded = (publicBaseUrl: string, extra: ServerDomains | undefined): DomainSet => ({
  requestdomain: unique(extra?.request ?? []),
  wsrequestdomain: unique(extra?.socket ?? []),
  uploaddomain: unique(extra?.upload ?? []),
  downloaddomain: unique([originOf(publicBaseUrl), ...(extra?.download ?? [])]),
  webviewdomain: unique(extra?.webview ?? []),
});

/** WeChat answers domains as it stores them; compare them without case or a trailing slash. */
const normalised = (domain: string): string => domain.trim().toLowerCase().replace(/\/+$/, '');

/** What of `needed` is not in `current`, per list. */
export const missingDomains = (needed: DomainSet, current: Partial<Record<keyof DomainSet, readonly string[]>>): DomainSet => {
  const missing = (key: keyof DomainSet) => {
    const have = new Set((current[key] ?? []).map(normalised));
    return needed[key].filter((d) => !have.has(normalised(d)));
  };
  return {
    requestdomain: missing('requestdomain'),
    wsrequestdomain: missing('wsrequestdomain'),
    uploaddomain: missing('uploaddomain'),
    downloaddomain: missing('downloaddomain'),
    webviewdomain: missing('webviewdomain'),
  };
};

export const isEmptyDomainSet = (set: DomainSet): boolean => Object.values(set).every((domains) => domains.length === 0);

/** One line for a user: `downloaddomain https://a.example.com; webviewdomain https://b.example.com`. */
export const describeDomains = (set: DomainSet): string =>
  Object.entries(set)
    .filter(([, domains]) => domains.length > 0)
    .map(([key, domains]) => `${key} ${domains.join(', ')}`)
    .join('; ');

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
