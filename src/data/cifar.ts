// CIFAR binary versions (https://www.cs.toronto.edu/~kriz/cifar.html), browser and Node alike.
//   CIFAR-10  data_batch_1..5.bin, test_batch.bin: per record 1 label byte + 3072 pixel bytes
//   CIFAR-100 train.bin, test.bin:                 per record coarse label byte + fine label byte + 3072 pixel bytes
// Pixels are 1024 red, 1024 green, 1024 blue bytes, each 32x32 row-major: already NCHW, copied as is.
// CIFAR-100 uses the fine labels (100 classes), as the reference's torchvision CIFAR100 does.
import type { ImageDataset } from './dataset.js';

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export const CIFAR_PIXELS = 3 * 32 * 32;

export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

export const CIFAR100_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILES = ['test_batch.bin'];
export const CIFAR100_TRAIN_FILES = ['train.bin'];
export const CIFAR100_TEST_FILES = ['test.bin'];

interface Format {
  labelBytes: number; // label bytes before the pixels
  labelAt: number; // which of them is the label used
  numClasses: number;
  classNames: string[];
  /** Range of the label bytes not used (CIFAR-100 coarse: 0..19), checked too: a wrong format shows up early. */
  otherMax?: number;
}

function parse(files: NamedBytes[], fmt: Format, name: string): ImageDataset {
  if (files.length === 0) throw new Error(`${name}: no files given`);
  const rec = fmt.labelBytes + CIFAR_PIXELS;
  let n = 0;
  for (const f of files) {
    if (f.bytes.length === 0) throw new Error(`${f.name}: empty file`);
    if (f.bytes.length % rec !== 0) {
      throw new Error(
        `${f.name}: ${f.bytes.length} bytes is not a whole number of ${rec}-byte records ` +
          `(${Math.floor(f.bytes.length / rec)} records + ${f.bytes.length % rec} bytes: truncated or not ${name} binary)`,
      );
    }
    n += f.bytes.length / rec;
  }
  const images = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Int32Array(n);
  let i = 0;
  for (const f of files) {
    const b = f.bytes;
    for (let r = 0, off = 0; off < b.length; r++, off += rec, i++) {
      for (let k = 0; k < fmt.labelBytes; k++) {
        const y = b[off + k];
        const max = k === fmt.labelAt ? fmt.numClasses - 1 : (fmt.otherMax ?? 255);
        if (y > max) throw new Error(`${f.name}: record ${r}: label byte ${k} is ${y}, out of range 0..${max}`);
      }
      labels[i] = b[off + fmt.labelAt];
      images.set(b.subarray(off + fmt.labelBytes, off + rec), i * CIFAR_PIXELS);
    }
  }
  return {
    name, images, labels, n, channels: 3, height: 32, width: 32,
    numClasses: fmt.numClasses, classNames: fmt.classNames,
  };
}

/** CIFAR-10 binary batches, concatenated in the order given. */
export function parseCifar10(files: NamedBytes[], name = 'cifar10'): ImageDataset {
  return parse(files, { labelBytes: 1, labelAt: 0, numClasses: 10, classNames: CIFAR10_CLASSES }, name);
}

/** CIFAR-100 binary files (fine labels), concatenated in the order given. */
export function parseCifar100(files: NamedBytes[], name = 'cifar100'): ImageDataset {
  return parse(files, { labelBytes: 2, labelAt: 1, numClasses: 100, classNames: CIFAR100_CLASSES, otherMax: 19 }, name);
}

/** Encodes records in the CIFAR binary format (tests, tools): `coarse` given → CIFAR-100 layout. */
export function encodeCifar(images: Uint8Array, labels: ArrayLike<number>, coarse?: ArrayLike<number>): Uint8Array {
  const n = labels.length;
  if (images.length !== n * CIFAR_PIXELS) {
    throw new Error(`encodeCifar: ${images.length} pixel bytes for ${n} records (${n * CIFAR_PIXELS} expected)`);
  }
  if (coarse && coarse.length !== n) throw new Error(`encodeCifar: ${coarse.length} coarse labels for ${n} records`);
  // A label byte stores 0..255; anything else would wrap silently (300 -> 44) and come back as another class.
  // The class range (0..9, 0..99, coarse 0..19) is left to the parsers, so tests can encode out-of-range files.
  const checkByte = (v: number, i: number, what: string) => {
    if (Number.isInteger(v) && v >= 0 && v <= 255) return;
    throw new Error(`encodeCifar: ${what} ${typeof v === 'number' ? v : `(a ${typeof v})`} of record ${i} is not a byte (0..255)`);
  };
  const lb = coarse ? 2 : 1;
  const rec = lb + CIFAR_PIXELS;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    checkByte(labels[i], i, 'label');
    if (coarse) {
      checkByte(coarse[i], i, 'coarse label');
      out[i * rec] = coarse[i];
    }
    out[i * rec + lb - 1] = labels[i];
    out.set(images.subarray(i * CIFAR_PIXELS, (i + 1) * CIFAR_PIXELS), i * rec + lb);
  }
  return out;
}
