/**
 * `unbind` (frontend): withdraws a pending audit, detaches the mini program, voids in-flight deployments and
 * keeps their history. The account's primary needs `force: true`, and the answer says what that blocks.
 */
import { z } from 'zod';
import { services, httpFunction } from '../../shared/app/compose';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import { unbindMiniProgram } from '../../shared/app/deployments';
import { cloudEntry } from '../../shared/runtime/entry';
import { json, route, type AnyRoute } from '../../shared/runtime/http/route';

const unbindSchemas = () => ({
  body: z.strictObject({ force: z.boolean().default(false) }),
  response: z.object({ appid: z.string(), voided: z.number(), wasPrimary: z.boolean(), warning: z.string().nullable() }),
});
/** What the console sends and reads. */
export type UnbindBody = z.input<ReturnType<typeof unbindSchemas>['body']>;
export type UnbindResult = z.infer<ReturnType<typeof unbindSchemas>['response']>;

export const routes = (s: Services): AnyRoute[] => [
  route({
    method: 'POST',
    path: '/v1/mini-programs/{appid}/unbind',
    auth: 'account',
    summary: 'Unbind a mini program from its app (the primary needs force: true)',
    params: z.object({ appid: z.string().regex(/^wx[0-9a-zA-Z]{16}$/, 'not a mini program appid') }),
    ...unbindSchemas(),
    handle: async ({ params, body, principal }) =>
      json(200, await unbindMiniProgram(s, accountOf(principal), params.appid, { force: body.force }, actorOf(principal))),
  }),
];

export const makeHandler = (s: Services) => httpFunction(s, 'unbind', routes(s));

export const handler = cloudEntry({ http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));
