// The app's own images -> the engine's layout: uint8 pixels, NCHW (channel-major per image), square, 1 or 3
// channels. Two kinds of input:
//  - one typed array of many images: u8 0..255 (Uint8Array, Uint8ClampedArray) or f32 0..1 (Float32Array), in NCHW
//    or NHWC order (NHWC is what a canvas gives, minus its alpha);
//  - browser images (ImageData, ImageBitmap, canvases, loaded <img> elements), drawn onto an OffscreenCanvas and read
//    back as RGBA; grayscale when every pixel has R = G = B, unless the caller asks for a channel count.
// Every problem is an Error naming the set ("labeled images"), the image (index and name when given) and the fix, and
// is raised here, before any GPU work.

/** Pixels the app already holds as one typed array. */
export interface ImageArray {
  /** Uint8Array / Uint8ClampedArray: values 0..255; Float32Array: values 0..1. */
  data: Uint8Array | Uint8ClampedArray | Float32Array;
  /** 'nchw': each image's channels one after another (planar); 'nhwc': interleaved pixels (R, G, B, R, G, B, ...). */
  layout: 'nchw' | 'nhwc';
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  height: number;
  width: number;
  /** Images in `data`; default: data.length / (channels * height * width). */
  count?: number;
}

/** What a browser app has at hand. <img> elements must be loaded (`await img.decode()`). */
export type BrowserImage = ImageData | ImageBitmap | HTMLCanvasElement | OffscreenCanvas | HTMLImageElement;

/** A typed array of images, or a list of browser images. */
export type ImageInput = ImageArray | readonly BrowserImage[];

/** Images in the engine's layout. */
export interface ImageBlock {
  /** n * channels * size * size bytes, NCHW. */
  pixels: Uint8Array;
  n: number;
  channels: number;
  size: number;
}

/** RGBA pixels of decoded browser images, before the channel count is chosen. */
export interface RgbaImages {
  rgba: Uint8ClampedArray[];
  width: number;
  height: number;
}

const nameOf = (names: readonly string[] | undefined, i: number) => (names?.[i] ? ` (${names[i]})` : '');

export function isImageArray(x: unknown): x is ImageArray {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'data' in x && 'layout' in x;
}

function checkSquare(what: string, width: number, height: number): void {
  if (width !== height) {
    throw new Error(`${what} are ${width}x${height} (width x height): the model takes square images; crop or resize them ` +
      `to one side (e.g. draw them onto a ${Math.min(width, height)}x${Math.min(width, height)} canvas)`);
  }
  if (width < 4) throw new Error(`${what} are ${width}x${height}: the model needs images of at least 4x4 pixels`);
}

function checkChannels(what: string, c: number): void {
  if (c === 4) throw new Error(`${what}: 4 channels (RGBA?): drop the alpha channel and pass channels 3, or pass the ImageData itself`);
  if (c !== 1 && c !== 3) throw new Error(`${what}: channels is ${String(c)}; the model takes 1 (grayscale) or 3 (RGB)`);
}

/** A typed array of images -> NCHW u8. */
export function fromImageArray(a: ImageArray, what: string): ImageBlock {
  const { data, layout, channels: c, height: h, width: w } = a;
  const kind = Object.prototype.toString.call(data).slice(8, -1);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Float32Array)) {
    throw new Error(`${what}: data is a ${kind}; pass a Uint8Array or Uint8ClampedArray (0..255) or a Float32Array (0..1)`);
  }
  if (layout !== 'nchw' && layout !== 'nhwc') throw new Error(`${what}: layout is ${JSON.stringify(layout)}; use 'nchw' or 'nhwc'`);
  for (const [k, v] of [['channels', c], ['height', h], ['width', w]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what}: ${k} is ${String(v)}; it must be an integer >= 1`);
  }
  checkChannels(what, c);
  checkSquare(what, w, h);
  const per = c * h * w;
  let n = a.count;
  if (n === undefined) {
    if (data.length % per !== 0) {
      throw new Error(`${what}: data has ${data.length} values, not a multiple of one image's ${per} (channels x height x width = ${c}x${h}x${w}); ` +
        `check the shape or pass count`);
    }
    n = data.length / per;
  } else if (!Number.isInteger(n) || n < 0 || n * per !== data.length) {
    throw new Error(`${what}: data has ${data.length} values but ${String(n)} images of ${c}x${h}x${w} need ${Number(n) * per} ` +
      `(count x channels x height x width)`);
  }
  if (n === 0) throw new Error(`${what}: no images (data is empty)`);
  const out = new Uint8Array(n * per);
  const hw = h * w;
  const f32 = data instanceof Float32Array;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < hw; p++) {
        const src = layout === 'nchw' ? i * per + ch * hw + p : i * per + p * c + ch;
        let v = data[src];
        if (f32) {
          if (!(v >= 0 && v <= 1)) {
            throw new Error(`${what}: data[${src}] = ${v} (image ${i}) is outside 0..1: Float32Array pixels are 0..1 ` +
              `(divide by 255, or pass a Uint8Array for 0..255 values)`);
          }
          v = Math.round(v * 255);
        }
        out[i * per + ch * hw + p] = v;
      }
    }
  }
  return { pixels: out, n, channels: c, size: w };
}

function sizeOf(x: BrowserImage): { w: number; h: number; kind: string } {
  const kind = Object.prototype.toString.call(x).slice(8, -1);
  if (typeof HTMLImageElement !== 'undefined' && x instanceof HTMLImageElement) {
    return { w: x.naturalWidth, h: x.naturalHeight, kind: 'HTMLImageElement' };
  }
  const o = x as { width?: unknown; height?: unknown };
  if (typeof o === 'object' && o !== null && typeof o.width === 'number' && typeof o.height === 'number') return { w: o.width, h: o.height, kind };
  return { w: NaN, h: NaN, kind };
}

/** Browser images -> RGBA, one size for all (the first image's). */
export function decodeBrowserImages(list: readonly BrowserImage[], what: string, names?: readonly string[]): RgbaImages {
  if (!Array.isArray(list)) throw new Error(`${what}: expected an ImageArray ({ data, layout, channels, height, width }) or a list of browser images`);
  if (list.length === 0) throw new Error(`${what}: no images (the list is empty)`);
  // Sizes first: a mixed-size set is refused before any image is drawn.
  const first = sizeOf(list[0]);
  list.forEach((x, i) => {
    const { w, h, kind } = sizeOf(x);
    if (!(w > 0 && h > 0)) {
      throw new Error(`${what}: image ${i}${nameOf(names, i)} is a ${kind} with no size` +
        (kind === 'HTMLImageElement' ? ' (not loaded yet: await img.decode() first)' : ' (expected ImageData, ImageBitmap, a canvas or a loaded <img>)'));
    }
    if (w !== first.w || h !== first.h) {
      throw new Error(`${what}: image ${i}${nameOf(names, i)} is ${w}x${h} but image 0${nameOf(names, 0)} is ${first.w}x${first.h}: ` +
        `all images must have one size; resize them first`);
    }
  });
  let canvas: OffscreenCanvas | null = null;
  let g: OffscreenCanvasRenderingContext2D | null = null;
  const rgba = list.map((x, i) => {
    if (typeof ImageData !== 'undefined' && x instanceof ImageData) return x.data;
    if (typeof OffscreenCanvas === 'undefined') {
      throw new Error(`${what}: image ${i} is a ${sizeOf(x).kind}, which needs OffscreenCanvas to read (a browser); pass typed arrays (ImageArray) instead`);
    }
    canvas ??= new OffscreenCanvas(first.w, first.h);
    g ??= canvas.getContext('2d', { willReadFrequently: true });
    if (!g) throw new Error(`${what}: no 2D canvas context to read image ${i} with`);
    g.clearRect(0, 0, first.w, first.h);
    g.drawImage(x as CanvasImageSource, 0, 0);
    return g.getImageData(0, 0, first.w, first.h).data;
  });
  return { rgba, width: first.w, height: first.h };
}

/** True when every pixel has R = G = B (a grayscale picture saved as RGB). */
export function allGray(imgs: RgbaImages): boolean {
  return imgs.rgba.every((d) => {
    for (let p = 0; p < d.length; p += 4) if (d[p] !== d[p + 1] || d[p] !== d[p + 2]) return false;
    return true;
  });
}

/** RGBA -> NCHW u8 with 3 channels (alpha dropped) or 1 (PIL's 'L' luma: (299 R + 587 G + 114 B) / 1000). */
export function rgbaToBlock(imgs: RgbaImages, channels: number, what: string): ImageBlock {
  checkChannels(what, channels);
  checkSquare(what, imgs.width, imgs.height);
  const hw = imgs.width * imgs.height, per = channels * hw, n = imgs.rgba.length;
  const out = new Uint8Array(n * per);
  imgs.rgba.forEach((d, i) => {
    for (let p = 0; p < hw; p++) {
      const r = d[4 * p], g = d[4 * p + 1], b = d[4 * p + 2];
      if (channels === 1) out[i * per + p] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
      else {
        out[i * per + p] = r;
        out[i * per + hw + p] = g;
        out[i * per + 2 * hw + p] = b;
      }
    }
  });
  return { pixels: out, n, channels, size: imgs.width };
}

/** Any input -> NCHW u8. Browser images get `channels` (1 or 3); typed arrays must already have them when given. */
export function toImageBlock(input: ImageInput, what: string, opts: { channels?: number; names?: readonly string[] } = {}): ImageBlock {
  if (isImageArray(input)) {
    const b = fromImageArray(input, what);
    if (opts.channels !== undefined && b.channels !== opts.channels) {
      throw new Error(`${what} have ${b.channels} channel(s) but the model takes ${opts.channels}`);
    }
    return b;
  }
  const rgba = decodeBrowserImages(input, what, opts.names);
  return rgbaToBlock(rgba, opts.channels ?? (allGray(rgba) ? 1 : 3), what);
}
