import { describe, expect, it } from 'vitest';
import { Canvas, encodePng } from '../../main/png';
import { trayColours, trayIconPng, trayStates } from '../../main/trayIcon';
import { decodePng, pngSignature } from './decodePng';

describe('encodePng', () => {
  it('writes a valid RGBA PNG that decodes to the same pixels', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 1, 2, 3, 4, 9, 9, 9, 9, 200, 100, 50, 25]);
    const file = encodePng(3, 2, rgba);
    expect(file.subarray(0, 8).equals(pngSignature)).toBe(true);
    const png = decodePng(file);
    expect(png).toMatchObject({ width: 3, height: 2, bitDepth: 8, colourType: 6, chunkTypes: ['IHDR', 'IDAT', 'IEND'] });
    expect([...png.pixels]).toEqual([...rgba]);
  });

  it('refuses pixel data of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(/expected 16 bytes/);
  });
});

describe('tray icons', () => {
  it.each(trayStates)('draws the %s dot at 16 and 32 pixels, in its colour, on a transparent corner', (state) => {
    for (const size of [16, 32] as const) {
      const png = decodePng(trayIconPng(state, size));
      expect([png.width, png.height]).toEqual([size, size]);
      expect(png.pixel(0, 0)[3]).toBe(0);
      const [r, g, b, a] = png.pixel(size / 2, size / 2);
      expect([r, g, b, a]).toEqual([...trayColours[state], 255]);
    }
  });

  it('gives every state its own colour', () => {
    const colours = new Set(trayStates.map((state) => trayColours[state].join(',')));
    expect(colours.size).toBe(trayStates.length);
  });

  it('smooths shape edges with partial alpha', () => {
    const png = decodePng(new Canvas(32, 32).circle(16, 16, 12, [0, 0, 0]).toPng());
    const alphas = new Set(Array.from({ length: 32 }, (_, x) => png.pixel(x, 16)[3]));
    expect([...alphas].some((alpha) => alpha > 0 && alpha < 255)).toBe(true);
  });
});
