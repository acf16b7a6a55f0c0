// Images for a model that exists (predict, evaluate, the test set of a run): converted like the training images and
// checked against the model's channels, image size and classes, before any GPU work.
import type { ImageDataset } from '../data/dataset.js';
import { checkLabels, type LabeledImages } from './data-source.js';
import { toImageBlock, type ImageInput } from './images.js';

/** What the model takes. */
export interface InputShape {
  numClasses: number;
  channels: number;
  imageSize: number;
}

/** Unlabeled images in the model's shape (labels 0: unused). */
export function imagesFor(s: InputShape, images: ImageInput, what: string, names?: readonly string[]): ImageDataset {
  const b = toImageBlock(images, what, { channels: s.channels, names });
  if (b.size !== s.imageSize) {
    throw new Error(`${what} are ${b.size}x${b.size}; the model takes ${s.imageSize}x${s.imageSize} images: resize them first`);
  }
  return {
    name: what, images: b.pixels, labels: new Int32Array(b.n), n: b.n, channels: b.channels, height: b.size, width: b.size,
    numClasses: s.numClasses,
  };
}

/** Labeled images in the model's shape, labels checked against its classes. */
export function labeledFor(s: InputShape, set: LabeledImages, what: string): ImageDataset {
  if (typeof set !== 'object' || set === null || !('images' in set)) throw new Error(`${what}: expected { images, labels }`);
  const ds = imagesFor(s, set.images, what, set.names);
  ds.labels = checkLabels(set.labels, ds.n, what, s.numClasses, set.names);
  return ds;
}
