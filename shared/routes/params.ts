/** Path parameters that routes of several functions share. */
import * as z from '../domain/zod';

export const deploymentParams = /* @__PURE__ */ z.lazy(() =>
  z.object({ deploymentId: z.string().check(z.regex(/^dep_[0-9a-z]{1,64}$/, 'not a deployment id')) }),
);

export const appParams = /* @__PURE__ */ z.lazy(() =>
  z.object({ appId: z.string().check(z.regex(/^app_[0-9a-z]{1,64}$/, 'not an app id')) }),
);

export const miniProgramParams = /* @__PURE__ */ z.lazy(() =>
  z.object({
    appid: z.described(z.string().check(z.regex(/^wx[0-9a-zA-Z]{16}$/, 'not a mini program appid')), "the mini program's WeChat appid"),
  }),
);
