/**
 * The screenshot preview's crop rectangle, in the image's own pixels: dragged out with the
 * pointer, or moved (arrow keys) and resized (Shift+arrow keys) from the keyboard, always kept
 * inside the image and at least `minSize` pixels each way.
 */

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

export const minSize = 16;

/** The whole image: what is sent when the user does not crop. */
export function fullRect(image: Size): Rect {
  return { x: 0, y: 0, width: image.width, height: image.height };
}

/** The rectangle between two pointer positions (in image pixels, any order), clamped to the image. */
export function dragRect(from: { x: number; y: number }, to: { x: number; y: number }, image: Size): Rect {
  const clampX = (value: number) => Math.min(Math.max(Math.round(value), 0), image.width);
  const clampY = (value: number) => Math.min(Math.max(Math.round(value), 0), image.height);
  const left = Math.min(clampX(from.x), clampX(to.x));
  const top = Math.min(clampY(from.y), clampY(to.y));
  const right = Math.max(clampX(from.x), clampX(to.x));
  const bottom = Math.max(clampY(from.y), clampY(to.y));
  return fit({ x: left, y: top, width: right - left, height: bottom - top }, image);
}

/** A rectangle grown to the minimum size and moved back inside the image where it pokes out. */
export function fit(rect: Rect, image: Size): Rect {
  const width = Math.min(Math.max(Math.round(rect.width), Math.min(minSize, image.width)), image.width);
  const height = Math.min(Math.max(Math.round(rect.height), Math.min(minSize, image.height)), image.height);
  const x = Math.min(Math.max(Math.round(rect.x), 0), image.width - width);
  const y = Math.min(Math.max(Math.round(rect.y), 0), image.height - height);
  return { x, y, width, height };
}

export type ArrowKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown';

export function isArrowKey(key: string): key is ArrowKey {
  return key === 'ArrowLeft' || key === 'ArrowRight' || key === 'ArrowUp' || key === 'ArrowDown';
}

/**
 * One key press on the crop area: an arrow moves the rectangle by `step` pixels; with `resize`
 * (Shift) it moves the right or bottom edge instead, so Shift+Left narrows and Shift+Down grows.
 */
export function nudge(rect: Rect, key: ArrowKey, resize: boolean, step: number, image: Size): Rect {
  const dx = key === 'ArrowLeft' ? -step : key === 'ArrowRight' ? step : 0;
  const dy = key === 'ArrowUp' ? -step : key === 'ArrowDown' ? step : 0;
  if (!resize) return fit({ ...rect, x: rect.x + dx, y: rect.y + dy }, image);
  // Growing stops at the image's edge rather than pushing the rectangle back.
  const width = Math.min(rect.width + dx, image.width - rect.x);
  const height = Math.min(rect.height + dy, image.height - rect.y);
  return fit({ ...rect, width, height }, image);
}

/** A key press's step: 1% of the picture's larger side, at least 1 pixel. */
export function keyStep(image: Size): number {
  return Math.max(1, Math.round(Math.max(image.width, image.height) / 100));
}

/** From a position on the shown (scaled) image to image pixels. */
export function toImagePoint(point: { x: number; y: number }, shown: Size, image: Size): { x: number; y: number } {
  return { x: (point.x * image.width) / shown.width, y: (point.y * image.height) / shown.height };
}
