/**
 * "Ask about my screen" in the composition root: capturing asks first, with the tools' permission
 * store (allow once, always, deny; revoked in Settings like any tool), the desktop shell captures
 * through an injected port, and a screenshot is left out of saved history unless the user keeps it.
 */
import { screenPermission, type CommandResult, type ScreenCapture, type ScreenSource, type ScreenSources, type SendMessageResult } from '../contract';
import type { LedgerEntry } from '../responses/ledger';
import type { AgentService } from './agentService';
import type { Logger } from './ports';
import type { ToolHost } from './tools';

/**
 * Captures as a PNG data URL (the desktop shell's desktopCapturer): the source with that id, or
 * without one the primary screen.
 */
export type ScreenCapturer = (sourceId?: string) => Promise<string>;

/** Lists the screens and windows the desktop shell can capture, with small thumbnails. */
export type ScreenLister = () => Promise<ScreenSource[]>;

export interface ScreenServiceOptions {
  tools: ToolHost;
  agent: AgentService;
  /** Without it (browser mode) the page captures with getDisplayMedia once allowed. */
  capture?: ScreenCapturer;
  /** Without it the picker is not offered: the primary screen is captured, or the page chooses. */
  list?: ScreenLister;
  log: Logger;
}

/** What a saved conversation holds where a screenshot the user did not keep was. */
export const screenshotNotKept = '[A screenshot was shown to the assistant here; it was not kept.]';

export class ScreenService {
  #options: ScreenServiceOptions;
  /** Screenshots the user chose to keep with the conversation. */
  #kept = new Set<string>();
  /** The ids the last allowed listing offered; capturing one of them does not ask again. */
  #offered = new Set<string>();

  constructor(options: ScreenServiceOptions) {
    this.#options = options;
  }

  async #allowed(): Promise<CommandResult<null>> {
    const decision = await this.#options.tools.askPermission({
      name: screenPermission,
      risk: 'private',
      summary: 'Parley wants to capture your screen to show the assistant',
      reason: 'You will see the picture first, and can crop it or cancel, before anything is sent.',
    });
    if (decision === 'deny') {
      return { ok: false, problem: { code: 'invalid_payload', message: 'Screen capture is not allowed.', hint: 'Allow it when asked, or change "screen_capture" under Settings → Tool permissions.' } };
    }
    return { ok: true, value: null };
  }

  #failed(error: unknown, what: string): CommandResult<never> {
    this.#options.log.warn(`screen ${what} failed`, { message: (error as Error).message });
    return { ok: false, problem: { code: 'internal', message: `The screen could not be ${what}: ${(error as Error).message}`, hint: 'On macOS, allow Parley under System Settings → Privacy & Security → Screen Recording.' } };
  }

  /** Asks, then lists what may be captured (null: the page chooses itself). */
  async sources(): Promise<CommandResult<ScreenSources>> {
    const allowed = await this.#allowed();
    if (!allowed.ok) return allowed;
    if (this.#options.list === undefined || this.#options.capture === undefined) return { ok: true, value: { sources: null } };
    try {
      const sources = await this.#options.list();
      this.#offered = new Set(sources.map((source) => source.id));
      return { ok: true, value: { sources } };
    } catch (error) {
      return this.#failed(error, 'listed');
    }
  }

  async capture(sourceId?: string): Promise<CommandResult<ScreenCapture>> {
    if (sourceId !== undefined) {
      // The listing was the permission: only what it offered, and only once.
      if (!this.#offered.has(sourceId)) {
        return { ok: false, problem: { code: 'invalid_payload', message: 'That screen or window was not offered to pick.', hint: 'Ask about your screen again and pick one from the list.' } };
      }
      this.#offered.clear();
    } else {
      const allowed = await this.#allowed();
      if (!allowed.ok) return allowed;
    }
    if (this.#options.capture === undefined) return { ok: true, value: { image: null } };
    try {
      return { ok: true, value: { image: await this.#options.capture(sourceId) } };
    } catch (error) {
      return this.#failed(error, 'captured');
    }
  }

  ask(text: string, image: string, keep: boolean): CommandResult<SendMessageResult> {
    if (keep) this.#kept.add(image);
    return this.#options.agent.askAboutScreen(text, image);
  }

  /** The ledger as it may be saved: every screenshot not kept becomes a line saying one was there. */
  forHistory(entries: readonly LedgerEntry[]): LedgerEntry[] {
    return entries.map((entry) => {
      const { item } = entry;
      if (item.type !== 'message' || !Array.isArray(item.content)) return entry;
      const content = item.content as readonly { type: string; image_url?: string | null }[];
      if (!content.some((part) => part.type === 'input_image' && !this.#kept.has(part.image_url ?? ''))) return entry;
      const kept = content.map((part) => (part.type === 'input_image' && !this.#kept.has(part.image_url ?? '') ? { type: 'input_text' as const, text: screenshotNotKept } : part));
      return { ...entry, item: { ...item, content: kept } as LedgerEntry['item'] };
    });
  }
}
