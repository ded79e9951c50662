// Node bindings of the app's flash ports: an append-only file and small files per key, both
// made durable with fsync and replaced atomically with rename.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { AppendBytes, KeyValueStore, LogStore } from "../app/ports.ts";

function writeDurably(path: string, fill: (append: AppendBytes) => void): void {
  const temporary = `${path}.new`;
  const fd = openSync(temporary, "w");
  try {
    fill((data, offset, length) => {
      writeSync(fd, data, offset, length);
    });
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

export class FileLogStore implements LogStore {
  constructor(private readonly path: string) {}

  size(): number {
    return existsSync(this.path) ? statSync(this.path).size : 0;
  }

  read(position: number, out: Uint8Array, offset: number, length: number): number {
    if (!existsSync(this.path)) return 0;
    const fd = openSync(this.path, "r");
    try {
      return readSync(fd, out, offset, length, position);
    } finally {
      closeSync(fd);
    }
  }

  append(data: Uint8Array, offset: number, length: number): void {
    const fd = openSync(this.path, "a");
    try {
      writeSync(fd, data, offset, length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  replace(writer: (append: AppendBytes) => void): void {
    writeDurably(this.path, writer);
  }
}

export class FileKeyValueStore implements KeyValueStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(key: string): string {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(key)) throw new RangeError(`key "${key}" is not a plain file name`);
    return join(this.dir, key);
  }

  get(key: string): Uint8Array | null {
    const path = this.file(key);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : null;
  }

  put(key: string, value: Uint8Array): void {
    writeDurably(this.file(key), (append) => append(value, 0, value.length));
  }

  delete(key: string): void {
    rmSync(this.file(key), { force: true });
  }
}
