/** Cost of a response from the price table in resources/prices.json (USD per 1M tokens). */
import prices from '../../resources/prices.json';

export interface TokenUsage {
  input: number;
  cached: number;
  output: number;
}

interface Price {
  input: number;
  cachedInput: number;
  output: number;
}

const table = prices.models as Record<string, Price>;

/** The price entry for a model, matching dated snapshots (`gpt-5-mini-2025-08-07`) to their family. */
export function priceOf(model: string): Price | null {
  if (model in table) return table[model] ?? null;
  const family = Object.keys(table)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family === undefined ? null : (table[family] ?? null);
}

/** A voice response's cost: text and audio tokens have their own rates (null when unpriced). */
export function voiceCostUsd(model: string, usage: { textIn: number; audioIn: number; cachedIn: number; textOut: number; audioOut: number }): number | null {
  const price = priceOf(model) as (Price & { audioInput?: number; cachedAudioInput?: number; audioOutput?: number }) | null;
  if (price === null || price.audioInput === undefined || price.audioOutput === undefined) return null;
  const cachedText = Math.min(usage.cachedIn, usage.textIn);
  const cachedAudio = Math.min(usage.cachedIn - cachedText, usage.audioIn);
  return (
    ((usage.textIn - cachedText) * price.input +
      cachedText * price.cachedInput +
      (usage.audioIn - cachedAudio) * price.audioInput +
      cachedAudio * (price.cachedAudioInput ?? price.cachedInput) +
      usage.textOut * price.output +
      usage.audioOut * price.audioOutput) /
    1_000_000
  );
}

/** US dollars, or null when the model is not in the table. Cached input is billed at its own rate. */
export function costUsd(model: string, usage: TokenUsage): number | null {
  const price = priceOf(model);
  if (price === null) return null;
  const uncached = Math.max(0, usage.input - usage.cached);
  return (uncached * price.input + usage.cached * price.cachedInput + usage.output * price.output) / 1_000_000;
}
