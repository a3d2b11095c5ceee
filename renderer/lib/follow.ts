/**
 * When the transcript follows new content. It follows while the reader is at the end; scrolling
 * up stops it (following itself only ever scrolls down, so an upward move is the reader's), and
 * coming back to the end starts it again. Only the direction of a scroll is trusted, not its
 * cause: a smooth scroll or a late layout fires scroll events half way, and those must not count
 * as the reader leaving.
 */
export interface ScrollMetrics {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

/** How close to the end still counts as at the end, in CSS pixels. */
export const endSlackPx = 48;

export function isAtEnd({ scrollTop, scrollHeight, clientHeight }: ScrollMetrics): boolean {
  return scrollHeight - scrollTop - clientHeight < endSlackPx;
}

/** Whether to keep following after a scroll from `previousTop` to where `metrics` says it is now. */
export function followsAfterScroll(following: boolean, previousTop: number, metrics: ScrollMetrics): boolean {
  if (isAtEnd(metrics)) return true;
  return metrics.scrollTop < previousTop ? false : following;
}
