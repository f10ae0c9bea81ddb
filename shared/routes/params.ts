/** Path parameters that routes of several functions share. */
import { z } from 'zod';

export const deploymentParams = z.object({ deploymentId: z.string().regex(/^dep_[0-9a-z]{1,64}$/, 'not a deployment id') });

export const appParams = z.object({ appId: z.string().regex(/^app_[0-9a-z]{1,64}$/, 'not an app id') });

export const miniProgramParams = z.object({
  appid: z
    .string()
    .regex(/^wx[0-9a-zA-Z]{16}$/, 'not a mini program appid')
    .meta({ description: "the mini program's WeChat appid" }),
});
