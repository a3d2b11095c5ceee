/**
 * One realistic run of the app against the emulator, every socket tapped: typed agent turns on
 * the Responses socket (warmup, tool calls, an evicted cache, a dropped socket, a 429, a failure
 * mid-stream, server compaction, lanes, a reasoning model with store:false and a stored
 * non-reasoning one), then through the copilot a spoken turn and a delegated typed turn over
 * Realtime, and a pipeline-mode turn over the transcription session and the agent.
 */
import { noLatency } from '../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../app/emulator/server';
import { commandChannels, type PushEvent } from '../../app/contract';
import { createCopilot } from '../../app/host/copilot';
import { userMessage } from '../../app/protocol/responses';
import { testDeps } from '../support/copilot';
import { calculatorTool, countingCalculator, testSession } from '../support/sessions';
import { fastScheduler, frameRecorder, RecordingSink, ScriptedMic, type FrameRecorder } from '../../app/testing';

export interface RunSummary {
  /** What each step ended as, so the test can tell a run that went wrong from one that conformed. */
  outcomes: Record<string, string>;
}

async function agentTurns(emulator: Emulator, recorder: FrameRecorder, outcomes: Record<string, string>): Promise<void> {
  const { runner } = countingCalculator();
  // A reasoning model with store:false, warmed up, tools on, compacting early.
  const reasoning = testSession(
    emulator.baseUrl,
    { model: 'gpt-5-mini', store: false, tools: [calculatorTool], warmup: 'always', compaction: { mode: 'server', thresholdTokens: 1000 } },
    { createWebSocket: recorder.createWebSocket, runTool: runner, sleep: async () => undefined },
  );
  const { session } = reasoning;
  const turn = async (name: string, text: string, lane?: string): Promise<void> => {
    const outcome = await session.runTurn([userMessage(text)], {}, lane);
    outcomes[name] = outcome.status;
  };
  await session.connect();
  await turn('hello', 'hello');
  await turn('tool call', 'what is 2 + 3?');
  // Over the spec's smallest compact_threshold (1000 tokens), so the server compacts.
  await turn('compaction', `Keep this in mind: ${'the quick brown fox jumps over the lazy dog '.repeat(110)}`);
  emulator.inject({ kind: 'evict_cache' });
  await turn('after evict_cache', 'and now?');
  emulator.inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 2 }, 'responses');
  await turn('after drop_socket', 'what is 4 * 5?');
  emulator.inject({ kind: 'rate_limit', retryAfterS: 1 }, 'responses');
  await turn('after rate_limit', 'one more');
  emulator.inject({ kind: 'error_mid_stream', afterDeltas: 1 }, 'responses');
  await turn('error_mid_stream', 'this one fails');
  await Promise.all([turn('lane left', 'left lane', 'left'), turn('lane right', 'what is 6 + 7?', 'right')]);
  session.close();

  // A stored, non-reasoning model: no reasoning items, no compaction.
  const stored = testSession(emulator.baseUrl, { model: 'gpt-4.1-mini', store: true, warmup: 'off', compaction: { mode: 'off', thresholdTokens: 100_000 } }, { createWebSocket: recorder.createWebSocket });
  outcomes['stored'] = (await stored.session.runTurn([userMessage('hi there')])).status;
  outcomes['stored chained'] = (await stored.session.runTurn([userMessage('and again')])).status;
  stored.session.close();
}

async function voiceTurns(emulator: Emulator, recorder: FrameRecorder, outcomes: Record<string, string>): Promise<void> {
  const mic = new ScriptedMic();
  const sink = new RecordingSink();
  const copilot = createCopilot({
    ...testDeps({}),
    createWebSocket: recorder.createWebSocket,
    // The run's emulator, which the copilot must not close: the other steps share it.
    startEmulator: async () => ({ baseUrl: emulator.baseUrl, close: async () => undefined }),
    voice: { createMic: () => mic, createSpeaker: () => sink, scheduler: fastScheduler(50) },
    installTools: (registry) =>
      registry.register({
        name: 'search_notes',
        description: 'Searches the user notes.',
        parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
        risk: 'private',
        source: 'builtin',
        execute: async () => JSON.stringify({ matches: ['TODO: renew passport'] }),
      }),
  });
  const seen: PushEvent[] = [];
  copilot.onEvent((event) => {
    seen.push(event);
    if (event.type === 'permission') void copilot.call(commandChannels.answerPermission, { requestId: event.request.requestId, decision: 'once' });
  });
  /** The status of the first voice reply finished after `from` events (and matching `predicate`). */
  const voiceReply = (from: number, predicate: (text: string) => boolean = () => true): Promise<string> =>
    new Promise((resolve) => {
      const check = (): boolean => {
        const reply = seen.slice(from).find((event): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.source === 'voice' && event.turn.role === 'assistant' && predicate(event.turn.text));
        if (reply === undefined) return false;
        resolve(reply.turn.status);
        return true;
      };
      if (check()) return;
      const stop = copilot.onEvent(() => void (check() && stop()));
    });
  try {
    await copilot.start();
    // A spoken turn over the Realtime session.
    let from = seen.length;
    await copilot.call(commandChannels.pressToTalk, {});
    mic.speak(900);
    await copilot.call(commandChannels.releaseToTalk, {});
    outcomes['voice turn'] = await voiceReply(from);
    // Typed with voice open: the voice front delegates to the agent (a Realtime function call).
    await copilot.call(commandChannels.startVoice, {});
    from = seen.length;
    await copilot.call(commandChannels.sendMessage, { text: 'find the TODO items in my notes' });
    outcomes['voice delegation'] = await voiceReply(from, (text) => text.startsWith('Update:'));
    // Pipeline mode: transcription session, the agent, speech.
    await copilot.call(commandChannels.stopVoice, {});
    await copilot.call(commandChannels.updateSettings, { patch: { turnMode: 'pipeline' } });
    from = seen.length;
    await copilot.call(commandChannels.pressToTalk, {});
    mic.speak(900);
    await copilot.call(commandChannels.releaseToTalk, {});
    outcomes['pipeline turn'] = await voiceReply(from);
  } finally {
    await copilot.close();
  }
}

export async function recordRun(recorder: FrameRecorder = frameRecorder()): Promise<FrameRecorder & RunSummary> {
  const outcomes: Record<string, string> = {};
  const emulator = await startEmulator({ latency: noLatency });
  try {
    await agentTurns(emulator, recorder, outcomes);
    await voiceTurns(emulator, recorder, outcomes);
  } finally {
    await emulator.close();
  }
  return { ...recorder, outcomes };
}
