/** Reads our error envelope from a response, so tests assert on its fields with types. */

import { errorEnvelope } from '../../infra/testing/wire';
import type * as z from '../../shared/domain/zod';

export { errorEnvelope };
export type ErrorBody = z.infer<typeof errorEnvelope>['error'];

export async function readError(response: Response): Promise<ErrorBody> {
  return errorEnvelope.parse(await response.json()).error;
}

/** The error envelope of a reply body already read (the driver's `Call.body`). */
export const errorIn = (body: unknown): ErrorBody => errorEnvelope.parse(body).error;
