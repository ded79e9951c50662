// An in-memory stand-in for Moddable's `file` module, with the behaviour src/device/storage.ts
// relies on (from the SDK's modules/files/file: littlefs/modLittlefs.c and lin/modFile.c):
// - `new File(path)` throws when the file is missing; `new File(path, true)` creates it and
//   never truncates; the position starts at 0.
// - `read(ArrayBuffer | String, n)` returns min(n, length - position) bytes as a new buffer or a
//   string, and throws at or past the end; `write` takes ArrayBuffers or strings, not views (the
//   lin implementation refuses them). Strings are taken as Latin-1 here (the tests use ASCII).
// - LittleFS semantics for power cuts: what a handle writes reaches the flash only when it is
//   closed (lfs_file_close syncs); `powerCut()` throws away every open handle's unsynced data.
// - `rename` replaces its target atomically and returns false on failure; `delete` returns false
//   for a missing file.
// Power cuts are injected before the k-th state-changing operation (open for writing, write,
// close, delete, rename) with `cutAtOperation`: that operation and everything after it never
// happen. `operations` counts them, so a test can cut at every point of a run in turn.
// It also catches misuse the real thing tolerates silently: reading through a handle opened
// before another handle changed the file (LittleFS does not promise what that returns) and
// renaming or deleting a file that is open.

import type { FileClass, FileHandle } from "../../src/device/storage.ts";

interface OpenFile {
  path: string;
  writable: boolean;
  /** The file's content as this handle sees it (committed at open, plus its own writes). */
  content: Uint8Array;
  /** The committed version it was opened at: a reader must not outlive a change. */
  version: number;
  dirty: boolean;
  dead: boolean;
}

export class PowerCut extends Error {
  // A field, not `this.name =`: the fake also runs under XS with the built-ins frozen.
  override readonly name: string = "PowerCut";
  constructor(operation: number, what: string) {
    super(`power cut before operation ${operation} (${what})`);
  }
}

export class FakeFlash {
  /** Committed content by path. */
  readonly files = new Map<string, Uint8Array>();
  private readonly versions = new Map<string, number>();
  readonly open = new Set<OpenFile>();
  /** Every operation, e.g. "open r /f", "write /f 12", "close /f", "rename /a /b". */
  readonly log: string[] = [];
  /** Each `new File` call. */
  opens = 0;
  /** The next rename returns false (as a full or failing file system would). */
  failNextRename = false;
  /** The next `write` throws after keeping this many of its bytes (a write error mid-way). */
  failNextWriteAfter: number | null = null;
  /** State-changing operations so far. */
  operations = 0;
  /** The operation (1-based, counted by `operations`) that a power cut prevents; null: none. */
  cutAtOperation: number | null = null;
  readonly File: FileClass;

  constructor() {
    this.File = makeFileClass(this);
  }

  /** Power is off after a cut: every call throws until `reboot()` (the CPU stopped too). */
  off = false;

  /** Power is lost: every open handle's unsynced writes are gone and the handles are dead. */
  powerCut(): void {
    for (const file of this.open) file.dead = true;
    this.open.clear();
    this.off = true;
    this.log.push("power cut");
  }

  reboot(): void {
    this.off = false;
    this.log.push("reboot");
  }

  /** Throws while the power is off. */
  powered(): void {
    if (this.off) throw new Error("fake flash: the power is off");
  }

  /** Counts a state-changing operation; throws PowerCut when it is the one to cut before. */
  operation(what: string): void {
    this.operations++;
    if (this.cutAtOperation === this.operations) {
      this.cutAtOperation = null;
      this.powerCut();
      throw new PowerCut(this.operations, what);
    }
  }

  text(path: string): string | null {
    const content = this.files.get(path);
    return content === undefined ? null : String.fromCharCode(...content);
  }

  put(path: string, text: string): void {
    this.commit(path, Uint8Array.from(text, (c) => c.charCodeAt(0)));
  }

  commit(path: string, content: Uint8Array): void {
    this.files.set(path, content);
    this.versions.set(path, (this.versions.get(path) ?? 0) + 1);
  }

  remove(path: string): void {
    this.files.delete(path);
    this.versions.set(path, this.version(path) + 1);
  }

  version(path: string): number {
    return this.versions.get(path) ?? 0;
  }

  isOpen(path: string): boolean {
    for (const file of this.open) if (file.path === path) return true;
    return false;
  }
}

function makeFileClass(flash: FakeFlash): FileClass {
  class FakeFile implements FileHandle {
    private readonly state: OpenFile;
    private at = 0;

    constructor(path: string, write = false) {
      flash.powered();
      flash.opens++;
      const existing = flash.files.get(path);
      if (existing === undefined && !write) throw new Error("file not found");
      if (write) flash.operation(`open ${path}`);
      if (existing === undefined) flash.commit(path, new Uint8Array(0));
      this.state = {
        path,
        writable: write,
        content: (flash.files.get(path) as Uint8Array).slice(),
        version: flash.version(path),
        dirty: false,
        dead: false,
      };
      flash.open.add(this.state);
      flash.log.push(`open ${write ? "w" : "r"} ${path}`);
    }

    get length(): number {
      return this.live().content.length;
    }

    get position(): number {
      this.live();
      return this.at;
    }

    set position(value: number) {
      this.live();
      this.at = value;
    }

    read(type: typeof ArrayBuffer, count: number): ArrayBuffer;
    read(type: typeof String, count: number): string;
    read(type: typeof ArrayBuffer | typeof String, count: number): ArrayBuffer | string {
      const state = this.live();
      if (type !== ArrayBuffer && type !== String) throw new TypeError("fake file: read(type, n) takes ArrayBuffer or String");
      if (!state.writable && state.version !== flash.version(state.path)) {
        throw new Error(`fake file: ${state.path} changed after this reader was opened`);
      }
      const size = state.content.length;
      if (this.at >= size) throw new Error("read past end of file");
      const n = Math.min(count, size - this.at);
      const out = state.content.slice(this.at, this.at + n);
      this.at += n;
      return type === String ? String.fromCharCode(...out) : out.buffer;
    }

    write(value: ArrayBuffer | string): void {
      const state = this.live();
      if (!(value instanceof ArrayBuffer) && typeof value !== "string") throw new TypeError("fake file: write takes an ArrayBuffer or a string, not a view (as on lin)");
      if (!state.writable) throw new Error("fake file: not opened for writing");
      flash.operation(`write ${state.path}`);
      let bytes = typeof value === "string" ? Uint8Array.from(value, (c) => c.charCodeAt(0)) : new Uint8Array(value);
      const failAfter = flash.failNextWriteAfter;
      if (failAfter !== null) {
        flash.failNextWriteAfter = null;
        bytes = bytes.subarray(0, Math.min(failAfter, bytes.length));
      }
      const end = Math.max(state.content.length, this.at + bytes.length);
      const grown = new Uint8Array(end);
      grown.set(state.content);
      grown.set(bytes, this.at);
      state.content = grown;
      state.dirty = true;
      this.at += bytes.length;
      flash.log.push(`write ${state.path} ${bytes.length}`);
      if (failAfter !== null) throw new Error("LFS_ERR: -28");
    }

    close(): void {
      const state = this.live();
      if (state.writable) flash.operation(`close ${state.path}`);
      flash.open.delete(state);
      state.dead = true;
      if (state.dirty) flash.commit(state.path, state.content);
      flash.log.push(`close ${state.path}`);
    }

    private live(): OpenFile {
      flash.powered();
      if (this.state.dead) throw new Error("closed");
      return this.state;
    }

    static exists(path: string): boolean {
      flash.powered();
      return flash.files.has(path);
    }

    static delete(path: string): boolean {
      flash.powered();
      if (flash.isOpen(path)) throw new Error(`fake file: deleting ${path} while it is open`);
      flash.operation(`delete ${path}`);
      flash.log.push(`delete ${path}`);
      if (!flash.files.has(path)) return false;
      flash.remove(path);
      return true;
    }

    static rename(from: string, to: string): boolean {
      flash.powered();
      if (flash.isOpen(from) || flash.isOpen(to)) throw new Error(`fake file: renaming ${from} to ${to} while one is open`);
      flash.operation(`rename ${from}`);
      const content = flash.files.get(from);
      if (flash.failNextRename || content === undefined) {
        flash.failNextRename = false;
        flash.log.push(`rename ${from} ${to} failed`);
        return false;
      }
      flash.remove(from);
      flash.commit(to, content);
      flash.log.push(`rename ${from} ${to}`);
      return true;
    }
  }
  return FakeFile;
}
