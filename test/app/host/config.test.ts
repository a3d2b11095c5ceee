import { describe, expect, it } from 'vitest';
import { planConnection } from '../../../app/host/config';
import { responsesSocketUrl } from '../../../app/responses/session';

describe('planConnection', () => {
  it('runs on the emulator when OPENAI_API_KEY is unset or blank', () => {
    expect(planConnection({})).toEqual({ kind: 'offline-emulator' });
    expect(planConnection({ OPENAI_API_KEY: '   ' })).toEqual({ kind: 'offline-emulator' });
  });

  it('goes online with the key and the default or given base URL', () => {
    expect(planConnection({ OPENAI_API_KEY: 'sk-abc' })).toEqual({ kind: 'online', apiKey: 'sk-abc', baseUrl: 'https://api.openai.com/v1' });
    expect(planConnection({ OPENAI_API_KEY: 'sk-abc', OPENAI_BASE_URL: 'http://localhost:8080/v1/' })).toMatchObject({ baseUrl: 'http://localhost:8080/v1' });
  });

  it.each([
    ['not a url', 'is not a URL'],
    ['ftp://example.com/v1', 'uses ftp'],
    ['https://example.com/v1?x=1', 'must not carry a query'],
  ])('explains a bad OPENAI_BASE_URL %j', (value, says) => {
    const plan = planConnection({ OPENAI_API_KEY: 'sk-abc', OPENAI_BASE_URL: value });
    expect(plan).toMatchObject({ kind: 'invalid', problem: { code: 'invalid_base_url' } });
    if (plan.kind !== 'invalid') throw new Error('unreachable');
    expect(plan.problem.message).toContain(says);
    expect(plan.problem.hint).toContain('OPENAI_BASE_URL');
  });
});

describe('responsesSocketUrl', () => {
  it('maps http to ws and anything else to wss, as the SDK does', () => {
    expect(responsesSocketUrl('http://127.0.0.1:4010/v1')).toBe('ws://127.0.0.1:4010/v1/responses');
    expect(responsesSocketUrl('https://api.openai.com/v1')).toBe('wss://api.openai.com/v1/responses');
  });
});
