// Node-only: reads dataset files from disk for the CLI and tests and hands the bytes to the browser-safe parsers.
// Kept apart so that nothing else in src/data imports `node:` modules (the page bundle must not).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES, CIFAR100_TEST_FILES, CIFAR100_TRAIN_FILES,
  parseCifar10, parseCifar100, type NamedBytes,
} from './cifar.js';
import type { ImageDataset } from './dataset.js';
import { FASHION_MNIST_CLASSES, loadIdxDataset } from './idx.js';

/** Debian's dataset-fashion-mnist location. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** "folder/file": short enough for messages, enough to tell train from test and one dataset from another. */
export function displayName(path: string): string {
  return join(basename(dirname(path)), basename(path));
}

export function readNamedFile(path: string): NamedBytes {
  const name = displayName(path);
  if (!existsSync(path)) throw new Error(`${name}: no such file (${path})`);
  const b = readFileSync(path);
  return { name, bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
}

/** The first existing path among `dir/<name>` for the names given, or an error listing what was tried. */
function firstExisting(dir: string, names: string[]): string {
  for (const n of names) {
    const p = join(dir, n);
    if (existsSync(p)) return p;
  }
  throw new Error(`${dir}: none of ${names.join(', ')} found`);
}

/** Fashion-MNIST (or MNIST) split `train` / `t10k` from a folder of IDX files, gzipped or not. */
export async function loadFashionMnistDir(dir = DEBIAN_FASHION_MNIST_DIR, split: 'train' | 't10k' = 'train'): Promise<ImageDataset> {
  const img = readNamedFile(firstExisting(dir, [`${split}-images-idx3-ubyte.gz`, `${split}-images-idx3-ubyte`]));
  const lab = readNamedFile(firstExisting(dir, [`${split}-labels-idx1-ubyte.gz`, `${split}-labels-idx1-ubyte`]));
  return loadIdxDataset(img.bytes, lab.bytes, {
    name: `${basename(dir)}/${split}`, images: img.name, labels: lab.name, classNames: FASHION_MNIST_CLASSES,
  });
}

/** The folder holding `file`: `dir` itself or the archive's own subfolder (cifar-10-batches-bin, cifar-100-binary). */
function cifarFolder(dir: string, sub: string, file: string): string {
  if (existsSync(join(dir, file))) return dir;
  if (existsSync(join(dir, sub, file))) return join(dir, sub);
  throw new Error(`${dir}: ${file} not found (neither there nor in ${sub}/)`);
}

export function loadCifar10Dir(dir: string, split: 'train' | 'test' = 'train'): ImageDataset {
  const files = split === 'train' ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;
  const folder = cifarFolder(dir, 'cifar-10-batches-bin', files[0]);
  return parseCifar10(files.map((f) => readNamedFile(join(folder, f))), `cifar10/${split}`);
}

export function loadCifar100Dir(dir: string, split: 'train' | 'test' = 'train'): ImageDataset {
  const files = split === 'train' ? CIFAR100_TRAIN_FILES : CIFAR100_TEST_FILES;
  const folder = cifarFolder(dir, 'cifar-100-binary', files[0]);
  return parseCifar100(files.map((f) => readNamedFile(join(folder, f))), `cifar100/${split}`);
}
