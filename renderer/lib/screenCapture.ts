/**
 * Browser mode's capture (the page asks the browser with getDisplayMedia; the desktop app captures
 * in main) and the crop, both drawn through a canvas into a PNG data URL.
 */
import type { Rect } from './crop';

/** One frame of the screen, window or tab the user picks in the browser's own chooser. */
export async function captureDisplay(): Promise<string> {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  try {
    const video = document.createElement('video');
    video.muted = true;
    // Listening before the stream is attached, so the first frame's size cannot slip past.
    const sized = new Promise((resolve) => video.addEventListener('loadeddata', resolve, { once: true }));
    video.srcObject = stream;
    await video.play();
    await sized;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d')?.drawImage(video, 0, 0);
    return canvas.toDataURL('image/png');
  } finally {
    for (const track of stream.getTracks()) track.stop();
  }
}

export function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('The screenshot could not be read.'));
    image.src = url;
  });
}

/**
 * The renderer may not import the contract's schemas at run time, so this mirrors its
 * `maxScreenshotChars`; past it the host refuses the picture in words.
 */
const maxScreenshotChars = 6_000_000;

/** The part of the picture inside `rect`, as PNG, or as JPEG when a PNG would be too large to send. */
export async function cropImage(url: string, rect: Rect): Promise<string> {
  const image = await loadImage(url);
  const canvas = document.createElement('canvas');
  canvas.width = rect.width;
  canvas.height = rect.height;
  canvas.getContext('2d')?.drawImage(image, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
  const png = canvas.toDataURL('image/png');
  return png.length <= maxScreenshotChars ? png : canvas.toDataURL('image/jpeg', 0.85);
}
