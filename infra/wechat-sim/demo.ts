/**
 * A small demo platform for `npm start` and manual exploration: two templates (the low-code runtime and the
 * IoT Video app), and mini programs chosen to exercise the interesting paths — two subjects (the same-subject
 * check), a plugin granted / pending (80082 on commit), an unfinished profile (86002 on submit), a geolocation
 * API not granted (61040 on submit of code declaring getLocation).
 */
import type { MiniProgramSpec, TemplateSpec, WeChatSimulator } from './types';

export const DEMO_PLUGINS = {
  /** Tencent IoT Video style plugin, granted to the camera-brand mini programs. */
  iotVideo: 'wx1319af22356934bf',
  /** Live-player style plugin, applied for but not yet approved. */
  livePlayer: 'wx2b03c6e691cd7370',
} as const;

export const DEMO_TEMPLATES: readonly TemplateSpec[] = [
  {
    templateId: 101,
    userVersion: '1.4.0',
    userDesc: 'lowcode runtime',
    pages: ['pages/index/index', 'pages/page/page', 'pages/webview/webview'],
  },
  {
    templateId: 201,
    userVersion: '2.3.1',
    userDesc: 'iot-video app',
    pages: ['pages/index/index', 'pages/device/device', 'pages/live/live', 'pages/settings/settings'],
  },
];

const ACME = '深圳市艾克米科技有限公司';
const NORTHWIND = '杭州北风物联网有限公司';

export const DEMO_MINI_PROGRAMS: readonly MiniProgramSpec[] = [
  {
    appId: 'wx8a6f3c2d1e0b9a01',
    nickName: '艾克米商城',
    principalName: ACME,
    categories: [{ first_class: '商家自营', second_class: '服装/鞋/箱包', first_id: 304, second_id: 305 }],
  },
  {
    appId: 'wx8a6f3c2d1e0b9a02',
    nickName: '艾克米摄像机',
    principalName: ACME,
    plugins: [{ appId: DEMO_PLUGINS.iotVideo, status: 2 }],
    categories: [{ first_class: '工具', second_class: '设备管理', first_id: 287, second_id: 1145 }],
  },
  {
    appId: 'wx8a6f3c2d1e0b9a03',
    nickName: '艾克米直播',
    principalName: ACME,
    plugins: [
      { appId: DEMO_PLUGINS.iotVideo, status: 2 },
      { appId: DEMO_PLUGINS.livePlayer, status: 1 },
    ],
    ungrantedPrivacyApis: ['getLocation'],
  },
  {
    appId: 'wx4e2d7b9c5a3f1e01',
    nickName: '北风智能家居',
    principalName: NORTHWIND,
    plugins: [{ appId: DEMO_PLUGINS.iotVideo, status: 2 }],
  },
  {
    appId: 'wx4e2d7b9c5a3f1e02',
    nickName: '北风新店',
    principalName: NORTHWIND,
    profileComplete: false,
  },
];

export interface DemoPlatform {
  templates: readonly TemplateSpec[];
  miniPrograms: readonly MiniProgramSpec[];
  plugins: typeof DEMO_PLUGINS;
}

/** Registers the demo templates and mini programs (idempotent: running it twice changes nothing). */
export function seedDemoPlatform(sim: Pick<WeChatSimulator, 'addTemplate' | 'addMiniProgram'>): DemoPlatform {
  for (const template of DEMO_TEMPLATES) sim.addTemplate(template);
  for (const mp of DEMO_MINI_PROGRAMS) sim.addMiniProgram(mp);
  return { templates: DEMO_TEMPLATES, miniPrograms: DEMO_MINI_PROGRAMS, plugins: DEMO_PLUGINS };
}
