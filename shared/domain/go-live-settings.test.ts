import { parseAppConfig } from './app';
import { ValidationError } from './errors';
import { type PrivacyGuide, PrivacyGuideIncomplete, privacyKeysToDeclare, privacySettingFor } from './privacy-guide';
import { domainsNeeded, missingDomains } from './server-domains';

const GUIDE: PrivacyGuide = { contact: { phone: '400-800-1234' }, purposes: { Location: '展示附近门店' } };

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((issue) => issue.path);
  }
  return [];
};

describe('privacy guide', () => {
  it('declares what WeChat detected, what requiredPrivateInfos implies and what the owner adds, once each, in WeChat’s order', () => {
    const keys = privacyKeysToDeclare({
      detected: ['Album', 'UserInfo'],
      requiredPrivateInfos: ['chooseAddress', 'getFuzzyLocation'],
      guide: { ...GUIDE, purposes: { PhoneNumber: '联系你' } },
    });
    expect(keys).toEqual(['UserInfo', 'Location', 'Address', 'Album', 'PhoneNumber']);
  });

  it('fills purposes by template kind, keeps the owner’s, and sends the contact, notice method and retention WeChat asks for', () => {
    const body = privacySettingFor('iot-video', { ...GUIDE, retention: '30天' }, ['Location', 'BlueTooth'], ['NewKey']);
    expect(body).toEqual({
      privacy_ver: 2,
      owner_setting: { contact_phone: '400-800-1234', notice_method: '小程序内弹窗通知', store_expire_timestamp: '30天' },
      setting_list: [
        { privacy_key: 'Location', privacy_text: '展示附近门店' },
        { privacy_key: 'BlueTooth', privacy_text: '为智能设备配网和连接设备' },
        { privacy_key: 'NewKey', privacy_text: '提供需要你的NewKey的功能' },
      ],
    });
  });

  it('needs nothing when the code collects nothing, and names the keys when a contact is missing', () => {
    expect(privacySettingFor('lowcode', undefined, [])).toBeNull();
    const missing = privacySettingFor('lowcode', undefined, ['Camera']);
    expect(missing).toBeInstanceOf(PrivacyGuideIncomplete);
    expect((missing as PrivacyGuideIncomplete).message).toContain('摄像头 (Camera)');
  });

  it('is validated in the app config: a contact at least, known keys, bounded texts', () => {
    expect(issuesOf(() => parseAppConfig('lowcode', { privacyGuide: { contact: {} } }))).toEqual(['config.privacyGuide.contact']);
    expect(issuesOf(() => parseAppConfig('lowcode', { privacyGuide: { contact: { email: 'nope' } } }))).toEqual([
      'config.privacyGuide.contact.email',
    ]);
    expect(issuesOf(() => parseAppConfig('lowcode', { privacyGuide: { ...GUIDE, purposes: { Telepathy: 'x' } } }))).toEqual([
      'config.privacyGuide.purposes',
    ]);
    expect(issuesOf(() => parseAppConfig('lowcode', { privacyGuide: { ...GUIDE, purposes: { Camera: 'x'.repeat(201) } } }))).toEqual([
      'config.privacyGuide.purposes.Camera',
    ]);
    expect(parseAppConfig('lowcode', { privacyGuide: GUIDE })).toMatchObject({ privacyGuide: GUIDE });
  });
});

describe('server domains', () => {
  it('needs the asset host as a download domain plus the app’s own, and finds what is missing regardless of case', () => {
    const needed = domainsNeeded('https://wxa.example.com', {
      request: ['https://api.shop.example'],
      socket: [],
      upload: [],
      download: [],
      webview: [],
    });
    expect(needed).toMatchObject({ downloaddomain: ['https://wxa.example.com'], requestdomain: ['https://api.shop.example'] });
    expect(missingDomains(needed, { downloaddomain: ['https://WXA.example.com'] })).toMatchObject({
      downloaddomain: [],
      requestdomain: ['https://api.shop.example'],
    });
  });

  it('accepts only what WeChat takes: https (wss for sockets), no path, no IP, not api.weixin.qq.com', () => {
    const domains = (serverDomains: unknown) => issuesOf(() => parseAppConfig('lowcode', { serverDomains }));
    expect(domains({ request: ['http://api.shop.example'] })).toEqual(['config.serverDomains.request.0']);
    expect(domains({ request: ['https://api.shop.example/v1'] })).toEqual(['config.serverDomains.request.0']);
    expect(domains({ download: ['https://10.1.2.3'] })).toEqual(['config.serverDomains.download.0']);
    expect(domains({ request: ['https://api.weixin.qq.com'] })).toEqual(['config.serverDomains.request.0']);
    expect(domains({ socket: ['https://ws.shop.example'] })).toEqual(['config.serverDomains.socket.0']);
    expect(parseAppConfig('lowcode', { serverDomains: { socket: ['wss://ws.shop.example:8443'] } })).toMatchObject({
      serverDomains: { socket: ['wss://ws.shop.example:8443'] },
    });
  });
});
