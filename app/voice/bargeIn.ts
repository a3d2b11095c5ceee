/**
 * Barge-in, the rules both voice modes follow when the user talks over the assistant (their
 * speech, the push-to-talk key, or Stop): when there is something to interrupt, who cancels the
 * response, where the assistant's item is cut, and what the user really heard of it.
 */
import type { TurnMode } from './settings';
import type { BargeInReason } from './session';

/**
 * Whether the client must send `response.cancel`: the server's VAD cancels by itself when it
 * hears speech (`interrupt_response: true`), never for a key press or in push-to-talk.
 */
export function clientCancels(reason: BargeInReason, turnMode: TurnMode): boolean {
  return reason === 'hotkey' || turnMode === 'push_to_talk';
}

/**
 * The `audio_end_ms` of `conversation.item.truncate`: an integer, inclusive, never 0 and never
 * beyond what was generated (PROTOCOL.md §2 "Truncate").
 */
export function truncationPoint(playedMs: number, generatedMs: number): number {
  return Math.max(1, Math.floor(Math.min(playedMs, generatedMs)));
}

/** The words heard before the cut, by the share of audio played (the server deletes the rest). */
export function heardPart(text: string, fraction: number): string {
  const words = text.split(/(\s+)/);
  const wordCount = words.filter((word) => word.trim() !== '').length;
  let keep = Math.round(Math.min(1, Math.max(0, fraction)) * wordCount);
  let out = '';
  for (const word of words) {
    if (word.trim() === '') {
      if (keep > 0) out += word;
      continue;
    }
    if (keep === 0) break;
    out += word;
    keep -= 1;
  }
  return out.trimEnd();
}

/** Sentences heard whole, then the heard share of the one playing when it stopped. */
export function heardOfSentences(spoken: ReadonlyArray<{ text: string; startMs: number; durationMs: number }>, playedMs: number): string {
  const parts: string[] = [];
  for (const sentence of spoken) {
    if (playedMs >= sentence.startMs + sentence.durationMs && sentence.durationMs > 0) {
      parts.push(sentence.text);
      continue;
    }
    if (playedMs > sentence.startMs && sentence.durationMs > 0) {
      const partial = heardPart(sentence.text, (playedMs - sentence.startMs) / sentence.durationMs);
      if (partial !== '') parts.push(partial);
    }
    break;
  }
  return parts.join(' ');
}

/** What the pipeline's agent is told before its next turn about a reply the user cut short. */
export function interruptionNote(heardText: string): string {
  return heardText === '' ? 'The user interrupted before hearing any of your last reply.' : `The user interrupted your last reply; they heard only: "${heardText}". The rest was not spoken.`;
}
