/**
 * A minimal PNG decoder for tests: header, and pixels of 8-bit non-interlaced
 * greyscale/RGB/RGBA images (what Chromium writes). Hand-written because no PNG library is a
 * dependency and the format needs only node:zlib plus the five row filters (PNG spec §9).
 */
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  channels: number;
  /** Unfiltered pixel bytes, row-major, `channels` bytes per pixel (8-bit only). */
  pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function decodePng(bytes: Uint8Array): DecodedPng {
  const b = Buffer.from(bytes);
  SIGNATURE.forEach((v, i) => {
    if (b[i] !== v) throw new Error('not a PNG (bad signature)');
  });
  let pos = 8;
  let width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
  const idat: Buffer[] = [];
  while (pos < b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    const data = b.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8]!;
      colorType = data[9]!;
      interlace = data[12]!;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels || bitDepth !== 8 || interlace !== 0) throw new Error(`unsupported PNG: colorType ${colorType}, bitDepth ${bitDepth}, interlace ${interlace}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[dst + x - channels]! : 0;
      const up = y > 0 ? pixels[dst - stride + x]! : 0;
      const c = y > 0 && x >= channels ? pixels[dst - stride + x - channels]! : 0;
      const v = raw[src + x]!;
      let out: number;
      switch (filter) {
        case 0: out = v; break;
        case 1: out = v + a; break;
        case 2: out = v + up; break;
        case 3: out = v + ((a + up) >> 1); break;
        case 4: {
          const p = a + up - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
          out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? up : c);
          break;
        }
        default: throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      pixels[dst + x] = out & 255;
    }
  }
  return { width, height, bitDepth, colorType, channels, pixels };
}

/** Variance of the grey level (mean of the colour channels) over all pixels. */
export function greyVariance(png: DecodedPng): number {
  const n = png.width * png.height;
  const colour = Math.min(3, png.channels);
  let sum = 0, sum2 = 0;
  for (let i = 0; i < n; i++) {
    let g = 0;
    for (let c = 0; c < colour; c++) g += png.pixels[i * png.channels + c]!;
    g /= colour;
    sum += g;
    sum2 += g * g;
  }
  const mean = sum / n;
  return sum2 / n - mean * mean;
}

/** Count of pixels whose colour is close to `rgb` (each channel within `tol`). */
export function countColour(png: DecodedPng, rgb: [number, number, number], tol = 8): number {
  let count = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const p = i * png.channels;
    if (Math.abs(png.pixels[p]! - rgb[0]) <= tol && Math.abs(png.pixels[p + 1]! - rgb[1]) <= tol && Math.abs(png.pixels[p + 2]! - rgb[2]) <= tol) count++;
  }
  return count;
}
