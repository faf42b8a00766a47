import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DataError } from './errors.js';

/** The image files every command reads (what sharp decodes): PNG, JPEG, WebP, GIF (first frame), TIFF. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff'];
/** Images decoded at once; sharp decodes on libuv's thread pool, so a few in flight keep it busy. */
const PARALLEL_DECODES = 8;

/** A file that is named as an image but does not decode as one (truncated, or not an image at all). */
export class UnreadableImageError extends DataError {
  override name = 'UnreadableImageError';

  constructor(
    /** The file as the user named it. */
    readonly file: string,
    /** What the decoder said, on one line. */
    readonly reason: string,
  ) {
    super(`${file}: cannot decode image (${reason})`);
  }
}

/** True for a file name with an image extension that is not hidden (`.DS_Store`, macOS's `._cat.jpg`). */
export function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** The words `train`, `eval` and `predict` all use for an image they leave out. */
export function skippedImageMessage(error: UnreadableImageError): string {
  return `skipped ${error.file}: cannot decode image (${error.reason})`;
}

/** An image decoded to the net's input, and its own size before resizing. */
interface DecodedImage {
  pixels: Uint8Array;
  /** [H, W] of the file. */
  size: readonly [number, number];
}

/**
 * Decodes an image file to [C, H, W] bytes: resized to cover H x W (aspect kept, centre cropped),
 * transparency flattened onto black, converted to grey (C = 1) or sRGB (C = 3). A file that does not
 * decode throws UnreadableImageError, naming it.
 */
export async function decodeImage(file: string, shape: readonly [number, number, number]): Promise<Uint8Array> {
  return (await decode(file, shape)).pixels;
}

async function decode(file: string, shape: readonly [number, number, number]): Promise<DecodedImage> {
  const [c, h, w] = shape;
  checkChannels(shape);
  await checkReadable(file);
  let raw: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  let size: [number, number];
  try {
    const image = sharp(file);
    const { width, height } = await image.metadata();
    size = [height ?? h, width ?? w];
    raw = await image
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(w, h, { fit: 'cover' })
      .toColourspace(c === 1 ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new UnreadableImageError(file, decoderReason((error as Error).message));
  }
  if (raw.info.channels !== c || raw.info.width !== w || raw.info.height !== h) {
    throw new DataError(`${file}: decoded to ${raw.info.width}x${raw.info.height}x${raw.info.channels}, expected ${w}x${h}x${c}`);
  }
  // sharp gives interleaved (H, W, C); the engine wants planes (C, H, W).
  const pixels = new Uint8Array(c * h * w);
  for (let i = 0; i < h * w; i++) for (let ch = 0; ch < c; ch++) pixels[ch * h * w + i] = raw.data[i * c + ch] as number;
  return { pixels, size };
}

/**
 * libvips repeats itself over several lines; the first says what is wrong, unless it ends in a
 * colon (`Input file has corrupt header:`), when the detail is on the next.
 */
function decoderReason(message: string): string {
  const lines = message.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const first = lines[0] ?? 'unknown error';
  if (!first.endsWith(':')) return first;
  return lines[1] !== undefined ? `${first} ${lines[1]}` : first.slice(0, -1);
}

/** A missing file is the user's mistake to fix, not an image to skip. */
async function checkReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
  }
}

function checkChannels([c]: readonly [number, number, number]): void {
  if (c !== 1 && c !== 3) throw new DataError(`images can be read for 1 or 3 input channels, the net takes ${c}`);
}

/** What `decodeImages` read: each file's pixels (null where it was skipped) and how many files had each size. */
export interface DecodedImages {
  /** Each file's [C, H, W] bytes, in the order given; null for a file that was skipped. */
  pixels: (Uint8Array | null)[];
  /** `HxW` -> how many files had that size. */
  sizes: Map<string, number>;
}

/**
 * Decodes `files` to the net's input, a few at a time. A file that does not decode is skipped and
 * handed to `onSkip` (which may warn with `skippedImageMessage`); any other error (a missing file, a
 * wrong channel count) throws.
 */
export async function decodeImages(
  files: readonly string[],
  shape: readonly [number, number, number],
  onSkip: (error: UnreadableImageError) => void,
): Promise<DecodedImages> {
  checkChannels(shape);
  const pixels: (Uint8Array | null)[] = [];
  const sizes = new Map<string, number>();
  for (let start = 0; start < files.length; start += PARALLEL_DECODES) {
    const chunk = files.slice(start, start + PARALLEL_DECODES);
    const results = await Promise.allSettled(chunk.map((file) => decode(file, shape)));
    for (const result of results) {
      if (result.status === 'fulfilled') {
        const key = result.value.size.join('x');
        sizes.set(key, (sizes.get(key) ?? 0) + 1);
        pixels.push(result.value.pixels);
      } else if (result.reason instanceof UnreadableImageError) {
        onSkip(result.reason);
        pixels.push(null);
      } else {
        throw result.reason;
      }
    }
  }
  return { pixels, sizes };
}

/**
 * One line saying which images were resized to the net's input and how (`null` when none were):
 * `folder:pets (train): 120 images resized to the net's 32x32 input (HxW: 120 of 64x64); a net with
 * INPUT[64x64x3] (or --input 64x64x3) would take them at their size`. Sizes are HxW, as in the
 * notation. `suggestInput: false` leaves out the INPUT, for a net that is fixed (a model file).
 */
export function resizeNote(name: string, sizes: ReadonlyMap<string, number>, [c, h, w]: readonly [number, number, number], suggestInput = true): string | null {
  const other = [...sizes].filter(([size]) => size !== `${h}x${w}`).sort((a, b) => b[1] - a[1]);
  if (other.length === 0) return null;
  const count = other.reduce((n, [, k]) => n + k, 0);
  const listed = other.slice(0, 3).map(([size, k]) => `${k} of ${size}`);
  if (other.length > 3) listed.push(`${other.length - 3} more sizes`);
  const aspect = (size: string): number => {
    const [sh, sw] = size.split('x').map(Number) as [number, number];
    return sh / sw;
  };
  const cropped = other.some(([size]) => Math.abs(aspect(size) - h / w) > 1e-9) ? ', centre-cropped where their shape differs' : '';
  const only = sizes.size === 1 && suggestInput ? other[0]?.[0] : undefined;
  const hint = only === undefined ? '' : `; a net with INPUT[${only}x${c}] (or --input ${only}x${c}) would take them at their size`;
  return `${name}: ${count} image${count === 1 ? '' : 's'} resized to the net's ${h}x${w} input (HxW: ${listed.join(', ')})${cropped}${hint}`;
}
