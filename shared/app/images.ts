/**
 * Reads the type and pixel size of an uploaded image from its header, so the suggested widths of the iot-video
 * config (QR 150 px, instructions 370 px: wider ones are warned about) are judged on the real file, not on what the
 * client claims.
 */
import { ValidationError } from '../domain/errors';

export interface ImageMeta {
  contentType: 'image/png' | 'image/jpeg' | 'image/gif';
  width: number;
  height: number;
}

const invalid = (message: string) => new ValidationError(message, [{ path: 'body', message }], { code: 'IMAGE_INVALID' });

/** Beyond any real image (and beyond what a mini program can show); also rules out PNG's 2³¹ overflow. */
export const MAX_IMAGE_SIDE = 20_000;

export function readImageMeta(bytes: Buffer): ImageMeta {
  const meta = readHeader(bytes);
  if (meta.width < 1 || meta.height < 1 || meta.width > MAX_IMAGE_SIDE || meta.height > MAX_IMAGE_SIDE) {
    throw invalid(`the image claims ${meta.width} × ${meta.height} px; each side must be 1 to ${MAX_IMAGE_SIDE} px`);
  }
  return meta;
}

function readHeader(bytes: Buffer): ImageMeta {
  // PNG: signature, then the IHDR chunk, whose first fields are width and height.
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) {
    if (bytes.toString('latin1', 12, 16) !== 'IHDR') throw invalid('PNG without an IHDR chunk');
    return { contentType: 'image/png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && (bytes.toString('latin1', 0, 6) === 'GIF87a' || bytes.toString('latin1', 0, 6) === 'GIF89a')) {
    return { contentType: 'image/gif', width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // JPEG: walk the segments to the first start-of-frame marker, which holds height then width.
    let offset = 2;
    while (offset + 9 < bytes.length) {
      if (bytes[offset] !== 0xff) throw invalid('corrupt JPEG segment');
      const marker = bytes[offset + 1] ?? 0;
      const length = bytes.readUInt16BE(offset + 2);
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isFrame) return { contentType: 'image/jpeg', height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
      if (length < 2) throw invalid('corrupt JPEG segment');
      offset += 2 + length;
    }
    throw invalid('JPEG without a frame header');
  }
  throw invalid('the upload is not a PNG, JPEG or GIF image');
}
