/** Audio device failures as `Problem`s a user can act on, and the error that carries one. */
import { ProblemError, type Problem, type ProblemCode } from '../../contract';

/** The contract has no audio-specific code yet; every device problem uses this one so it can change in one place. */
export const audioProblemCode: ProblemCode = 'connection_failed';

export function audioProblem(message: string, hint: string): Problem {
  return { code: audioProblemCode, message, hint };
}

/** Thrown (or rejected) by the native adapters; `problem` is what the user sees. */
export class AudioDeviceError extends ProblemError {
  override name = 'AudioDeviceError';
}

/** "sox", "arecord", "aplay", "pactl": the Debian/Ubuntu package that provides each program. */
export const packageOf: Readonly<Record<string, string>> = {
  sox: 'sox',
  arecord: 'alsa-utils',
  aplay: 'alsa-utils',
  pactl: 'pulseaudio-utils',
};
