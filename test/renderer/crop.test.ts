/** The screenshot preview's crop rectangle: dragging, keyboard moves and resizes, always inside the picture. */
import { describe, expect, it } from 'vitest';
import { dragRect, fit, fullRect, keyStep, minSize, nudge, toImagePoint } from '../../renderer/lib/crop';

const image = { width: 1000, height: 600 };

describe('crop rectangle', () => {
  it('starts as the whole picture', () => {
    expect(fullRect(image)).toEqual({ x: 0, y: 0, width: 1000, height: 600 });
  });

  it('is the box between two drag points, whichever way the drag went', () => {
    expect(dragRect({ x: 100, y: 50 }, { x: 400, y: 250 }, image)).toEqual({ x: 100, y: 50, width: 300, height: 200 });
    expect(dragRect({ x: 400, y: 250 }, { x: 100, y: 50 }, image)).toEqual({ x: 100, y: 50, width: 300, height: 200 });
  });

  it('stops at the picture edge when a drag leaves it', () => {
    expect(dragRect({ x: 900, y: 500 }, { x: 1400, y: 900 }, image)).toEqual({ x: 900, y: 500, width: 100, height: 100 });
    expect(dragRect({ x: 50, y: 50 }, { x: -30, y: -80 }, image)).toEqual({ x: 0, y: 0, width: 50, height: 50 });
  });

  it('is never smaller than the minimum, even for a click without a drag', () => {
    expect(dragRect({ x: 200, y: 200 }, { x: 200, y: 200 }, image)).toEqual({ x: 200, y: 200, width: minSize, height: minSize });
    // At the far corner the minimum box is moved back inside.
    expect(dragRect({ x: 1000, y: 600 }, { x: 1000, y: 600 }, image)).toEqual({ x: 984, y: 584, width: 16, height: 16 });
  });

  it('moves by arrow keys and stays inside', () => {
    const rect = { x: 10, y: 10, width: 200, height: 100 };
    expect(nudge(rect, 'ArrowRight', false, 10, image)).toEqual({ x: 20, y: 10, width: 200, height: 100 });
    expect(nudge(rect, 'ArrowUp', false, 10, image)).toEqual({ x: 10, y: 0, width: 200, height: 100 });
    expect(nudge(rect, 'ArrowLeft', false, 50, image)).toEqual({ x: 0, y: 10, width: 200, height: 100 });
    expect(nudge({ x: 790, y: 0, width: 200, height: 100 }, 'ArrowRight', false, 50, image).x).toBe(800);
  });

  it('resizes by Shift+arrow keys from the right and bottom edges, stopping at the picture edge and the minimum', () => {
    const rect = { x: 100, y: 100, width: 200, height: 100 };
    expect(nudge(rect, 'ArrowLeft', true, 10, image)).toEqual({ x: 100, y: 100, width: 190, height: 100 });
    expect(nudge(rect, 'ArrowDown', true, 10, image)).toEqual({ x: 100, y: 100, width: 200, height: 110 });
    expect(nudge({ x: 950, y: 0, width: 40, height: 40 }, 'ArrowRight', true, 100, image)).toEqual({ x: 950, y: 0, width: 50, height: 40 });
    expect(nudge({ x: 0, y: 0, width: 20, height: 20 }, 'ArrowUp', true, 100, image)).toEqual({ x: 0, y: 0, width: 20, height: minSize });
  });

  it('a key step is 1% of the longer side, and at least one pixel', () => {
    expect(keyStep(image)).toBe(10);
    expect(keyStep({ width: 40, height: 30 })).toBe(1);
  });

  it('maps a point on the scaled-down preview to picture pixels', () => {
    expect(toImagePoint({ x: 250, y: 75 }, { width: 500, height: 300 }, image)).toEqual({ x: 500, y: 150 });
  });

  it('a picture smaller than the minimum is taken whole', () => {
    expect(fit({ x: 3, y: 3, width: 1, height: 1 }, { width: 10, height: 8 })).toEqual({ x: 0, y: 0, width: 10, height: 8 });
  });
});
