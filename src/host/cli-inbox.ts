// `simmail inbox`: the mailbox as people read it. list and headers read the header block
// (TOP n 0, or AT+POP3HDR in the classic dialect) through the streaming HeaderReader; read
// streams the mail through the PartWalker, showing its text parts decoded and saving its
// attachments with --save-parts, or keeps the exact bytes with --out. What cannot be decoded
// is shown as written with a note on stderr; nothing from a mail reaches the terminal with
// its control characters.

import { closeSync, existsSync, lstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { DialectCapabilities, Mailbox } from "../mail/dialect.ts";
import { CHARSET_LATIN1, CHARSET_UNKNOWN, CHARSET_UTF8, CharsetDecoder, charsetOf } from "../mail/codec/charset.ts";
import { PartWalker, type MimePart, type PartHandler } from "../mail/codec/part-walker.ts";
import { UsageError, type Options } from "./cli-options.ts";
import { Progress } from "./cli-progress.ts";
import { printableLine, safeFileName, StringText, TerminalText, type Out } from "./cli-text.ts";
import { headers, list, Notes } from "./cli-inbox-headers.ts";

/** Logs in, runs `work` in the session, logs out (cli.ts: flags, password, modem). */
export type OpenMailbox = (o: Options, work: (client: Mailbox, can: DialectCapabilities) => Promise<void>) => Promise<void>;

/** Bytes of a part header field (Content-Disposition with a long RFC 2231 file name). */
const PART_HEADER_BYTES = 4096;
const FILE_BLOCK = 16 * 1024;
/** Where each flag belongs: given with another action it is a usage error, not silently ignored. */
const ACTION_FLAGS: Readonly<Record<string, readonly string[]>> = { raw: ["headers"], out: ["read"], "save-parts": ["read"], force: ["read"] };

export async function inbox(o: Options, out: Out, openMailbox: OpenMailbox): Promise<void> {
  const [action, arg, extra] = o.rest;
  if (!["list", "headers", "read", "delete"].includes(action ?? "")) throw new UsageError("inbox needs one of: list, headers N, read N, delete N");
  for (const [flag, actions] of Object.entries(ACTION_FLAGS)) {
    if ((o.flags.has(flag) || o.values.has(flag)) && !actions.includes(action)) throw new UsageError(`--${flag} is for inbox ${actions.join(", ")}, not ${action}`);
  }
  if (o.flags.has("force") && !o.values.has("save-parts")) throw new UsageError("--force is for --save-parts (it lets saved parts replace files of the same name)");
  let n = 0;
  if (action !== "list") {
    n = Number(arg);
    if (!/^\d+$/.test(arg ?? "") || n < 1) throw new UsageError(`inbox ${action} needs a message number (got "${arg ?? ""}")`);
  }
  const surplus = action === "list" ? arg : extra;
  if (surplus !== undefined) throw new UsageError(`inbox ${action} takes ${action === "list" ? "no argument" : "one message number"} (got "${surplus}" too)`);
  const json = o.flags.has("json");
  const saveDir = action === "read" ? saveFolder(o) : null;
  await openMailbox(o, async (client, can) => {
    if (action === "list") await list(client, can, json, out);
    else if (action === "headers") await headers(client, n, o.flags.has("raw"), json, out);
    else if (action === "read") await read(client, can, n, o.values.get("out")?.[0], saveDir, o.flags.has("force"), json, out);
    else {
      await client.delete(n);
      out(`mail ${n} marked for deletion (removed at logout)`, { number: n, deleted: true });
    }
  });
}

/** --save-parts DIR: made if missing; checked before anything is sent. */
function saveFolder(o: Options): string | null {
  const dir = o.values.get("save-parts");
  if (dir === undefined) return null;
  if (dir.length > 1) throw new UsageError("--save-parts given more than once");
  try {
    mkdirSync(dir[0], { recursive: true });
    if (!statSync(dir[0]).isDirectory()) throw new Error("not a folder");
  } catch (error) {
    throw new UsageError(`--save-parts ${dir[0]}: ${(error as NodeJS.ErrnoException).code === "EEXIST" ? "not a folder" : (error as Error).message}`);
  }
  return dir[0];
}

/** One leaf part as read reports it. */
interface PartReport {
  index: number;
  mimeType: string;
  disposition: string;
  filename: string;
  /** Decoded bytes, when the part was shown or saved. */
  size: number | null;
  attachment: boolean;
  shown: boolean;
  savedAs: string | null;
}

/**
 * The PartWalker's handler for read: text/plain parts that are not attachments are decoded to
 * the text sink (one after the other), attachments written to files in `saveDir`.
 */
class MailReading implements PartHandler {
  readonly parts: PartReport[] = [];
  /** Files that were there already and were not replaced (without --force). */
  readonly kept: string[] = [];
  /** Paths --force did not replace: not plain files (a link, a folder). */
  readonly notFiles: string[] = [];
  /** The first file error (the disk full, a folder not writable): the mail is still read to its end. */
  failure: Error | null = null;
  private readonly decoder: CharsetDecoder;
  private readonly names = new Set<string>();
  private file = -1;
  private current: PartReport | null = null;

  constructor(
    private readonly n: number,
    private readonly text: TerminalText | StringText | null,
    private readonly saveDir: string | null,
    private readonly force: boolean,
    private readonly notes: Notes,
  ) {
    this.decoder = new CharsetDecoder(text ?? new StringText());
  }

  partBegin(part: MimePart): boolean {
    const where = `mail ${this.n}, part ${part.index} (${part.mimeType}${part.filename === "" ? "" : ` "${part.filename}"`})`;
    for (const problem of part.problems) this.notes.add(`${where}: ${problem}`);
    if (part.unopened !== "") this.notes.add(`${where}: ${part.unopened}, not opened`);
    const report: PartReport = {
      index: part.index, mimeType: part.mimeType, disposition: part.disposition, filename: part.filename, size: null, attachment: part.isAttachment, shown: false, savedAs: null,
    };
    this.parts.push(report);
    this.current = report;
    if (!part.isAttachment && part.mimeType === "text/plain" && this.text !== null) {
      this.beginText(part, where);
      report.shown = true;
      return true;
    }
    if (!part.isAttachment || this.saveDir === null || this.failure !== null) return false;
    try {
      report.savedAs = this.createFile(part, where);
    } catch (error) {
      this.fail(error as Error);
    }
    return report.savedAs !== null;
  }

  partData(src: Uint8Array, offset: number, length: number): void {
    if (this.file >= 0) {
      try {
        writeAll(this.file, src, offset, length);
      } catch (error) {
        this.fail(error as Error);
      }
    } else if (this.current?.shown === true) {
      this.decoder.write(src, offset, length);
    }
  }

  partEnd(part: MimePart): void {
    const report = this.current!;
    const where = `mail ${this.n}, part ${part.index}`;
    if (report.shown || report.savedAs !== null) report.size = part.size;
    if (part.invalidBase64 > 0) this.notes.add(`${where}: ${part.invalidBase64} characters that are not base64 were skipped`);
    if (report.shown) {
      this.decoder.end();
      if (this.decoder.replaced > 0) this.notes.add(`${where}: ${this.decoder.replaced} bytes that are not ${part.charset} text are shown as U+FFFD`);
    }
    if (this.file >= 0) {
      closeSync(this.file);
      this.file = -1;
    }
    this.current = null;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    if (this.file >= 0) closeSync(this.file);
    this.file = -1;
  }

  private beginText(part: MimePart, where: string): void {
    if (this.text!.openLine) this.text!.appendText("\n"); // texts one after the other, each on its own lines
    const charset = part.charset === "" ? CHARSET_UTF8 : charsetOf(part.charset);
    if (charset === CHARSET_UNKNOWN) this.notes.add(`${where}: the charset "${part.charset}" is not one simmail knows: shown byte for byte as ISO-8859-1`);
    this.decoder.begin(charset === CHARSET_UNKNOWN ? CHARSET_LATIN1 : charset);
  }

  /** Creates the part's file under its safe name; null (with a note or a kept file) when it cannot. */
  private createFile(part: MimePart, where: string): string | null {
    const fallback = `part-${part.index}${extensionOf(part.mimeType)}`;
    let name = safeFileName(part.filename);
    if (name === "") name = fallback;
    else if (name !== part.filename) this.notes.add(`${where}: saved as "${name}", the name made safe`);
    name = this.unused(name);
    const path = join(this.saveDir!, name);
    try {
      this.file = openSync(path, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!this.force) {
        this.kept.push(path);
        return null;
      }
      // Replaced only if it is a file: never through a link or into a folder.
      if (!lstatSync(path).isFile()) {
        this.notFiles.push(path);
        return null;
      }
      unlinkSync(path);
      this.file = openSync(path, "wx");
    }
    return path;
  }

  /** `name`, or name-2.ext, name-3.ext ... when this mail already saved one so named. */
  private unused(name: string): string {
    let candidate = name;
    const dot = name.lastIndexOf(".");
    const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let k = 2; this.names.has(candidate); k++) candidate = `${stem}-${k}${extension}`;
    this.names.add(candidate);
    return candidate;
  }
}

function writeAll(fd: number, src: Uint8Array, offset: number, length: number): void {
  for (let at = 0; at < length;) at += writeSync(fd, src, offset + at, length - at);
}

function extensionOf(mimeType: string): string {
  switch (mimeType) {
    case "text/plain": return ".txt";
    case "text/html": return ".html";
    case "message/rfc822": return ".eml";
    default: return ".bin";
  }
}

async function read(client: Mailbox, can: DialectCapabilities, n: number, file: string | undefined, saveDir: string | null, force: boolean, json: boolean, out: Out): Promise<void> {
  const size = await client.list(n);
  const notes = new Notes();
  const shown = file !== undefined ? null : json ? new StringText() : new TerminalText((bytes) => process.stdout.write(Buffer.from(bytes)));
  const reading = shown !== null || saveDir !== null ? new MailReading(n, shown, saveDir, force, notes) : null;
  const walker = reading !== null ? new PartWalker(reading, { partHeaderBytes: PART_HEADER_BYTES, scratchBytes: FILE_BLOCK }) : null;
  const progress = new Progress("receiving", process.stderr.isTTY === true && file !== undefined);
  // --out is written under a temporary name beside it and renamed once the whole mail is in:
  // an interrupt or a failure leaves no partial mail under the name given. A device or a pipe
  // (/dev/stdout, a FIFO) is written in place.
  let partial = "";
  let fd = -1;
  try {
    if (file !== undefined) {
      const special = existsSync(file) && !statSync(file).isFile();
      if (special && statSync(file).isDirectory()) throw new Error("is a directory");
      if (!special) partial = partialName(file);
      fd = openSync(special ? file : partial, special ? "w" : "wx");
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--out ${file}: ${code === "ENOENT" ? "no such directory" : code === "EACCES" ? "permission denied" : (error as Error).message}`);
  }
  let bytes = 0;
  /** A write to --out that failed: the mail is still read to its end, then this is the error. */
  let outFailure: Error | null = null;
  try {
    await client.retrieve(n, {
      write(buf, offset, length) {
        if (fd >= 0 && outFailure === null) {
          try {
            writeAll(fd, buf, offset, length);
          } catch (error) {
            outFailure = error as Error;
          }
        }
        walker?.write(buf, offset, length);
        bytes += length;
        progress.update(bytes, size);
      },
    });
    walker?.end();
    if (fd >= 0) {
      closeSync(fd);
      fd = -1;
      if (outFailure === null && partial !== "") renameSync(partial, file!);
    }
  } finally {
    progress.end();
    if (fd >= 0) closeSync(fd);
    if (partial !== "" && existsSync(partial)) unlinkSync(partial);
  }
  if (outFailure !== null) throw new Error(`--out ${file}: ${(outFailure as Error).message}`);
  if (reading?.failure) throw new Error(`--save-parts ${saveDir}: ${reading.failure.message}`);
  if (shown instanceof TerminalText) {
    if (shown.openLine) shown.appendText("\n");
    shown.flush();
  }
  if (walker !== null && !walker.complete) notes.add(`mail ${n}: the mail ends before the end of its MIME parts (it may have been cut)`);
  const parts = reading?.parts ?? [];
  if (shown !== null && !parts.some((p) => p.shown)) {
    const html = parts.some((p) => p.mimeType === "text/html" && p.filename === "");
    notes.add(`mail ${n} has no plain text part${html ? " (only text/html)" : ""}: --out FILE keeps the whole mail`);
  }
  if (saveDir !== null && can.attachments === "modem-file" && !parts.some((p) => p.savedAs !== null)) {
    notes.add(`mail ${n}: in the classic dialect the modem keeps a mail's attachments in its own file system (AT+POP3GET saves them in C:/Email or D:/Email): none came over the serial port`);
  }
  if (!json) for (const line of partLines(parts, saveDir)) process.stderr.write(`simmail: ${printableLine(line)}\n`);
  if (file !== undefined) out(`mail ${n}: ${bytes} bytes written to ${file}`, { number: n, bytes, file, parts, notes: notes.list });
  else if (json) out("", { number: n, bytes, text: shown!.toString(), parts, notes: notes.list });
  if (reading !== null) refuseKept(reading);
}

/** `file`'s temporary name while it is written: hidden, beside it (a rename stays in one file system), this process's. */
function partialName(file: string): string {
  const slash = file.lastIndexOf("/");
  return `${file.slice(0, slash + 1)}.${file.slice(slash + 1)}.${process.pid}.part`;
}

/** What became of the attachments, one line each. */
function partLines(parts: PartReport[], saveDir: string | null): string[] {
  const lines = [];
  for (const part of parts) {
    const name = part.filename === "" ? "" : ` "${part.filename}"`;
    if (part.savedAs !== null) lines.push(`part ${part.index}${name} (${part.mimeType}, ${part.size} bytes) saved as ${part.savedAs}`);
    else if (part.attachment && saveDir === null) lines.push(`part ${part.index}${name} (${part.mimeType}) not shown: --save-parts DIR saves it`);
  }
  return lines;
}

/** Files --save-parts found there and did not replace: exit 1, after everything else was saved. */
function refuseKept(reading: MailReading): void {
  const { kept, notFiles } = reading;
  const refusals = [];
  if (kept.length > 0) refusals.push(`${kept.join(", ")} ${kept.length === 1 ? "is" : "are"} there already (--force replaces ${kept.length === 1 ? "it" : "them"})`);
  if (notFiles.length > 0) refusals.push(`${notFiles.join(", ")} ${notFiles.length === 1 ? "is not a plain file" : "are not plain files"} (--force replaces only plain files)`);
  if (refusals.length > 0) throw new UsageError(`not replaced: ${refusals.join("; ")}; the other parts were saved`, false);
}
