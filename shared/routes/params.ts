/** Path parameters that routes of several functions share. */
import { z } from 'zod';

export const deploymentParams = z.object({ deploymentId: z.string().regex(/^dep_[0-9a-z]{1,64}$/, 'not a deployment id') });
