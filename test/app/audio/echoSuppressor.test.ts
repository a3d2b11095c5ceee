/**
 * The residual echo suppressor alone, block by block: what it learns of the filter's leak while the
 * far end plays alone, and what it does when the caller says the user talks or the filter may not
 * be lined up. Signals are seeded noise; figures are output energy against input energy in dB.
 */
import { describe, expect, it } from 'vitest';
import { EchoSuppressor } from '../../../app/audio/echoSuppressor';
import { seeded } from '../../../app/testing';

const n = 256;

function noise(random: () => number, level: number): Float64Array {
  return Float64Array.from({ length: n }, () => level * (random() * 2 - 1));
}

const sum = (a: Float64Array, b: Float64Array) => a.map((value, index) => value + b[index]!);
const scaled = (a: Float64Array, gain: number) => a.map((value) => value * gain);
const energyOf = (blocks: Float64Array[]) => blocks.reduce((total, block) => total + block.reduce((s, value) => s + value * value, 0), 0);

/** A suppressor that has learnt a filter leaving 1/30 of the echo (about 30 dB) for four seconds. */
function learnt(random: () => number): EchoSuppressor {
  const suppressor = new EchoSuppressor({ blockSize: n });
  for (let block = 0; block < 400; block += 1) {
    const echo = noise(random, 0.1);
    suppressor.process(scaled(echo, 1 / 30), echo, true);
  }
  return suppressor;
}

describe('echo suppressor', () => {
  it("takes back what it learnt in the blocks before double talk was flagged, so the user's words pass", () => {
    const random = seeded(41);
    const suppressor = learnt(random);
    const outputs: Float64Array[] = [];
    const users: Float64Array[] = [];
    for (let block = 0; block < 33; block += 1) {
      const echo = noise(random, 0.1);
      // The user at the echo's level; the double-talk detector sees it three blocks late.
      const user = noise(random, 0.1);
      const out = suppressor.process(sum(scaled(echo, 1 / 30), user), echo, block < 3);
      // Output lags one block; judge once the gains have settled.
      if (block >= 6) outputs.push(out);
      if (block >= 5 && block < 32) users.push(user);
    }
    expect(10 * Math.log10(energyOf(outputs) / energyOf(users))).toBeGreaterThan(-3);
  });

  it('takes the echo as not removed at all while the filter may be misaligned (unsure), however well it did before', () => {
    const random = seeded(43);
    const suppressor = learnt(random);
    const outputs: Float64Array[] = [];
    const inputs: Float64Array[] = [];
    // The echo 1 ms later than the filter's estimate of it: the filter leaves it, and adds its own.
    const stream = Float64Array.from({ length: 13 * n + 24 }, () => 0.1 * (random() * 2 - 1));
    for (let block = 0; block < 12; block += 1) {
      const echo = stream.slice(block * n, (block + 1) * n);
      const estimate = stream.slice(block * n + 24, (block + 1) * n + 24);
      const error = echo.map((value, index) => value - estimate[index]!);
      const out = suppressor.process(error, estimate, false, undefined, true);
      if (block >= 1) outputs.push(out);
      if (block < 11) inputs.push(error);
    }
    expect(10 * Math.log10(energyOf(outputs) / energyOf(inputs))).toBeLessThan(-20);
  });
});
