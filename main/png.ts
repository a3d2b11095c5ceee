/**
 * A minimal PNG encoder (8-bit RGBA, no interlace) and the two shapes Parley's icons are drawn
 * from, so the tray and the installers need no binary assets in the repository.
 */
import { crc32, deflateSync } from 'node:zlib';

export type Rgb = readonly [number, number, number];

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, crc]);
}

/** Encodes `rgba` (width × height × 4 bytes, rows top to bottom) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new Error(`expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  // compression, filter and interlace methods stay 0
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A canvas of transparent pixels that shapes are painted onto with anti-aliased edges. */
export class Canvas {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 4);
  }

  /** Paints every pixel for which `coverage(x, y)` (0–1, at the pixel centre) is positive. */
  paint(colour: Rgb, coverage: (x: number, y: number) => number): this {
    for (let y = 0; y < this.height; y += 1) {
      for (let x = 0; x < this.width; x += 1) {
        const alpha = Math.max(0, Math.min(1, coverage(x + 0.5, y + 0.5)));
        if (alpha > 0) this.#blend(x, y, colour, alpha);
      }
    }
    return this;
  }

  /** A filled circle; its edge is smoothed over one pixel. */
  circle(cx: number, cy: number, radius: number, colour: Rgb): this {
    return this.paint(colour, (x, y) => radius + 0.5 - Math.hypot(x - cx, y - cy));
  }

  /** A filled rectangle with rounded corners of radius `r`. */
  roundedRect(left: number, top: number, width: number, height: number, r: number, colour: Rgb): this {
    return this.paint(colour, (x, y) => {
      const dx = Math.max(left + r - x, 0, x - (left + width - r));
      const dy = Math.max(top + r - y, 0, y - (top + height - r));
      const outside = dx > 0 && dy > 0 ? Math.hypot(dx, dy) - r : Math.max(left - x, x - (left + width), top - y, y - (top + height));
      return 0.5 - outside;
    });
  }

  toPng(): Buffer {
    return encodePng(this.width, this.height, this.pixels);
  }

  #blend(x: number, y: number, [r, g, b]: Rgb, alpha: number): void {
    const at = (y * this.width + x) * 4;
    const below = (this.pixels[at + 3] ?? 0) / 255;
    const out = alpha + below * (1 - alpha);
    const mix = (top: number, under: number): number => Math.round((top * alpha + under * below * (1 - alpha)) / out);
    this.pixels[at] = mix(r, this.pixels[at] ?? 0);
    this.pixels[at + 1] = mix(g, this.pixels[at + 1] ?? 0);
    this.pixels[at + 2] = mix(b, this.pixels[at + 2] ?? 0);
    this.pixels[at + 3] = Math.round(out * 255);
  }
}
