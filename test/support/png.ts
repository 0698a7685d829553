/**
 * A minimal PNG reader for tests (8-bit grey, RGB, grey+alpha or RGBA, not interlaced: what
 * pdftoppm writes): the chunks, zlib inflate of the IDAT data, then the five scanline filters of
 * the PNG specification (section 9). Enough to check that a rendered page is not blank.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  readonly width: number;
  readonly height: number;
  /** Samples per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels: number;
  readonly pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function readPng(data: Uint8Array): Image {
  if (!SIGNATURE.every((b, i) => data[i] === b)) throw new Error('not a PNG file (bad signature)');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (offset < data.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...data.subarray(offset + 4, offset + 8));
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      const header = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = header.getUint32(0);
      height = header.getUint32(4);
      const bitDepth = body[8]!;
      const colourType = body[9]!;
      const interlace = body[12]!;
      if (bitDepth !== 8 || interlace !== 0 || CHANNELS[colourType] === undefined) {
        throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colourType}, interlace ${interlace}`);
      }
      channels = CHANNELS[colourType]!;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`PNG scanline ${y}: unknown filter ${filter}`);
      }
      out[x] = (line[x]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Share of pixels that are not (near) white, and the number of distinct RGB colours. */
export function inkStatistics(image: Image): { inkShare: number; colours: number; count(rgb: string): number } {
  const { pixels, channels } = image;
  const n = image.width * image.height;
  const colours = new Map<string, number>();
  let ink = 0;
  for (let p = 0; p < n; p++) {
    const r = pixels[p * channels]!;
    const g = channels >= 3 ? pixels[p * channels + 1]! : r;
    const b = channels >= 3 ? pixels[p * channels + 2]! : r;
    if (r < 245 || g < 245 || b < 245) ink++;
    const key = `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    colours.set(key, (colours.get(key) ?? 0) + 1);
  }
  return { inkShare: ink / n, colours: colours.size, count: (rgb: string) => colours.get(rgb.toLowerCase()) ?? 0 };
}
