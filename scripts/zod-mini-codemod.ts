/**
 * Rewrites code written against classic zod (`import { z } from 'zod'`, chained methods: `z.string().min(1).optional()`)
 * to the project's zod, `zod/mini` from shared/domain/zod.ts (`z.optional(z.string().check(z.minLength(1)))`), with the
 * same validators, checks in the same order, and metadata registered as classic `.meta()` does. The type checker
 * decides which calls are on zod schemas. What it cannot rewrite it lists; tsc finds the rest (a `.transform()`
 * whose function calls `ctx.addIssue`: zod/mini passes the parse payload, so push to `ctx.issues` instead).
 *
 * `npx tsx scripts/zod-mini-codemod.ts <file.ts>...` (e.g. after merging code written against classic zod)
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const repo = resolve(__dirname, '..');
const targets = new Set(process.argv.slice(2).map((f) => resolve(f)));
const projectZod = join(repo, 'shared', 'domain', 'zod');
const configPath = join(repo, 'tsconfig.json');
const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, repo);
const program = ts.createProgram({ rootNames: [...new Set([...parsed.fileNames, ...targets])], options: parsed.options });
const checker = program.getTypeChecker();

const WRAP1 = new Set(['optional', 'nullable', 'nullish', 'array', 'readonly', 'nonoptional', 'exactOptional']);
const WRAPN: Record<string, string> = {
  default: '_default',
  catch: 'catch',
  prefault: 'prefault',
  pipe: 'pipe',
  extend: 'extend',
  safeExtend: 'safeExtend',
  omit: 'omit',
  pick: 'pick',
  partial: 'partial',
  required: 'required',
  merge: 'merge',
  keyof: 'keyof',
  and: 'intersection',
  catchall: 'catchall',
};
const SAME_CHECKS = new Set([
  'regex',
  'includes',
  'startsWith',
  'endsWith',
  'trim',
  'toLowerCase',
  'toUpperCase',
  'lowercase',
  'uppercase',
  'normalize',
  'gt',
  'gte',
  'lt',
  'lte',
  'positive',
  'nonnegative',
  'negative',
  'nonpositive',
  'multipleOf',
  'int',
  'refine',
  'superRefine',
]);
const KEEP = new Set([
  'parse',
  'safeParse',
  'parseAsync',
  'safeParseAsync',
  'register',
  'check',
  'clone',
  'brand',
  'apply',
  'encode',
  'decode',
]);
const STRING_FORMATS = new Set(['email', 'url', 'uuid', 'datetime', 'base64']);

const problems: string[] = [];

function isZod(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.every(isZod);
  return type.getProperty('_zod') !== undefined && (type.flags & ts.TypeFlags.Any) === 0;
}

function kindOf(type: ts.Type): string | undefined {
  const prop = type.getProperty('type');
  if (!prop) return undefined;
  const t = checker.getTypeOfSymbol(prop);
  return t.isStringLiteral() ? t.value : undefined;
}

const TYPE_NAMES: Record<string, string> = {
  ZodError: 'core.$ZodError',
  ZodIssue: 'core.$ZodIssue',
  RefinementCtx: 'core.$RefinementCtx',
  ZodRawShape: 'core.$ZodShape',
  ZodTypeAny: 'ZodMiniType',
};
const mapTypeName = (name: string): string | undefined =>
  TYPE_NAMES[name] ?? (name.startsWith('Zod') ? `ZodMini${name.slice(3)}` : undefined);

for (const file of targets) {
  const sf = program.getSourceFile(file);
  if (!sf) {
    problems.push(`${file}: not in program`);
    continue;
  }
  const src = sf.text;
  const checkForms = new WeakMap<ts.Node, { base: string; checks: string[] }>();
  const where = (n: ts.Node) => {
    const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    return `${file.slice(repo.length + 1)}:${line + 1}`;
  };

  const generic = (node: ts.Node): string => {
    let text = '';
    let pos = node.getStart(sf);
    node.forEachChild((child) => {
      const cs = child.getStart(sf);
      if (cs < pos) return; // jsdoc etc.
      text += src.slice(pos, cs) + rewrite(child);
      pos = child.end;
    });
    return text + src.slice(pos, node.end);
  };

  const withCheck = (recv: ts.Expression, recvText: string, checks: string[], node: ts.Node): string => {
    const prior = checkForms.get(recv);
    const form = prior ? { base: prior.base, checks: [...prior.checks, ...checks] } : { base: recvText, checks };
    checkForms.set(node, form);
    return `${form.base}.check(${form.checks.join(', ')})`;
  };

  function rewrite(node: ts.Node): string {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text === 'zod') {
      const path = relative(dirname(file), projectZod);
      const specifier = path.startsWith('.') ? path : `./${path}`;
      return src
        .slice(node.getStart(sf), node.end)
        .replace(/\{ z \}/, '* as z')
        .replace(/(['"])zod\1/, `'${specifier}'`);
    }
    if (ts.isQualifiedName(node) && ts.isIdentifier(node.left) && node.left.text === 'z') {
      const mapped = mapTypeName(node.right.text);
      if (mapped) return `z.${mapped}`;
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'z') {
      const name = node.name.text;
      if (/^Zod/.test(name)) return `z.${mapTypeName(name)}`;
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const recv = node.expression.expression;
      const method = node.expression.name.text;
      const recvType = checker.getTypeAtLocation(recv);
      if (!(ts.isIdentifier(recv) && recv.text === 'z') && isZod(recvType)) {
        const R = rewrite(recv);
        const A = node.arguments.map(rewrite);
        const kind = kindOf(recvType);
        if (KEEP.has(method))
          return `${R}.${method}${node.typeArguments ? src.slice(node.typeArguments.pos - 1, node.typeArguments.end + 1) : ''}(${A.join(', ')})`;
        if (WRAP1.has(method) && A.length === 0) return `z.${method}(${R})`;
        if (method in WRAPN) return `z.${WRAPN[method]}(${[R, ...A].join(', ')})`;
        if (method === 'or') return `z.union([${R}, ${A.join(', ')}])`;
        if (method === 'transform') return `z.pipe(${R}, z.transform(${A.join(', ')}))`;
        if (method === 'strict') return `z.catchall(${R}, z.never())`;
        if (method === 'passthrough' || method === 'loose') return `z.catchall(${R}, z.unknown())`;
        if (method === 'nonempty') return withCheck(recv, R, [`z.minLength(${['1', ...A].join(', ')})`], node);
        if (method === 'min' || method === 'max' || method === 'length') {
          const lengthy = kind === 'string' || kind === 'array' || kind === 'set';
          const numeric = kind === 'number' || kind === 'bigint' || kind === 'date';
          if (method === 'length' && lengthy) return withCheck(recv, R, [`z.length(${A.join(', ')})`], node);
          if (lengthy) return withCheck(recv, R, [`z.${method}Length(${A.join(', ')})`], node);
          if (numeric) return withCheck(recv, R, [`z.${method === 'min' ? 'gte' : 'lte'}(${A.join(', ')})`], node);
          problems.push(`${where(node)}: .${method} on kind ${kind}`);
          return generic(node);
        }
        // Classic .meta()/.describe() clone and register the clone: the same here (a z.meta() check would be copied
        // by .extend()/.omit() and register its metadata, id included, on every derived schema).
        if (method === 'meta') return `${R}.clone().register(z.globalRegistry, ${A.join(', ')})`;
        if (method === 'describe') return `${R}.clone().register(z.globalRegistry, { description: ${A.join(', ')} })`;
        if (SAME_CHECKS.has(method)) return withCheck(recv, R, [`z.${method}(${A.join(', ')})`], node);
        if (STRING_FORMATS.has(method)) {
          if (/^z\.string\(\)$/.test(R)) return `z.${method}(${A.join(', ')})`;
          return withCheck(recv, R, [`z.${method}(${A.join(', ')})`], node);
        }
        problems.push(`${where(node)}: unhandled .${method}`);
        return generic(node);
      }
    }
    if (
      ts.isPropertyAccessExpression(node) &&
      !(ts.isIdentifier(node.expression) && node.expression.text === 'z') &&
      !ts.isCallExpression(node.parent)
    ) {
      const t = checker.getTypeAtLocation(node.expression);
      const name = node.name.text;
      if (isZod(t) && !['shape', '_zod', 'def', 'type', 'options'].includes(name)) problems.push(`${where(node)}: property .${name}`);
    }
    return generic(node);
  }

  const out = src.slice(0, sf.getStart(sf)) + rewrite(sf);
  if (out !== src) writeFileSync(file, out);
}
console.log(problems.join('\n'));
console.error(`${problems.length} problems`);
