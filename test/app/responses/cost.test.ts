import { describe, expect, it } from 'vitest';
import { priceOf, voiceCostUsd } from '../../../app/responses/cost';

// gpt-realtime in resources/prices.json, USD per 1M tokens: text in 4, cached 0.4, text out 16,
// audio in 32, cached audio 0.4, audio out 64.
describe('voiceCostUsd', () => {
  it('bills cached input as text first, then audio, each at its own rate', () => {
    // 1000 text in (all cached), 2000 audio in (500 cached), 300 text out, 400 audio out:
    // 1000×0.4 + 1500×32 + 500×0.4 + 300×16 + 400×64 = 79 000 per million.
    expect(voiceCostUsd('gpt-realtime', { textIn: 1000, audioIn: 2000, cachedIn: 1500, textOut: 300, audioOut: 400 })).toBeCloseTo(0.079, 12);
  });

  it('bills uncached text at the full rate', () => {
    // 800×4 + 200×0.4 = 3 280 per million.
    expect(voiceCostUsd('gpt-realtime', { textIn: 1000, audioIn: 0, cachedIn: 200, textOut: 0, audioOut: 0 })).toBeCloseTo(0.00328, 12);
  });

  it('prices a dated snapshot as its family and gives null for a model without audio rates', () => {
    expect(voiceCostUsd('gpt-realtime-2025-08-28', { textIn: 0, audioIn: 1_000_000, cachedIn: 0, textOut: 0, audioOut: 0 })).toBeCloseTo(32, 10);
    expect(voiceCostUsd('gpt-5', { textIn: 10, audioIn: 10, cachedIn: 0, textOut: 10, audioOut: 10 })).toBeNull();
    expect(voiceCostUsd('no-such-model', { textIn: 10, audioIn: 10, cachedIn: 0, textOut: 10, audioOut: 10 })).toBeNull();
  });
});

describe('priceOf', () => {
  it('picks the longest family name a snapshot starts with', () => {
    expect(priceOf('gpt-5-mini-2025-08-07')).toEqual({ input: 0.25, cachedInput: 0.025, output: 2 });
    expect(priceOf('gpt-5-2025-08-07')).toMatchObject({ input: 1.25 });
    expect(priceOf('gpt-5x')).toBeNull();
  });
});
