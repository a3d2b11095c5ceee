/**
 * The agent turn's tool loop against a scripted server, where the test decides exactly what the
 * model answers: a call id seen twice runs once, the step limit stops an endless loop, and a
 * cancelled turn leaves no function call without its output.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { userMessage } from '../../../app/protocol/responses';
import { scriptedServer, type ScriptedResponses } from '../../support/scriptedResponses';
import { calculatorTool, countingCalculator, testSession } from '../../support/sessions';

let server: ScriptedResponses | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

const call = (callId: string, expression = '2 + 3') => ({ type: 'function_call', id: `fc_${callId}`, call_id: callId, name: 'calculator', arguments: JSON.stringify({ expression }), status: 'completed' });
const say = (text: string) => ({ type: 'message', id: `msg_${text.length}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] });
type Item = { type: string; call_id?: string; output?: string };
const inputOf = (request: Record<string, unknown> | undefined) => (request?.input ?? []) as Item[];

describe('tool calls in a turn', () => {
  it('runs a call id once even when a later response repeats it, and answers it both times', async () => {
    server = await scriptedServer([[call('call_1')], [call('call_1'), call('call_2', '3 * 4')], [say('5 and 12.')]]);
    const { runner, runs } = countingCalculator();
    const { session } = testSession(server.baseUrl, { tools: [calculatorTool], warmup: 'off' }, { runTool: runner });
    const turn = await session.runTurn([userMessage('go')]);
    expect(turn).toMatchObject({ status: 'completed', text: '5 and 12.' });
    expect(runs).toEqual(['call_1', 'call_2']);
    // The repeated call still gets its (remembered) output, so the model sees it answered.
    expect(inputOf(server.received[2])).toEqual([
      { type: 'function_call_output', call_id: 'call_1', output: '5' },
      { type: 'function_call_output', call_id: 'call_2', output: '12' },
    ]);
    session.close();
  });

  it('remembers call ids across turns of the session, not only within one', async () => {
    server = await scriptedServer([[call('call_1')], [say('5.')], [call('call_1')], [say('Still 5.')]]);
    const { runner, runs } = countingCalculator();
    const { session } = testSession(server.baseUrl, { tools: [calculatorTool], warmup: 'off' }, { runTool: runner });
    await session.runTurn([userMessage('first')]);
    const second = await session.runTurn([userMessage('again')]);
    expect(second.text).toBe('Still 5.');
    expect(runs).toEqual(['call_1']);
    session.close();
  });

  it('stops a model that never stops calling tools at maxToolSteps, and says so', async () => {
    server = await scriptedServer(Array.from({ length: 20 }, (_, index) => [call(`call_${index}`)]));
    const { runner, runs } = countingCalculator();
    const { session } = testSession(server.baseUrl, { tools: [calculatorTool], warmup: 'off', maxToolSteps: 3 }, { runTool: runner });
    const turn = await session.runTurn([userMessage('loop')]);
    expect(turn.status).toBe('failed');
    expect(turn.status === 'failed' ? turn.problem : null).toEqual({ code: 'server_error', message: 'The agent used more than 3 tool steps without answering.', hint: 'Ask again more specifically.' });
    // Steps 0 to 3 each asked the model once and ran its call; the fifth request never went out.
    expect(server.received).toHaveLength(4);
    expect(runs).toEqual(['call_0', 'call_1', 'call_2', 'call_3']);
    session.close();
  });

  it('a cancel during a tool leaves no function call without output: the next turn resends every call answered', async () => {
    server = await scriptedServer([[call('call_a'), call('call_b', '3 * 4')], [say('Fine.')]]);
    const controller = new AbortController();
    const runs: string[] = [];
    const { session } = testSession(
      server.baseUrl,
      { tools: [calculatorTool], warmup: 'off' },
      {
        // The user cancels while the first of two calls runs.
        runTool: async (toolCall) => {
          runs.push(toolCall.callId);
          controller.abort();
          return '5';
        },
      },
    );
    const cancelled = await session.runTurn([userMessage('two sums')], { signal: controller.signal });
    expect(cancelled).toMatchObject({ status: 'failed', problem: { message: 'Cancelled: the agent stopped before finishing.' } });
    expect(runs).toEqual(['call_a']);
    const next = await session.runTurn([userMessage('never mind')]);
    expect(next.text).toBe('Fine.');
    // The chain was dropped, so the whole window went out: each call with exactly one output.
    const resent = inputOf(server.received[1]);
    expect(server.received[1]?.previous_response_id).toBeUndefined();
    const outputs = resent.filter((item) => item.type === 'function_call_output');
    expect(outputs.map((item) => item.call_id)).toEqual(['call_a', 'call_b']);
    expect(outputs[0]?.output).toBe('5');
    expect(JSON.parse(outputs[1]?.output ?? '{}')).toEqual({ error: 'Cancelled by the user.' });
    expect(resent.filter((item) => item.type === 'function_call').map((item) => item.call_id)).toEqual(['call_a', 'call_b']);
    session.close();
  });
});
