import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stdoutLineWriter } from './stdout';

/** Runs `code` (which may `require(WRITER)`) in a plain Node process whose stdout is a pipe, from the repo root. */
const inChild = (code: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', '-e', code.replaceAll('WRITER', JSON.stringify(join(__dirname, 'stdout.ts')))], {
    cwd: join(__dirname, '..', '..'),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
    maxBuffer: 1 << 22,
  });
const eagain = () => Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });

describe('stdout lines', () => {
  it('reach a pipe whole and in order, and never make Node build process.stdout (on a pipe: `net`, 2–3 ms of a cold start)', () => {
    // In a plain Node process with stdout a pipe, as a cloud runtime's log collector or the local runtime reads it.
    // Watched from after the require: tsx, compiling the module on a cold cache, reads process.stdout itself.
    const child = inChild(`
      const { writeStdoutLine } = require(WRITER);
      const stdout = Object.getOwnPropertyDescriptor(process, 'stdout');
      let built = false;
      Object.defineProperty(process, 'stdout', { ...stdout, get() { built = true; return stdout.get.call(process); } });
      for (let i = 0; i < 3; i++) writeStdoutLine(JSON.stringify({ line: i, text: '日志 ✓' }));
      writeStdoutLine('x'.repeat(200000));
      process.stderr.write(JSON.stringify({ built }));`);
    expect(child.status).toBe(0);
    const lines = child.stdout.split('\n');
    expect(lines.slice(0, 3).map((line) => JSON.parse(line) as unknown)).toEqual([0, 1, 2].map((i) => ({ line: i, text: '日志 ✓' })));
    expect(lines[3]).toHaveLength(200000);
    expect(lines[4]).toBe('');
    expect(JSON.parse(child.stderr)).toEqual({ built: false });
  });

  it('go through process.stdout, in order with what others write there, once anything has built it', () => {
    const child = inChild(`
      const { writeStdoutLine } = require(WRITER);
      writeStdoutLine('direct');
      const stream = process.stdout;
      const write = stream.write.bind(stream);
      stream.write = (chunk, ...rest) => write('[stream] ' + chunk, ...rest);
      console.log('console');
      writeStdoutLine('after');`);
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('direct\n[stream] console\n[stream] after\n');
  });

  it('sends a whole line through process.stdout when the first write fails, and a write that takes nothing too', () => {
    for (const failing of [
      () => 0,
      () => {
        throw eagain();
      },
    ]) {
      const streamed: string[] = [];
      const write = stdoutLineWriter(failing, () => ({
        write: (chunk: string | Uint8Array) => {
          streamed.push(Buffer.from(chunk).toString());
          return true;
        },
      }));
      write('one');
      write('two');
      expect(streamed).toEqual(['one\n', 'two\n']);
    }
  });

  it('goes on after a short write, from the byte where the descriptor stopped', () => {
    const chunks: string[] = [];
    const write = stdoutLineWriter(
      (_fd, bytes, offset) => {
        const taken = Math.min(3, bytes.length - offset);
        chunks.push(Buffer.from(bytes.subarray(offset, offset + taken)).toString('latin1'));
        return taken;
      },
      () => ({ write: () => true }),
    );
    write('abcdefg');
    expect(chunks).toEqual(['abc', 'def', 'g\n']);
  });

  it('sends the rest of a refused line, and every line after it, through process.stdout: none is torn', () => {
    const direct: string[] = [];
    const streamed: string[] = [];
    let calls = 0;
    const write = stdoutLineWriter(
      (_fd, bytes, offset) => {
        calls += 1;
        if (calls === 3) throw eagain(); // the pipe filled in the middle of the second line
        const taken = calls === 1 ? bytes.length - offset : 4;
        direct.push(Buffer.from(bytes.subarray(offset, offset + taken)).toString());
        return taken;
      },
      () => ({
        write: (chunk: string | Uint8Array) => {
          streamed.push(Buffer.from(chunk).toString());
          return true;
        },
      }),
    );
    write('first');
    write('second');
    write('third');
    expect(direct).toEqual(['first\n', 'seco']);
    expect(streamed).toEqual(['nd\n', 'third\n']);
    expect(calls).toBe(3);
  });
});
