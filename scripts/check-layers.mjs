/**
 * `npm run lint:layers`: the layer rules of `.dependency-cruiser.cjs` over the tree; exits non-zero listing each
 * import that breaks one. It calls dependency-cruiser's API, not its `depcruise` CLI: dependency-cruiser 18's CLI
 * refuses to start on Node 20 (it declares ^22 || ^24 || >=26), which this project supports (engines >=20.19); the
 * API makes no such check and runs on Node 20. Plain JavaScript run by `node`, as tsx would only add start-up time.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Every folder of ours with TypeScript in it (test/ too: cycles, and the layers' own tests, are checked). */
const FOLDERS = ['functions', 'shared', 'infra', 'scripts', 'bench', 'test'];

/** @type {import('dependency-cruiser').IConfiguration} */
const config = createRequire(import.meta.url)(resolve(root, '.dependency-cruiser.cjs'));
process.chdir(root);
const result = await cruise(
  FOLDERS,
  { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden }, outputType: 'err' },
  undefined,
  { tsConfig: extractTSConfig(resolve(root, 'tsconfig.json')) },
);
process.stdout.write(typeof result.output === 'string' ? result.output : '');
process.exitCode = result.exitCode;
