/**
 * Just enough of the source map format (v3, the one esbuild writes) to say which source file a position of a
 * minified bundle came from: the cold-start benchmark uses it to attribute a bundle's profile to packages.
 */
import { readFileSync } from 'node:fs';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** Decodes one segment's Base64 VLQ fields. */
function decodeSegment(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) throw new Error(`bad VLQ character ${c}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

export interface SourceLookup {
  /** The source file of the code at this generated position (0-based line and column), if mapped. */
  sourceAt(line: number, column: number): string | undefined;
}

export function loadSourceMap(file: string): SourceLookup {
  const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; mappings: string };
  // Per generated line: ascending generated columns and the source index of each segment.
  const lines: { columns: number[]; sources: number[] }[] = [];
  let source = 0;
  for (const lineText of map.mappings.split(';')) {
    const columns: number[] = [];
    const sources: number[] = [];
    let column = 0;
    for (const segment of lineText.split(',')) {
      if (segment === '') continue;
      const fields = decodeSegment(segment);
      column += fields[0] ?? 0;
      if (fields.length >= 4) {
        source += fields[1] ?? 0;
        columns.push(column);
        sources.push(source);
      }
      // (source line, column and name deltas are not needed here)
    }
    lines.push({ columns, sources });
  }
  return {
    sourceAt(line, column) {
      const entry = lines[line];
      if (!entry || entry.columns.length === 0) return undefined;
      let lo = 0;
      let hi = entry.columns.length - 1;
      if ((entry.columns[0] ?? 0) > column) return undefined;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((entry.columns[mid] ?? 0) <= column) lo = mid;
        else hi = mid - 1;
      }
      const index = entry.sources[lo];
      return index === undefined ? undefined : map.sources[index];
    },
  };
}
