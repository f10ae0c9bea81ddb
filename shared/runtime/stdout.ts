/**
 * One line to standard output, written to file descriptor 1 with `fs.writeSync` while nothing has built
 * `process.stdout`, and through that stream once anything has.
 *
 * Node builds `process.stdout` on first use. On a pipe, which is how the local runtime, the benchmarks and a cloud
 * runtime's log collector take a function's output, that loads `net` and its stream machinery: 2–3 ms of a bundle's
 * first invocation in interleaved runs (6–7 ms for `process.stdout` alone in a bare `node -e … | cat`), spent on
 * the one metrics line every invocation writes. `fs.writeSync(1, …)` puts the same bytes on the same descriptor.
 *
 * The trade, as Node's "A note on process I/O" warns of any synchronous write: a reader that stops reading a
 * blocking pipe stalls the process, where the stream (asynchronous on a POSIX pipe) would queue in memory.
 *
 * One queue for everything: once anything builds `process.stdout` (a library's `console.log`, the local runtime's
 * banner, a test's spy), every later line goes through it too, so lines of different writers cannot interleave
 * inside one another. A stream built before this module was loaded cannot be seen. A write the descriptor refuses
 * (EAGAIN on a full pipe made non-blocking, EPIPE) or takes nothing of sends the rest of that line, and every line
 * after it, through the stream.
 */
import { writeSync } from 'node:fs';

const STDOUT_FD = 1;

type WriteToFd = (fd: number, bytes: Uint8Array, offset: number) => number;
type LineStream = Pick<NodeJS.WriteStream, 'write'>;

/** Set for good at the first read of `process.stdout` after this module was loaded. */
let streamBuilt = false;
const stdoutProperty = Object.getOwnPropertyDescriptor(process, 'stdout');
const buildStdout = stdoutProperty?.get;
if (buildStdout && stdoutProperty.configurable) {
  Object.defineProperty(process, 'stdout', {
    ...stdoutProperty,
    get() {
      streamBuilt = true;
      return buildStdout.call(process);
    },
  });
} else {
  streamBuilt = true; // not the lazy getter Node defines: go through whatever it is
}

/**
 * A line writer over `writeToFd` for fd 1, switching for good to `stream()` once `process.stdout` is built or at
 * the first write that fails or takes nothing.
 */
export function stdoutLineWriter(
  // Looked up at each call, so a test's spy on `fs.writeSync` sees the lines.
  writeToFd: WriteToFd = (fd, bytes, offset) => writeSync(fd, bytes, offset),
  stream: () => LineStream = () => process.stdout,
): (line: string) => void {
  let throughStream = false;
  return (line) => {
    const bytes = Buffer.from(`${line}\n`);
    if (throughStream || streamBuilt) {
      throughStream = true;
      stream().write(bytes);
      return;
    }
    let written = 0;
    try {
      // A write may take fewer bytes than asked: go on from where it stopped.
      while (written < bytes.length) {
        const taken = writeToFd(STDOUT_FD, bytes, written);
        if (!(taken > 0)) throw new Error(`write to fd ${STDOUT_FD} took ${taken} bytes`);
        written += taken;
      }
    } catch {
      throughStream = true;
      stream().write(bytes.subarray(written));
    }
  };
}

export const writeStdoutLine = stdoutLineWriter();
