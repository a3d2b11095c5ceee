import { describe, expect, it } from 'vitest';
import { consoleLogger, redact } from '../../main/log';

describe('the log', () => {
  it('masks anything shaped like an API key, in messages and fields', () => {
    const lines: string[] = [];
    const log = consoleLogger('test', (line) => lines.push(line));
    log.warn('key sk-proj-abcdefghijklmnop1234 refused', { header: 'Bearer sk-abcd1234567890XYZ' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('sk-proj…');
    expect(lines[0]).not.toContain('abcdefghijklmnop1234');
    expect(lines[0]).not.toContain('1234567890XYZ');
    expect(redact('no secrets here')).toBe('no secrets here');
  });
});
