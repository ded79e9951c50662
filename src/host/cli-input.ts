// The CLI's checks of local input before anything reaches the modem: mailboxes as typed, files
// given with --body-file / --attach, and the attachment's byte source that reads one in place.

import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { addressProblem, type Address, type ByteSource } from "../mail/message.ts";
import { UsageError } from "./cli-options.ts";

/** A mailbox as typed: local@domain, or a display name then <local@domain>, nothing after the >. */
const MAILBOX = /^\s*(?:(.*?)\s*<([^<>]*)>|([^<>]*))\s*$/;

/** `--flag`'s mailbox, checked by the one address rule; a name in quotes loses them. */
export function parseAddress(flag: string, text: string): Address {
  const m = MAILBOX.exec(text);
  if (m === null) throw new UsageError(`${flag} "${text}" is not a mailbox: write local@domain or Name <local@domain>, with one < and a > at the end`);
  const address = (m[2] ?? m[3]).trim();
  const problem = addressProblem(address);
  if (problem !== null) throw new UsageError(`${flag} ${problem}`);
  const name = (m[1] ?? "").replace(/^"(.*)"$/, "$1");
  return name === "" ? { address } : { address, name };
}

/** Why `path` (given with `flag`) is not a regular file this process can read, or null. */
function unreadableFile(path: string): string | null {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
  }
  if (stats.isDirectory()) return "is a directory, not a file";
  if (!stats.isFile()) return "is not a regular file";
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return "permission denied";
  }
  return null;
}

/** `path` checked to be a readable regular file before anything is sent; a refusal names `flag`. */
export function inputFile(flag: string, path: string): string {
  const problem = unreadableFile(path);
  if (problem !== null) throw new UsageError(`${flag} ${path}: ${problem}`);
  return path;
}

/** A file read in place, block by block, as the attachment's byte source. */
export class FileSource implements ByteSource {
  readonly size: number;
  private readonly fd: number;
  private position = 0;
  constructor(path: string) {
    try {
      this.fd = openSync(path, "r");
    } catch (error) {
      throw new UsageError(`--attach ${path}: ${unreadableFile(path) ?? (error as Error).message}`);
    }
    this.size = fstatSync(this.fd).size;
  }
  read(out: Uint8Array, offset: number, max: number): number {
    const n = readSync(this.fd, out, offset, max, this.position);
    this.position += n;
    return n;
  }
  rewind(): void {
    this.position = 0;
  }
  close(): void {
    closeSync(this.fd);
  }
}
