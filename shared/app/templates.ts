/**
 * The platform's template library, read from WeChat (`gettemplatelist`) and kept for a few minutes in the store, so
 * a frontend listing templates and every build asking for "the latest version" do not each call WeChat.
 */

import { DuplicateKeyError } from '../domain/errors';
import { type LibraryTemplate, latestOfLine, libraryTemplateSchema } from '../domain/templates';
import * as z from '../domain/zod';
import { defineCollection } from '../store/port';
import type { Template } from '../wechat/schemas';
import type { Services } from './context';

/** A template uploaded meanwhile shows up within this long. */
const TEMPLATE_LIBRARY_CACHE_MS = 5 * 60_000;
const LIBRARY_ID = 'library';

export const templateLibraryCollection = defineCollection({
  name: 'templateLibrary',
  schema: z.lazy(() => z.object({ templates: z.array(libraryTemplateSchema) })),
});

const fromWeChat = (template: Template): LibraryTemplate => ({
  templateId: template.template_id,
  userVersion: template.user_version,
  userDesc: template.user_desc,
  createdAt: template.create_time === undefined ? null : template.create_time * 1000,
  templateType: template.template_type ?? 0,
  sourceMiniProgramAppid: template.source_miniprogram_appid || null,
  sourceMiniProgram: template.source_miniprogram || null,
});

/** The library, from the store while fresh, else from WeChat (and stored for the next readers). */
export async function templateLibrary(services: Services, signal?: AbortSignal): Promise<LibraryTemplate[]> {
  const cache = services.store.collection(templateLibraryCollection);
  const cached = await cache.get(LIBRARY_ID);
  if (cached) return cached.data.templates;
  const answer = await services.wechat.client.getTemplateList(undefined, signal ? { signal } : undefined);
  const templates = answer.template_list.map(fromWeChat);
  const now = services.clock();
  try {
    await cache.insert(LIBRARY_ID, { templates }, { expiresAt: now + TEMPLATE_LIBRARY_CACHE_MS });
  } catch (error) {
    // Another instance stored it meanwhile: its copy is as fresh as this one.
    if (!(error instanceof DuplicateKeyError)) throw error;
  }
  return templates;
}

/**
 * The template a build commits when it names none: the latest version of the app's template's line. An app whose
 * template the library no longer lists keeps its own id, and WeChat's commit says what is wrong (85014).
 */
export async function templateToBuild(services: Services, appTemplateId: number, signal?: AbortSignal): Promise<number> {
  return latestOfLine(await templateLibrary(services, signal), appTemplateId)?.templateId ?? appTemplateId;
}
