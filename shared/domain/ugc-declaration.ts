/**
 * The UGC declaration (用户生成内容场景信息安全声明) submit_audit carries as `ugc_declare`. WeChat asks for it when a
 * mini program is submitted for the first time and its categories include 社交-社区/论坛, 社交-笔记 or 社交-问答, and
 * refuses the submit without it (85094 "need add ugc declare"). Fields and values from the submitAudit doc
 * (developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/code/submit_audit.html and its English
 * twin under doc/oplatform/en/openApi/OpenApiDoc/miniprogram-management/code-management/submitAudit.html); the
 * peers send the same object (wechatpy/EasyWeChat `ugc_declare`, silenceper/wechat `MiniProgramAuditUGCDeclare`).
 *
 * The app's config holds it (`config.ugcDeclaration`), in this API's camelCase; `ugcDeclareOf` gives WeChat's shape.
 */
import * as z from './zod';

/** `scene`: 0 不涉及用户生成内容, 1 用户资料, 2 图片, 3 视频, 4 文本, 5 音频 (several allowed; 0 stands alone). */
export const UGC_SCENES = [0, 1, 2, 3, 4, 5] as const;
/** `method`: 1 使用平台建议的内容安全API, 2 使用其他的内容审核产品, 3 通过人工审核把关, 4 未做内容审核把关. */
export const UGC_METHODS = [1, 2, 3, 4] as const;
const NO_UGC = 0;

const distinct = (values: readonly number[]) => new Set(values).size === values.length;
const desc = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max, `at most ${max} characters`));

export const ugcDeclarationSchema = /* @__PURE__ */ z.lazy(() =>
  z.described(
    z
      .strictObject({
        scene: z.described(
          z
            .array(z.literal(UGC_SCENES))
            .check(z.minLength(1, 'name at least one scene (0: no user-generated content)'), z.refine(distinct, 'each scene once')),
          'UGC scenes: 0 none, 1 user profiles, 2 pictures, 3 videos, 4 text, 5 audio (ugc_declare.scene)',
        ),
        method: z.described(
          z.optional(z.array(z.literal(UGC_METHODS)).check(z.refine(distinct, 'each method once'))),
          "How the content is moderated: 1 WeChat's content security API, 2 another moderation product, 3 people review it, 4 not moderated (ugc_declare.method)",
        ),
        otherSceneDesc: z.described(z.optional(desc(256)), 'Other scenes, in words (ugc_declare.other_scene_desc, ≤256)'),
        hasAuditTeam: z.described(z.optional(z.boolean()), 'Whether a team reviews the content (ugc_declare.has_audit_team)'),
        auditDesc: z.described(z.optional(desc(256)), 'How UGC is reviewed today (ugc_declare.audit_desc, ≤256)'),
      })
      .check(
        z.superRefine((d, ctx) => {
          // The doc: "选择 0 时以下字段不需要填写" — none is its own answer; any scene needs the way it is moderated.
          if (d.scene.includes(NO_UGC) && d.scene.length > 1) {
            ctx.addIssue({ code: 'custom', path: ['scene'], message: 'scene 0 (no user-generated content) stands alone' });
          }
          if (!d.scene.includes(NO_UGC) && (d.method === undefined || d.method.length === 0)) {
            ctx.addIssue({
              code: 'custom',
              path: ['method'],
              message: 'say how user-generated content is moderated (at least one method)',
            });
          }
        }),
      ),
    'UGC declaration sent with every submit (submit_audit ugc_declare); WeChat requires it on the first submit of 社交-社区/论坛, 社交-笔记 or 社交-问答 (85094)',
  ),
);
export type UgcDeclaration = z.infer<typeof ugcDeclarationSchema>;

/** WeChat's `ugc_declare` (doc submitAudit): `has_audit_team` is 0/1, the rest as declared. */
export function ugcDeclareOf(d: UgcDeclaration): {
  scene: number[];
  method?: number[];
  other_scene_desc?: string;
  has_audit_team?: 0 | 1;
  audit_desc?: string;
} {
  return {
    scene: [...d.scene],
    ...(d.method === undefined ? {} : { method: [...d.method] }),
    ...(d.otherSceneDesc === undefined ? {} : { other_scene_desc: d.otherSceneDesc }),
    ...(d.hasAuditTeam === undefined ? {} : { has_audit_team: d.hasAuditTeam ? 1 : 0 }),
    ...(d.auditDesc === undefined ? {} : { audit_desc: d.auditDesc }),
  };
}

/** The categories whose first submit needs the declaration, as get_category names them (the submitAudit doc's note). */
const UGC_SOCIAL_SECOND_CLASSES: ReadonlySet<string> = new Set(['社区/论坛', '笔记', '问答']);

export const needsUgcDeclaration = (category: { first_class: string; second_class: string }): boolean =>
  category.first_class === '社交' && UGC_SOCIAL_SECOND_CLASSES.has(category.second_class);
