/**
 * `fetch_page` (network): fetches one http(s) page and returns its title and readable text.
 * Refuses other schemes and, unless `allowLoopback` is set (tests), addresses on this computer
 * or the local network, on the first request and on every redirect. Limits: 10 s, 1 MB read,
 * 5 redirects, ~20 KB of text returned. Touches the network only.
 *
 * A name is looked up once, and the request connects to the address that was checked: looking it
 * up again to connect would let a name answer a public address for the check and 127.0.0.1 for
 * the connection (DNS rebinding). `createPinnedFetch` is a transport that honours that.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { ToolDefinition } from '../registry';
import { quoted, resultLimitChars, stringArg, truncate } from './limits';

export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
}

/** An address `lookup` returned for the URL's host, already checked. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Sends one GET. When `connectTo` is set, the transport must connect there instead of looking
 * the host name up again (`createPinnedFetch` does); the global `fetch` ignores it, which is only
 * safe without `lookup`, in tests.
 */
export type FetchPort = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal; connectTo?: CheckedAddress },
) => Promise<FetchResponseLike>;

export interface FetchPorts {
  fetch: FetchPort;
  /**
   * Resolves a host name to its addresses, so names that point into the local network are
   * refused too (`dns.promises.lookup(host, { all: true })` in the host). Without it only
   * literal addresses and `localhost` are checked.
   */
  lookup?: (hostname: string) => Promise<string[]>;
  /** Lets tests fetch from a server on 127.0.0.1. Never set in the app. */
  allowLoopback?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
}

export const fetchDefaults = { timeoutMs: 10_000, maxBytes: 1_000_000, maxRedirects: 5 };

const userAgent = 'Parley/0.1 (desktop co-pilot; fetch_page)';

export function createFetchTools(ports: FetchPorts): ToolDefinition[] {
  return [
    {
      name: 'fetch_page',
      description:
        'Fetch a web page (http or https) and return its title and readable text, without scripts, styles or markup. Public internet addresses only; at most 1 MB is read and about 20 KB of text returned.',
      parameters: {
        type: 'object',
        properties: { url: { type: 'string', description: 'The full address, starting with https:// or http://.' } },
        required: ['url'],
        additionalProperties: false,
      },
      risk: 'network',
      source: 'builtin',
      summarize: (args) => `fetch the web page ${quoted(args.url, 120)}`,
      async execute(args, { signal }) {
        return fetchPage(stringArg(args, 'url') ?? '', signal, ports);
      },
    },
  ];
}

export async function fetchPage(rawUrl: string, signal: AbortSignal, ports: FetchPorts): Promise<string> {
  const timeoutMs = ports.timeoutMs ?? fetchDefaults.timeoutMs;
  const maxBytes = ports.maxBytes ?? fetchDefaults.maxBytes;
  const maxRedirects = ports.maxRedirects ?? fetchDefaults.maxRedirects;
  let url = parseUrl(rawUrl);
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  const failure = (error: unknown): Error => {
    if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new Error('The fetch was cancelled.');
    if (timeout.aborted) return new Error(`Fetching ${url.href} took longer than ${timeoutMs / 1000} s and was stopped.`, { cause: error });
    if (error instanceof Error && error.message.startsWith('fetch_page')) return error;
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new Error(`Could not fetch ${url.href}: ${detail}.`, { cause: error });
  };
  try {
    for (let redirects = 0; ; redirects++) {
      const connectTo = await checkDestination(url, ports);
      const response = await ports.fetch(url.href, {
        method: 'GET',
        headers: { 'user-agent': userAgent, accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5' },
        redirect: 'manual',
        signal: combined,
        ...(connectTo === undefined ? {} : { connectTo }),
      });
      const location = response.headers.get('location');
      if ([301, 302, 303, 307, 308].includes(response.status) && location !== null) {
        await response.body?.cancel().catch(() => undefined);
        if (redirects >= maxRedirects) throw new Error(`fetch_page: ${rawUrl} redirected more than ${maxRedirects} times; giving up.`);
        url = parseUrl(new URL(location, url).href);
        continue;
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`fetch_page: ${url.href} answered HTTP ${response.status}.`);
      }
      const contentType = (response.headers.get('content-type') ?? '').toLowerCase();
      const kind = textKind(contentType);
      if (kind === 'other') {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`fetch_page reads web pages and text only; ${url.href} is ${contentType.split(';')[0]}.`);
      }
      const { bytes, truncated } = await readLimited(response.body, maxBytes);
      if (kind === 'unknown' && bytes.subarray(0, 8192).includes(0)) throw new Error(`fetch_page reads web pages and text only; ${url.href} looks like binary data.`);
      const body = decode(bytes, contentType);
      const isHtml = kind === 'html' || (kind === 'unknown' && /^\s*<(!doctype html|html|head|body)/i.test(body));
      const { title, text } = isHtml ? htmlToText(body) : { title: '', text: body.trim() };
      const header = `${title === '' ? '' : `Title: ${title}\n`}URL: ${url.href}\n\n`;
      const limit = maxBytes >= 1_000_000 ? `${maxBytes / 1_000_000} MB` : `${Math.round(maxBytes / 1000)} KB`;
      const cutNote = truncated ? `\n\n[The page is larger than ${limit}; only its first ${limit} was read.]` : '';
      return truncate(header + (text === '' ? '(The page has no readable text.)' : text), resultLimitChars, 'the page') + cutNote;
    }
  } catch (error) {
    throw failure(error);
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`fetch_page: "${raw}" is not a web address; give a full URL starting with https://.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`fetch_page only fetches http and https pages, not ${url.protocol.replace(/:$/, '')}: addresses.`);
  }
  return url;
}

/** Refuses local destinations; returns the checked address to connect to when a name was looked up. */
async function checkDestination(url: URL, ports: FetchPorts): Promise<CheckedAddress | undefined> {
  if (ports.allowLoopback === true) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const refuse = (address: string) =>
    new Error(`fetch_page does not fetch addresses on this computer or the local network (${url.hostname}${address === host ? '' : ` is ${address}`}).`);
  if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) throw refuse(host);
  if (ports.lookup !== undefined && !isIpLiteral(host)) {
    const addresses = await ports.lookup(host).catch((error: unknown) => {
      throw new Error(`fetch_page: could not find ${host} (${(error as { code?: string }).code ?? 'lookup failed'}).`);
    });
    const inside = addresses.find(isPrivateAddress);
    if (inside !== undefined) throw refuse(inside);
    const [first] = addresses;
    if (first === undefined) throw new Error(`fetch_page: could not find ${host} (it has no addresses).`);
    return { address: first, family: first.includes(':') ? 6 : 4 };
  }
  return undefined;
}

/** `http.request` or `https.request`, as the host passes them. */
export interface RequestPort {
  request(url: URL, options: RequestOptions, callback: (response: IncomingMessage) => void): ClientRequest;
}

/**
 * A `FetchPort` on Node's http and https that connects to `connectTo` when given: the socket's
 * lookup answers only that address, while the Host header, TLS server name and certificate
 * check still use the name. A fresh connection per request, so no pooled socket skips the pin.
 */
export function createPinnedFetch(transports: { http: RequestPort; https: RequestPort }): FetchPort {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? transports.https : transports.http;
      // Undecoded bodies only: this transport does not decompress.
      const options: RequestOptions = { method: init.method, headers: { 'accept-encoding': 'identity', ...init.headers }, signal: init.signal, agent: false };
      if (init.connectTo !== undefined) options.lookup = pinnedLookup(init.connectTo);
      const request = transport.request(target, options, (response) => resolve(responseOf(response)));
      request.on('error', reject);
      request.end();
    });
}

function pinnedLookup({ address, family }: CheckedAddress): NonNullable<RequestOptions['lookup']> {
  return (_hostname, options, callback) => {
    // Happy eyeballs (`autoSelectFamily`) asks for every address at once.
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function responseOf(message: IncomingMessage): FetchResponseLike {
  return {
    status: message.statusCode ?? 0,
    headers: {
      get(name) {
        const value = message.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        message.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          // Read no further ahead than the reader asks for.
          if ((controller.desiredSize ?? 0) <= 0) message.pause();
        });
        message.on('end', () => controller.close());
        message.on('error', (error) => controller.error(error));
      },
      pull() {
        message.resume();
      },
      cancel() {
        message.destroy();
      },
    }),
  };
}

function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== undefined || host.includes(':');
}

function parseIpv4(host: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

function isPrivateIpv4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return false;
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

function parseIpv6(host: string): number[] | undefined {
  let text = host.split('%')[0] ?? host;
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) stands for the last two groups.
  let tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = parseIpv4(dotted[2]!);
    if (v4 === undefined) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const [head = '', rest, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? Number.parseInt(group, 16) : Number.NaN)));
  const front = parse(head);
  const back = rest === undefined ? [] : parse(rest);
  const missing = 8 - tail.length - front.length - back.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...front, ...new Array<number>(rest === undefined ? 0 : missing).fill(0), ...back, ...tail];
  return groups.every((group) => Number.isInteger(group)) ? groups : undefined;
}

/** Loopback, private, link-local, unique-local, multicast and unspecified addresses (v4 and v6). */
export function isPrivateAddress(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = parseIpv4(host);
  if (v4 !== undefined) return isPrivateIpv4(v4);
  if (!host.includes(':')) return false;
  const groups = parseIpv6(host);
  if (groups === undefined) return true; // unparseable: refuse rather than guess
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embeddedV4 = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    if (g5 === 0 && g6 === 0 && (g7 === 0 || g7 === 1)) return true; // :: and ::1
    return isPrivateIpv4(embeddedV4);
  }
  if (g0 === 0x64 && g1 === 0xff9b) return isPrivateIpv4(embeddedV4); // NAT64
  return (g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xff00) === 0xff00;
}

type TextKind = 'html' | 'text' | 'unknown' | 'other';

function textKind(contentType: string): TextKind {
  const type = contentType.split(';')[0]?.trim() ?? '';
  if (type === '') return 'unknown';
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type.startsWith('text/') || /^application\/(json|xml|javascript|ecmascript|x-www-form-urlencoded)$/.test(type) || /\+(json|xml)$/.test(type)) return 'text';
  return 'other';
}

async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (body === null) return { bytes: new Uint8Array(), truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - length;
    chunks.push(value.length > room ? value.subarray(0, room) : value);
    length += Math.min(value.length, room);
    if (value.length >= room) {
      truncated = value.length > room || !(await peekEnd(reader));
      break;
    }
  }
  await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, truncated };
}

/** True when the stream has nothing more (an exactly-full body is not truncated). */
async function peekEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return true;
    if (value.length > 0) return false;
  }
}

function decode(bytes: Uint8Array, contentType: string): string {
  const charset = /charset="?([\w-]+)"?/i.exec(contentType)?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

const droppedElements = ['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'canvas', 'object', 'head', 'nav'];
const blockTags =
  /<\/?(p|div|section|article|main|header|footer|aside|h[1-6]|ul|ol|dl|dt|dd|table|thead|tbody|tfoot|tr|blockquote|pre|hr|figure|figcaption|form|fieldset|address|details|summary)\b[^>]*>/gi;

const namedEntities: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—', hellip: '…', copy: '©', reg: '®',
  trade: '™', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', middot: '·', bull: '•', euro: '€',
  pound: '£', yen: '¥', cent: '¢', deg: '°', times: '×', divide: '÷', shy: '', zwnj: '', zwj: '', larr: '←', rarr: '→',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return namedEntities[name.toLowerCase()] ?? entity;
  });
}

/** Removes `<tag …>…</tag>` blocks in one linear pass; an unclosed one drops the rest. */
function dropElement(html: string, tag: string): string {
  const lower = html.toLowerCase();
  let out = '';
  let index = 0;
  const open = new RegExp(`<${tag}[\\s>/]`, 'g');
  for (;;) {
    open.lastIndex = index;
    const match = open.exec(lower);
    if (match === null) return out + html.slice(index);
    out += html.slice(index, match.index) + ' ';
    const close = lower.indexOf(`</${tag}`, match.index);
    if (close === -1) return out;
    const end = lower.indexOf('>', close);
    index = end === -1 ? html.length : end + 1;
  }
}

/** A page's title and readable text: a small extractor, good enough for reading a page aloud. */
export function htmlToText(html: string): { title: string; text: string } {
  const titleMatch = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const title = titleMatch === null ? '' : decodeEntities(titleMatch[1]!.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
  let body = html.replace(/<!--[\s\S]*?(-->|$)/g, ' ');
  for (const tag of droppedElements) body = dropElement(body, tag);
  // Source line breaks are spaces in HTML; only tags make lines.
  body = body
    .replace(/\s+/g, ' ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(blockTags, '\n')
    .replace(/<\/(td|th)>/gi, ' ')
    .replace(/<[^>]*>/g, '');
  const text = decodeEntities(body)
    .split('\n')
    .map((line) => line.replace(/[\s\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/^(- )?$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title, text };
}
