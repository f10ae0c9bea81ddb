/**
 * zod as this project uses it: `zod/mini`, the same validators as classic `zod` behind a functional API that a bundle
 * tree-shakes to what it uses (classic zod's methods kept all of it, 173 KB, in every function), with zod's English
 * messages, which classic `zod` configures when imported and `zod/mini` does not (every issue would read "Invalid
 * input"). Everything imports zod from here (a layer rule); scripts/build.ts fails a bundle holding classic zod.
 */
import * as z from 'zod/mini';

z.config(z.locales.en());

export * from 'zod/mini';

/**
 * Memoises a builder: what it builds (a schema, or fields several schemas spread) is built on first use, not at
 * import, and reused after. A schema in a function bundle costs every cold start whether a request uses it or not;
 * annotate a top-level call as pure (esbuild's `@__PURE__` comment) so a bundle that never calls the result drops it.
 * A schema another schema embeds is a `z.lazy` instead.
 */
export function builtOnFirstUse<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

/**
 * zod/mini's `catch`, built the same way. zod's own wraps a constant with `core.util.constantCatch`, and esbuild
 * cannot drop anything of a namespace read that way: every bundle using `catch` (the provider shims) kept the whole
 * of zod's util.js. A plain thunk catches the same; zod's tag on its own thunk only serves `z.compile`, unused here.
 * Shadows the `catch` of `export *` above.
 */
/* @__NO_SIDE_EFFECTS__ */
function catchOf<T extends z.core.$ZodType>(
  innerType: T,
  catchValue: z.core.output<T> | ((ctx: z.core.$ZodCatchCtx) => z.core.output<T>),
): z.ZodMiniCatch<T> {
  const schema = new z.ZodMiniCatch({
    type: 'catch',
    innerType,
    // As zod's: a function is the catch itself (so a function-typed output cannot be caught as a constant).
    catchValue: typeof catchValue === 'function' ? (catchValue as (ctx: z.core.$ZodCatchCtx) => z.core.output<T>) : () => catchValue,
  });
  // The constructor is typed for the default type parameter only; zod's own `catch` is typed as this one.
  return schema as z.ZodMiniCatch<T>;
}

export { catchOf as catch };

/**
 * `schema` with OpenAPI metadata (`meta`: an `id` names it in the document's components): a copy registered in zod's
 * global registry, which shared/runtime/http/openapi.ts reads. One function for the `.clone().register(…)` chain
 * written out at ~90 places. The annotation says a call whose result is unused does nothing; esbuild 0.28 honours
 * it within this file only (measured): a call elsewhere is dropped only if its result is unused and the call site is
 * annotated `@__PURE__` with side-effect-free arguments, as for zod's own functions.
 */
/* @__NO_SIDE_EFFECTS__ */
export function registered<T extends z.ZodMiniType>(schema: T, meta: Pick<z.core.GlobalMeta, 'id' | 'description'>): T {
  const copy = schema.clone();
  // What `copy.register(z.globalRegistry, meta)` does, on the base type: register() types the metadata against the
  // schema's own type, which a generic `T` leaves unresolved (this metadata names no type).
  const base: z.ZodMiniType = copy;
  z.globalRegistry.add(base, meta);
  return copy;
}

/** `schema` with a description in the OpenAPI document (see `registered`). */
/* @__NO_SIDE_EFFECTS__ */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  return registered(schema, { description });
}
