/** Reads our error envelope from a response, so tests assert on its fields with types. */
import { z } from 'zod';

export const errorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorEnvelope>['error'];

export async function readError(response: Response): Promise<ErrorBody> {
  return errorEnvelope.parse(await response.json()).error;
}

/** The error envelope of a reply body already read (the driver's `Call.body`). */
export const errorIn = (body: unknown): ErrorBody => errorEnvelope.parse(body).error;
