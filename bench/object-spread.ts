/**
 * Why the push path avoids one object shape: on this Node (20, V8 11.3) an object literal that starts with a
 * spread and then names keys the spread did not bring costs ~1.5 µs per such key — a dozen of them (a Lambda
 * context built over the provider's) cost ~20 µs a call, a tenth of a push's CPU. Keys that override keys the
 * spread brought, spreads after literal keys, and Object.assign onto a fresh literal stay well under 1 µs.
 *
 * `npx tsx bench/object-spread.ts` (CPU µs per object; results are kept so nothing is optimised away).
 */
const ROUNDS = 50_000;
const kept: unknown[] = new Array(1024);

function cpuMicrosPer(make: (i: number) => unknown): number {
  for (let i = 0; i < 5_000; i++) kept[i & 1023] = make(i);
  const before = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) kept[i & 1023] = make(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / ROUNDS;
}

const three = { a: 1, b: 'x', c: 3 };
const shapes: [string, (i: number) => unknown][] = [
  ['{ ...three, d, e, f, g } (4 new keys after a spread)', (i) => ({ ...three, d: i, e: 2, f: 3, g: 4 })],
  ['{ ...three, d } (1 new key after a spread)', (i) => ({ ...three, d: i })],
  ['{ ...three, a, b, c } (keys the spread brought)', (i) => ({ ...three, a: i, b: 'y', c: 4 })],
  ['{ d, e, f, g, ...three } (literal keys first)', (i) => ({ d: i, e: 2, f: 3, g: 4, ...three })],
  ['Object.assign({ d, e, f, g }, three)', (i) => Object.assign({ d: i, e: 2, f: 3, g: 4 }, three)],
];
console.log(`Node ${process.version}`);
for (const [name, make] of shapes) console.log(`${name.padEnd(56)} ${cpuMicrosPer(make).toFixed(2)} µs`);
