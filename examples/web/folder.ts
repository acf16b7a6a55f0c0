// A dropped or picked folder -> classes: one subfolder per class (its name is the class), plus an optional
// `unlabeled/` subfolder whose images have no label (or, to study the pseudo-labels, `unlabeled/<class>/`: the labels
// are then only used for the pseudo-label statistics, never trained on) and an optional `test/<class>/` set that the
// trainer evaluates (accuracy, per-class recall, the feature embedding). Files that are not images are skipped and reported; a class folder
// without images, files outside any class folder, or fewer than two classes are errors that say what to change.
// scanFolder is pure (tested in Node); the rest reads files through browser APIs.

export interface FolderFile {
  /** Path inside the picked or dropped folder, '/'-separated, e.g. 'flowers/rose/001.png'. */
  path: string;
  file: Blob;
}

export interface FolderScan {
  /** Class names in label order (sorted, as torchvision's ImageFolder). */
  classNames: string[];
  labeled: { path: string; file: Blob; label: number }[];
  unlabeled: { path: string; file: Blob }[];
  /** True labels of the unlabeled images when every one is in `unlabeled/<class>/`, else null. */
  unlabeledLabels: number[] | null;
  /** `test/<class>/` images. */
  test: { path: string; file: Blob; label: number }[];
  /** Paths of files that are not images (by extension), left out. */
  skipped: string[];
}

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp', 'avif'];
export const UNLABELED = 'unlabeled';
export const TEST = 'test';

const isImage = (path: string) => IMAGE_EXTENSIONS.includes(path.slice(path.lastIndexOf('.') + 1).toLowerCase());
const isHidden = (seg: string) => seg.startsWith('.');

export function scanFolder(files: readonly FolderFile[], dirs: readonly string[] = []): FolderScan {
  // Sorted by path: the order a folder listing gives varies, and the labels, batches and messages should not.
  const visible = files.filter((f) => !f.path.split('/').some(isHidden)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!visible.length) throw new Error('the folder holds no files: pick the folder that holds one subfolder per class');
  // A picked or dropped folder comes with its own name in front ('flowers/rose/1.png'): strip a first segment that
  // every path shares when that still leaves class folders.
  let parts = visible.map((f) => f.path.split('/').filter(Boolean));
  let dirParts = dirs.map((d) => d.split('/').filter(Boolean));
  const top = parts[0][0];
  if (parts.every((p) => p[0] === top) && parts.some((p) => p.length >= 3)) {
    parts = parts.map((p) => p.slice(1));
    dirParts = dirParts.filter((d) => d[0] === top).map((d) => d.slice(1));
  }
  // Files beside the class folders: a README is skipped like any non-image, an image is a mistake worth naming.
  const loose = parts.filter((p, i) => p.length < 2 && isImage(visible[i].path)).map((p) => p.join('/'));
  if (loose.length) {
    throw new Error(`${loose.length} image(s) are not inside a class folder (${loose.slice(0, 3).join(', ')}${loose.length > 3 ? ', ...' : ''}): ` +
      `put each image in a subfolder named after its class, or unlabeled images in '${UNLABELED}/'`);
  }
  // sub: the subfolder under the class folder ('dog' of unlabeled/dog/1.png), which names the class in unlabeled/ and test/.
  const folders = new Map<string, { path: string; file: Blob; sub?: string }[]>();
  const skipped: string[] = [];
  for (const d of dirParts) if (d.length === 1 && !isHidden(d[0])) folders.set(d[0], folders.get(d[0]) ?? []);
  parts.forEach((p, i) => {
    if (p.length < 2) {
      skipped.push(visible[i].path);
      return;
    }
    const list = folders.get(p[0]) ?? [];
    folders.set(p[0], list);
    if (isImage(visible[i].path)) list.push({ path: visible[i].path, file: visible[i].file, ...(p.length >= 3 ? { sub: p[1] } : {}) });
    else skipped.push(visible[i].path);
  });
  const reserved = (n: string) => n.toLowerCase() === UNLABELED || n.toLowerCase() === TEST;
  const unlabeled = [...folders].filter(([name]) => name.toLowerCase() === UNLABELED).flatMap(([, l]) => l);
  const classNames = [...folders.keys()].filter((n) => !reserved(n)).sort();
  /** The class of a file in `<reserved>/<class>/...`, or -1 when it is not in a known class folder. */
  const classOf = (f: { sub?: string }) => (f.sub === undefined ? -1 : classNames.indexOf(f.sub));
  for (const name of classNames) {
    if (!folders.get(name)!.length) {
      throw new Error(`class folder '${name}' has no images (${IMAGE_EXTENSIONS.join(', ')}): add some, or remove the folder`);
    }
  }
  if (classNames.length < 2) {
    throw new Error(`found ${classNames.length} class folder(s)${classNames.length ? ` ('${classNames[0]}')` : ''}: a classifier needs at least 2, ` +
      `one subfolder per class`);
  }
  const plain = (f: { path: string; file: Blob }) => ({ path: f.path, file: f.file });
  const labeled = classNames.flatMap((name, label) => folders.get(name)!.map((f) => ({ ...plain(f), label })));
  const uLabels = unlabeled.map(classOf);
  const test = [...folders].filter(([name]) => name.toLowerCase() === TEST).flatMap(([, l]) => l).map((f) => ({ ...plain(f), label: classOf(f) }));
  const stray = test.filter((f) => f.label < 0);
  if (stray.length) {
    throw new Error(`${stray.length} test image(s) are not in a class folder under '${TEST}/' (${stray.slice(0, 3).map((f) => f.path).join(', ')}): ` +
      `use ${TEST}/<class>/ with the class folder names (${classNames.join(', ')})`);
  }
  return { classNames, labeled, unlabeled: unlabeled.map(plain), unlabeledLabels: uLabels.length && uLabels.every((l) => l >= 0) ? uLabels : null, test, skipped };
}

/** The files of an <input type="file" webkitdirectory>. */
export function filesFromInput(list: FileList): FolderFile[] {
  return Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Every file (and folder, so empty class folders show) under the dropped items. */
export async function filesFromDrop(items: DataTransferItemList): Promise<{ files: FolderFile[]; dirs: string[] }> {
  const files: FolderFile[] = [], dirs: string[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      files.push({ path, file: await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail)) });
      return;
    }
    dirs.push(path);
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns the children in chunks (of 100 in Chromium) until an empty one.
    for (;;) {
      const chunk = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
      if (!chunk.length) break;
      for (const c of chunk) await walk(c, path);
    }
  };
  const entries = Array.from(items, (it) => it.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const e of entries) await walk(e, '');
  return { files, dirs };
}

/** Decodes an image file; a file that is not a readable image is an error naming it. With `size`, the image is
 * centre-cropped to a square and scaled to size x size. */
export async function decodeImage(file: Blob, path: string, size: number | null): Promise<ImageBitmap | OffscreenCanvas> {
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(file);
  } catch (e) {
    throw new Error(`${path} is not a readable image (${(e as Error).message || 'the browser cannot decode it'}): remove it or re-save it as PNG/JPEG`);
  }
  if (size === null) return bmp;
  const side = Math.min(bmp.width, bmp.height);
  const c = new OffscreenCanvas(size, size);
  c.getContext('2d')!.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, size, size);
  bmp.close();
  return c;
}
