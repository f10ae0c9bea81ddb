/**
 * Code templates: the platform's template library at WeChat (`gettemplatelist`, reference §4.1). A template is one
 * uploaded version of a development mini program's code; the templates of one source development mini program
 * (`source_miniprogram_appid`) are the versions of one code line, and its newest (create_time) is the line's latest
 * version — what seed 000's "latest version" and seed 003's "支持的小程序最新版本" mean. Fields as WeChat documents
 * them: https://developers.weixin.qq.com/doc/oplatform/en/openApi/OpenApiDoc/thirdparty-management/template-management/getTemplateList.html
 * (create_time: when the developer uploaded the draft; source_miniprogram_appid: the development mini program).
 */

import { timestampSchema } from './ids';
import * as z from './zod';

export const libraryTemplateSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    templateId: z.number().check(z.int(), z.nonnegative()),
    userVersion: z.string(),
    userDesc: z.string(),
    /** create_time, epoch ms; null when WeChat left it out. */
    createdAt: z.nullable(timestampSchema),
    /** 0 normal, 1 standard (deprecated by WeChat). */
    templateType: z.number().check(z.int()),
    /** The development mini program the template was uploaded from: its code line. */
    sourceMiniProgramAppid: z.nullable(z.string()),
    sourceMiniProgram: z.nullable(z.string()),
  }),
);
export type LibraryTemplate = z.infer<typeof libraryTemplateSchema>;

/** Templates of one code line: the same source, and only the template itself when WeChat names no source. */
const sameLine = (a: LibraryTemplate, b: LibraryTemplate): boolean =>
  a.templateId === b.templateId ||
  (a.sourceMiniProgramAppid !== null && a.sourceMiniProgramAppid === b.sourceMiniProgramAppid && a.templateType === b.templateType);

/** Newer first: by create_time, then by id (WeChat numbers templates in the order they were added). */
const newerFirst = (a: LibraryTemplate, b: LibraryTemplate): number =>
  (b.createdAt ?? 0) - (a.createdAt ?? 0) || b.templateId - a.templateId;

/** The latest version of the line `templateId` belongs to; null when the library does not list `templateId`. */
export const latestOfLine = (library: readonly LibraryTemplate[], templateId: number): LibraryTemplate | null => {
  const template = library.find((t) => t.templateId === templateId);
  return template ? ([...library].filter((t) => sameLine(template, t)).sort(newerFirst)[0] ?? template) : null;
};

/** The library newest first, each template marked when it is its line's latest version. */
export const withLatestMarked = (library: readonly LibraryTemplate[]): (LibraryTemplate & { latest: boolean })[] =>
  [...library].sort(newerFirst).map((t) => ({ ...t, latest: latestOfLine(library, t.templateId)?.templateId === t.templateId }));
