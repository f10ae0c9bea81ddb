/** The kinds of app the platform builds; apart from app.ts so the go-live rules (privacy-guide.ts) can name them. */
import * as z from './zod';

export const APP_KINDS = ['lowcode', 'iot-video'] as const;
export const appKindSchema = z.enum(APP_KINDS);
export type AppKind = z.infer<typeof appKindSchema>;
