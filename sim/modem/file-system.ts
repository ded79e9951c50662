// The classic dialect's modem file system: drive "C:" (local flash) and, when a storage card
// is inserted, "D:". Paths look like "C:/Email/100202110457/EMAIL000.TXT"; names are
// case-sensitive; directories list in creation order. Survives modem resets (it is flash).

import { utf8Bytes } from "./bytes.ts";

export class FileSystemError extends Error {
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "FileSystemError";
  constructor(message: string) {
    super(message);
  }
}

interface Directory {
  dirs: Map<string, Directory>;
  files: Map<string, Uint8Array>;
}

function emptyDirectory(): Directory {
  return { dirs: new Map(), files: new Map() };
}

export interface FileSystemOptions {
  /** Bytes the files of each drive may take in all. Default 10 MiB. */
  capacity?: number;
  /** Whether drive "D:" (a storage card) is present. Default false. */
  storageCard?: boolean;
}

export class SimFileSystem {
  capacity: number;
  private readonly drives = new Map<string, Directory>();

  constructor(options: FileSystemOptions = {}) {
    this.capacity = options.capacity ?? 10 * 1024 * 1024;
    this.drives.set("C:", emptyDirectory());
    if (options.storageCard) this.drives.set("D:", emptyDirectory());
  }

  get storageCard(): boolean {
    return this.drives.has("D:");
  }

  /** Inserts (true) or pulls (false) the storage card; a new card is empty. */
  set storageCard(present: boolean) {
    if (present && !this.drives.has("D:")) this.drives.set("D:", emptyDirectory());
    if (!present) this.drives.delete("D:");
  }

  /**
   * An absolute, normalised path ("C:/a/b", "C:" for a root) from `path`, which is absolute
   * ("C:/x") or relative to `cwd`; "." and ".." are understood.
   */
  resolve(path: string, cwd = "C:"): string {
    const absolute = /^[A-Za-z]:/.test(path);
    const drive = (absolute ? path.slice(0, 2) : cwd.slice(0, 2)).toUpperCase();
    const parts = absolute ? [] : cwd.slice(2).split("/").filter((p) => p !== "");
    for (const part of (absolute ? path.slice(2) : path).split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") parts.pop();
      else parts.push(part);
    }
    return parts.length === 0 ? drive : `${drive}/${parts.join("/")}`;
  }

  /** A path as the modem prints it for a directory: "C:/Picture/". */
  static display(directory: string): string {
    return `${directory}/`;
  }

  private split(path: string): { drive: Directory; parts: string[]; label: string } {
    const absolute = this.resolve(path);
    const drive = this.drives.get(absolute.slice(0, 2));
    if (!drive) throw new FileSystemError(`drive ${absolute.slice(0, 2)} is not present`);
    return { drive, parts: absolute.slice(2).split("/").filter((p) => p !== ""), label: absolute };
  }

  private directory(path: string, create: boolean): Directory {
    const { drive, parts, label } = this.split(path);
    let dir = drive;
    for (const part of parts) {
      let next = dir.dirs.get(part);
      if (!next) {
        if (!create) throw new FileSystemError(`no directory ${label}`);
        if (dir.files.has(part)) throw new FileSystemError(`${label}: "${part}" is a file`);
        next = emptyDirectory();
        dir.dirs.set(part, next);
      }
      dir = next;
    }
    return dir;
  }

  isDirectory(path: string): boolean {
    try {
      this.directory(path, false);
      return true;
    } catch {
      return false;
    }
  }

  exists(path: string): boolean {
    return this.isDirectory(path) || this.fileOrNull(path) !== null;
  }

  mkdir(path: string): void {
    this.directory(path, true);
  }

  /** Writes a file, creating its directories; refuses to exceed the drive's capacity. */
  write(path: string, data: Uint8Array | string): void {
    const absolute = this.resolve(path);
    const slash = absolute.lastIndexOf("/");
    if (slash < 0) throw new FileSystemError(`${absolute} is a drive, not a file`);
    const bytes = typeof data === "string" ? utf8Bytes(data) : data;
    const name = absolute.slice(slash + 1);
    const dir = this.directory(absolute.slice(0, slash), true);
    if (dir.dirs.has(name)) throw new FileSystemError(`${absolute} is a directory`);
    const old = dir.files.get(name)?.length ?? 0;
    const used = this.used(absolute.slice(0, 2));
    if (used - old + bytes.length > this.capacity) {
      throw new FileSystemError(`drive ${absolute.slice(0, 2)} is full (${used} of ${this.capacity} bytes used, ${bytes.length} more needed)`);
    }
    dir.files.set(name, Uint8Array.from(bytes));
  }

  private fileOrNull(path: string): Uint8Array | null {
    const absolute = this.resolve(path);
    const slash = absolute.lastIndexOf("/");
    if (slash < 0) return null;
    try {
      return this.directory(absolute.slice(0, slash), false).files.get(absolute.slice(slash + 1)) ?? null;
    } catch {
      return null;
    }
  }

  read(path: string): Uint8Array {
    const file = this.fileOrNull(path);
    if (file === null) throw new FileSystemError(`no file ${this.resolve(path)}`);
    return file;
  }

  /** Deletes a file or an empty directory. */
  remove(path: string): void {
    const absolute = this.resolve(path);
    const slash = absolute.lastIndexOf("/");
    if (slash < 0) throw new FileSystemError(`cannot delete drive ${absolute}`);
    const dir = this.directory(absolute.slice(0, slash), false);
    const name = absolute.slice(slash + 1);
    if (dir.files.delete(name)) return;
    const sub = dir.dirs.get(name);
    if (!sub) throw new FileSystemError(`no file or directory ${absolute}`);
    if (sub.dirs.size > 0 || sub.files.size > 0) throw new FileSystemError(`directory ${absolute} is not empty`);
    dir.dirs.delete(name);
  }

  /** Names of the subdirectories and files of a directory, in creation order. */
  list(path: string): { directories: string[]; files: string[] } {
    const dir = this.directory(path, false);
    return { directories: [...dir.dirs.keys()], files: [...dir.files.keys()] };
  }

  /** Bytes used by the files of a drive ("C:" or "D:"). */
  used(drive: string): number {
    const root = this.drives.get(drive.toUpperCase());
    if (!root) return 0;
    let total = 0;
    const walk = (dir: Directory) => {
      for (const file of dir.files.values()) total += file.length;
      for (const sub of dir.dirs.values()) walk(sub);
    };
    walk(root);
    return total;
  }
}
