/**
 * The README's configuration table is what a new user reads to configure the backend: it must name every variable
 * shared/runtime/config.ts reads, and nothing it does not.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_VARIABLES } from '../shared/runtime/config';

const root = resolve(__dirname, '..');

/** The variable names in the first column of the table under `## Configuration`. */
function documentedVariables(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /\n## Configuration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? ''));
}

describe('README configuration table', () => {
  it('lists exactly the variables config.ts reads', () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(20);
    expect([...documentedVariables()].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});
