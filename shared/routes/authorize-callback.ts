/** Routes of `authorize-callback`: the redirect for an app's mini program and WeChat's authorization-event URL. */
import { declareRoute } from '../runtime/http/route';
import { PUSH_BODY_TYPES, pushQuery } from '../wechat/push-route';
import { redirectRoute } from './authorization-redirect';

export const authorizeCallbackRoutes = {
  redirect: redirectRoute('/wechat/authorize/callback', 'Authorization redirect for an app’s target mini program'),
  events: declareRoute({
    method: 'POST',
    path: '/wechat/component/events',
    auth: 'public',
    summary: 'WeChat authorization-event receive URL (verify ticket, authorized, updateauthorized, unauthorized)',
    bodyTypes: PUSH_BODY_TYPES,
    query: pushQuery,
  }),
};
