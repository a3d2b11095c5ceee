/**
 * What the host's services are given rather than build: the shells' logger, the embedded
 * emulator, and the hook that installs tools. Kept apart from the composition root so the
 * services need not import it.
 */
import type { Settings } from '../contract';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface EmbeddedEmulator {
  baseUrl: string;
  close(): Promise<void>;
}

export interface ToolInstallContext {
  settings: () => Settings;
  /** Called with the new settings whenever they change (MCP servers, folders). */
  onSettingsChange: (listener: (settings: Settings) => void) => () => void;
}
