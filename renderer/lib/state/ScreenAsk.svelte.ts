/**
 * "Ask about my screen" as one flow: the permission and the list of screens and windows (main's,
 * or the browser's own chooser in browser mode), the pick, the preview and its crop, then the
 * question with the picture. At most one step is open at a time; a second ask while one is
 * open is ignored. The dialogs read `picking` and `screenshot`; App only wires them.
 */
import type { Problem, ScreenSource } from '../../../app/contract';
import type { Rect } from '../crop';

/** What the flow needs from the conversation (its commands) and from the page (capture and crop). */
export interface ScreenAskPorts {
  screenSources(): Promise<ScreenSource[] | 'page' | null>;
  captureScreen(sourceId: string): Promise<string | 'page' | null>;
  askAboutScreen(text: string, image: string, keep: boolean): Promise<boolean>;
  report(problem: Problem): void;
  /** One frame from the browser's own chooser (browser mode). */
  captureDisplay(): Promise<string>;
  cropImage(url: string, rect: Rect): Promise<string>;
  /** Called once a step closes without another opening, so the message box gets the keyboard back. */
  closed(): void;
}

export class ScreenAsk {
  #ports: ScreenAskPorts;
  #picking = $state<ScreenSource[] | null>(null);
  #screenshot = $state<string | null>(null);
  #capturing = $state(false);

  constructor(ports: ScreenAskPorts) {
    this.#ports = ports;
  }

  /** The screens and windows offered to pick from; null when the picker is closed. */
  get picking(): ScreenSource[] | null {
    return this.#picking;
  }
  /** The picture being previewed before it is sent; null when the preview is closed. */
  get screenshot(): string | null {
    return this.#screenshot;
  }
  /** Waiting on the permission prompt, the list or the capture itself. */
  get capturing(): boolean {
    return this.#capturing;
  }
  /** Whether one of the flow's dialogs owns the keyboard. */
  get open(): boolean {
    return this.#picking !== null || this.#screenshot !== null;
  }

  async ask(): Promise<void> {
    if (this.#capturing || this.open) return;
    this.#capturing = true;
    try {
      const sources = await this.#ports.screenSources();
      if (sources === 'page') this.#screenshot = await this.#ports.captureDisplay();
      else if (sources !== null) this.#picking = sources;
    } catch (error) {
      this.#ports.report(captureProblem(error));
    } finally {
      this.#capturing = false;
    }
  }

  /** The source picked is captured at full size and goes to the preview. */
  async pick(source: ScreenSource): Promise<void> {
    if (this.#picking === null) return;
    this.#picking = null;
    this.#capturing = true;
    try {
      const captured = await this.#ports.captureScreen(source.id);
      if (captured !== null && captured !== 'page') this.#screenshot = captured;
      else this.#ports.closed();
    } finally {
      this.#capturing = false;
    }
  }

  cancelPick(): void {
    this.#picking = null;
    this.#ports.closed();
  }

  /** Sends the question with the part of the picture inside `crop`; the preview closes first. */
  async send(question: string, crop: Rect, keep: boolean): Promise<void> {
    const image = this.#screenshot;
    if (image === null) return;
    this.#screenshot = null;
    this.#ports.closed();
    let cropped: string;
    try {
      cropped = await this.#ports.cropImage(image, crop);
    } catch (error) {
      this.#ports.report({ code: 'internal', message: `The screenshot could not be cropped: ${(error as Error).message}`, hint: 'Ask about your screen again.' });
      return;
    }
    await this.#ports.askAboutScreen(question, cropped, keep);
  }

  /** Closes the preview; nothing is sent and the picture is not kept. */
  cancel(): void {
    this.#screenshot = null;
    this.#ports.closed();
  }
}

function captureProblem(error: unknown): Problem {
  const refused = error instanceof DOMException && error.name === 'NotAllowedError';
  return {
    code: 'internal',
    message: refused ? 'Screen capture was cancelled or refused by the browser.' : `The screen could not be captured: ${(error as Error).message}`,
    hint: 'Try again and pick a screen, window or tab to share.',
  };
}
