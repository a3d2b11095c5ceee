/**
 * The arithmetic behind the inspector's pictures, kept out of the component so it can be tested:
 * the latency chart's scale (a robust top, so one slow turn does not flatten the rest), the
 * timeline's marks grouped where they would overlap, and times as a clock reads them.
 */

export interface LatencyScale {
  /** The value the top of the chart stands for, in ms. */
  max: number;
  /** Gridlines, in ms, from the first step up to `max`. */
  ticks: number[];
}

/** A slow turn may stand this far above the 90th percentile before its bar is cut off. */
const outlierFactor = 1.5;

/** The scale for these totals: up to the tallest bar, unless it stands far above the rest. */
export function latencyScale(totals: readonly number[]): LatencyScale {
  const sorted = totals.filter((value) => Number.isFinite(value) && value > 0).sort((a, b) => a - b);
  if (sorted.length === 0) return niceScale(1000);
  const tallest = sorted.at(-1) ?? 0;
  const p90 = sorted[Math.max(0, Math.ceil(sorted.length * 0.9) - 1)] ?? tallest;
  return niceScale(Math.min(tallest, p90 * outlierFactor));
}

/** Steps of 1, 2, 2.5 or 5 times a power of ten, at most four of them to the top. */
function niceScale(top: number): LatencyScale {
  const target = Math.max(top, 1);
  const power = 10 ** Math.floor(Math.log10(target / 4));
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * power).find((candidate) => target / candidate <= 4) ?? 10 * power;
  const count = Math.ceil(target / step - 1e-9);
  return { max: count * step, ticks: Array.from({ length: count }, (_, index) => (index + 1) * step) };
}

/** A tick's label: "250 ms", "1.5 s". */
export function tickLabel(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(2))} s` : `${Math.round(ms)} ms`;
}

export interface MarkGroup<E> {
  /** Where the group sits, 0 to 1 along the timeline (its first event). */
  position: number;
  events: E[];
}

/**
 * The events as marks along the timeline, where each mark is `minGap` wide (a fraction of it):
 * events that would overlap the mark before them join its group, so twelve compactions in a row
 * are one mark that says ×12, not one mark that hides eleven.
 */
export function groupMarks<E extends { at: number }>(events: readonly E[], startedAt: number, span: number, minGap: number): Array<MarkGroup<E>> {
  const groups: Array<MarkGroup<E>> = [];
  const place = (at: number): number => Math.min(1, Math.max(0, (at - startedAt) / Math.max(1, span)));
  for (const event of [...events].sort((a, b) => a.at - b.at)) {
    const position = place(event.at);
    const last = groups.at(-1);
    if (last !== undefined && position - last.position < minGap) last.events.push(event);
    else groups.push({ position, events: [event] });
  }
  return groups;
}

/** The local clock time of `at`, and how long ago it was: "14:03:12 (2 min ago)". */
export function clockTime(at: number, now: number): string {
  const clock = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return `${clock} (${ago(now - at)})`;
}

function ago(ms: number): string {
  if (ms < 5000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min ago`;
}
