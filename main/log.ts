import type { Logger } from '../app/host/copilot';

/** Anything shaped like an OpenAI key is masked before a line is written. */
const keyPattern = /\b(sk-[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{8,}/g;

export function redact(text: string): string {
  return text.replace(keyPattern, '$1…');
}

export function consoleLogger(scope: string, write: (line: string) => void = (line) => console.error(line)): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const suffix = fields === undefined ? '' : ` ${JSON.stringify(fields)}`;
    write(redact(`${new Date().toISOString()} ${level} [${scope}] ${message}${suffix}`));
  };
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}
