// The CLI's file writes: atomic replacement (temp file, fsync, rename), appends, and the clean-up of temp files left
// by writers that died. Every error names the file and what to do, whatever the system call said (ENOSPC and EISDIR
// messages from Node do not always carry the path, and a temp file's path is not the one the user asked for).
import { appendFileSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TEMP_FILE, writeFileAtomicSync } from '../nn/atomic-write.js';

const HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space or choose another folder',
  EDQUOT: 'the disk quota is exhausted: free space or choose another folder',
  EISDIR: 'a folder is in the way: remove it or choose another name',
  ENOTDIR: 'a file is in the way where a folder is needed',
  EACCES: 'permission denied: choose a folder you can write',
  EPERM: 'permission denied: choose a folder you can write',
  EROFS: 'the file system is read-only: choose another folder',
  ENOENT: 'the folder does not exist',
};

/** An Error that names `path` and the action, with a hint for the common error codes. */
export function fsError(e: unknown, action: string, path: string): Error {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  return new Error(`cannot ${action} '${path}': ${code || err.message}${HINTS[code] ? ` (${HINTS[code]})` : ''}`);
}

/** Replaces `path` atomically (a reader sees the old file or the new one), creating its folder. */
export function writeAtomic(path: string, data: string | Uint8Array, beforeRename?: (tmp: string) => void): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomicSync(path, typeof data === 'string' ? new TextEncoder().encode(data) : data, beforeRename);
  } catch (e) {
    throw fsError(e, 'write', path);
  }
}

export function appendLine(path: string, line: string): void {
  try {
    appendFileSync(path, `${line}\n`);
  } catch (e) {
    throw fsError(e, 'append to', path);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temp files in `dir` whose writer process is gone (torn writes of a crashed run); returns their names. */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_FILE.exec(name) ?? /\.tmp-(\d+)$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      /* raced with another cleaner */
    }
  }
  return removed;
}
