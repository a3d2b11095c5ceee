/**
 * The one way into the handlers: a channel is looked up in the contract's table and its payload
 * checked against the command's schema before the handler sees it.
 */
import { commandForChannel, commands, type CommandHandlers, type CommandResult } from '../contract';
import type { Logger } from './ports';

export function commandDispatcher(handlers: CommandHandlers, log: Logger): (channel: string, payload: unknown) => Promise<CommandResult<unknown>> {
  return async (channel, payload) => {
    const name = commandForChannel(channel);
    if (name === undefined) {
      log.warn('refused a call to an unknown command', { channel: channel.slice(0, 64) });
      return {
        ok: false,
        problem: { code: 'unknown_command', message: `Parley has no command "${channel.slice(0, 64)}".`, hint: 'The window and the app are out of step: restart Parley.' },
      };
    }
    const parsed = commands[name].request.safeParse(payload);
    if (!parsed.success) {
      const details = parsed.error.issues.map((issue) => issue.message).join(' ');
      log.warn('refused a malformed command', { channel, details });
      return { ok: false, problem: { code: 'invalid_payload', message: details, hint: 'Nothing was sent. Correct it and try again.' } };
    }
    const handler = handlers[name] as (request: unknown) => CommandResult<unknown> | Promise<CommandResult<unknown>>;
    return handler(parsed.data);
  };
}
