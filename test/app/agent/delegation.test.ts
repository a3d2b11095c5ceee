/**
 * The supervisor pattern end to end on the emulator: a request typed into the voice conversation
 * is delegated, the agent runs its tool loop (asking permission for the notes), and the voice
 * speaks the result when it arrives.
 */
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { PermissionRequest } from '../../../app/contract';
import { PlayoutBuffer } from '../../../app/audio/playout';
import { delegationTool, delegationToolName, type AgentOutcome } from '../../../app/agent/supervisor';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { InspectorLog } from '../../../app/inspector/log';
import { ToolHost } from '../../../app/host/tools';
import { userMessage } from '../../../app/protocol/responses';
import { RealtimeSession, type RealtimeSessionEvent } from '../../../app/voice/realtimeSession';
import { defaultVoiceSettings } from '../../../app/voice/settings';
import { ResponsesSession } from '../../../app/responses/session';
import { defaultSessionSettings } from '../../../app/responses/settings';
import { fastScheduler, RecordingSink, ScriptedMic } from '../../../app/testing';

let emulator: Emulator | null = null;
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await emulator?.close();
  emulator = null;
});

describe('delegation from the voice to the agent', () => {
  it('acknowledges at once, runs the agent tool loop with permission, and speaks the result', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const prompts: PermissionRequest[] = [];
    const host: ToolHost = new ToolHost({
      permissions: () => ({}),
      allowAlways: () => undefined,
      emit: (event) => {
        if (event.type === 'permission') {
          prompts.push(event.request);
          // The user allows it once, as they would in the dialog.
          queueMicrotask(() => host.answer(event.request.requestId, 'once'));
        }
      },
      inspector: new InspectorLog(),
      now: () => performance.now(),
      newId: () => crypto.randomUUID(),
    });
    host.registry.register({
      name: 'search_notes',
      description: 'Searches the user notes.',
      parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
      risk: 'private',
      source: 'builtin',
      execute: async (args) => JSON.stringify({ matches: [`TODO: renew passport (matched ${String(args.query)})`] }),
    });
    const agent = new ResponsesSession({
      baseUrl: emulator.baseUrl,
      apiKey: 'sk-test',
      settings: { ...defaultSessionSettings, model: 'gpt-5-mini', instructions: 'Use tools.', tools: host.registry.forResponses((tool) => tool.name !== delegationToolName) },
      createWebSocket: (url, options) => new WebSocket(url, options),
      fetch: (input, init) => fetch(input, init),
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      runTool: host.executor.runnerFor('agent'),
    });
    closers.push(() => agent.close());
    const agentTurns: string[] = [];
    let voice: RealtimeSession | null = null;
    host.registry.register(
      delegationTool({
        runAgentTurn: async (request): Promise<AgentOutcome> => {
          agentTurns.push(request);
          const outcome = await agent.runTurn([userMessage(request)]);
          return outcome.status === 'failed' ? { ok: false, problem: outcome.problem } : { ok: true, text: outcome.text };
        },
        tellVoice: (note) => voice?.addNote(note),
        newId: () => crypto.randomUUID(),
      }),
    );
    const events: RealtimeSessionEvent[] = [];
    const spoken = new Promise<string>((resolve) => {
      voice = new RealtimeSession({
        baseUrl: emulator!.baseUrl,
        apiKey: 'sk-test',
        settings: { ...defaultVoiceSettings, tools: host.registry.forRealtime((tool) => tool.name === delegationToolName || tool.risk === 'safe') },
        createWebSocket: (url, options) => new WebSocket(url, options),
        mic: new ScriptedMic(),
        playout: new PlayoutBuffer({ sink: new RecordingSink(), scheduler: fastScheduler(50) }),
        now: () => performance.now(),
        sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
        runTool: host.executor.runnerFor('voice'),
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'transcript.assistant.done' && event.text.startsWith('Update:')) resolve(event.text);
        },
      });
    });
    closers.push(() => voice?.close());
    await voice!.connect();
    voice!.sendText('find the TODO items in my notes');

    const said = await spoken;
    const replies = events.filter((event) => event.type === 'transcript.assistant.done').map((event) => (event as { text: string }).text);
    // First the quick acknowledgement, then the result.
    expect(replies[0]).toContain("I'm on it");
    expect(said).toContain('renew passport');
    expect(agentTurns).toEqual(['find the TODO items in my notes']);
    expect(prompts.map((prompt) => prompt.name)).toEqual(['search_notes']);
    expect(host.activities.map((activity) => [activity.caller, activity.name, activity.status])).toEqual([
      ['voice', delegationToolName, 'succeeded'],
      ['agent', 'search_notes', 'succeeded'],
    ]);
  });
});
