/**
 * `get_time`: the current date, time, weekday and time zone, optionally in another IANA zone.
 * Touches nothing but the clock.
 */
import type { ToolDefinition } from '../registry';
import { stringArg } from './limits';

export interface TimePorts {
  now?: () => Date;
  /** The user's zone; defaults to the runtime's (the operating system's) zone. */
  localTimeZone?: () => string;
}

export function createTimeTools(ports: TimePorts = {}): ToolDefinition[] {
  const now = ports.now ?? (() => new Date());
  const localTimeZone = ports.localTimeZone ?? (() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  return [
    {
      name: 'get_time',
      description:
        "The current date, time, weekday and time zone. By default in the user's own time zone; pass `timezone` (an IANA name such as Europe/Paris or America/New_York) for another place.",
      parameters: {
        type: 'object',
        properties: { timezone: { type: 'string', description: 'IANA time zone name, e.g. Asia/Tokyo. Omit for the local zone.' } },
        additionalProperties: false,
      },
      risk: 'safe',
      source: 'builtin',
      async execute(args) {
        const requested = stringArg(args, 'timezone')?.trim();
        const timeZone = requested === undefined || requested === '' ? localTimeZone() : requested;
        return JSON.stringify(describeTime(now(), timeZone));
      },
    },
  ];
}

export interface TimeDescription {
  timezone: string;
  date: string;
  time: string;
  weekday: string;
  /** ISO 8601 with the zone's UTC offset, e.g. 2025-03-14T15:09:26+01:00. */
  iso: string;
  utcOffset: string;
  utc: string;
}

export function describeTime(instant: Date, timeZone: string): TimeDescription {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'long',
      hourCycle: 'h23',
    });
  } catch {
    throw new Error(`Unknown time zone "${timeZone}". Use an IANA name such as Europe/London, America/New_York or Asia/Tokyo.`);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const time = `${parts.hour}:${parts.minute}:${parts.second}`;
  // The offset is the difference between the zone's wall clock and UTC at this instant.
  const wallClock = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offsetMinutes = Math.round((wallClock - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  const utcOffset = `${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
  return {
    timezone: format.resolvedOptions().timeZone,
    date,
    time,
    weekday: parts.weekday ?? '',
    iso: `${date}T${time}${utcOffset}`,
    utcOffset,
    utc: instant.toISOString(),
  };
}
