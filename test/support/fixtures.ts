import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Real recorded OpenAI streams, vendored under test/fixtures/recorded (source and licence in SOURCES.md there). */
export const recordedDir = join(import.meta.dirname, '../fixtures/recorded/responses-http-stream');

export function recordedLines(name: string): string[] {
  return readFileSync(join(recordedDir, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}
