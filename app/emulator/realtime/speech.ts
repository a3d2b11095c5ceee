/**
 * The emulator's voice: real speech from `espeak-ng` when it is installed, otherwise a clear
 * synthetic signal (a tone pulse per word) so output is never silence. Both produce PCM16 mono
 * at 24 kHz, a multiple of 3 samples long so the 8 kHz G.711 rendering has exactly the same
 * duration.
 */
import { spawn } from 'node:child_process';
import { clamp16, concatPcm16, msToSamples, realtimePcmRate, resample } from '../../audio/pcm';
import { parseWav } from '../../audio/wav';

export interface SpeechOptions {
  /** An OpenAI voice name (or custom voice id); each maps to a distinct espeak-ng variant. */
  voice: string;
  /** 0.25–1.5, as `audio.output.speed`. */
  speed: number;
}

export interface SpeechSynth {
  readonly kind: 'espeak-ng' | 'tone';
  synthesize(text: string, options: SpeechOptions): Promise<Int16Array>;
}

/** A 440 Hz pulse per word (longer words, longer pulses) with gaps between: obviously not speech, never silence. */
export const toneSpeech: SpeechSynth = {
  kind: 'tone',
  async synthesize(text, { speed }) {
    const words = text.split(/\s+/).filter((word) => word.length > 0);
    const parts: Int16Array[] = [];
    for (const word of words) {
      parts.push(tone(Math.min(600, Math.max(120, 60 * word.length)) / speed));
      parts.push(new Int16Array(msToSamples(80 / speed, realtimePcmRate)));
    }
    return wholeG711Frames(concatPcm16(parts));
  },
};

function tone(ms: number): Int16Array {
  const samples = new Int16Array(msToSamples(ms, realtimePcmRate));
  const fade = msToSamples(5, realtimePcmRate);
  for (let index = 0; index < samples.length; index += 1) {
    const envelope = Math.min(1, index / fade, (samples.length - 1 - index) / fade);
    samples[index] = clamp16(0.25 * 32767 * envelope * Math.sin((2 * Math.PI * 440 * index) / realtimePcmRate));
  }
  return samples;
}

const espeakVariants: Record<string, string> = {
  alloy: '',
  ash: '+m3',
  ballad: '+m1',
  coral: '+f3',
  echo: '+m2',
  sage: '+f2',
  shimmer: '+f4',
  verse: '+m4',
  marin: '+f1',
  cedar: '+m5',
};

/** `espeak-ng --stdout -v en-us[+variant] -s 175×speed`, text on stdin (so a leading "-" is not an option). */
export function espeakSpeech(command = 'espeak-ng'): SpeechSynth {
  return {
    kind: 'espeak-ng',
    async synthesize(text, { voice, speed }) {
      if (text.trim() === '') return new Int16Array(0);
      const wav = await run(command, ['--stdout', '-v', `en-us${espeakVariants[voice] ?? ''}`, '-s', String(Math.round(175 * speed))], text);
      const { samples, sampleRate } = parseWav(wav);
      return wholeG711Frames(resample(samples, sampleRate, realtimePcmRate));
    },
  };
}

function run(command: string, args: string[], input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${command} exited with ${code}`))));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

let detected: Promise<SpeechSynth> | null = null;

/** espeak-ng when it runs here, else the tone; probed once per process. */
export function defaultSpeech(): Promise<SpeechSynth> {
  detected ??= run('espeak-ng', ['--version'], '').then(
    () => espeakSpeech(),
    () => toneSpeech,
  );
  return detected;
}

/** Pads with silence to a multiple of 3 samples: one 8 kHz sample per three at 24 kHz. */
function wholeG711Frames(samples: Int16Array): Int16Array {
  const extra = (3 - (samples.length % 3)) % 3;
  if (extra === 0) return samples;
  const padded = new Int16Array(samples.length + extra);
  padded.set(samples);
  return padded;
}
