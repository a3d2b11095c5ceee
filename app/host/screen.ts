/**
 * "Ask about my screen" in the composition root: capturing asks first, with the tools' permission
 * store (allow once, always, deny; revoked in Settings like any tool), the desktop shell captures
 * through an injected port, and a screenshot is left out of saved history unless the user keeps it.
 */
import { screenPermission, type CommandResult, type ScreenCapture, type SendMessageResult } from '../contract';
import type { LedgerEntry } from '../responses/ledger';
import type { AgentService } from './agentService';
import type { Logger } from './ports';
import type { ToolHost } from './tools';

/** Captures the whole screen as a PNG data URL (the desktop shell's desktopCapturer). */
export type ScreenCapturer = () => Promise<string>;

export interface ScreenServiceOptions {
  tools: ToolHost;
  agent: AgentService;
  /** Without it (browser mode) the page captures with getDisplayMedia once allowed. */
  capture?: ScreenCapturer;
  log: Logger;
}

/** What a saved conversation holds where a screenshot the user did not keep was. */
export const screenshotNotKept = '[A screenshot was shown to the assistant here; it was not kept.]';

export class ScreenService {
  #options: ScreenServiceOptions;
  /** Screenshots the user chose to keep with the conversation. */
  #kept = new Set<string>();

  constructor(options: ScreenServiceOptions) {
    this.#options = options;
  }

  async capture(): Promise<CommandResult<ScreenCapture>> {
    const decision = await this.#options.tools.askPermission({
      name: screenPermission,
      risk: 'private',
      summary: 'Parley wants to capture your screen to show the assistant',
      reason: 'You will see the picture first, and can crop it or cancel, before anything is sent.',
    });
    if (decision === 'deny') {
      return { ok: false, problem: { code: 'invalid_payload', message: 'Screen capture is not allowed.', hint: 'Allow it when asked, or change "screen_capture" under Settings → Tool permissions.' } };
    }
    if (this.#options.capture === undefined) return { ok: true, value: { image: null } };
    try {
      return { ok: true, value: { image: await this.#options.capture() } };
    } catch (error) {
      this.#options.log.warn('screen capture failed', { message: (error as Error).message });
      return { ok: false, problem: { code: 'internal', message: `The screen could not be captured: ${(error as Error).message}`, hint: 'On macOS, allow Parley under System Settings → Privacy & Security → Screen Recording.' } };
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
