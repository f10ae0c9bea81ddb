/**
 * The experience QR as WeChat sends it: a JPEG (get_qrcode answers `Content-Type: image/jpeg`, filename
 * QRCode.jpg — reference §4.3; wxcloudrun-wxcomponent api/admin/devweapp.go serves it as image/jpeg).
 *
 * A baseline greyscale JPEG whose QR modules are whole 8×8 blocks: every block is plain black or plain white, so
 * each carries its DC coefficient only and the image is exact, with no DCT to compute. Small enough to write
 * here instead of depending on an image library, and fast inside jest (unlike rendering a PNG with pngjs).
 */
import { create } from 'qrcode';

const BLOCK = 8;
/** Quiet zone around the code, in modules (the QR spec asks for 4; WeChat's codes have a narrower white margin). */
const QUIET_MODULES = 2;
/** Every quantisation step: a plain block's DC is ±1024 (black) or +1016 (white) before it, ±128 after. */
const QUANT = 8;

/** Standard luminance DC table (ITU-T T.81 Annex K.3): code lengths 1–16, then the categories in code order. */
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** An AC table with one symbol: end-of-block (0x00), code `0`. Every block ends at once. */
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0];

/** The JPEG of a QR code for `text`, `size` pixels square (WeChat's are 430). */
export function qrJpeg(text: string, size = 430): Buffer {
  const modules = create(text, { errorCorrectionLevel: 'M' }).modules;
  const blocks = Math.ceil(size / BLOCK);
  const scale = Math.floor(blocks / (modules.size + 2 * QUIET_MODULES));
  if (scale < 1) throw new Error(`a ${size} px image cannot hold a ${modules.size}-module QR code`);
  const offset = Math.floor((blocks - modules.size * scale) / 2);
  const black = (row: number, col: number): boolean => {
    const r = Math.floor((row - offset) / scale);
    const c = Math.floor((col - offset) / scale);
    return r >= 0 && c >= 0 && r < modules.size && c < modules.size && modules.get(r, c) === 1;
  };
  const scan = new BitWriter();
  const dc = huffmanCodes(DC_BITS, DC_VALUES);
  const eob = huffmanCodes(AC_BITS, AC_VALUES).get(0);
  if (eob === undefined) throw new Error('no end-of-block code');
  let previous = 0;
  for (let row = 0; row < blocks; row++) {
    for (let col = 0; col < blocks; col++) {
      const value = (black(row, col) ? -1024 : 1016) / QUANT;
      const diff = Math.round(value) - previous;
      previous += diff;
      const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      const code = dc.get(category);
      if (code === undefined) throw new Error(`no DC code for category ${category}`);
      scan.write(code.bits, code.length);
      // Negative differences are sent as their ones' complement in `category` bits (T.81 F.1.2.1).
      if (category > 0) scan.write(diff < 0 ? diff + (1 << category) - 1 : diff, category);
      scan.write(eob.bits, eob.length);
    }
  }
  return Buffer.concat([
    marker(0xd8),
    segment(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0])), // JFIF 1.1, no thumbnail
    segment(0xdb, Buffer.from([0x00, ...new Array<number>(64).fill(QUANT)])),
    segment(0xc0, Buffer.from([8, size >> 8, size & 0xff, size >> 8, size & 0xff, 1, 1, 0x11, 0])),
    segment(0xc4, Buffer.from([0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, ...AC_VALUES])),
    segment(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])),
    scan.finish(),
    marker(0xd9),
  ]);
}

const marker = (code: number): Buffer => Buffer.from([0xff, code]);

function segment(code: number, body: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length + 2);
  return Buffer.concat([marker(code), length, body]);
}

/** Canonical Huffman codes from the code-length counts of a DHT segment (T.81 Annex C). */
function huffmanCodes(bits: readonly number[], values: readonly number[]): Map<number, { bits: number; length: number }> {
  const codes = new Map<number, { bits: number; length: number }>();
  let code = 0;
  let k = 0;
  bits.forEach((count, index) => {
    for (let i = 0; i < count; i++) codes.set(values[k++] ?? -1, { bits: code++, length: index + 1 });
    code <<= 1;
  });
  return codes;
}

/** The entropy-coded segment: bits most significant first, a 0x00 stuffed after every 0xFF, padded with ones. */
class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private filled = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.current = (this.current << 1) | ((value >> i) & 1);
      if (++this.filled === 8) this.flush();
    }
  }

  finish(): Buffer {
    if (this.filled > 0) this.write(0xff, 8 - this.filled);
    return Buffer.from(this.bytes);
  }

  private flush(): void {
    this.bytes.push(this.current);
    if (this.current === 0xff) this.bytes.push(0x00);
    this.current = 0;
    this.filled = 0;
  }
}
