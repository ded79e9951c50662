// Recorded modem sessions as readable text, and back.
//
// Session text format, one item per line:
//   > AT+SMTPSEND\r          bytes the host sent (host → modem)
//   < \r\nOK\r\n             bytes the modem sent (modem → host)
//   = wait 1500              the modem is silent for 1500 ms (virtual time)
//   # comment                ignored
//   (blank line)             ends the current block
// After "> " / "< " everything to the end of the line is data (spaces included); escapes are
// \r \n \t \\ and \xNN, other characters stand for their UTF-8 bytes. Consecutive lines with
// the same marker form one block (comments between them do not split it), so long data can be
// wrapped freely: line breaks in the file are never data.

import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { concatBytes, escapeBytes, parseEscaped } from "./bytes.ts";
import type { Reply, ScriptStep } from "./scripted-modem.ts";

/** One write on a recorded mock UART ('tx' host → modem, 'rx' modem → host) and when it was written. */
export interface TranscriptEntry {
  dir: "tx" | "rx";
  at: number;
  bytes: Uint8Array;
}

export type SessionBlock =
  | { kind: "host"; bytes: Uint8Array; line: number }
  | { kind: "modem"; bytes: Uint8Array; line: number }
  | { kind: "wait"; ms: number; line: number };

export interface Session {
  name: string;
  blocks: SessionBlock[];
  /** Everything the host sent, in order. */
  host: Uint8Array;
  /** Everything the modem sent, in order. */
  modem: Uint8Array;
}

const SESSIONS_DIR = fileURLToPath(new URL("./sessions/", import.meta.url));

/** Parses session text; `name` prefixes error messages (`name:line: ...`). */
export function parseSession(text: string, name = "session"): Session {
  const blocks: SessionBlock[] = [];
  let open: { kind: "host" | "modem"; parts: Uint8Array[]; line: number } | null = null;
  const close = () => {
    if (open !== null) blocks.push({ kind: open.kind, bytes: concatBytes(open.parts), line: open.line });
    open = null;
  };
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, i) => {
    const where = `${name}:${i + 1}`;
    if (raw.trim() === "") {
      close();
      return;
    }
    const marker = raw[0];
    if (marker === "#") return;
    if (marker === ">" || marker === "<") {
      if (raw.length > 1 && raw[1] !== " ") throw new SyntaxError(`${where}: "${marker}" must be followed by a space, then the data`);
      const kind = marker === ">" ? "host" : "modem";
      const bytes = parseEscaped(raw.slice(2), where);
      if (open === null || open.kind !== kind) {
        close();
        open = { kind, parts: [], line: i + 1 };
      }
      open.parts.push(bytes);
      return;
    }
    if (marker === "=") {
      close();
      const wait = /^= wait (\d+(?:\.\d+)?)$/.exec(raw);
      if (wait === null) throw new SyntaxError(`${where}: unknown directive "${raw}" (the only one is "= wait <ms>")`);
      blocks.push({ kind: "wait", ms: Number(wait[1]), line: i + 1 });
      return;
    }
    throw new SyntaxError(`${where}: a line starts with "> " (host), "< " (modem), "= wait", "#" or is blank; got "${raw.slice(0, 40)}"`);
  });
  close();
  const stream = (kind: "host" | "modem") => concatBytes(blocks.flatMap((b) => (b.kind === kind ? [b.bytes] : [])));
  return { name, blocks, host: stream("host"), modem: stream("modem") };
}

/** Reads `sessions/<name>.txt` of this kit, or a file when `name` contains a slash. */
export function readSession(name: string): Session {
  const path = name.includes("/") ? name : `${SESSIONS_DIR}${name}.txt`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const known = readdirSync(SESSIONS_DIR).filter((f) => f.endsWith(".txt")).map((f) => f.slice(0, -4));
    throw new Error(`cannot read session "${name}" (${(error as Error).message}); the kit has: ${known.join(", ")}`);
  }
  return parseSession(text, name);
}

/** Names of the sessions in this kit's `sessions/` folder. */
export function listSessions(): string[] {
  return readdirSync(SESSIONS_DIR).filter((f) => f.endsWith(".txt")).map((f) => f.slice(0, -4)).sort();
}

/**
 * A session as a ScriptedModem script: host blocks become `expect` steps, the modem blocks
 * right after one become its replies, other modem blocks `send` steps, waits `wait` steps.
 */
export function sessionToScript(session: Session | SessionBlock[]): ScriptStep[] {
  const blocks = Array.isArray(session) ? session : session.blocks;
  const steps: ScriptStep[] = [];
  let replies: Reply[] | null = null;
  for (const block of blocks) {
    if (block.kind === "host") {
      replies = [];
      steps.push({ expect: block.bytes, reply: replies });
    } else if (block.kind === "modem") {
      if (replies !== null) replies.push(block.bytes);
      else steps.push({ send: block.bytes });
    } else {
      replies = null;
      steps.push({ wait: block.ms });
    }
  }
  return steps;
}

const WRAP = 100;

/** Session text for blocks; `parseSession` of it gives the same blocks. */
export function renderSession(blocks: readonly SessionBlock[], comments?: ReadonlyMap<number, string>): string {
  const out: string[] = [];
  let previous: SessionBlock["kind"] | null = null;
  blocks.forEach((block, i) => {
    // Two blocks of the same direction in a row need a blank line to stay apart.
    if (previous !== null && previous === block.kind && block.kind !== "wait") out.push("");
    const comment = comments?.get(i);
    if (comment !== undefined) out.push(`# ${comment}`);
    if (block.kind === "wait") out.push(`= wait ${block.ms}`);
    else out.push(...dataLines(block.kind === "host" ? ">" : "<", block.bytes));
    previous = block.kind;
  });
  return out.length > 0 ? out.join("\n") + "\n" : "";
}

/**
 * Data lines for one block: one line when short; else a new line after each LF that ends a
 * non-empty line (so "\r\nOK\r\n" stays together) and before a line grows past WRAP.
 */
function dataLines(marker: string, bytes: Uint8Array): string[] {
  const whole = escapeBytes(bytes);
  const lines: string[] = [];
  if (whole.length <= WRAP) lines.push(whole);
  else {
    let line = "";
    let hasText = false;
    for (let i = 0; i < bytes.length; i++) {
      const piece = escapeBytes(bytes, i, i + 1);
      if (line.length + piece.length > WRAP) {
        lines.push(line);
        line = "";
        hasText = false;
      }
      line += piece;
      const b = bytes[i];
      if (b === 0x0a && hasText) {
        lines.push(line);
        line = "";
        hasText = false;
      } else if (b !== 0x0a && b !== 0x0d) hasText = true;
    }
    if (line !== "") lines.push(line);
  }
  // A trailing space would be lost to editors that trim lines: write it as an escape.
  return lines.map((l) => (l === "" ? marker : `${marker} ${l.endsWith(" ") ? `${l.slice(0, -1)}\\x20` : l}`));
}

/**
 * A recorded mock-UART transcript as session text: consecutive writes of one side merge into
 * one block; with `times`, each block is preceded by a comment with its first write's time.
 */
export function renderTranscript(entries: readonly TranscriptEntry[], options: { times?: boolean } = {}): string {
  const blocks: SessionBlock[] = [];
  const comments = new Map<number, string>();
  let parts: Uint8Array[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    parts.push(entry.bytes);
    if (parts.length === 1 && options.times) comments.set(blocks.length, `t=${entry.at.toFixed(3)} ms`);
    if (i + 1 === entries.length || entries[i + 1].dir !== entry.dir) {
      blocks.push({ kind: entry.dir === "tx" ? "host" : "modem", bytes: concatBytes(parts), line: 0 });
      parts = [];
    }
  }
  return renderSession(blocks, comments);
}
