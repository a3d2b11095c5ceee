/**
 * The emulator's deterministic "model". It answers from the conversation it was given (so a
 * reply shows whether the context arrived intact), calls the tools it recognises among those the
 * request offers, answers from their outputs, and says plainly that it is a local stand-in.
 */

/** The conversation as the brain reads it, whichever protocol it came over. */
export type BrainMessage =
  | { role: 'user'; text: string }
  /** Speech the emulator cannot transcribe: it knows only how long it was. */
  | { role: 'user'; audioMs: number }
  | { role: 'assistant'; text: string }
  | { role: 'tool_call'; callId: string; name: string; arguments: string }
  | { role: 'tool_output'; callId: string; output: string }
  /** A system note added mid-conversation (a finished background task, say): the brain relays it. */
  | { role: 'note'; text: string };

export interface BrainTool {
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
}

export type BrainTurn = { kind: 'text'; text: string } | { kind: 'tool_call'; name: string; arguments: string };

type Skill = 'clock' | 'calculator' | 'notes' | 'delegate' | 'search';

/** Which skill a tool offers, judged by its name, as a model would from its name and description. */
function skillOf(tool: BrainTool): Skill | null {
  const name = tool.name.toLowerCase();
  if (/delegate|agent|research|supervisor/.test(name)) return 'delegate';
  if (/search|find|lookup/.test(name)) return 'search';
  if (/calc|math|arith|evaluate/.test(name)) return 'calculator';
  if (/note|memo|remember/.test(name)) return 'notes';
  if (/clock|time|date/.test(name)) return 'clock';
  return null;
}

const asks: Record<Skill, RegExp> = {
  clock: /\b(what time|the time|time is it|what day|the date|today'?s date|what's the date)\b/i,
  calculator: /(\d+(?:\.\d+)?\s*[-+*/×÷^]\s*\d+(?:\.\d+)?)|\b(calculate|compute|how much is)\b/i,
  notes: /\b(note|remember|jot)\b/i,
  delegate: /\b(find|search|look up|research|investigate|summari[sz]e|go through)\b/i,
  search: /\b(find|search|look up|look for)\b/i,
};

export function think(conversation: readonly BrainMessage[], tools: readonly BrainTool[]): BrainTurn {
  const last = conversation.at(-1);
  if (last?.role === 'tool_output') return { kind: 'text', text: answerFromTools(conversation) };
  if (last?.role === 'note') return { kind: 'text', text: `Update: ${summarise(last.text)}` };

  const users = conversation.filter((message) => message.role === 'user');
  const lastUser = users.at(-1);
  if (lastUser === undefined) return { kind: 'text', text: 'I am ready. Ask me anything.' };
  const ordinal = users.length === 1 ? 'your first message' : `message ${users.length} of our conversation`;

  if ('audioMs' in lastUser) {
    const seconds = (lastUser.audioMs / 1000).toFixed(1);
    return { kind: 'text', text: `I heard ${seconds} seconds of speech, but I am the offline emulator and cannot understand audio. This is ${ordinal}.` };
  }

  const text = lastUser.text;
  for (const skill of ['delegate', 'search', 'calculator', 'notes', 'clock'] as const) {
    const tool = tools.find((candidate) => skillOf(candidate) === skill);
    if (tool !== undefined && asks[skill].test(text)) return { kind: 'tool_call', name: tool.name, arguments: JSON.stringify(argumentsFor(skill, tool, text)) };
  }
  if (/^\s*(hello|hi|hey)\b/i.test(text)) {
    return { kind: 'text', text: `Hello! I am Parley's offline emulator, streaming this reply the way the Responses API does. This is ${ordinal}.` };
  }
  return { kind: 'text', text: `You said: "${text}". This is ${ordinal}; I am the offline emulator, so set OPENAI_API_KEY to talk to a real model.` };
}

/** Fills the tool's first string parameter (or a conventional name) with what the user asked for. */
function argumentsFor(skill: Skill, tool: BrainTool, text: string): Record<string, unknown> {
  const properties = (tool.parameters?.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = Array.isArray(tool.parameters?.required) ? (tool.parameters.required as string[]) : [];
  const stringParams = Object.keys(properties).filter((key) => properties[key]?.type === 'string');
  const pick = (fallback: string): string => required.find((key) => stringParams.includes(key)) ?? stringParams[0] ?? fallback;
  switch (skill) {
    case 'clock':
      return stringParams.length === 0 ? {} : { [pick('timezone')]: 'local' };
    case 'calculator': {
      const expression = /[-+*/×÷^().\d\s]{3,}/.exec(text)?.[0]?.trim() ?? text;
      return { [pick('expression')]: expression.replace(/×/g, '*').replace(/÷/g, '/') };
    }
    case 'notes':
      return { [pick('text')]: text.replace(/^.*?\b(note|remember|jot)( that| down)?:?\s*/i, '') };
    case 'delegate':
      return { [pick('task')]: text };
    case 'search':
      return { [pick('query')]: searchTerm(text) };
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

function answerFromTools(conversation: readonly BrainMessage[]): string {
  const outputs: string[] = [];
  for (let index = conversation.length - 1; index >= 0; index -= 1) {
    const message = conversation[index];
    if (message?.role !== 'tool_output') break;
    // A tool may say what to tell the user (a delegated task that has started, say).
    const said = messageOf(message.output);
    if (said !== null) {
      outputs.unshift(said);
      continue;
    }
    const call = conversation.find((candidate) => candidate.role === 'tool_call' && candidate.callId === message.callId);
    const name = call?.role === 'tool_call' ? call.name : 'the tool';
    outputs.unshift(`${name} returned ${summarise(message.output)}`);
  }
  return outputs.length === 1 && messageOf((conversation.at(-1) as { output?: string }).output ?? '') !== null ? (outputs[0] as string) : `Done: ${outputs.join('; ')}.`;
}

function messageOf(output: string): string | null {
  try {
    const value = JSON.parse(output) as { message?: unknown };
    return typeof value?.message === 'string' ? value.message : null;
  } catch {
    return null;
  }
}

function summarise(output: string): string {
  const flat = output.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}…` : flat;
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
