/**
 * Settings errors in Parley's words. The schema's own messages (app/contract/settings.ts) speak
 * for the rules it names; this error map speaks for everything zod would otherwise word itself
 * ("Too small: expected string to have >=1 characters"), naming the field the way the panel does.
 */
import type { z } from 'zod';

/**
 * What the panel calls each field, as the subject of a sentence. Fields whose schema words every
 * error itself (the reasoning efforts, history retention) need none.
 */
const labels: Record<string, string> = {
  realtimeModel: 'The voice model',
  realtimeParallelToolCalls: 'Calling several tools at once',
  agentModel: 'The agent model',
  voice: 'The voice',
  turnMode: 'The turn mode',
  pipelineListen: 'Pipeline turns',
  transcriptionModel: 'The transcription model',
  speechModel: 'The speech model',
  vad: 'Voice detection',
  'vad.threshold': 'The speech threshold',
  'vad.prefixPaddingMs': 'The audio kept before speech (ms)',
  'vad.silenceDurationMs': 'The silence that ends a turn (ms)',
  eagerness: 'Eagerness',
  echo: 'Speakers or headphones',
  echoCancellation: 'Echo cancellation',
  audioFormat: 'The audio format',
  inputDevice: 'The microphone',
  outputDevice: 'The speaker',
  meetingAudioDevice: 'The meeting audio device',
  hotkey: 'The hotkey',
  earcons: 'Sounds',
  instructions: 'The instructions',
  baseUrl: 'The base URL',
  store: 'Letting OpenAI store responses',
  compaction: 'Compaction',
  'compaction.mode': 'The compaction mode',
  'compaction.thresholdTokens': 'The compaction threshold (tokens)',
  rolloverMinutes: 'The rollover time (minutes)',
  toolPermissions: 'A tool permission',
  workspaceFolders: 'The list of workspace folders',
  mcpServers: 'The list of MCP servers',
  'mcpServers.transport': 'An MCP server’s connection',
  'mcpServers.command': 'An MCP server’s command',
  'mcpServers.args': 'An MCP server’s arguments',
  'mcpServers.url': 'An MCP server’s address',
  'mcpServers.enabled': 'An MCP server’s on switch',
  startMinimised: 'Starting minimised',
  hideFromCapture: 'Hiding Parley from screen sharing',
};

/** Lists whose length limit reads better as "at most N of them". */
const collections: Record<string, string> = { workspaceFolders: 'workspace folders', mcpServers: 'MCP servers' };

const kinds: Record<string, string> = { number: 'a number', int: 'a whole number', string: 'text', boolean: 'on or off', array: 'a list', object: 'a group of values', record: 'a group of values' };

/** The field an issue belongs to, as the panel groups errors: the top-level setting. */
export function fieldOf(path: readonly PropertyKey[]): string {
  const first = path[0];
  return typeof first === 'string' ? first : 'settings';
}

/** The label for an issue's path: the nested one if it has its own, else the field's. */
function labelOf(path: readonly PropertyKey[]): string {
  const named = path.filter((part): part is string => typeof part === 'string');
  for (let length = named.length; length > 0; length -= 1) {
    const label = labels[named.slice(0, length).join('.')];
    if (label !== undefined) return label;
  }
  return 'This setting';
}

/** A zod error map (pass as `safeParse(value, { error: settingsErrorMap })`): one plain sentence per issue. */
export const settingsErrorMap: z.core.$ZodErrorMap = (issue) => {
  const path = issue.path ?? [];
  const label = labelOf(path);
  switch (issue.code) {
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'string') return minimum <= 1 ? `${label} can't be empty.` : `${label} needs at least ${minimum} characters.`;
      if (issue.origin === 'array') return `${label} needs at least ${minimum}.`;
      return issue.inclusive === false ? `${label} must be more than ${minimum}.` : `${label} must be at least ${minimum}.`;
    }
    case 'too_big': {
      const maximum = Number(issue.maximum);
      if (issue.origin === 'string') return `${label} can be at most ${maximum} characters long.`;
      const collection = collections[fieldOf(path)];
      if (issue.origin === 'array') return collection === undefined ? `${label} can hold at most ${maximum}.` : `Parley takes at most ${maximum} ${collection}.`;
      return issue.inclusive === false ? `${label} must be less than ${maximum}.` : `${label} can be at most ${maximum}.`;
    }
    case 'invalid_type':
      return `${label} must be ${kinds[issue.expected] ?? `a ${issue.expected}`}.`;
    case 'invalid_value':
      return `${label} must be one of: ${issue.values.map(String).join(', ')}.`;
    case 'invalid_format':
      return issue.format === 'url' ? `${label} must be a full address, like https://api.openai.com/v1.` : `${label} is not written the way Parley expects.`;
    case 'not_multiple_of':
      return `${label} must be a multiple of ${String(issue.divisor)}.`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? `“${issue.keys[0]}” is not a setting Parley has.` : `${issue.keys.map((key) => `“${key}”`).join(', ')} are not settings Parley has.`;
    case 'invalid_union':
      return `${label} is not one of the values Parley takes.`;
    default:
      return `${label} is not a value Parley can use.`;
  }
};

/** Each field's problems as one message, keyed by the top-level setting. */
export function settingsFieldErrors(issues: readonly z.core.$ZodIssue[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const field = fieldOf(issue.path);
    const before = errors[field];
    if (before === undefined) errors[field] = issue.message;
    else if (!before.includes(issue.message)) errors[field] = `${before} ${issue.message}`;
  }
  return errors;
}
