/** The barge-in rules on their own: who cancels, and what the user is taken to have heard of a reply cut short. */
import { describe, expect, it } from 'vitest';
import { clientCancels, heardOfSentences, heardPart, interruptionNote, truncationPoint } from '../../../app/voice/bargeIn';

describe('clientCancels', () => {
  it('leaves the cancel to the server only when its voice detection heard the user', () => {
    expect(clientCancels('speech', 'server_vad')).toBe(false);
    expect(clientCancels('speech', 'semantic_vad')).toBe(false);
    expect(clientCancels('hotkey', 'server_vad')).toBe(true);
    expect(clientCancels('hotkey', 'push_to_talk')).toBe(true);
    expect(clientCancels('speech', 'push_to_talk')).toBe(true);
  });
});

describe('heardPart', () => {
  const text = 'one two  three four';

  it('keeps the share of words played, with the spacing between them', () => {
    expect(heardPart(text, 0.5)).toBe('one two');
    expect(heardPart(text, 0.75)).toBe('one two  three');
    expect(heardPart(text, 0.6)).toBe('one two');
    expect(heardPart(text, 0.65)).toBe('one two  three');
  });

  it('keeps nothing at the start and everything at the end, whatever the share says', () => {
    expect(heardPart(text, 0)).toBe('');
    expect(heardPart(text, -0.5)).toBe('');
    expect(heardPart(text, 1)).toBe(text);
    expect(heardPart(text, 3)).toBe(text);
    expect(heardPart(`  ${text}  `, 1)).toBe(`  ${text}`);
  });
});

describe('heardOfSentences', () => {
  const spoken = [
    { text: 'Hello there.', startMs: 0, durationMs: 1000 },
    { text: 'How are you today?', startMs: 1000, durationMs: 2000 },
    { text: 'Goodbye.', startMs: 3000, durationMs: 500 },
  ];

  it('keeps the sentences heard whole, then the heard share of the one playing', () => {
    expect(heardOfSentences(spoken, 2000)).toBe('Hello there. How are');
    expect(heardOfSentences(spoken, 1000)).toBe('Hello there.');
    expect(heardOfSentences(spoken, 999)).toBe('Hello there.');
    expect(heardOfSentences(spoken, 3500)).toBe('Hello there. How are you today? Goodbye.');
  });

  it('keeps nothing before the first sentence started, and skips a partial share that rounds to no word', () => {
    expect(heardOfSentences(spoken, 0)).toBe('');
    expect(heardOfSentences(spoken, 100)).toBe('');
    expect(heardOfSentences(spoken, 1100)).toBe('Hello there.');
  });

  it('stops at a sentence with no audio yet', () => {
    expect(heardOfSentences([{ text: 'Queued.', startMs: 0, durationMs: 0 }, ...spoken], 2000)).toBe('');
  });
});

describe('interruptionNote', () => {
  it('tells the agent what the user heard of its cut reply, or that they heard none', () => {
    expect(interruptionNote('')).toBe('The user interrupted before hearing any of your last reply.');
    expect(interruptionNote('Hello there.')).toBe('The user interrupted your last reply; they heard only: "Hello there.". The rest was not spoken.');
  });
});

describe('truncation point', () => {
  it('is a whole millisecond of what was heard, never 0 and never past what was generated', () => {
    expect(truncationPoint(350.7, 900)).toBe(350);
    expect(truncationPoint(0, 900)).toBe(1);
    expect(truncationPoint(1200, 900)).toBe(900);
  });
});
