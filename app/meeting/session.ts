/**
 * Meeting mode: two listen-only transcription sessions, the microphone as "Me" and the system's
 * audio as "Them", streamed into one timestamped transcript; live notes on their own lane of the
 * agent's socket; and questions about what was said ("what did they just ask?"), answered by the
 * agent from the transcript. Parley stays quiet unless asked. Either source may fail on its own:
 * the meeting goes on with the other and says what is missing.
 */
import type { Problem } from '../contract';
import { excludeWhilePlaying, watchSilence, type PlaybackState } from '../audio/systemAudio';
import type { PlayoutBuffer } from '../audio/playout';
import type { MicSource } from '../audio/ports';
import { userMessage } from '../protocol/responses';
import type { TurnHandlers, TurnOutcome } from '../responses/session';
import { realTimer, type SetTimer } from '../transport/deadline';
import type { VoiceState } from '../voice/session';
import type { VoiceSessionIo } from '../voice/sessionBase';
import { Transcriber, type TranscriberSettings } from '../voice/transcriber';
import { LiveNotes, type MeetingAgent } from './notes';
import { MeetingTranscript, UnseenLines, type Segment, type Speaker } from './transcript';

export type { MeetingAgent } from './notes';

export type MeetingEvent =
  | { type: 'meeting'; state: 'live' | 'stopped'; startedAt: number }
  | { type: 'segment'; segment: Segment }
  | { type: 'source'; speaker: Speaker; state: VoiceState }
  | { type: 'notes'; markdown: string }
  | { type: 'problem'; source: Speaker | 'notes'; problem: Problem }
  /** A problem of `source` is over (the system's audio is back, say). */
  | { type: 'problem.cleared'; source: Speaker };

export interface MeetingOptions extends Pick<VoiceSessionIo, 'baseUrl' | 'apiKey' | 'createWebSocket' | 'now' | 'sleep' | 'random'> {
  mic: MicSource;
  /** The system's audio (app/audio/native/systemAudio.ts). */
  system: MicSource;
  /** The listeners' clock (and, unless `parleySpeaking` is given, Parley's playback). */
  playout: PlayoutBuffer;
  /** Whether Parley is speaking: the system's audio carries its voice, so it is dropped meanwhile. */
  parleySpeaking?: PlaybackState;
  agent: MeetingAgent;
  settings: TranscriberSettings;
  setTimer?: SetTimer;
  notesEveryMs?: number;
  /** How long the system's audio may be silent before the user is told (default 30 s). */
  systemSilenceMs?: number;
  onEvent: (event: MeetingEvent) => void;
}

/** Heads the lines sent with a question: those the user's lane has not been given before. */
const questionContext = 'Lines of the meeting so far that you have not seen yet';

export class MeetingSession {
  readonly #options: MeetingOptions;
  readonly transcript: MeetingTranscript;
  readonly #notes: LiveNotes;
  readonly #listeners: Record<Speaker, Transcriber>;
  /** Lines the user's lane has not been given with a question yet. */
  readonly #unasked: UnseenLines;
  #live = false;
  /** Problems each source has reported so far. */
  readonly #problems: Record<Speaker, number> = { me: 0, them: 0 };

  constructor(options: MeetingOptions) {
    this.#options = options;
    this.transcript = new MeetingTranscript(options.now());
    this.#unasked = new UnseenLines(this.transcript);
    const setTimer = options.setTimer ?? realTimer;
    this.#notes = new LiveNotes({
      agent: options.agent,
      transcript: this.transcript,
      setTimer,
      ...(options.notesEveryMs === undefined ? {} : { everyMs: options.notesEveryMs }),
      onNotes: (markdown) => options.onEvent({ type: 'notes', markdown }),
      onProblem: (problem) => options.onEvent({ type: 'problem', source: 'notes', problem }),
    });
    const system = watchSilence(excludeWhilePlaying(options.system, options.parleySpeaking ?? options.playout), {
      ...(options.systemSilenceMs === undefined ? {} : { afterMs: options.systemSilenceMs }),
      onSilent: (problem) => this.#report('them', problem),
      onSound: () => options.onEvent({ type: 'problem.cleared', source: 'them' }),
    });
    this.#listeners = {
      me: this.#listener('me', options.mic, options.settings),
      // The system's audio has no room echo to gate: Parley's voice is dropped while it plays.
      them: this.#listener('them', system, { ...options.settings, echo: 'headphones' }),
    };
  }

  get live(): boolean {
    return this.#live;
  }

  get notes(): string {
    return this.#notes.markdown;
  }

  /** Starts both sources; one that cannot start is reported and the meeting goes on with the other. */
  async start(): Promise<void> {
    if (this.#live) return;
    this.#live = true;
    const reportedBefore = { ...this.#problems };
    const started = await Promise.allSettled([this.#listeners.me.connect(), this.#listeners.them.connect()]);
    started.forEach((outcome, index) => {
      const source: Speaker = index === 0 ? 'me' : 'them';
      // A source that failed as it started (a missing device) has said so already.
      if (outcome.status === 'fulfilled' || this.#problems[source] > reportedBefore[source]) return;
      const reason = outcome.reason as { problem?: Problem; message?: string };
      this.#report(source, reason.problem ?? { code: 'connection_failed', message: `The ${source === 'me' ? 'microphone' : 'system audio'} transcription could not start: ${reason.message ?? 'unknown error'}.`, hint: 'The meeting goes on with the other source.' });
    });
    this.#notes.start();
    this.#options.onEvent({ type: 'meeting', state: 'live', startedAt: this.transcript.startedAt });
  }

  /** Stops listening; the notes catch up with the last lines before this resolves. */
  async stop(): Promise<void> {
    if (!this.#live) return;
    this.#live = false;
    this.#notes.stop();
    await Promise.all([this.#listeners.me.close(), this.#listeners.them.close()]);
    await this.#notes.update();
    this.#options.onEvent({ type: 'meeting', state: 'stopped', startedAt: this.transcript.startedAt });
  }

  /** Brings the notes up to date now instead of at the next minute. */
  updateNotes(): Promise<void> {
    return this.#notes.update();
  }

  /**
   * A question about the meeting, on the user's own lane: the lines it has not seen yet go with
   * it, so "what did they just ask?" is answered from what was said.
   */
  ask(question: string, handlers: TurnHandlers = {}): Promise<TurnOutcome> {
    const unseen = this.#unasked.take();
    const context = unseen.length === 0 ? '' : `${questionContext}:\n${MeetingTranscript.lines(unseen)}\n\n`;
    return this.#options.agent.runTurn([userMessage(`${context}Question about the meeting: ${question}`)], handlers);
  }

  /** The meeting as Markdown: notes, then the transcript. */
  markdown(title = 'Meeting'): string {
    return this.transcript.markdown(title, this.#notes.markdown);
  }

  #report(source: Speaker, problem: Problem): void {
    this.#problems[source] += 1;
    this.#options.onEvent({ type: 'problem', source, problem });
  }

  #listener(speaker: Speaker, source: MicSource, settings: TranscriberSettings): Transcriber {
    const { onEvent } = this.#options;
    return new Transcriber({
      baseUrl: this.#options.baseUrl,
      apiKey: this.#options.apiKey,
      createWebSocket: this.#options.createWebSocket,
      now: this.#options.now,
      sleep: this.#options.sleep,
      ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
      ...(this.#options.setTimer === undefined ? {} : { setTimer: this.#options.setTimer }),
      mic: source,
      playout: this.#options.playout,
      settings,
      onEvent: (event) => {
        if (event.type === 'transcript.user') onEvent({ type: 'segment', segment: this.transcript.heard(speaker, event.itemId, event.text, event.final, this.#options.now()) });
        else if (event.type === 'state') onEvent({ type: 'source', speaker, state: event.state });
        else if (event.type === 'problem') this.#report(speaker, event.problem);
      },
    });
  }
}
