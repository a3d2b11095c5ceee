/**
 * Spoken test audio: espeak-ng's voice as PCM16 mono at 24 kHz (the Realtime rate), cached per
 * text and voice in a temp directory so repeated runs do not synthesise again.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realtimePcmRate, resample } from '../../app/audio/pcm';
import { parseWav } from '../../app/audio/wav';

const cacheDir = join(tmpdir(), 'parley-speech-cache');

export interface SpeechOptions {
  /** An espeak-ng voice, e.g. 'en-us'. */
  voice?: string;
  wordsPerMinute?: number;
}

export async function speech(text: string, options: SpeechOptions = {}): Promise<Int16Array> {
  const voice = options.voice ?? 'en-us';
  const wordsPerMinute = options.wordsPerMinute ?? 160;
  const key = createHash('sha256').update(JSON.stringify([text, voice, wordsPerMinute])).digest('hex').slice(0, 24);
  const path = join(cacheDir, `${key}.wav`);
  const wav = await readFile(path).catch(async () => {
    const bytes = await synthesise(text, voice, wordsPerMinute);
    await mkdir(cacheDir, { recursive: true });
    // Written aside and renamed, so a parallel test never reads half a file.
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, path);
    return bytes;
  });
  const parsed = parseWav(wav);
  return resample(parsed.samples, parsed.sampleRate, realtimePcmRate);
}

function synthesise(text: string, voice: string, wordsPerMinute: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('espeak-ng', ['--stdout', '-v', voice, '-s', String(wordsPerMinute), text], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error("espeak-ng is not installed; the audio tests speak with it. Install it: sudo apt-get install espeak-ng") : error);
    });
    child.on('close', (code) => {
      if (code === 0 && chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`espeak-ng failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}
