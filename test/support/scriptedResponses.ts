/**
 * A Responses WebSocket server that answers each request with the next scripted output (a list
 * of output items), for session tests that need exact model behaviour: repeated call ids, endless
 * tool calls, arguments that are not JSON. It records every request it received.
 */
import { WebSocketServer } from 'ws';

export interface ScriptedResponses {
  baseUrl: string;
  received: Array<Record<string, unknown>>;
  close(): void;
}

export async function scriptedServer(outputs: unknown[][], behaviour: { alwaysMiss?: boolean } = {}): Promise<ScriptedResponses> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const received: Array<Record<string, unknown>> = [];
  let next = 0;
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const request = JSON.parse(data.toString()) as Record<string, unknown>;
      received.push(request);
      const send = (event: object) => ws.send(JSON.stringify(event));
      if (request.previous_response_id && behaviour.alwaysMiss) {
        send({ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'previous_response_not_found', message: 'gone', param: 'previous_response_id' } });
        return;
      }
      if (behaviour.alwaysMiss && request.generate !== false) {
        send({ type: 'error', status: 500, error: { type: 'server_error', code: 'server_error', message: 'still failing', param: null } });
        return;
      }
      const output = request.generate === false ? [] : (outputs[next++] ?? []);
      const response = { id: `resp_${received.length}`, object: 'response', status: 'completed', output, usage: null };
      send({ type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [] } });
      send({ type: 'response.completed', sequence_number: 1, response });
    }),
  );
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}/v1`, received, close: () => wss.close() };
}
