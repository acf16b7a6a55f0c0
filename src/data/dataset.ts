// The in-memory image dataset every loader produces: uint8 pixels, NCHW (channel-major per image, the layout of
// CIFAR's binary files and of the GPU input tensors), int32 labels.

export interface ImageDataset {
  name: string;
  /** n * channels * height * width bytes; image i starts at i * channels * height * width, channel-major. */
  images: Uint8Array;
  labels: Int32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  classNames?: string[];
}

/** Bytes of one image. */
export function imageSize(d: Pick<ImageDataset, 'channels' | 'height' | 'width'>): number {
  return d.channels * d.height * d.width;
}

/** Per-class counts of `labels` (length numClasses); throws on a label outside 0..numClasses-1. */
export function classCounts(labels: ArrayLike<number>, numClasses: number, what = 'labels'): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new Error(`${what}: label ${y} at index ${i} out of range 0..${numClasses - 1}`);
    }
    counts[y]++;
  }
  return counts;
}

/** Checks that sizes agree (catches a hand-built or truncated dataset before it reaches the GPU). */
export function validateDataset(d: ImageDataset): void {
  const dims = [d.n, d.channels, d.height, d.width, d.numClasses];
  if (!dims.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`${d.name}: bad dimensions ${dims.join(', ')}`);
  if (d.images.length !== d.n * imageSize(d)) {
    throw new Error(`${d.name}: ${d.images.length} pixel bytes, expected ${d.n} x ${d.channels}x${d.height}x${d.width}`);
  }
  if (d.labels.length !== d.n) throw new Error(`${d.name}: ${d.labels.length} labels for ${d.n} images`);
  if (d.classNames && d.classNames.length !== d.numClasses) {
    throw new Error(`${d.name}: ${d.classNames.length} class names for ${d.numClasses} classes`);
  }
  classCounts(d.labels, d.numClasses, d.name);
}

/** A new dataset holding the images at `indices` (in that order): the labeled / unlabeled / validation subsets. */
export function subset(d: ImageDataset, indices: ArrayLike<number>, name = d.name): ImageDataset {
  const size = imageSize(d);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= d.n) throw new Error(`${name}: index ${i} out of range 0..${d.n - 1}`);
    images.set(d.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = d.labels[i];
  }
  return { ...d, name, images, labels, n: indices.length };
}
