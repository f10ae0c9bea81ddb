/**
 * `authorize-callback`: WeChat's authorization-event receive URL (`POST /wechat/component/events`).
 *
 * Order matters: verify the signature and timestamp, decrypt, record the push in the inbox, act on it, and only
 * then answer `success`. A bad signature or stale timestamp is refused with a 4xx and nothing is stored. A push
 * seen before is answered `success` without acting again. A failure a retry could fix answers 503 (so WeChat
 * retries) and forgets the push; a push that can never be processed is marked failed and acknowledged.
 */
import { z } from 'zod';
import { ValidationError, isAppError } from '../../shared/domain/errors';
import { platform, type Platform } from '../../shared/runtime/compose';
import { cloudEntry } from '../../shared/runtime/entry';
import { route, type Reply } from '../../shared/runtime/http/route';
import { createHttpFunction } from '../../shared/runtime/http/stack';
import { fingerprintOf } from '../../shared/wechat/inbox';
import { createWeChatPlatform, type WeChatPlatform } from '../../shared/wechat/platform';
import type { WeChatXmlFields } from '../../shared/wechat/xml';

export type AuthorizeCallbackDeps = Pick<Platform, 'config' | 'log'> & {
  wechat: Pick<WeChatPlatform, 'crypto' | 'tokens' | 'inbox'>;
  clock?: () => number;
};

const callbackQuery = z.object({
  msg_signature: z.string().optional(),
  timestamp: z.string().optional(),
  nonce: z.string().optional(),
  encrypt_type: z.string().optional(),
  signature: z.string().optional(),
});

/** The decrypted component push: every kind names its InfoType and CreateTime; the rest depends on the kind. */
const componentPush = z.object({
  InfoType: z.string().min(1),
  AppId: z.string().optional(),
  CreateTime: z.coerce.number().int().nonnegative(),
  ComponentVerifyTicket: z.string().optional(),
  AuthorizerAppid: z.string().optional(),
});

const success: Reply = { status: 200, text: 'success' };

export function makeHandler(deps: AuthorizeCallbackDeps) {
  const clock = deps.clock ?? Date.now;
  const { crypto, tokens, inbox } = deps.wechat;

  const act = async (push: z.infer<typeof componentPush>): Promise<string> => {
    if (push.InfoType === 'component_verify_ticket') {
      if (!push.ComponentVerifyTicket) return 'ticket push without a ticket';
      return `ticket ${await tokens.recordVerifyTicket(push.ComponentVerifyTicket, push.CreateTime * 1000)}`;
    }
    // authorized / updateauthorized / unauthorized are acted on by the publishing pipeline, which reads them
    // from the inbox; here they are stored and acknowledged.
    return `stored ${push.InfoType}`;
  };

  return createHttpFunction({
    name: 'authorize-callback',
    log: deps.log,
    maxBodyBytes: Math.min(deps.config.maxBodyBytes, 64 * 1024),
    corsOrigins: [],
    routes: [
      route({
        method: 'POST',
        path: '/wechat/component/events',
        auth: 'public',
        summary: 'WeChat authorization-event receive URL (component_verify_ticket, authorized, updateauthorized, unauthorized)',
        query: callbackQuery,
        handle: async ({ query, rawBody, log }) => {
          const opened = crypto.openEnvelope({
            body: rawBody.toString('utf8'),
            msgSignature: query.msg_signature,
            timestamp: query.timestamp,
            nonce: query.nonce,
            nowSeconds: Math.floor(clock() / 1000),
          });
          const push = parsePush(opened.fields);
          const claim = await inbox.claim(fingerprintOf('component', opened.message), {
            source: 'component',
            type: push.InfoType,
            appId: push.AuthorizerAppid ?? null,
            createTime: push.CreateTime,
          });
          if (claim.kind === 'duplicate') {
            log.info('duplicate push acknowledged', { infoType: push.InfoType, status: claim.status });
            return success;
          }
          try {
            const outcome = await act(push);
            await inbox.settle(claim, 'processed', outcome);
            log.info('component push processed', { infoType: push.InfoType, outcome });
            return success;
          } catch (error) {
            if (isAppError(error) && (error.category === 'invalid' || error.category === 'internal')) {
              await inbox.settle(claim, 'failed', error.code);
              log.error('component push cannot be processed; acknowledged to stop retries', { infoType: push.InfoType, error });
              return success;
            }
            await inbox.release(claim);
            throw error;
          }
        },
      }),
    ],
  });
}

function parsePush(fields: WeChatXmlFields): z.infer<typeof componentPush> {
  const parsed = componentPush.safeParse(fields);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    'the decrypted push is not a component event',
    parsed.error.issues.map((issue) => ({ path: `message.${issue.path.join('.')}`, message: issue.message })),
    { code: 'WECHAT_PUSH_INVALID' },
  );
}

export const handler = cloudEntry({ http: true, schedule: false }, async () => {
  const base = await platform();
  return { http: makeHandler({ ...base, wechat: createWeChatPlatform(base) }) };
});
