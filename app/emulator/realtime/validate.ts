/**
 * Reading client events at the edge, with the real service's error wording: every problem
 * becomes an `InvalidRequest` naming the parameter path (`session.audio.output.voice`), which the
 * session turns into an `error` event and carries on (PROTOCOL.md §2 "Errors": most are recoverable).
 */

export class InvalidRequest extends Error {
  constructor(
    readonly code: string,
    readonly param: string | null,
    message: string,
    readonly type = 'invalid_request_error',
  ) {
    super(message);
  }
}

export type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  return 'an object';
}

export function invalidType(param: string, expected: string, value: unknown): InvalidRequest {
  return new InvalidRequest('invalid_type', param, `Invalid type for '${param}': expected ${expected}, but got ${describe(value)} instead.`);
}

export function invalidValue(param: string, value: unknown, allowed: readonly string[]): InvalidRequest {
  const supported = allowed.map((entry) => `'${entry}'`).join(', ');
  return new InvalidRequest('invalid_value', param, `Invalid value: ${JSON.stringify(value)}. Supported values are: ${supported}.`);
}

export function missing(param: string): InvalidRequest {
  return new InvalidRequest('missing_required_parameter', param, `Missing required parameter: '${param}'.`);
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: unknown, param: string): Json {
  if (!isObject(value)) throw invalidType(param, 'an object', value);
  return value;
}

export function string(value: unknown, param: string): string {
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  return value;
}

export function boolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') throw invalidType(param, 'a boolean', value);
  return value;
}

export function array(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw invalidType(param, 'an array', value);
  return value;
}

export function number(value: unknown, param: string, range: { min?: number; max?: number; integer?: boolean } = {}): number {
  const integer = range.integer === true;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw invalidType(param, integer ? 'an integer' : 'a number', value);
  }
  const kind = integer ? 'integer' : 'decimal';
  if (range.min !== undefined && value < range.min) {
    throw new InvalidRequest(`${kind}_below_min_value`, param, `Invalid '${param}': ${kind} below minimum value. Expected a value >= ${range.min}, but got ${value} instead.`);
  }
  if (range.max !== undefined && value > range.max) {
    throw new InvalidRequest(`${kind}_above_max_value`, param, `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${range.max}, but got ${value} instead.`);
  }
  return value;
}

export function oneOf<const T extends string>(value: unknown, param: string, allowed: readonly T[]): T {
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  if (!(allowed as readonly string[]).includes(value)) throw invalidValue(param, value, allowed);
  return value as T;
}

/** Rejects keys the real schema does not have: they are usually beta-era names sent to GA. */
export function onlyKeys(value: Json, param: string | null, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const path = param === null ? key : `${param}.${key}`;
      throw new InvalidRequest('unknown_parameter', path, `Unknown parameter: '${path}'.`);
    }
  }
}

export function required(value: Json, key: string, param: string): unknown {
  if (value[key] === undefined) throw missing(param);
  return value[key];
}
