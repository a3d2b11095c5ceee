/**
 * The tray's icons, drawn in code: a dot in the colour of Parley's state, at 16 px and 32 px
 * (the @2x representation for high-density screens).
 */
import { Canvas, type Rgb } from './png';

export const trayStates = ['idle', 'listening', 'thinking', 'speaking', 'offline', 'error'] as const;
export type TrayState = (typeof trayStates)[number];

export const trayColours: Record<TrayState, Rgb> = {
  idle: [0x37, 0x56, 0xd4], // Parley blue, as in resources/icon.svg
  listening: [0x1f, 0xa8, 0x5a],
  thinking: [0xe0, 0xa1, 0x00],
  speaking: [0x8b, 0x5c, 0xf6],
  offline: [0x8a, 0x8f, 0x98],
  error: [0xd9, 0x3a, 0x3a],
};

/** A PNG of the state's dot, `size` pixels square, with a white ring so it reads on dark and light bars. */
export function trayIconPng(state: TrayState, size: 16 | 32): Buffer {
  const centre = size / 2;
  const outer = size / 2 - size / 16;
  return new Canvas(size, size)
    .circle(centre, centre, outer, [0xff, 0xff, 0xff])
    .circle(centre, centre, outer - size / 16, trayColours[state])
    .toPng();
}
