import { randomBytes } from 'node:crypto';

/** Ids shaped like the real service's: a type prefix and 48 hex characters. */
export function newId(prefix: 'resp' | 'msg' | 'fc' | 'call' | 'cmp' | 'rs' | 'sess' | 'event' | 'item' | 'steer' | 'conv'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}
