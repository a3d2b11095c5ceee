/**
 * Meeting mode as it crosses IPC: the meeting's status and transcript lines, and the requests
 * of the meeting commands. The meeting itself is app/meeting.
 */
import { z } from 'zod';

export type MeetingSpeaker = 'me' | 'them';

/** One line of the meeting transcript: partial while it is being said, then final. */
export interface MeetingLine {
  id: string;
  speaker: MeetingSpeaker;
  text: string;
  final: boolean;
  /** From the start of the meeting. */
  atMs: number;
}

export interface MeetingProblem {
  source: MeetingSpeaker | 'notes';
  message: string;
  hint: string;
}

/** Everything about the meeting but its lines, which arrive one by one (`meeting.line`). */
export interface MeetingStatus {
  live: boolean;
  /** Epoch ms; null before the first meeting of this run. */
  startedAt: number | null;
  notes: string;
  /** What is not working now (a source that cannot start, a silent system); cleared when it works again. */
  problems: MeetingProblem[];
}

export interface MeetingView extends MeetingStatus {
  lines: MeetingLine[];
}

export const askMeetingRequest = z.strictObject({
  question: z.string().trim().min(1, 'Type a question about the meeting.').max(4000, 'Keep the question under 4,000 characters.'),
});

export interface MeetingAnswer {
  text: string;
}

/** The meeting as Markdown, for download. */
export interface MeetingExport {
  fileName: string;
  mimeType: string;
  content: string;
}
