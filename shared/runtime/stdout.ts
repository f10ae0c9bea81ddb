/**
 * One line to standard output, written to file descriptor 1 directly rather than through `process.stdout`.
 *
 * Node builds `process.stdout` on first use. On a pipe, which is how the local runtime, the benchmarks and a cloud
 * runtime's log collector take a function's output, that loads `net` and its stream machinery: 6–7 ms of a cold
 * start on this machine (`node -e "process.stdout" | cat`), for the one log or metrics line an invocation writes.
 * `fs.writeSync(1, …)` puts the same bytes on the same descriptor, and the line is out before the handler returns
 * (a stream on a pipe is asynchronous on POSIX: Node's docs, "A note on process I/O"), which matters to a function
 * whose instance may be frozen once it has answered. pino's default destination (sonic-boom on fd 1) writes its
 * lines the same way.
 *
 * A descriptor made non-blocking (by `process.stdout` itself, once anything used it) refuses a write to a full pipe
 * (EAGAIN), and a closed reader fails it (EPIPE). The rest of that line, and every line after it, then go through
 * `process.stdout`, which queues for a full pipe and reports a closed one as it always did; no line is split
 * between the two ways and then overtaken, so none is torn.
 */
import { writeSync } from 'node:fs';

const STDOUT_FD = 1;

type WriteToFd = (fd: number, bytes: Uint8Array, offset: number) => number;

/** A line writer over `writeToFd` for fd 1, falling back for good to `stream()` at its first failure. */
export function stdoutLineWriter(
  // Looked up at each call, so a test's spy on `fs.writeSync` sees the lines.
  writeToFd: WriteToFd = (fd, bytes, offset) => writeSync(fd, bytes, offset),
  stream: () => Pick<NodeJS.WriteStream, 'write'> = () => process.stdout,
): (line: string) => void {
  let throughStream = false;
  return (line) => {
    const bytes = Buffer.from(`${line}\n`);
    if (throughStream) {
      stream().write(bytes);
      return;
    }
    let written = 0;
    try {
      // A write may take fewer bytes than asked: go on from where it stopped.
      while (written < bytes.length) written += writeToFd(STDOUT_FD, bytes, written);
    } catch {
      throughStream = true;
      stream().write(bytes.subarray(written));
    }
  };
}

export const writeStdoutLine = stdoutLineWriter();
