/**
 * Draws Parley's app icon (resources/icon.svg: a speech bubble with a level meter on Parley blue)
 * as PNGs for electron-builder, so no binary icon lives in the repository. electron-builder turns
 * build/icon.png (512×512) into the .icns and .ico it needs for macOS and Windows.
 *
 *   tsx scripts/icons.ts [outDir=build]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Canvas, type Rgb } from '../main/png';

const blue: Rgb = [0x37, 0x56, 0xd4];
const white: Rgb = [0xff, 0xff, 0xff];

/** Signed distance from (x, y) to the inside of a convex polygon given clockwise in screen space. */
function insideConvex(points: Array<[number, number]>, x: number, y: number): number {
  let nearest = Infinity;
  points.forEach(([ax, ay], index) => {
    const [bx, by] = points[(index + 1) % points.length] ?? points[0] ?? [0, 0];
    const length = Math.hypot(bx - ax, by - ay);
    nearest = Math.min(nearest, ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) / length);
  });
  return nearest;
}

export function drawIcon(size: number): Buffer {
  const unit = size / 64; // resources/icon.svg's viewBox is 64 × 64
  const canvas = new Canvas(size, size);
  canvas.roundedRect(0, 0, 64 * unit, 64 * unit, 14 * unit, blue);
  canvas.roundedRect(16 * unit, 14 * unit, 32 * unit, 26 * unit, 6 * unit, white);
  const tail: Array<[number, number]> = [
    [22 * unit, 38 * unit],
    [30 * unit, 38 * unit],
    [22 * unit, 48 * unit],
  ];
  canvas.paint(white, (x, y) => 0.5 + insideConvex(tail, x, y));
  for (const [x, y, height] of [
    [24, 24, 6],
    [30.5, 21, 12],
    [37, 24, 6],
  ] as const) {
    canvas.roundedRect(x * unit, y * unit, 3 * unit, height * unit, 1.5 * unit, blue);
  }
  return canvas.toPng();
}

/** Writes build/icon.png (512 px, for macOS and Windows) and build/icons/<n>x<n>.png (for Linux). */
export function writeIcons(outDir: string): void {
  mkdirSync(join(outDir, 'icons'), { recursive: true });
  writeFileSync(join(outDir, 'icon.png'), drawIcon(512));
  // Linux desktops pick the size they need from this folder (electron-builder's linux.icon).
  for (const size of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(join(outDir, 'icons', `${size}x${size}.png`), drawIcon(size));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? 'build');
  writeIcons(outDir);
  console.error(`icons written to ${outDir}`);
}
