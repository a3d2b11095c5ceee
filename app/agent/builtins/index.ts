/**
 * The built-in tools, one family per file, each taking its I/O as ports so that `app/host`
 * alone decides what they touch.
 */
import type { ToolDefinition } from '../registry';
import { createCalculatorTools, warmCalculator } from './calculator';
import { createClipboardTools, type ClipboardPort } from './clipboard';
import { createFetchTools, type FetchPorts } from './fetch';
import { createFileTools, type FilePorts } from './files';
import { createNoteTools, type NotesPorts } from './notes';
import { createTimeTools, type TimePorts } from './time';

export { createCalculatorTools, calculate, warmCalculator } from './calculator';
export { createClipboardTools, type ClipboardPort } from './clipboard';
export { createFetchTools, createPinnedFetch, fetchPage, htmlToText, isPrivateAddress, type FetchPort, type FetchPorts } from './fetch';
export { createFileTools, type FilePorts, type WorkspaceFileSystem } from './files';
export { createNoteTools, type NotesFileSystem, type NotesPorts } from './notes';
export { createTimeTools, describeTime, type TimePorts } from './time';

export interface BuiltinPorts {
  time?: TimePorts;
  notes: NotesPorts;
  clipboard: ClipboardPort;
  files: FilePorts;
  fetch: FetchPorts;
}

/** Every built-in tool, ready for `ToolRegistry.register`. */
export function createBuiltinTools(ports: BuiltinPorts): ToolDefinition[] {
  return [
    ...createTimeTools(ports.time),
    ...createCalculatorTools(),
    ...createNoteTools(ports.notes),
    ...createClipboardTools({ clipboard: ports.clipboard }),
    ...createFileTools(ports.files),
    ...createFetchTools(ports.fetch),
  ];
}

/**
 * Loads the built-ins' heavy modules (mathjs) in the background: for the shells to call once
 * start-up is done, so no reply waits on a first-use load.
 */
export function warmBuiltins(): Promise<void> {
  return warmCalculator();
}
