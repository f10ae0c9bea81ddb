/**
 * The simulator's state in a file, so a restarted simulator (`npm start` after Ctrl-C, or `main.ts` with
 * SIM_STATE_FILE) continues where it stopped: the same port, mini programs still authorized, audits still pending.
 *
 * JSON, readable by a human; Maps and Sets are tagged, since the state is made of them. Written durably: a temp
 * file in the same folder, flushed, then renamed over the old one, so a crash leaves the old file or the new one,
 * never half of one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { types } from 'node:util';
import { ConfigError } from '../../shared/domain/errors';
import * as z from '../../shared/domain/zod';
import type { SimulatorPersistence } from './types';

const MAP = '$map';
const SET = '$set';

// util.types, not instanceof: the snapshot is a structuredClone, whose Maps may come from another realm (jest's sandbox).
const encode = (_key: string, value: unknown): unknown =>
  types.isMap(value) ? { [MAP]: [...value.entries()] } : types.isSet(value) ? { [SET]: [...value.values()] } : value;

const tagged = z.union([
  z.strictObject({ [MAP]: z.array(z.tuple([z.unknown(), z.unknown()])) }),
  z.strictObject({ [SET]: z.array(z.unknown()) }),
]);

const decode = (_key: string, value: unknown): unknown => {
  const parsed = tagged.safeParse(value);
  if (!parsed.success) return value;
  return MAP in parsed.data ? new Map(parsed.data[MAP]) : new Set(parsed.data[SET]);
};

const fileSchema = z.object({ port: z.number().check(z.int(), z.gte(1), z.lte(65535)), state: z.record(z.string(), z.unknown()) });
type SavedSimulator = z.infer<typeof fileSchema>;

/** The simulator saved in `path`, if any; a damaged file stops the start with what to do, rather than be lost. */
export function readSimulatorFile(path: string): SavedSimulator | undefined {
  if (!existsSync(path)) return undefined;
  const problem = (why: string) =>
    new ConfigError(`the simulator's saved state ${path} ${why}; move it away (or delete it) to start the simulated WeChat afresh`, {
      field: 'SIM_STATE_FILE',
    });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'), decode);
  } catch (error) {
    throw problem(`is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw problem('is not a saved simulator');
  return parsed.data;
}

async function writeSimulatorFile(path: string, saved: SavedSimulator): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify(saved, encode));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
}

/**
 * Persistence in `path` for `SimulatorOptions.persistence`, and the port the saved simulator listened on (start on
 * it, so the URLs it handed out before keep working).
 */
export function simulatorFile(path: string): { port: number | undefined; persistence: SimulatorPersistence } {
  const saved = readSimulatorFile(path);
  return {
    port: saved?.port,
    persistence: { load: () => saved?.state, save: (next) => writeSimulatorFile(path, next) },
  };
}
