// The app's flash ports (LogStore, KeyValueStore) on Moddable's `file` module. On the ESP32 the
// manifest selects LittleFS; on `lin` (the simulator) the host file system under /tmp.
//
// What the code relies on (checked in the Moddable SDK source, modules/files/file):
// - `new File(path, true)` opens read/write and creates a missing file; it never truncates, so a
//   file meant to be written fresh is deleted first, and appending seeks to `length` first.
// - `read(ArrayBuffer, n)` returns a new ArrayBuffer and throws when reading at or past the end.
// - `write(buffer)` takes an ArrayBuffer (lin accepts nothing else; LittleFS also takes views).
// - `File.rename(from, to)` and `File.delete(path)` return false on failure instead of throwing.
// - LittleFS is copy-on-write: what `write` adds becomes part of the file only when the file is
//   synced, which `close()` does. A power cut before that leaves the file as it was at open, and
//   `lfs_rename` replaces its target atomically. So `append` (open, write, close) is durable and
//   all-or-nothing when it returns, and `replace`/`put` (write a temporary file, close, rename)
//   leave the old or the new content, never a mix. On lin, `write` flushes stdio buffers and
//   `close` closes the file; durability against a host crash is not a goal there.
//
// Moddable's LittleFS mounts the file system when the first file is opened and unmounts when the
// last one closes. The log store keeps one read handle open between reads so that scanning the
// outbox does not mount once per record; it closes it before anything writes or renames.

import type { AppendBytes, KeyValueStore, LogStore } from "../app/ports.ts";

/** An open file, as Moddable's `File` instance. */
export interface FileHandle {
  readonly length: number;
  position: number;
  read(type: typeof ArrayBuffer, count: number): ArrayBuffer;
  write(buffer: ArrayBuffer): void;
  close(): void;
}

/** Moddable's `File` class (import { File } from "file"), or a fake with its behaviour. */
export interface FileClass {
  new (path: string, write?: boolean): FileHandle;
  exists(path: string): boolean;
  delete(path: string): boolean;
  rename(from: string, to: string): boolean;
}

/** Suffix of the file that a replace writes before renaming it over the real one. */
export const TEMPORARY_SUFFIX = ".new";

/** A copy of `length` bytes of `data` from `offset`, as the plain ArrayBuffer `File.write` wants. */
function bytesToWrite(data: Uint8Array, offset: number, length: number): ArrayBuffer {
  const start = data.byteOffset + offset;
  return (data.buffer as ArrayBuffer).slice(start, start + length);
}

function checkRange(who: string, data: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > data.length) {
    throw new RangeError(`${who}: bytes ${offset}..${offset + length} are outside the ${data.length}-byte buffer`);
  }
}

/** Writes a fresh file at `path` through `fill` and closes it (which makes it durable). */
function writeFresh(File: FileClass, path: string, fill: (append: AppendBytes) => void): void {
  File.delete(path); // left over by a power cut, or absent: `new File` would not truncate it
  const file = new File(path, true);
  try {
    fill((data, offset, length) => {
      checkRange("replace", data, offset, length);
      if (length > 0) file.write(bytesToWrite(data, offset, length));
    });
  } catch (error) {
    file.close();
    File.delete(path);
    throw error;
  }
  file.close();
}

function renameOver(File: FileClass, from: string, to: string): void {
  if (!File.rename(from, to)) {
    File.delete(from);
    throw new Error(`flash: renaming ${from} over ${to} failed; the old content stays`);
  }
}

/** An append-only file on flash: the outbox. */
export class FileLogStore implements LogStore {
  readonly path: string;
  private readonly File: FileClass;
  private readonly temporary: string;
  private reader: FileHandle | null = null;
  private replacing = false;

  constructor(File: FileClass, path: string) {
    if (typeof path !== "string" || !path.startsWith("/") || path.endsWith("/")) {
      throw new TypeError(`FileLogStore: "${String(path)}" is not an absolute file path`);
    }
    this.File = File;
    this.path = path;
    this.temporary = path + TEMPORARY_SUFFIX;
    // A power cut in the middle of a replace leaves its temporary file: the old file is the valid one.
    if (File.exists(this.temporary)) File.delete(this.temporary);
  }

  size(): number {
    const reader = this.openReader();
    return reader === null ? 0 : reader.length;
  }

  read(position: number, out: Uint8Array, offset: number, length: number): number {
    checkRange("FileLogStore.read", out, offset, length);
    if (!Number.isInteger(position) || position < 0) throw new RangeError(`FileLogStore.read: ${position} is not a file position`);
    const reader = this.openReader();
    if (reader === null) return 0;
    const count = Math.min(length, reader.length - position);
    if (count <= 0) return 0;
    reader.position = position;
    out.set(new Uint8Array(reader.read(ArrayBuffer, count)), offset);
    return count;
  }

  append(data: Uint8Array, offset: number, length: number): void {
    checkRange("FileLogStore.append", data, offset, length);
    if (this.replacing) throw new Error("FileLogStore.append: the file is being replaced; append through the replace writer");
    if (length === 0) return;
    this.closeReader();
    const file = new this.File(this.path, true);
    try {
      file.position = file.length;
      file.write(bytesToWrite(data, offset, length));
    } finally {
      file.close();
    }
  }

  replace(writer: (append: AppendBytes) => void): void {
    if (this.replacing) throw new Error("FileLogStore.replace: a replace is already running");
    this.replacing = true;
    try {
      // The writer may read the old content (compaction copies records): reads keep using it.
      writeFresh(this.File, this.temporary, writer);
      this.closeReader();
      renameOver(this.File, this.temporary, this.path);
    } finally {
      this.replacing = false;
    }
  }

  /** Releases the read handle (LittleFS unmounts when no file is open). */
  close(): void {
    this.closeReader();
  }

  private openReader(): FileHandle | null {
    if (this.reader === null) {
      if (!this.File.exists(this.path)) return null;
      this.reader = new this.File(this.path);
    }
    return this.reader;
  }

  private closeReader(): void {
    const reader = this.reader;
    this.reader = null;
    reader?.close();
  }
}

const KEY = /^[A-Za-z0-9_-]{1,48}$/;
const VALUE_SUFFIX = ".kv";

/** Small values, one file per key, each replaced atomically. */
export class FileKeyValueStore implements KeyValueStore {
  readonly directory: string;
  private readonly File: FileClass;

  /** `directory` must exist and end with "/". */
  constructor(File: FileClass, directory: string) {
    if (typeof directory !== "string" || !directory.startsWith("/") || !directory.endsWith("/")) {
      throw new TypeError(`FileKeyValueStore: "${String(directory)}" is not an absolute directory path ending in "/"`);
    }
    this.File = File;
    this.directory = directory;
  }

  get(key: string): Uint8Array | null {
    const path = this.pathOf(key);
    if (!this.File.exists(path)) return null;
    const file = new this.File(path);
    try {
      const length = file.length;
      return length === 0 ? new Uint8Array(0) : new Uint8Array(file.read(ArrayBuffer, length));
    } finally {
      file.close();
    }
  }

  put(key: string, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new TypeError(`FileKeyValueStore.put("${key}"): the value must be a Uint8Array`);
    const path = this.pathOf(key);
    const temporary = path + TEMPORARY_SUFFIX;
    writeFresh(this.File, temporary, (append) => append(value, 0, value.length));
    renameOver(this.File, temporary, path);
  }

  delete(key: string): void {
    const path = this.pathOf(key);
    this.File.delete(path + TEMPORARY_SUFFIX);
    if (this.File.exists(path) && !this.File.delete(path)) throw new Error(`FileKeyValueStore.delete: removing ${path} failed`);
  }

  private pathOf(key: string): string {
    if (typeof key !== "string" || !KEY.test(key)) throw new RangeError(`FileKeyValueStore: key "${String(key)}" must be 1-48 of A-Z a-z 0-9 _ -`);
    return this.directory + key + VALUE_SUFFIX;
  }
}
