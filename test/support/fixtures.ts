import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The real recorded streams in ../shared/fixtures/recorded (see SOURCES.md there). */
export const recordedDir = join(import.meta.dirname, '../../../shared/fixtures/recorded/responses-http-stream');

export function recordedLines(name: string): string[] {
  return readFileSync(join(recordedDir, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}
