/**
 * Image inputs as the service takes them: which references it accepts, the largest image, and
 * what the brain can tell about a picture it cannot see (its format and size in pixels).
 *
 * The accepted shapes come from the `openai` SDK's types: Responses `ResponseInputImage`
 * (resources/responses/responses.d.ts) has `image_url` "a fully qualified URL or base64 encoded
 * image in a data URL", or `file_id`, and `detail: ImageDetail` = 'low' | 'high' | 'auto' |
 * 'original'; the Realtime user message's content (resources/realtime/realtime.d.ts) takes only
 * `image_url` as "Base64-encoded image bytes … as a data URI … Supported formats are PNG and
 * JPEG" with `detail?: 'auto' | 'low' | 'high'`. The per-image limit is the documented 20 MB.
 */

export const maxImageBytes = 20 * 1024 * 1024;

export interface ImageRefusal {
  type: 'invalid_request_error';
  code: string;
  message: string;
  param: string;
}

export interface ImageRules {
  /** The protocol's `detail` values. */
  details: readonly string[];
  /** Media types a data URL may carry. */
  mediaTypes: readonly string[];
  /** Whether an https URL or a `file_id` may stand in for the bytes (Responses only). */
  references: boolean;
}

export const responsesImageRules: ImageRules = {
  details: ['low', 'high', 'auto', 'original'],
  mediaTypes: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
  references: true,
};

export const realtimeImageRules: ImageRules = { details: ['auto', 'low', 'high'], mediaTypes: ['image/png', 'image/jpeg'], references: false };

/** What the brain learns of one image. */
export interface ImageSeen {
  mediaType: string | null;
  width: number | null;
  height: number | null;
}

const dataUrl = /^data:([^;,]+)((?:;[^;,]+)*?);base64,([A-Za-z0-9+/]*={0,2})$/s;

/** The refusal the service sends for an `input_image` part, or null when it would take it. */
export function imageRefusal(part: Record<string, unknown>, param: string, rules: ImageRules): ImageRefusal | null {
  const invalid = (field: string, message: string, code = 'invalid_value'): ImageRefusal => ({ type: 'invalid_request_error', code, message, param: `${param}.${field}` });
  if (part.detail !== undefined && part.detail !== null && !rules.details.includes(part.detail as string)) {
    return invalid('detail', `Invalid value: '${String(part.detail)}'. Supported values are: ${rules.details.map((detail) => `'${detail}'`).join(', ')}.`);
  }
  const url = part.image_url;
  const fileId = part.file_id;
  if (rules.references && typeof fileId === 'string' && fileId.length > 0 && (url === undefined || url === null)) return null;
  if (url === undefined || url === null) {
    return { type: 'invalid_request_error', code: 'missing_required_parameter', message: rules.references ? `Missing required parameter: '${param}.image_url' (or '${param}.file_id').` : `Missing required parameter: '${param}.image_url'.`, param: `${param}.image_url` };
  }
  if (typeof url !== 'string') return invalid('image_url', `Invalid type for '${param}.image_url': expected a string, but got ${typeof url} instead.`, 'invalid_type');
  if (url.startsWith('https://') && rules.references) return URL.canParse(url) ? null : invalid('image_url', `Invalid '${param}.image_url': '${url.slice(0, 60)}' is not a valid URL.`);
  const match = dataUrl.exec(url);
  if (match === null) {
    const expected = rules.references ? 'a fully qualified https URL or a base64-encoded data URL' : 'a base64-encoded data URL';
    return invalid('image_url', `Invalid '${param}.image_url'. Expected ${expected} with an image media type (e.g. 'data:image/png;base64,...'), but got '${url.slice(0, 40)}${url.length > 40 ? '…' : ''}'.`, 'invalid_image_url');
  }
  const mediaType = (match[1] ?? '').toLowerCase();
  if (!rules.mediaTypes.includes(mediaType)) {
    return invalid('image_url', `Invalid '${param}.image_url': unsupported image media type '${mediaType}'. Supported types are ${rules.mediaTypes.join(', ')}.`, 'invalid_image_format');
  }
  const bytes = Math.floor(((match[3] ?? '').length * 3) / 4);
  if (bytes > maxImageBytes) {
    return invalid('image_url', `Invalid '${param}.image_url': the image is ${(bytes / 1024 / 1024).toFixed(1)} MB, over the ${maxImageBytes / 1024 / 1024} MB limit for an image.`, 'image_too_large');
  }
  return null;
}

/** The format and pixel size of an image reference, read from a PNG's or JPEG's header where it is inline. */
export function seeImage(url: unknown): ImageSeen {
  const match = typeof url === 'string' ? dataUrl.exec(url) : null;
  if (match === null) return { mediaType: null, width: null, height: null };
  const mediaType = (match[1] ?? '').toLowerCase();
  const bytes = Buffer.from(match[3] ?? '', 'base64');
  return { mediaType, ...dimensions(bytes) };
}

function dimensions(bytes: Buffer): { width: number | null; height: number | null } {
  // PNG: the signature, then IHDR's width and height as big-endian 32-bit numbers.
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('ascii', 12, 16) === 'IHDR') {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  // JPEG: walk the segments to the first start-of-frame marker.
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < bytes.length && bytes[offset] === 0xff) {
      const marker = bytes[offset + 1] ?? 0;
      const length = bytes.readUInt16BE(offset + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: bytes.readUInt16BE(offset + 7), height: bytes.readUInt16BE(offset + 5) };
      }
      offset += 2 + length;
    }
  }
  return { width: null, height: null };
}

/** How the brain says it got an image: "a 640×480 PNG image", or "an image" when it cannot tell. */
export function describeImage(image: ImageSeen): string {
  const format = image.mediaType === null ? '' : ` ${image.mediaType.replace('image/', '').toUpperCase()}`;
  return image.width === null || image.height === null ? `an image${format === '' ? '' : ` (${format.trim()})`}` : `a ${image.width}×${image.height}${format} image`;
}
