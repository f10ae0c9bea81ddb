/**
 * Stand-in for the `qrcode` package inside jest: the simulator renders every experience QR with pngjs, whose filter
 * loop runs ~50× slower inside jest's VM context (≈1.3 s per 430 px image here, against ≈20 ms in plain Node), and
 * the reliability suite builds dozens of deployments. What the product checks of the QR is that it is a PNG with a
 * size, so a PNG header of the size WeChat returns keeps every product path the same.
 *
 * Use: `jest.mock('qrcode', () => jest.requireActual('<relative path>/fast-qrcode'))`.
 */
export function toBuffer(_text: string, options: { width?: number } = {}): Promise<Buffer> {
  const width = options.width ?? 430;
  const header = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(width, 12);
  ihdr.writeUInt8(8, 16);
  ihdr.writeUInt8(6, 17);
  return Promise.resolve(Buffer.concat([header, ihdr]));
}
