/** Routes of `bind-callback`: WeChat's redirect after the admin authorized the account's primary mini program. */
import { redirectRoute } from './authorization-redirect';

export const bindCallbackRoutes = {
  redirect: redirectRoute('/wechat/bind/callback', 'Authorization redirect for an account’s primary mini program'),
};
