/**
 * The supervisor pattern: the voice front answers quick things itself and hands real work to the
 * Responses agent through one tool. The tool returns at once (so the voice can say it is on it and
 * keep talking), the agent runs its tool loop on its own socket, and the result comes back to the
 * voice as a note it speaks.
 */
import type { Problem } from '../contract';
import type { ToolDefinition } from './registry';

export const delegationToolName = 'delegate_to_agent';

export type AgentOutcome = { ok: true; text: string } | { ok: false; problem: Problem };

export interface DelegationOptions {
  /** Runs one agent turn (it appears in the transcript) and resolves with its answer. */
  runAgentTurn: (request: string) => Promise<AgentOutcome>;
  /** Tells the voice front something to say. */
  tellVoice: (note: string) => void;
  newId: () => string;
}

export function delegationTool(options: DelegationOptions): ToolDefinition {
  return {
    name: delegationToolName,
    source: 'agent',
    risk: 'safe',
    description:
      'Hand a task that needs several steps or the user\'s files, notes, clipboard or the web to the agent, which works in the background. Say briefly that you are on it; the result arrives later as a system note for you to tell the user.',
    parameters: {
      type: 'object',
      properties: {
        task: { type: 'string', description: 'What the user wants done, in full.' },
        context: { type: 'string', description: 'Anything from the conversation the agent needs.' },
      },
      required: ['task'],
      additionalProperties: false,
    },
    async execute(args) {
      const task = String(args.task);
      const context = typeof args.context === 'string' && args.context.trim() !== '' ? `\n\nContext from the conversation: ${args.context}` : '';
      const taskId = options.newId().slice(0, 8);
      void options.runAgentTurn(`${task}${context}`).then((outcome) =>
        options.tellVoice(
          outcome.ok
            ? `Delegated task ${taskId} finished. Tell the user the result: ${outcome.text}`
            : `Delegated task ${taskId} did not finish: ${outcome.problem.message} Tell the user briefly.`,
        ),
      );
      return JSON.stringify({ status: 'started', task_id: taskId, message: "I'm on it; the agent is working on that now." });
    },
  };
}
