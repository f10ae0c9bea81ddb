/**
 * Stand-in for the `qrcode` package inside jest: the simulator draws every experience QR from `create`, whose mask
 * search runs ~50× slower inside jest's VM context (≈100 ms a code here), and the reliability suite builds dozens
 * of deployments. What the product checks of the QR is that it is an image with a size, so one real code, made
 * once, keeps every product path the same.
 *
 * Use: `jest.mock('qrcode', () => jest.requireActual('<relative path>/fast-qrcode'))`.
 */
import type { QRCode } from 'qrcode';

const real = jest.requireActual<typeof import('qrcode')>('qrcode');
let made: QRCode | undefined;

export function create(): QRCode {
  made ??= real.create('https://open.weixin.qq.com/sph/simulated-experience-qr', { errorCorrectionLevel: 'M' });
  return made;
}
