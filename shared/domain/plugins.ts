/**
 * Plugin dependencies. A commit whose ext_json lists a plugin the mini program has not been granted fails at
 * WeChat with 80082 "miniprogram has no permission to plugin[wx…]", which tells the user nothing about what to
 * do. Seed 000's FAQ has the answer ("add the plugin in 设置 > 第三方设置 > 插件管理"), so the build checks
 * first and names the plugin.
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import (`lazyTarget` in
 * common.ts gives the built schema, to derive another from it).
 */

import { ALLOWED, type Decision, refused } from './common';
import { AppError } from './errors';
import { weChatAppidSchema } from './ids';
import * as z from './zod';

export const requiredPluginSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** The plugin's appid (`provider` in app.json). */
    appId: weChatAppidSchema,
    /** The key the code uses for it in app.json `plugins`. */
    alias: z.string().check(z.regex(/^[A-Za-z_$][\w$-]{0,63}$/, 'a plugin alias is an identifier')),
    version: z.string().check(z.minLength(1), z.maxLength(32)),
    /** What users call it ("小程序交易组件"); the error names the plugin by it. */
    name: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  }),
);
export type RequiredPlugin = z.infer<typeof requiredPluginSchema>;

export const requiredPluginsSchema = /* @__PURE__ */ z.lazy(() =>
  z.array(requiredPluginSchema).check(
    z.maxLength(20),
    z.superRefine((plugins, ctx) => {
      const seen = new Set<string>();
      plugins.forEach((plugin, index) => {
        for (const key of [`appId:${plugin.appId}`, `alias:${plugin.alias}`]) {
          if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate plugin ${key}` });
          seen.add(key);
        }
      });
    }),
  ),
);

/** `/wxa/plugin` action `list`: 1 applying · 2 approved · 3 rejected · 4 timed out. */
export const PLUGIN_STATUS = { applying: 1, approved: 2, rejected: 3, expired: 4 } as const;

/** The mini program's plugin list as last read from WeChat; WeChat's data, so held loosely. */
export const installedPluginSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    appId: z.string().check(z.minLength(1)),
    status: z.number().check(z.int()),
    nickname: z.optional(z.string()),
  }),
);
export type InstalledPlugin = z.infer<typeof installedPluginSchema>;

export type MissingPluginStatus = 'absent' | 'applying' | 'rejected' | 'expired';
export interface MissingPlugin {
  readonly appId: string;
  readonly name: string;
  readonly alias: string;
  readonly status: MissingPluginStatus;
}

const statusName = (status: number): MissingPluginStatus => {
  switch (status) {
    case PLUGIN_STATUS.applying:
      return 'applying';
    case PLUGIN_STATUS.rejected:
      return 'rejected';
    case PLUGIN_STATUS.expired:
      return 'expired';
    default:
      return 'absent';
  }
};

/** The required plugins the mini program cannot use yet; only an approved plugin (status 2) counts. */
export const missingPlugins = (required: readonly RequiredPlugin[], installed: readonly InstalledPlugin[]): MissingPlugin[] =>
  required.flatMap((plugin) => {
    const found = installed.find((candidate) => candidate.appId === plugin.appId);
    if (found?.status === PLUGIN_STATUS.approved) return [];
    return [{ appId: plugin.appId, name: plugin.name, alias: plugin.alias, status: found ? statusName(found.status) : 'absent' }];
  });

export class PluginsMissingError extends AppError {
  readonly code = 'PLUGIN_MISSING';
  readonly category = 'conflict' as const;
  readonly missing: readonly MissingPlugin[];

  constructor(miniProgramAppid: string, missing: readonly MissingPlugin[]) {
    const list = missing.map((p) => `"${p.name}" (${p.appId}${p.status === 'absent' ? '' : `, ${p.status}`})`).join(', ');
    super(
      `The mini program ${miniProgramAppid} has not added the plugin${missing.length > 1 ? 's' : ''} ${list} the app ` +
        'needs. Add it on mp.weixin.qq.com: 设置 > 第三方设置 > 插件管理 > 添加插件, and build again once it is approved.',
      { details: { miniProgramAppid, missing } },
    );
    this.missing = missing;
  }
}

export const checkPlugins = (
  miniProgramAppid: string,
  required: readonly RequiredPlugin[],
  installed: readonly InstalledPlugin[],
): Decision => {
  const missing = missingPlugins(required, installed);
  return missing.length === 0 ? ALLOWED : refused(new PluginsMissingError(miniProgramAppid, missing));
};
