/** Routes of `unbind`: detach a mini program from its app. */
import * as z from '../domain/zod';
import { declareRoute } from '../runtime/http/route';
import { miniProgramParams } from './params';

export const unbindRoutes = {
  unbind: declareRoute({
    method: 'POST',
    path: '/v1/mini-programs/{appid}/unbind',
    auth: 'account',
    summary: 'Unbind a mini program from its app (the primary needs force: true)',
    params: miniProgramParams,
    body: z.strictObject({ force: z._default(z.boolean(), false) }),
    response: z.object({ appid: z.string(), voided: z.number(), wasPrimary: z.boolean(), warning: z.nullable(z.string()) }),
  }),
};
