/**
 * The emulator's deterministic "model". It answers from the conversation it was given (so a
 * reply shows whether the context arrived intact), calls the tools it recognises among those the
 * request offers, answers from their outputs, and says plainly that it is a local stand-in.
 */
import { describeImage, type ImageSeen } from './images';

/** The conversation as the brain reads it, whichever protocol it came over. */
export type BrainMessage =
  /** `images`: the pictures the message carried, which the brain cannot see but can describe. */
  | { role: 'user'; text: string; images?: readonly ImageSeen[] }
  /** Speech the emulator cannot transcribe: it knows only how long it was. */
  | { role: 'user'; audioMs: number }
  | { role: 'assistant'; text: string }
  | { role: 'tool_call'; callId: string; name: string; arguments: string }
  | { role: 'tool_output'; callId: string; output: string }
  /** A system note added mid-conversation (a finished background task, say): the brain relays it. */
  | { role: 'note'; text: string }
  /** What a compaction folded away, as a summary would keep it: only how many user messages there were. */
  | { role: 'earlier'; userMessages: number };

export interface BrainTool {
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
}

export type BrainTurn = { kind: 'text'; text: string } | { kind: 'tool_call'; name: string; arguments: string };

type Skill = 'clock' | 'calculator' | 'notes' | 'delegate' | 'search' | 'meeting';

/** Which skill a tool offers, judged by its name, as a model would from its name and description. */
function skillOf(name: string): Skill | null {
  const lower = name.toLowerCase();
  if (/meeting|transcript/.test(lower)) return 'meeting';
  if (/delegate|agent|research|supervisor/.test(lower)) return 'delegate';
  if (/search|find|lookup/.test(lower)) return 'search';
  if (/calc|math|arith|evaluate/.test(lower)) return 'calculator';
  // Saving a note, not listing or reading them: the brain only writes down what the user dictates.
  if (/note|memo|remember/.test(lower) && !/list|read|get|delete|remove/.test(lower)) return 'notes';
  if (/clock|time|(?<!up)date/.test(lower)) return 'clock';
  return null;
}

const asks: Record<Skill, RegExp> = {
  clock: /\b(what time|the time|time is it|what day|the date|today'?s date|what's the date)\b/i,
  calculator: /(\d+(?:\.\d+)?\s*[-+*/×÷^]\s*\d+(?:\.\d+)?)|\b(calculate|compute|how much is)\b/i,
  notes: /\b(note|remember|jot)\b/i,
  delegate: /\b(find|search|look up|research|investigate|summari[sz]e|go through)\b/i,
  search: /\b(find|search|look up|look for)\b/i,
  meeting: /\b(what did (they|he|she) (just )?(ask|say)|(they|he|she) (just )?(asked|said)|the (meeting|call)|summari[sz]e the last)\b/i,
};

export function think(conversation: readonly BrainMessage[], tools: readonly BrainTool[]): BrainTurn {
  const last = conversation.at(-1);
  if (last?.role === 'tool_output') return { kind: 'text', text: answerFromTools(conversation) };
  if (last?.role === 'note') return { kind: 'text', text: `Update: ${summarise(last.text)}` };

  const users = conversation.filter((message) => message.role === 'user');
  const lastUser = users.at(-1);
  if (lastUser === undefined) return { kind: 'text', text: 'I am ready. Ask me anything.' };
  const count = users.length + conversation.reduce((sum, message) => sum + (message.role === 'earlier' ? message.userMessages : 0), 0);
  const ordinal = count === 1 ? 'your first message' : `message ${count} of our conversation`;

  if ('audioMs' in lastUser) {
    const seconds = (lastUser.audioMs / 1000).toFixed(1);
    return { kind: 'text', text: `I heard ${seconds} seconds of speech, but I am the offline emulator and cannot understand audio. This is ${ordinal}.` };
  }

  const text = lastUser.text;
  if (lastUser.images !== undefined && lastUser.images.length > 0) {
    const received = lastUser.images.map(describeImage).join(' and ');
    return { kind: 'text', text: `I received ${received} with your question "${text}". I am the offline emulator, so I cannot see what it shows. This is ${ordinal}.` };
  }
  const meeting = meetingAnswer(conversation, text);
  if (meeting !== null) return { kind: 'text', text: meeting };
  for (const skill of ['meeting', 'delegate', 'search', 'calculator', 'notes', 'clock'] as const) {
    if (!asks[skill].test(text)) continue;
    for (const tool of tools) {
      if (skillOf(tool.name) !== skill) continue;
      const args = argumentsFor(skill, tool, text);
      if (args !== null) return { kind: 'tool_call', name: tool.name, arguments: JSON.stringify(args) };
    }
  }
  const sample = samples.find((candidate) => candidate.ask.test(text));
  if (sample !== undefined) return { kind: 'text', text: sample.reply(ordinal) };
  if (/^\s*(hello|hi|hey)\b/i.test(text)) {
    return { kind: 'text', text: `Hello! I am Parley's offline emulator, streaming this reply the way the Responses API does. This is ${ordinal}.` };
  }
  return { kind: 'text', text: `You said: "${text}". This is ${ordinal}; I am the offline emulator, so set OPENAI_API_KEY to talk to a real model.` };
}

/** A line of a meeting transcript as Parley sends it: `[00:42] Them: …`. */
interface MeetingLine {
  at: string;
  speaker: 'Me' | 'Them';
  text: string;
}

function meetingLines(conversation: readonly BrainMessage[]): MeetingLine[] {
  return conversation.flatMap((message) => (message.role === 'user' && 'text' in message ? linesIn(message.text) : []));
}

function linesIn(text: string): MeetingLine[] {
  return [...text.matchAll(/^\[(\d{1,2}:\d{2}(?::\d{2})?)\] (Me|Them): (.+)$/gm)].map((match) => ({ at: match[1] ?? '', speaker: match[2] as 'Me' | 'Them', text: match[3] ?? '' }));
}

/**
 * Meeting mode, deterministically: running notes that count who spoke and quote the other side,
 * and answers about what was said, from every transcript line the conversation carried.
 */
function meetingAnswer(conversation: readonly BrainMessage[], text: string): string | null {
  const notes = /Update the running meeting notes/.test(text);
  const question = /Question about the meeting:\s*(.*)$/s.exec(text)?.[1];
  if (!notes && question === undefined) return null;
  const lines = meetingLines(conversation);
  const theirs = lines.filter((line) => line.speaker === 'Them');
  const lastTheirs = theirs.at(-1);
  if (notes) {
    const said = lastTheirs === undefined ? 'Nothing yet from the other side.' : `Last from them (${lastTheirs.at}): "${lastTheirs.text}"`;
    return [
      '## Notes',
      `- ${lines.length} lines so far: ${lines.length - theirs.length} from you, ${theirs.length} from them.`,
      `- ${said}`,
      '',
      '## Decisions',
      '- None recorded (the offline emulator cannot understand speech).',
      '',
      '## Action items',
      '- None recorded.',
    ].join('\n');
  }
  return answerAbout(lines, question ?? '');
}

/** A question about the meeting, answered from its lines. */
function answerAbout(lines: readonly MeetingLine[], question: string): string {
  const theirs = lines.filter((line) => line.speaker === 'Them');
  const lastTheirs = theirs.at(-1);
  if (lines.length === 0) return 'Nothing has been said in the meeting yet.';
  if (/summar/i.test(question)) return `So far ${lines.length} lines: ${lines.length - theirs.length} from you and ${theirs.length} from them, from ${lines[0]?.at} to ${lines.at(-1)?.at}.`;
  if (lastTheirs === undefined) return 'They have not said anything yet; only you have spoken.';
  return `At ${lastTheirs.at} they said: "${lastTheirs.text}"`;
}

/**
 * Replies a UI needs to be tried with, asked for by name: a long one (to scroll), Markdown of
 * every common kind, and Markdown that tries to run code (which must show as text and do nothing).
 */
const samples: ReadonlyArray<{ ask: RegExp; reply: (ordinal: string) => string }> = [
  {
    ask: /\b(long|longer) (reply|answer|story)\b/i,
    reply: (ordinal) =>
      [
        `Here is a long reply, as you asked; this is ${ordinal}.`,
        ...Array.from(
          { length: 24 },
          (_, index) =>
            `Paragraph ${index + 1} of 24. The offline emulator streams these words one by one, at the pace its latency model sets, so a reader can watch the transcript follow the text down the page and stop following when they scroll up to read.`,
        ),
        'That is the end of the long reply.',
      ].join('\n\n'),
  },
  {
    ask: /\bmarkdown (sample|example|demo)\b/i,
    reply: (ordinal) =>
      [
        `## A Markdown sample`,
        `This is ${ordinal}. Replies can use **bold**, *italics*, \`inline code\` and [a link to example.org](https://example.org/docs).`,
        '- a list item\n- another item\n  - a nested one',
        '1. first step\n2. second step',
        '```js\nconst greeting = "hello";\nconsole.log(`${greeting}, world`);\n```',
        '> A quoted line.',
        '| Column | Value |\n| --- | --- |\n| speed | 80 words/s |',
      ].join('\n\n'),
  },
  {
    ask: /\bhostile markdown\b/i,
    reply: (ordinal) =>
      [
        `This is ${ordinal}, with markup that must stay inert:`,
        '<script>window.parleyPwned = "script"</script>',
        '<img src="x" onerror="window.parleyPwned = \'onerror\'">',
        '[a javascript link](javascript:window.parleyPwned=\'link\') and [a file link](file:///etc/passwd)',
        '<a href="https://example.org" onclick="window.parleyPwned = \'onclick\'">an inline anchor</a>',
        '![an image](https://example.org/tracker.png)',
      ].join('\n\n'),
  },
];

interface Schema {
  /** False when the tool declares no properties: then any conventional name will do. */
  declared: boolean;
  properties: Record<string, { type?: unknown }>;
  required: string[];
}

function schemaOf(tool: BrainTool): Schema {
  const properties = tool.parameters?.properties;
  const required = tool.parameters?.required;
  return {
    declared: typeof properties === 'object' && properties !== null,
    properties: (typeof properties === 'object' && properties !== null ? properties : {}) as Schema['properties'],
    required: Array.isArray(required) ? required.filter((key): key is string => typeof key === 'string') : [],
  };
}

/** The string parameter to fill: the conventional name if the tool has it, else its first required string, else its first string. */
function stringParameter(schema: Schema, conventional: string): string | null {
  if (!schema.declared) return conventional;
  const accepts = (key: string): boolean => {
    const type = schema.properties[key]?.type;
    return type === undefined || type === 'string' || (Array.isArray(type) && type.includes('string'));
  };
  const strings = Object.keys(schema.properties).filter(accepts);
  if (strings.includes(conventional)) return conventional;
  return schema.required.find((key) => strings.includes(key)) ?? strings[0] ?? null;
}

/**
 * Arguments the tool's own schema accepts: only parameters it declares, every required one filled.
 * Null when this tool cannot take what the user asked for (then the brain looks for another).
 */
function argumentsFor(skill: Skill, tool: BrainTool, text: string): Record<string, unknown> | null {
  const schema = schemaOf(tool);
  const fill = (conventional: string, value: string): Record<string, unknown> | null => {
    const key = stringParameter(schema, conventional);
    return key === null ? null : { [key]: value };
  };
  let args: Record<string, unknown> | null;
  switch (skill) {
    case 'clock': {
      // The clock tool defaults to the user's zone, so a zone goes in only when one is named or required.
      const key = stringParameter(schema, 'timezone');
      const zone = namedTimeZone(text) ?? (key !== null && schema.required.includes(key) ? localTimeZone() : null);
      args = key === null || zone === null ? {} : { [key]: zone };
      break;
    }
    case 'calculator': {
      const expression = /[-+*/×÷^().\d\s]{3,}/.exec(text)?.[0]?.trim() ?? text;
      args = fill('expression', expression.replace(/×/g, '*').replace(/÷/g, '/'));
      break;
    }
    case 'notes':
      args = fill('text', text.replace(/^.*?\b(note|remember|jot)( that| down)?:?\s*/i, ''));
      break;
    case 'delegate':
      args = fill('task', text);
      break;
    case 'search':
      args = fill('query', searchTerm(text));
      break;
    case 'meeting':
      args = {};
      break;
  }
  return args !== null && schema.required.every((key) => key in args) ? args : null;
}

/** An IANA zone the user named ("what time is it in Asia/Tokyo?"), if the runtime knows it. */
function namedTimeZone(text: string): string | null {
  const candidate = /\b(UTC|GMT|[A-Z][A-Za-z]+\/[A-Z][A-Za-z_-]+(?:\/[A-Z][A-Za-z_-]+)?)\b/.exec(text)?.[1];
  return candidate !== undefined && isTimeZone(candidate) ? candidate : null;
}

function localTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return isTimeZone(zone) ? zone : 'UTC';
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** What to look for: a quoted phrase, an all-caps word (TODO), or the words after "find". */
function searchTerm(text: string): string {
  const quoted = /["“']([^"”']+)["”']/.exec(text)?.[1];
  if (quoted !== undefined) return quoted;
  const caps = /\b[A-Z]{2,}\b/.exec(text)?.[0];
  if (caps !== undefined) return caps;
  const after = /\b(?:find|search(?: for)?|look (?:up|for))\s+(?:the\s+|my\s+|all\s+)?([\w-]+(?:\s+[\w-]+){0,2})/i.exec(text)?.[1];
  return after ?? text;
}

/** One sentence per tool output, in the order the calls were made, as a model would report them. */
function answerFromTools(conversation: readonly BrainMessage[]): string {
  const sentences: string[] = [];
  const asked = conversation.findLast((message) => message.role === 'user' && 'text' in message);
  const question = asked !== undefined && 'text' in asked ? asked.text : '';
  for (let index = conversation.length - 1; index >= 0; index -= 1) {
    const message = conversation[index];
    if (message?.role !== 'tool_output') break;
    const call = conversation.find((candidate): candidate is Extract<BrainMessage, { role: 'tool_call' }> => candidate.role === 'tool_call' && candidate.callId === message.callId);
    sentences.unshift(sentenceFor(call?.name ?? 'the tool', call === undefined ? {} : parseArguments(call.arguments), readOutput(message.output), question));
  }
  return sentences.join(' ');
}

/** A tool output is JSON (an object or array) or plain text (a calculator's "84"). */
type Output = { kind: 'json'; value: unknown } | { kind: 'text'; text: string } | { kind: 'unreadable' };

function readOutput(output: string): Output {
  const trimmed = output.trim();
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (typeof value === 'object' && value !== null) return { kind: 'json', value };
    return { kind: 'text', text: typeof value === 'string' ? value : trimmed };
  } catch {
    // JSON cut short (by compaction, say) is no text to read out.
    return /^[[{]/.test(trimmed) ? { kind: 'unreadable' } : { kind: 'text', text: trimmed };
  }
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

function sentenceFor(name: string, args: Record<string, unknown>, output: Output, question: string): string {
  const skill = skillOf(name);
  if (output.kind === 'unreadable') return `${labelOf(skill, name)} answered, but I could not read its output.`;
  const record = output.kind === 'json' && isRecord(output.value) ? output.value : null;
  const failure = record === null ? null : errorOf(record);
  if (failure !== null) return `${labelOf(skill, name)} couldn't do that: ${asSentence(failure.replace(new RegExp(`^${escapeRegExp(name)} failed: `), ''))}`;
  // A tool may say what to tell the user (a delegated task that has started, say).
  if (typeof record?.message === 'string') return asSentence(record.message);
  const answer = skill === null ? null : skillAnswers[skill](output, firstString(args), question);
  return answer ?? `${name} says: ${asSentence(summarise(output.kind === 'json' ? inWords(output.value) : output.text))}`;
}

const skillAnswers: Record<Skill, (output: Exclude<Output, { kind: 'unreadable' }>, argument: string | null, question: string) => string | null> = {
  clock: (output) => {
    if (output.kind === 'text') return /^\d{1,2}:\d{2}/.test(output.text) ? `It's ${output.text}.` : null;
    if (!isRecord(output.value) || typeof output.value.time !== 'string') return null;
    const { time, timezone, date, weekday } = output.value;
    const clock = /^(\d{1,2}:\d{2})/.exec(time)?.[1] ?? time;
    const zone = typeof timezone === 'string' ? ` in ${timezone}` : '';
    const day = [typeof weekday === 'string' ? weekday : '', typeof date === 'string' ? longDate(date) : ''].filter((part) => part !== '').join(' ');
    return `It's ${clock}${zone}${day === '' ? '' : ` (${day})`}.`;
  },
  calculator: (output, expression) => {
    if (output.kind !== 'text') return null;
    return expression === null ? `The answer is ${output.text}.` : `${prettyExpression(expression)} = ${output.text}.`;
  },
  notes: (output, text) => {
    if (output.kind !== 'json' || !isRecord(output.value)) return null;
    const title = typeof output.value.title === 'string' ? output.value.title : text;
    return output.value.saved === true || title !== null ? `I saved your note “${shorten(title ?? '', 80)}”.` : null;
  },
  search: (output, term) => {
    const value = output.kind === 'json' ? output.value : null;
    const record = isRecord(value) ? value : null;
    const items = Array.isArray(value) ? value : [record?.notes, record?.matches, record?.results].find(Array.isArray);
    const matching = term === null ? '' : ` matching “${term}”`;
    if (items === undefined) return output.kind === 'text' ? `Here is what I found${term === null ? '' : ` for “${term}”`}: ${asSentence(summarise(output.text))}` : null;
    const total = typeof record?.total === 'number' ? record.total : items.length;
    if (total === 0) return `I found nothing${matching}.`;
    const noun = Array.isArray(record?.notes) ? 'note' : 'result';
    const shown = items.slice(0, 5).map((item) => shorten(itemInWords(item), 120).replace(/[.;]+$/, ''));
    const more = total > shown.length ? `; and ${total - shown.length} more` : '';
    return `I found ${total} ${noun}${total === 1 ? '' : 's'}${matching}: ${shown.join('; ')}${more}.`;
  },
  delegate: () => null,
  meeting: (output, _argument, question) => {
    const value = output.kind === 'json' && isRecord(output.value) ? output.value.lines : null;
    return Array.isArray(value) ? answerAbout(linesIn(value.filter((line) => typeof line === 'string').join('\n')), question) : null;
  },
};

function labelOf(skill: Skill | null, name: string): string {
  switch (skill) {
    case 'clock':
      return 'The clock';
    case 'calculator':
      return 'The calculator';
    case 'notes':
      return 'The notes tool';
    case 'search':
      return 'The search';
    case 'delegate':
      return 'The agent';
    case 'meeting':
      return 'The meeting transcript';
    case null:
      return `The tool ${name}`;
  }
}

/** `{ "error": "…" }`, as tool errors and denials reach the model, or an API-style `{ error: { message } }`. */
function errorOf(record: Record<string, unknown>): string | null {
  const error = record.error;
  if (typeof error === 'string') return error;
  return isRecord(error) && typeof error.message === 'string' ? error.message : null;
}

/** One search hit: a file line (`path line 3: text`), a dated note, or whatever fields it has. */
function itemInWords(item: unknown): string {
  if (!isRecord(item)) return inWords(item);
  if (typeof item.path === 'string') {
    const line = typeof item.line === 'number' ? ` line ${item.line}` : '';
    return `${item.path}${line}${typeof item.text === 'string' ? `: ${item.text}` : ''}`;
  }
  const text = typeof item.text === 'string' ? item.text : typeof item.title === 'string' ? item.title : null;
  if (text === null) return inWords(item);
  const date = typeof item.createdAt === 'string' ? ` (${longDate(item.createdAt.slice(0, 10))})` : '';
  return `${text.replace(/\s+/g, ' ').trim()}${date}`;
}

/** Any JSON value as words: fields as "name value", list items separated by semicolons. */
function inWords(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'nothing' : value.map(inWords).join('; ');
  return Object.entries(value)
    .map(([key, field]) => `${key.replace(/_/g, ' ')} ${inWords(field)}`)
    .join(', ');
}

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `2026-12-01` as `1 December 2026`; anything else as it is. */
function longDate(date: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const month = match === null ? undefined : months[Number(match[2]) - 1];
  return match === null || month === undefined ? date : `${Number(match[3])} ${month} ${match[1]}`;
}

/** `12 * 7` as `12 × 7`, the way it is written for a reader. */
function prettyExpression(expression: string): string {
  return expression
    .replace(/\s*\*\s*/g, ' × ')
    .replace(/(?<=[\d)])\s*\/\s*(?=[\d(])/g, ' ÷ ')
    .replace(/\s+/g, ' ')
    .trim();
}

function firstString(args: Record<string, unknown>): string | null {
  const value = Object.values(args).find((field): field is string => typeof field === 'string' && field.trim() !== '');
  return value ?? null;
}

function asSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function shorten(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

function summarise(output: string): string {
  return shorten(output, 160);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Splits text the way models stream it: a word with its leading space per delta. */
export function deltas(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Splits a string into small pieces, as function-call arguments stream. */
export function chunks(text: string, size = 8): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

/** A rough token count (about four characters per token), for usage figures and the latency model. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}
