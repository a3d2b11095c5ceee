import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandChannels } from '../../app/contract';
import { createCopilot, type Copilot } from '../../app/host/copilot';
import { startBrowserMode, type BrowserMode } from '../../main/browserServer';
import { openRawClient, upgradeStatus, type Frame } from '../support/wire';
import { recordingLogger, testDeps } from '../support/copilot';

let rendererDir: string;
let copilot: Copilot;
let browser: BrowserMode;

beforeEach(async () => {
  rendererDir = await mkdtemp(join(tmpdir(), 'parley-renderer-'));
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Parley</title>');
  await writeFile(join(rendererDir, 'app.js'), 'console.log(1)');
  copilot = createCopilot(testDeps({}));
  await copilot.start();
  browser = await startBrowserMode({ copilot, rendererDir, log: recordingLogger() });
});
afterEach(async () => {
  await browser.close();
  await copilot.close();
  await rm(rendererDir, { recursive: true, force: true });
});

const bridgeUrl = (token: string) => `${browser.origin.replace('http', 'ws')}/bridge?token=${token}`;

describe('browser mode', () => {
  it('binds to 127.0.0.1 and hands out a URL with its launch token', () => {
    expect(browser.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
    expect(browser.url).toContain(browser.token);
  });

  it('serves the renderer with a strict CSP and refuses paths outside it', async () => {
    const page = await fetch(`${browser.origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${browser.origin}/app.js`)).headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${browser.origin}/missing.js`)).status).toBe(404);
    expect((await fetch(`${browser.origin}/%2e%2e/%2e%2e/etc/passwd`)).status).not.toBe(200);
    expect((await fetch(`${browser.origin}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses bridge connections without the token or from another origin', async () => {
    expect(await upgradeStatus(bridgeUrl(''), { Origin: browser.origin })).toBe(401);
    expect(await upgradeStatus(bridgeUrl('wrong'), { Origin: browser.origin })).toBe(401);
    expect(await upgradeStatus(bridgeUrl(browser.token), { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(bridgeUrl(browser.token))).toBe(403);
    expect(await upgradeStatus(bridgeUrl(browser.token), { Origin: browser.origin })).toBe(101);
  });

  it("tells a page whose socket was refused whether its token is this run's, over plain HTTP", async () => {
    expect((await fetch(`${browser.origin}/bridge?token=${browser.token}`)).status).toBe(204);
    expect((await fetch(`${browser.origin}/bridge?token=from-an-earlier-run`)).status).toBe(401);
    expect((await fetch(`${browser.origin}/bridge`)).status).toBe(401);
  });

  it('carries commands and streamed events over the bridge, and answers bad frames clearly', async () => {
    const client = await openRawClient(bridgeUrl(browser.token), { Origin: browser.origin });
    client.send('not json');
    const [refused] = await client.collect((frame) => frame.type === 'result');
    expect(refused).toMatchObject({ id: null, result: { ok: false, problem: { code: 'invalid_payload' } } });

    // A call without a payload (as the page sends getSnapshot) is well-formed.
    client.send({ id: 7, channel: commandChannels.getSnapshot });
    expect((await client.collect((frame) => frame.type === 'result'))[0]).toMatchObject({ id: 7, result: { ok: true } });

    client.send({ id: 1, channel: 'copilot:nope', payload: {} });
    expect((await client.collect((frame) => frame.type === 'result'))[0]).toMatchObject({ id: 1, result: { problem: { code: 'unknown_command' } } });

    client.send({ id: 2, channel: commandChannels.sendMessage, payload: { text: 'hello' } });
    const frames = await client.collect((frame) => frame.type === 'event' && (frame.event as Frame).type === 'turn.finished');
    expect(frames.find((frame) => frame.type === 'result')).toMatchObject({ id: 2, result: { ok: true } });
    const finished = frames.at(-1)?.event as { turn: { text: string; status: string } };
    expect(finished.turn.status).toBe('completed');
    expect(finished.turn.text).toMatch(/^Hello!/);
    client.close();
  });
});
