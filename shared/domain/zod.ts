/**
 * zod as this project uses it: `zod/mini`, the same validators as classic `zod` behind a functional API that a bundle
 * tree-shakes to what it uses (classic zod's methods kept all of it, 173 KB, in every function), with zod's English
 * messages, which classic `zod` configures when imported and `zod/mini` does not (every issue would read "Invalid
 * input"). Everything imports zod from here (a layer rule); scripts/build.ts fails a bundle holding classic zod.
 */
import * as z from 'zod/mini';

z.config(z.locales.en());

export * from 'zod/mini';
