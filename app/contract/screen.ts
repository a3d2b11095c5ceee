/**
 * "Ask about my screen": capturing (behind a permission like the tools'), and the question sent
 * with the picture the user accepted in the preview.
 */
import { z } from 'zod';
import { maxMessageLength } from './schemas';

/** The permission capturing asks for, kept with the tools' choices (`toolPermissions`). */
export const screenPermission = 'screen_capture';

/** Under the browser bridge's frame limit with room for the question: about 4.5 MB of image. */
export const maxScreenshotChars = 6_000_000;

export const screenshotUrl = z
  .string()
  .max(maxScreenshotChars, 'That screenshot is too large to send; crop it to a smaller part of the screen.')
  .regex(/^data:image\/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/, 'A screenshot is sent as a PNG or JPEG data URL.');

export const askAboutScreenRequest = z.strictObject({
  text: z.string().trim().min(1, 'Type what you want to know about the screenshot.').max(maxMessageLength, `Messages are limited to ${maxMessageLength} characters.`),
  image: screenshotUrl,
  /** Save the screenshot with the conversation; otherwise it is left out of history. */
  keep: z.boolean(),
});

/** Compact mode for calls: a small window kept above the others (the desktop app), or just the compact layout (browser mode). */
export const setCompactRequest = z.strictObject({ compact: z.boolean() });

export interface CompactResult {
  /** Whether the window now stays on top of others; false where the shell cannot (browser mode). */
  alwaysOnTop: boolean;
}

/** A screen or window the desktop shell can capture, offered in the picker before the capture. */
export interface ScreenSource {
  /** desktopCapturer's source id, passed back to `captureScreen` to take that one. */
  id: string;
  name: string;
  kind: 'screen' | 'window';
  /** A small picture of it (a data URL), so the user can tell the windows apart. */
  thumbnail: string;
}

/** The sources to choose from; null where the page chooses itself (browser mode's `getDisplayMedia`). */
export interface ScreenSources {
  sources: ScreenSource[] | null;
}

/** Without `sourceId`: asks, then captures the primary screen. With it: one the last listing offered. */
export const captureScreenRequest = z.strictObject({ sourceId: z.string().min(1).max(200, 'That is not a screen or window id.') }).optional();

/**
 * `image`: the desktop shell's capture, as a PNG data URL. Null: capturing is allowed, and the
 * page captures itself (browser mode's `getDisplayMedia`).
 */
export interface ScreenCapture {
  image: string | null;
}
