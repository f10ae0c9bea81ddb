/**
 * A deterministic zip of a code directory, for SCF's `ZipFile` (base64 of a zip).
 *
 * Hand-written instead of a zip package because the output must be byte-for-byte reproducible (fixed entry
 * order and timestamps): the plan prints its sha256, and the component tests compare exact API requests.
 * Only what SCF needs: regular files, deflate, no zip64 (SCF caps a direct upload at tens of MB anyway).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Forward-slash path inside the archive. */
  name: string;
  data: Buffer;
  /** Unix permission bits; 0o644 unless the file is executable. */
  mode?: number;
}

// 1980-01-01 00:00 in DOS format: a fixed date keeps the archive reproducible.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * What the local header and the central directory entry both say of an entry, in the same order (from `at`): flags
 * (UTF-8 names), method (deflate), DOS time and date, CRC-32, sizes, name length, extra length.
 */
function writeEntryFields(
  header: Buffer,
  at: number,
  fields: { crc: number; compressedSize: number; size: number; nameLength: number },
): void {
  header.writeUInt16LE(0x0800, at);
  header.writeUInt16LE(8, at + 2);
  header.writeUInt16LE(DOS_TIME, at + 4);
  header.writeUInt16LE(DOS_DATE, at + 6);
  header.writeUInt32LE(fields.crc, at + 8);
  header.writeUInt32LE(fields.compressedSize, at + 12);
  header.writeUInt32LE(fields.size, at + 16);
  header.writeUInt16LE(fields.nameLength, at + 20);
  header.writeUInt16LE(0, at + 22);
}

export function zipEntries(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const fields = { crc: crc32(entry.data), compressedSize: compressed.length, size: entry.data.length, nameLength: name.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    writeEntryFields(local, 6, fields);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    writeEntryFields(central, 8, fields);
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((((entry.mode ?? 0o644) | 0o100000) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** Every regular file under `dir` (source maps and build metadata excluded: they are not needed to run). */
export function collectCodeFiles(dir: string, exclude: (relativePath: string) => boolean = defaultExclude): ZipEntry[] {
  const files: ZipEntry[] = [];
  const walk = (current: string) => {
    for (const item of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, item.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (item.isDirectory()) walk(full);
      else if (item.isFile() && !exclude(rel)) {
        const executable = (statSync(full).mode & 0o111) !== 0;
        files.push({ name: rel, data: readFileSync(full), mode: executable ? 0o755 : 0o644 });
      }
    }
  };
  walk(dir);
  return files;
}

const defaultExclude = (path: string) => path.endsWith('.map') || path === 'meta.json' || path.endsWith('.LEGAL.txt');

/** Reads back what `zipEntries` writes (used by tests and by the plan to list the archive). */
export function unzipEntries(zip: Buffer): ZipEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(endAt + 10);
  let at = zip.readUInt32LE(endAt + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt central directory');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const raw = zip.subarray(dataAt, dataAt + size);
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    if (crc32(data) !== crc) throw new Error(`crc mismatch for ${name}`);
    entries.push({ name, data, mode: mode & 0o777 });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
