/**
 * The console is built once per source hash: every `npm start` and browser test file after the first reads the
 * kept build instead of running esbuild again; a changed source (or another API base) builds anew.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST } from '../../console/build';
import { builtConsole, consoleSourceHash } from '../../console/serve';

let cacheDir: string;
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'wxa-console-cache-test-'));
});
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Stands in for esbuild: writes a page and the manifest, and counts its runs. */
function fakeBuild() {
  const runs: (string | undefined)[] = [];
  const build = async (outDir: string, apiBase: string | undefined) => {
    runs.push(apiBase);
    writeFileSync(join(outDir, 'index.html'), `<p>${apiBase ?? 'own origin'}</p>`);
    const manifest = {
      csp: "default-src 'self'",
      jsGzipBytes: 0,
      cssGzipBytes: 0,
      files: [{ path: 'index.html', contentType: 'text/html', bytes: 1 }],
    };
    writeFileSync(join(outDir, MANIFEST), JSON.stringify(manifest));
  };
  return { runs, build };
}

describe('the console build cache', () => {
  it('builds once for the same sources, again for another API base', async () => {
    const { runs, build } = fakeBuild();
    const first = await builtConsole({ cacheDir, build });
    const second = await builtConsole({ cacheDir, build });
    expect(runs).toEqual([undefined]);
    expect(second.files.get('index.html')?.bytes.toString()).toBe(first.files.get('index.html')?.bytes.toString());
    const elsewhere = await builtConsole({ cacheDir, build, apiBase: 'https://api.example.com' });
    expect(runs).toEqual([undefined, 'https://api.example.com']);
    expect(elsewhere.files.get('index.html')?.bytes.toString()).toContain('api.example.com');
  });

  it('keys the build by the sources: a changed file under console/ or shared/ is another build', () => {
    const base = mkdtempSync(join(tmpdir(), 'wxa-console-sources-'));
    try {
      for (const dir of ['console/src', 'shared/domain', 'functions']) mkdirSync(join(base, dir), { recursive: true });
      writeFileSync(join(base, 'package-lock.json'), '{}');
      writeFileSync(join(base, 'console/src/main.tsx'), 'one');
      writeFileSync(join(base, 'shared/domain/states.ts'), 'one');
      const before = consoleSourceHash('', base);
      expect(consoleSourceHash('', base)).toBe(before);
      writeFileSync(join(base, 'console/src/main.tsx'), 'two');
      const afterConsole = consoleSourceHash('', base);
      expect(afterConsole).not.toBe(before);
      writeFileSync(join(base, 'shared/domain/states.ts'), 'two');
      expect(consoleSourceHash('', base)).not.toBe(afterConsole);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
