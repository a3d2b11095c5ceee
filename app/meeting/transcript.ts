/**
 * The meeting transcript: what the microphone ("Me") and the system's audio ("Them") said, in
 * the order it was said, each line stamped with its time from the start of the meeting. Lines
 * stream in as partial text and become final; the notes and the questions read final lines only.
 */
export type Speaker = 'me' | 'them';

export interface Segment {
  /** Unique across both sources: the speaker and the transcription item. */
  id: string;
  speaker: Speaker;
  text: string;
  final: boolean;
  /** When the line was first heard, in ms from the start of the meeting. */
  atMs: number;
}

export const speakerLabel: Record<Speaker, string> = { me: 'Me', them: 'Them' };

export class MeetingTranscript {
  readonly startedAt: number;
  readonly #segments: Segment[] = [];
  readonly #byId = new Map<string, Segment>();

  constructor(startedAt: number) {
    this.startedAt = startedAt;
  }

  get segments(): readonly Segment[] {
    return this.#segments;
  }

  /**
   * A transcription event from one source: a partial `text` is the next piece of the line, a
   * final one is the whole line. Returns the line as it now stands.
   */
  heard(speaker: Speaker, itemId: string, text: string, final: boolean, now: number): Segment {
    const id = `${speaker}:${itemId}`;
    let segment = this.#byId.get(id);
    if (segment === undefined) {
      segment = { id, speaker, text: '', final: false, atMs: Math.max(0, now - this.startedAt) };
      this.#byId.set(id, segment);
      this.#segments.push(segment);
    }
    segment.text = final ? text.trim() : segment.text + text;
    segment.final = segment.final || final;
    return { ...segment };
  }

  /** Final, non-empty lines at positions `from` to `to` (positions count every line, partial ones too). */
  finalBetween(from: number, to = this.#segments.length): Segment[] {
    return this.#segments.slice(from, to).filter((segment) => segment.final && segment.text !== '');
  }

  /** Final lines of the last `windowMs` before `now`. */
  recent(windowMs: number, now: number): Segment[] {
    const since = now - this.startedAt - windowMs;
    return this.finalBetween(0).filter((segment) => segment.atMs >= since);
  }

  /** Lines as a model or a person reads them: `[00:42] Them: …`. */
  static lines(segments: readonly Segment[]): string {
    return segments.map((segment) => `[${clock(segment.atMs)}] ${speakerLabel[segment.speaker]}: ${segment.text}`).join('\n');
  }

  /** The whole meeting as Markdown: the notes (when there are any), then the transcript. */
  markdown(title: string, notes: string): string {
    const transcript = this.finalBetween(0).map((segment) => `- **${clock(segment.atMs)} ${speakerLabel[segment.speaker]}:** ${segment.text}`);
    return [`# ${title}`, '', ...(notes.trim() === '' ? [] : [notes.trim(), '']), '## Transcript', '', ...(transcript.length === 0 ? ['Nothing was said.'] : transcript), ''].join('\n');
  }
}

/** `mm:ss`, or `h:mm:ss` past the first hour. */
export function clock(ms: number): string {
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (value: number) => String(value).padStart(2, '0');
  return hours > 0 ? `${hours}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`;
}

/**
 * The final lines one reader (the notes lane, the user's questions) has not been given yet, in
 * transcript order. A line still partial waits until it is final; each line is given once.
 */
export class UnseenLines {
  readonly #transcript: MeetingTranscript;
  readonly #given = new Set<string>();

  constructor(transcript: MeetingTranscript) {
    this.#transcript = transcript;
  }

  take(): Segment[] {
    const unseen = this.#transcript.finalBetween(0).filter((segment) => !this.#given.has(segment.id));
    for (const segment of unseen) this.#given.add(segment.id);
    return unseen;
  }
}
