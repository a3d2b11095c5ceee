/**
 * `fetch_page` against DNS rebinding: a name that answers a public address for the check and
 * 127.0.0.1 a moment later must be fetched from the address that was checked. The pinned
 * transport is exercised for real, on loopback, over http and https.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { createPinnedFetch, fetchPage, type FetchPort } from '../../../app/agent/builtins/fetch';

const noSignal = new AbortController().signal;

/** A resolver that answers a public address first and this computer after. */
function rebindingLookup() {
  const asked: string[] = [];
  const answers = [['93.184.216.34'], ['127.0.0.1']];
  return {
    asked,
    lookup: async (host: string) => {
      asked.push(host);
      return answers.shift() ?? ['127.0.0.1'];
    },
  };
}

describe('fetch_page and DNS rebinding', () => {
  it('connects to the address it checked, not to a later answer for the same name', async () => {
    const { asked, lookup } = rebindingLookup();
    const connected: string[] = [];
    // A transport that looks the name up itself unless told where to connect, as fetch() does.
    const transport: FetchPort = async (url, init) => {
      connected.push(init.connectTo?.address ?? (await lookup(new URL(url).hostname))[0]!);
      return new Response('hello', { headers: { 'content-type': 'text/plain' } });
    };
    expect(await fetchPage('http://rebind.example/', noSignal, { fetch: transport, lookup })).toBe('URL: http://rebind.example/\n\nhello');
    expect(connected).toEqual(['93.184.216.34']);
    expect(asked).toEqual(['rebind.example']);
  });

  it('checks and pins every redirect hop on its own', async () => {
    const asked: string[] = [];
    const addresses: Record<string, string[]> = { 'start.example': ['93.184.216.34'], 'next.example': ['2606:2800:220:1:248:1893:25c8:1946'] };
    const lookup = async (host: string) => {
      asked.push(host);
      return addresses[host] ?? [];
    };
    const connected: Array<{ address: string; family: number } | undefined> = [];
    const transport: FetchPort = async (url, init) => {
      connected.push(init.connectTo);
      return url.includes('start')
        ? new Response(null, { status: 302, headers: { location: 'http://next.example/' } })
        : new Response('there', { headers: { 'content-type': 'text/plain' } });
    };
    expect(await fetchPage('http://start.example/', noSignal, { fetch: transport, lookup })).toContain('there');
    expect(connected).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
    expect(asked).toEqual(['start.example', 'next.example']);
  });
});

describe('the pinned transport', () => {
  const servers: Array<http.Server | https.Server> = [];
  const hosts: string[] = [];

  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    hosts.length = 0;
  });

  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    hosts.push(request.headers.host ?? '');
    if (request.url === '/moved') {
      response.writeHead(302, { location: '/page' }).end();
      return;
    }
    if (request.url === '/huge') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      // Far more than the tool reads; it must stop reading and close, not buffer it all.
      const more = (): void => {
        while (sent < 64 && response.write(chunk)) sent++;
        if (sent < 64) response.once('drain', more);
        else response.end();
      };
      response.on('error', () => undefined);
      more();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-twice': ['a', 'b'] }).end('<head><title>Pinned</title></head><p>It came from the checked address.</p>');
  };

  async function listen(server: http.Server | https.Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('connects to the given address while the request keeps the name, so a name that resolves nowhere still arrives', async () => {
    const port = await listen(http.createServer(handler));
    const pinned = createPinnedFetch({ http, https });
    const response = await pinned(`http://rebind.invalid:${port}/`, {
      method: 'GET',
      headers: {},
      redirect: 'manual',
      signal: noSignal,
      connectTo: { address: '127.0.0.1', family: 4 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-twice')).toBe('a, b');
    expect(await new Response(response.body).text()).toContain('checked address');
    expect(hosts).toEqual([`rebind.invalid:${port}`]);
  });

  it('checks the certificate against the name, not the address it connects to', async () => {
    const pems = await generate([{ name: 'commonName', value: 'rebind.test' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'rebind.test' }] }],
    });
    const port = await listen(https.createServer({ key: pems.private, cert: pems.cert }, handler));
    const trusting = { request: ((url: URL, options: https.RequestOptions, callback: (response: http.IncomingMessage) => void) => https.request(url, { ...options, ca: pems.cert }, callback)) as typeof https.request };
    const pinned = createPinnedFetch({ http, https: trusting });
    const response = await pinned(`https://rebind.test:${port}/`, { method: 'GET', headers: {}, redirect: 'manual', signal: noSignal, connectTo: { address: '127.0.0.1', family: 4 } });
    expect(await new Response(response.body).text()).toContain('checked address');
  });

  it('carries fetch_page through redirects and a huge page over a real socket', async () => {
    const port = await listen(http.createServer(handler));
    const ports = { fetch: createPinnedFetch({ http, https }), allowLoopback: true, maxBytes: 100_000 };
    expect(await fetchPage(`http://127.0.0.1:${port}/moved`, noSignal, ports)).toBe(`Title: Pinned\nURL: http://127.0.0.1:${port}/page\n\nIt came from the checked address.`);
    expect(await fetchPage(`http://127.0.0.1:${port}/huge`, noSignal, ports)).toMatch(/\[The page is larger than 100 KB; only its first 100 KB was read\.\]$/);
  });
});
