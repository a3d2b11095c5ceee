/** Browser mode's output rules: its own lines first, logs only with --verbose, warnings after the URL. */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../app/host/copilot';
import { readyLines, startupLog } from '../../main/browserServer';

function recording(): { logger: Logger; written: string[] } {
  const written: string[] = [];
  const logger: Logger = {
    info: (message) => written.push(`info ${message}`),
    warn: (message) => written.push(`warn ${message}`),
    error: (message) => written.push(`error ${message}`),
  };
  return { logger, written };
}

describe('browser mode output', () => {
  it('names the page, then the embedded emulator when there is one', () => {
    expect(readyLines('http://127.0.0.1:5173/?token=abc', 'http://127.0.0.1:4010/v1')).toEqual([
      'Parley is running in browser mode: open http://127.0.0.1:5173/?token=abc',
      'Embedded emulator (offline, no OPENAI_API_KEY): http://127.0.0.1:4010/v1',
    ]);
    expect(readyLines('http://127.0.0.1:5173/?token=abc', null)).toEqual(['Parley is running in browser mode: open http://127.0.0.1:5173/?token=abc']);
  });

  it('without --verbose drops info lines and holds warnings and errors until the URL is out', () => {
    const { logger, written } = recording();
    const startup = startupLog(logger, false);
    startup.log.info('agent socket open');
    startup.log.warn('a settings problem');
    startup.log.error('a tool failed');
    expect(written).toEqual([]);
    written.push('URL line');
    startup.ready();
    startup.log.warn('later warning');
    startup.log.info('later info');
    expect(written).toEqual(['URL line', 'warn a settings problem', 'error a tool failed', 'warn later warning']);
  });

  it('with --verbose writes every line as it happens', () => {
    const { logger, written } = recording();
    const startup = startupLog(logger, true);
    startup.log.info('agent socket open');
    startup.log.warn('a settings problem');
    expect(written).toEqual(['info agent socket open', 'warn a settings problem']);
  });
});
