/**
 * zod schemas of phased release (分阶段发布) in the manner of `schemas.ts`: successful answers only, unknown keys
 * stripped, lazy. Sources: doc grayRelease (gray_percentage 0–100 integer, 0 only with support_experiencer_first or
 * support_debuger_first), doc getGrayReleasePlan (status 0 初始状态 · 1 执行中 · 2 暂停中 · 3 执行完毕 · 4 被删除),
 * doc revertGrayRelease (no body, no answer fields).
 */
import * as z from '../domain/zod';

/** getgrayreleaseplan's `status`, by name. */
export const GRAY_RELEASE_STATUS = { initial: 0, running: 1, paused: 2, completed: 3, deleted: 4 } as const;
export type GrayReleaseStatus = (typeof GRAY_RELEASE_STATUS)[keyof typeof GRAY_RELEASE_STATUS];

const status = /* @__PURE__ */ z.lazy(() => z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]));

export const grayReleaseRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z
    .object({
      gray_percentage: z.number().check(z.int(), z.gte(0), z.lte(100)),
      /** Project members (项目成员) first. */
      support_debuger_first: z.optional(z.boolean()),
      /** Experience members (体验成员) first. */
      support_experiencer_first: z.optional(z.boolean()),
    })
    .check(
      z.refine((r) => r.gray_percentage > 0 || r.support_debuger_first === true || r.support_experiencer_first === true, {
        message: 'a percentage of 0 needs support_debuger_first or support_experiencer_first',
        path: ['gray_percentage'],
      }),
    ),
);
export type GrayReleaseRequest = z.infer<typeof grayReleaseRequestSchema>;

export const grayReleasePlanResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    gray_release_plan: z.object({
      status,
      /** Unix seconds. */
      create_timestamp: z.number().check(z.int()),
      gray_percentage: z.number().check(z.int()),
      support_debuger_first: z._default(z.boolean(), false),
      support_experiencer_first: z._default(z.boolean(), false),
    }),
  }),
);
export type GrayReleasePlanResponse = z.infer<typeof grayReleasePlanResponseSchema>;
