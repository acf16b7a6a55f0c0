// IDX files (MNIST / Fashion-MNIST): big-endian header `00 00 <dtype> <ndims>`, ndims big-endian u32 sizes, then
// the raw data. Only unsigned-byte data (dtype 0x08) is used: images 0x00000803 (n, rows, cols), labels 0x00000801 (n).
// Browser and Node alike (DataView, DecompressionStream); every error names the file.
import type { ImageDataset } from './dataset.js';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

export interface IdxImages {
  n: number;
  rows: number;
  cols: number;
  /** n * rows * cols bytes, row-major per image (a copy, independent of the input buffer). */
  pixels: Uint8Array;
}

const hex = (x: number) => `0x${(x >>> 0).toString(16).padStart(8, '0')}`;

/** Header sizes after checking the magic and that the header itself is complete. */
function readHeader(bytes: Uint8Array, file: string, magic: number, what: string): number[] {
  const ndims = magic & 0xff;
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < 4) throw new Error(`${file}: truncated: ${bytes.length} bytes, not even an IDX magic number`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = dv.getUint32(0, false);
  if (got !== magic) {
    const hint = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (gzip data: decompress first, see gunzipIfNeeded)' : '';
    throw new Error(`${file}: bad magic ${hex(got)}, expected ${hex(magic)} (IDX unsigned-byte ${what})${hint}`);
  }
  if (bytes.length < headerLen) {
    throw new Error(`${file}: truncated: ${bytes.length} bytes, the ${ndims}-dimension IDX header needs ${headerLen}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  return dims;
}

export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  const [n, rows, cols] = readHeader(bytes, file, IDX_IMAGES_MAGIC, '3-D images');
  if (rows === 0 || cols === 0) throw new Error(`${file}: bad image size ${rows}x${cols}`);
  const size = rows * cols;
  const have = bytes.length - 16;
  if (have < n * size) {
    throw new Error(
      `${file}: truncated: header says ${n} images of ${rows}x${cols} (${n * size} bytes), file has ${have} bytes ` +
        `(${Math.floor(have / size)} whole images)`,
    );
  }
  if (have > n * size) throw new Error(`${file}: ${have - n * size} bytes after the ${n} images the header declares`);
  return { n, rows, cols, pixels: bytes.slice(16) };
}

/** Labels as int32, each checked against 0..numClasses-1. */
export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses = 10): Int32Array {
  const [n] = readHeader(bytes, file, IDX_LABELS_MAGIC, '1-D labels');
  const have = bytes.length - 8;
  if (have < n) throw new Error(`${file}: truncated: header says ${n} labels, file has ${have}`);
  if (have > n) throw new Error(`${file}: ${have - n} bytes after the ${n} labels the header declares`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = bytes[8 + i];
    if (y >= numClasses) throw new Error(`${file}: label ${y} at index ${i} out of range 0..${numClasses - 1}`);
    labels[i] = y;
  }
  return labels;
}

/** Decompresses gzip data (magic 1f 8b) with DecompressionStream (browsers, Node >= 18); other bytes pass through. */
export async function gunzipIfNeeded(bytes: Uint8Array, file = 'data'): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    // zlib's reason ("unexpected end of file", "incorrect data check") says truncated or corrupted; a non-Error
    // rejection (some stream implementations) still gets a readable message.
    const why = e instanceof Error && e.message ? e.message : String(e);
    throw new Error(`${file}: gzip decompression failed: ${why} (file truncated or corrupted? download it again)`);
  }
}

export interface IdxDatasetNames {
  /** Dataset name (e.g. "fashion-mnist/train"). */
  name: string;
  /** File names used in error messages. */
  images: string;
  labels: string;
  classNames?: string[];
}

/** Images + labels files (gzipped or not) into one ImageDataset (1 channel). */
export async function loadIdxDataset(
  imagesBytes: Uint8Array,
  labelsBytes: Uint8Array,
  names: IdxDatasetNames,
  numClasses = 10,
): Promise<ImageDataset> {
  const img = parseIdxImages(await gunzipIfNeeded(imagesBytes, names.images), names.images);
  const labels = parseIdxLabels(await gunzipIfNeeded(labelsBytes, names.labels), names.labels, numClasses);
  if (labels.length !== img.n) {
    throw new Error(`${names.images}: ${img.n} images but ${names.labels} has ${labels.length} labels`);
  }
  if (names.classNames && names.classNames.length !== numClasses) {
    throw new Error(`${names.name}: ${names.classNames.length} class names for ${numClasses} classes`);
  }
  return {
    name: names.name,
    images: img.pixels,
    labels,
    n: img.n,
    channels: 1,
    height: img.rows,
    width: img.cols,
    numClasses,
    classNames: names.classNames,
  };
}
