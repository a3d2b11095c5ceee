/**
 * The meeting service: starts and stops meeting mode (app/meeting) with the host's microphone,
 * the system's audio and the agent's socket, keeps the meeting's lines and problems for the UI,
 * and answers the meeting commands. One meeting at a time; its transcript stays readable and
 * exportable after it stops, until the next one starts.
 */
import type { CommandResult, MeetingAnswer, MeetingExport, MeetingLine, MeetingProblem, MeetingStatus, MeetingView, Problem, PushEvent } from '../contract';
import { PlayoutBuffer, type Scheduler } from '../audio/playout';
import type { MicSource, SpeakerSink } from '../audio/ports';
import type { ToolDefinition } from '../agent/registry';
import type { SavedMeeting } from '../history/store';
import { MeetingSession, type MeetingAgent, type MeetingEvent } from '../meeting/session';
import { MeetingTranscript } from '../meeting/transcript';
import type { Settings } from '../settings/schema';
import type { WebSocketFactory } from '../transport/socket';
import { defaultPipelineSettings } from '../voice/pipeline';
import type { Logger } from './ports';

export interface MeetingServiceOptions {
  /** Where the sockets go; null while the copilot is not connected. */
  endpoint: () => { baseUrl: string; apiKey: string } | null;
  agent: () => MeetingAgent | null;
  audio: { createMic: (deviceId: string | null) => MicSource; createSystemAudio?: (deviceId: string | null) => MicSource; scheduler: Scheduler } | null;
  /** Whether Parley's voice is playing (kept out of the system's audio). */
  parleySpeaking: () => boolean;
  settings: () => Settings;
  createWebSocket: WebSocketFactory;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  emit: (event: PushEvent) => void;
  /** Saves the meeting with the conversation (each final line, each notes update and the stop). */
  save?: (meeting: SavedMeeting) => void;
  log: Logger;
}

/** The meeting plays nothing: its listeners only need a playout clock. */
const nothingPlays: SpeakerSink = { sampleRate: 24_000, latencyMs: 0, open: async () => undefined, write: () => undefined, flush: () => undefined, close: async () => undefined };

const noSystemAudio = (): MicSource => ({
  sampleRate: 24_000,
  start: async (_onChunk, onError) =>
    onError({ code: 'internal', message: "This window cannot hear the system's audio, so the other side of a call is not transcribed.", hint: 'Meeting mode hears your microphone only here.' }),
  stop: async () => undefined,
});

export class MeetingService {
  readonly #options: MeetingServiceOptions;
  #meeting: MeetingSession | null = null;
  #lines = new Map<string, MeetingLine>();
  #problems: MeetingProblem[] = [];
  #startedAt: number | null = null;
  #notes = '';

  constructor(options: MeetingServiceOptions) {
    this.#options = options;
  }

  view(): MeetingView {
    return { ...this.#status(), lines: [...this.#lines.values()] };
  }

  async start(): Promise<CommandResult<MeetingView>> {
    if (this.#meeting?.live === true) return { ok: true, value: this.view() };
    const { audio } = this.#options;
    const endpoint = this.#options.endpoint();
    const agent = this.#options.agent();
    if (audio === null) return failure({ code: 'connection_failed', message: 'Meeting mode needs a microphone, and this window has none.', hint: 'Use the desktop app, or browser mode on a machine with a sound server.' });
    if (endpoint === null || agent === null) return failure({ code: 'connection_failed', message: 'Parley is not connected yet, so a meeting cannot start.', hint: 'Wait for the connection indicator, then start the meeting again.' });
    const settings = this.#options.settings();
    const speaking = this.#options.parleySpeaking;
    this.#lines = new Map();
    this.#problems = [];
    this.#notes = '';
    const meeting = new MeetingSession({
      ...endpoint,
      createWebSocket: this.#options.createWebSocket,
      now: this.#options.now,
      sleep: this.#options.sleep,
      random: this.#options.random,
      mic: audio.createMic(settings.inputDevice),
      system: (audio.createSystemAudio ?? noSystemAudio)(settings.meetingAudioDevice),
      playout: new PlayoutBuffer({ sink: nothingPlays, scheduler: audio.scheduler }),
      parleySpeaking: { get playing() { return speaking(); } },
      agent,
      settings: {
        transcriptionModel: settings.transcriptionModel,
        language: null,
        vad: { ...defaultPipelineSettings.vad, ...settings.vad },
        echo: settings.echo,
        frameMs: defaultPipelineSettings.frameMs,
      },
      onEvent: (event) => this.#onEvent(event),
    });
    this.#meeting = meeting;
    // Set before the sources start, so the status they push already names this meeting.
    this.#startedAt = meeting.transcript.startedAt;
    await meeting.start();
    this.#options.log.info('meeting started', {});
    return { ok: true, value: this.view() };
  }

  async stop(): Promise<CommandResult<MeetingView>> {
    await this.#meeting?.stop();
    return { ok: true, value: this.view() };
  }

  async ask(question: string): Promise<CommandResult<MeetingAnswer>> {
    const meeting = this.#meeting;
    if (meeting === null) return failure({ code: 'invalid_payload', message: 'No meeting has been held yet, so there is nothing to ask about.', hint: 'Start a meeting first.' });
    const outcome = await meeting.ask(question);
    return outcome.status === 'failed' ? failure(outcome.problem) : { ok: true, value: { text: outcome.text } };
  }

  async updateNotes(): Promise<CommandResult<MeetingView>> {
    await this.#meeting?.updateNotes();
    return { ok: true, value: this.view() };
  }

  export(): CommandResult<MeetingExport> {
    if (this.#startedAt === null) return failure({ code: 'invalid_payload', message: 'No meeting has been held yet, so there is nothing to export.', hint: 'Start a meeting first.' });
    const stamp = new Date(this.#startedAt).toISOString().slice(0, 16).replace('T', ' ');
    const title = `Meeting, ${stamp} UTC`;
    // A meeting held this run, or one shown again from a saved conversation.
    const content = this.#meeting?.markdown(title) ?? transcriptOf(this.#startedAt, [...this.#lines.values()]).markdown(title, this.#notes);
    return { ok: true, value: { fileName: `meeting-${stamp.replace(/[: ]/g, '-')}.md`, mimeType: 'text/markdown', content } };
  }

  /**
   * Shows a saved meeting (a conversation was opened), or none; a live meeting is left alone.
   * It can be read and exported, not resumed.
   */
  show(saved: SavedMeeting | null): void {
    if (this.#meeting?.live === true) return;
    this.#meeting = null;
    this.#startedAt = saved?.startedAt ?? null;
    this.#notes = saved?.notes ?? '';
    this.#problems = [];
    this.#lines = new Map((saved?.lines ?? []).map((line) => [line.id, line]));
    this.#options.emit({ type: 'meeting.status', status: this.#status() });
    for (const line of this.#lines.values()) this.#options.emit({ type: 'meeting.line', line });
  }

  #save(): void {
    if (this.#startedAt === null) return;
    this.#options.save?.({ startedAt: this.#startedAt, notes: this.#notes, lines: [...this.#lines.values()].filter((line) => line.final) });
  }

  /**
   * The tool the voice and the agent answer questions about the meeting with: the one held this
   * run, or the one saved with the conversation that was opened.
   */
  tool(): ToolDefinition {
    return meetingTranscriptTool(() => this.#meeting ?? this.#shown(), this.#options.now);
  }

  #shown(): HeldMeeting | null {
    return this.#startedAt === null ? null : { live: false, transcript: transcriptOf(this.#startedAt, [...this.#lines.values()]) };
  }

  async close(): Promise<void> {
    await this.#meeting?.stop();
  }

  #status(): MeetingStatus {
    return { live: this.#meeting?.live === true, startedAt: this.#startedAt, notes: this.#notes, problems: [...this.#problems] };
  }

  #onEvent(event: MeetingEvent): void {
    switch (event.type) {
      case 'segment':
        this.#lines.set(event.segment.id, event.segment);
        this.#options.emit({ type: 'meeting.line', line: event.segment });
        if (event.segment.final) this.#save();
        return;
      case 'notes':
        this.#notes = event.markdown;
        this.#save();
        break;
      case 'problem':
        // One problem per source at a time: the newest says what is wrong now.
        this.#problems = [...this.#problems.filter((problem) => problem.source !== event.source), { source: event.source, message: event.problem.message, hint: event.problem.hint }];
        this.#options.log.warn(event.problem.message, { source: event.source });
        break;
      case 'problem.cleared':
        this.#problems = this.#problems.filter((problem) => problem.source !== event.source);
        break;
      case 'meeting':
        if (event.state === 'stopped') this.#save();
        break;
      case 'source':
        return;
    }
    this.#options.emit({ type: 'meeting.status', status: this.#status() });
  }
}

export const meetingToolName = 'get_meeting_transcript';

/** A meeting the tool can read: the live or stopped session of this run, or a saved one shown again. */
export interface HeldMeeting {
  readonly live: boolean;
  readonly transcript: MeetingTranscript;
}

/**
 * The meeting as a tool the voice and the agent can call: how a question asked by push to talk,
 * or typed into the chat, is answered from what was said. It reads only what the Meeting panel
 * shows, so it needs no permission.
 */
export function meetingTranscriptTool(meeting: () => HeldMeeting | null, now: () => number): ToolDefinition {
  return {
    name: meetingToolName,
    description:
      'The transcript of the meeting or call the user is in (or last held), for questions such as "what did they just ask?" or "summarise the last five minutes". Each line is "[mm:ss] Me: …" (the user) or "[mm:ss] Them: …" (the other side of the call), timed from the start of the meeting.',
    parameters: {
      type: 'object',
      properties: { last_minutes: { type: 'number', minimum: 1, description: 'Only the lines of the last this many minutes. Omit for the whole meeting.' } },
      additionalProperties: false,
    },
    risk: 'safe',
    source: 'builtin',
    async execute(args) {
      const current = meeting();
      if (current === null) return JSON.stringify({ live: false, lines: [], message: 'No meeting has been held yet; the user can start one from the Meeting panel.' });
      const { transcript } = current;
      // "The last five minutes" of a meeting that is over are its own last five, not the clock's.
      const end = current.live ? now() : transcript.startedAt + (transcript.finalBetween(0).at(-1)?.atMs ?? 0);
      const lines = typeof args.last_minutes === 'number' ? transcript.recent(args.last_minutes * 60_000, end) : transcript.finalBetween(0);
      // The latest lines are what a question about the call is about.
      const text = MeetingTranscript.lines(lines.slice(-200));
      return JSON.stringify({ live: current.live, lines: text === '' ? [] : text.split('\n') });
    },
  };
}

/** A saved meeting's lines as a transcript again, for its Markdown. */
function transcriptOf(startedAt: number, lines: readonly MeetingLine[]): MeetingTranscript {
  const transcript = new MeetingTranscript(startedAt);
  for (const line of lines) if (line.final) transcript.heard(line.speaker, line.id, line.text, true, startedAt + line.atMs);
  return transcript;
}

function failure<T>(problem: Problem): CommandResult<T> {
  return { ok: false, problem };
}
