/** Routes of `review`: submit for audit, undo, speed up, and WeChat's message URL (audit results). */

import { deploymentSchema } from '../domain/deployment';
import { weChatAppidSchema } from '../domain/ids';
import * as z from '../domain/zod';
import { declareRoute } from '../runtime/http/route';
import { PUSH_BODY_TYPES, pushQuery } from '../wechat/push-route';
import { deploymentParams } from './params';

export const reviewRoutes = {
  submit: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/submit',
    auth: 'account',
    summary: 'Submit a built deployment for WeChat audit (or resubmit after a rejection was fixed)',
    params: deploymentParams,
    response: deploymentSchema,
  }),
  undo: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/undo',
    auth: 'account',
    summary: 'Withdraw the audit (WeChat allows 5 a day, 10 a month per mini program)',
    params: deploymentParams,
    response: deploymentSchema,
  }),
  speedup: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/speedup',
    auth: 'account',
    summary: 'Ask WeChat to expedite the audit (monthly quota)',
    params: deploymentParams,
    response: deploymentSchema,
  }),
  events: declareRoute({
    method: 'POST',
    path: '/wechat/authorizers/{appid}/events',
    auth: 'public',
    summary: 'WeChat message & event receive URL, configured as /wechat/authorizers/$APPID$/events (audit results)',
    params: z.object({ appid: weChatAppidSchema }),
    bodyTypes: PUSH_BODY_TYPES,
    query: pushQuery,
  }),
};
