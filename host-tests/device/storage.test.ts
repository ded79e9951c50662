// The device's flash ports (src/device/storage.ts) on an in-memory fake of Moddable's `file`
// module with LittleFS's power-cut behaviour (./fake-file.ts).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Outbox, type AlarmEvent } from "../../src/app/outbox.ts";
import { NetworkWallClock } from "../../src/app/wall-clock.ts";
import { FileKeyValueStore, FileLogStore, TEMPORARY_SUFFIX } from "../../src/device/storage.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import { FakeFlash } from "./fake-file.ts";

const LOG = "/simmail/outbox.log";
const DIR = "/simmail/";

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function readWhole(store: FileLogStore): string {
  const out = new Uint8Array(store.size());
  let at = 0;
  while (at < out.length) {
    const n = store.read(at, out, at, Math.min(5, out.length - at));
    assert.ok(n > 0, "read makes progress until the end");
    at += n;
  }
  return String.fromCharCode(...out);
}

function text(value: Uint8Array | null): string | null {
  return value === null ? null : String.fromCharCode(...value);
}

function writableHandles(flash: FakeFlash): number {
  let n = 0;
  for (const file of flash.open) if (file.writable) n++;
  return n;
}

/** Runs `action` with a power cut before operation k, for every k until it completes uncut. */
function cutEverywhere(prepare: () => FakeFlash, action: (flash: FakeFlash) => void, check: (flash: FakeFlash, cutAt: number | null) => void): number {
  for (let k = 1; ; k++) {
    const flash = prepare();
    flash.cutAtOperation = flash.operations + k;
    let cut = false;
    try {
      action(flash);
    } catch (error) {
      // After the cut the store may fail on a dead handle before the PowerCut reaches us.
      assert.ok(flash.off, `only a power cut may stop the action, not: ${(error as Error).message}`);
      cut = true;
    }
    flash.cutAtOperation = null;
    flash.reboot();
    check(flash, cut ? k : null);
    if (!cut) return k - 1;
  }
}

// ---------------------------------------------------------------------------------------------

const log = suite("FileLogStore");

log("a missing file is empty, and reading it creates nothing", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  assert.is(store.size(), 0);
  assert.is(store.read(0, new Uint8Array(4), 0, 4), 0);
  assert.is(flash.files.has(LOG), false);
});

log("appends land at the end and read back at any position, into any offset", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("hello "), 0, 6);
  const backing = bytes("xxworld!yy");
  store.append(backing.subarray(1), 1, 6); // a view with a byte offset: exactly "world!"
  assert.is(store.size(), 12);
  assert.is(readWhole(store), "hello world!");
  const out = new Uint8Array(8).fill(0x2e);
  assert.is(store.read(4, out, 2, 5), 5);
  assert.is(String.fromCharCode(...out), "..o wor.");
  assert.is(store.read(10, out, 0, 8), 2, "a read near the end returns what is left");
  assert.is(store.read(12, out, 0, 8), 0, "at the end: 0, not the SDK's 'read past end of file'");
  assert.is(store.read(50, out, 0, 8), 0);
  store.append(bytes("ignored"), 3, 0);
  assert.is(store.size(), 12, "an empty append changes nothing");
});

log("an append is durable when it returns: closed, and there after a power cut", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("one"), 0, 3);
  assert.is(writableHandles(flash), 0, "the file was closed (LittleFS commits on close)");
  assert.ok(flash.log.indexOf(`close ${LOG}`) > flash.log.indexOf(`write ${LOG} 3`));
  flash.powerCut();
  flash.reboot();
  assert.is(readWhole(new FileLogStore(flash.File, LOG)), "one");
});

log("a power cut anywhere in an append leaves the old file or the old file plus the record", () => {
  const points = cutEverywhere(
    () => {
      const flash = new FakeFlash();
      new FileLogStore(flash.File, LOG).append(bytes("old|"), 0, 4);
      return flash;
    },
    (flash) => new FileLogStore(flash.File, LOG).append(bytes("new record"), 0, 10),
    (flash, cutAt) => {
      const after = readWhole(new FileLogStore(flash.File, LOG));
      if (cutAt === null) assert.is(after, "old|new record");
      else assert.ok(after === "old|" || after === "old|new record", `cut ${cutAt}: "${after}"`);
    },
  );
  assert.ok(points >= 3, "open, write and close were each cut");
});

log("a write error part way propagates; what reached the file is a prefix of the record", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("old|"), 0, 4);
  flash.failNextWriteAfter = 3;
  assert.throws(() => store.append(bytes("abcdef"), 0, 6), /LFS_ERR/);
  assert.is(writableHandles(flash), 0, "closed even when the write failed");
  assert.is(readWhole(store), "old|abc");
});

log("reads share one open handle; an append or a replace closes it first", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("0123456789"), 0, 10);
  const opensBefore = flash.opens;
  const out = new Uint8Array(1);
  for (let i = 0; i < 10; i++) store.read(i, out, 0, 1);
  assert.is(store.size(), 10);
  assert.is(flash.opens - opensBefore, 1, "one mount and open for a whole scan");
  store.append(bytes("ab"), 0, 2); // the fake throws if a reader opened before this is used after it
  assert.is(readWhole(store), "0123456789ab");
  store.replace((append) => append(bytes("fresh"), 0, 5));
  assert.is(readWhole(store), "fresh");
  store.close();
  assert.is(flash.open.size, 0);
});

log("replace writes a fresh file, renames it over the old one, and reads see the old content meanwhile", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("old content"), 0, 11);
  flash.put(LOG + TEMPORARY_SUFFIX, "junk left by an earlier power cut, longer than the new file");
  store.replace((append) => {
    append(bytes("new"), 0, 3);
    assert.is(store.size(), 11, "size still sees the old file");
    assert.is(readWhole(store), "old content");
    append(bytes("--content--"), 2, 7);
  });
  assert.is(readWhole(store), "newcontent");
  assert.is(flash.files.has(LOG + TEMPORARY_SUFFIX), false);
  const renames = flash.log.filter((line) => line.startsWith("rename"));
  assert.equal(renames, [`rename ${LOG + TEMPORARY_SUFFIX} ${LOG}`]);
});

log("replace creates the file when there was none; an empty replace leaves an empty file", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.replace((append) => append(bytes("first"), 0, 5));
  assert.is(readWhole(store), "first");
  store.replace(() => {});
  assert.is(store.size(), 0);
  assert.is(flash.text(LOG), "");
});

log("a writer that throws leaves the old content and no temporary file", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("keep me"), 0, 7);
  assert.throws(() => store.replace((append) => {
    append(bytes("half"), 0, 4);
    throw new Error("writer gave up");
  }), /writer gave up/);
  assert.is(readWhole(store), "keep me");
  assert.is(flash.files.has(LOG + TEMPORARY_SUFFIX), false);
  store.append(bytes("!"), 0, 1);
  assert.is(readWhole(store), "keep me!", "the store works on after a failed replace");
});

log("a failed rename throws and keeps the old content", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  store.append(bytes("old"), 0, 3);
  flash.failNextRename = true;
  assert.throws(() => store.replace((append) => append(bytes("new"), 0, 3)), /renaming .* failed; the old content stays/);
  assert.is(readWhole(store), "old");
  assert.is(flash.files.has(LOG + TEMPORARY_SUFFIX), false);
});

log("a power cut anywhere in a replace leaves the old or the new file, never a mix; reopening drops the leftover", () => {
  const points = cutEverywhere(
    () => {
      const flash = new FakeFlash();
      flash.put(LOG, "the old file");
      return flash;
    },
    (flash) => new FileLogStore(flash.File, LOG).replace((append) => {
      append(bytes("the "), 0, 4);
      append(bytes("new "), 0, 4);
      append(bytes("file!"), 0, 5);
    }),
    (flash, cutAt) => {
      const store = new FileLogStore(flash.File, LOG);
      const after = readWhole(store);
      if (cutAt === null) assert.is(after, "the new file!");
      else assert.ok(after === "the old file" || after === "the new file!", `cut ${cutAt}: "${after}"`);
      assert.is(flash.files.has(LOG + TEMPORARY_SUFFIX), false, "the temporary file is gone after reopening");
    },
  );
  assert.ok(points >= 7, `delete, open, three writes, close and rename were each cut (${points})`);
});

log("appending from inside a replace is refused", () => {
  const flash = new FakeFlash();
  const store = new FileLogStore(flash.File, LOG);
  assert.throws(() => store.replace(() => store.append(bytes("x"), 0, 1)), /being replaced/);
  assert.throws(() => store.replace(() => store.replace(() => {})), /already running/);
  store.append(bytes("ok"), 0, 2);
  assert.is(readWhole(store), "ok");
});

log("bad paths and ranges are refused with clear errors", () => {
  const flash = new FakeFlash();
  assert.throws(() => new FileLogStore(flash.File, "outbox.log"), /not an absolute file path/);
  assert.throws(() => new FileLogStore(flash.File, "/simmail/"), /not an absolute file path/);
  const store = new FileLogStore(flash.File, LOG);
  assert.throws(() => store.append(bytes("abc"), 2, 2), /outside the 3-byte buffer/);
  assert.throws(() => store.read(0, new Uint8Array(2), 1, 2), /outside the 2-byte buffer/);
  assert.throws(() => store.read(-1, new Uint8Array(2), 0, 1), /not a file position/);
});

log("the real outbox runs on it: events survive reopening and a compaction through replace", () => {
  const flash = new FakeFlash();
  const clock = new VirtualClock(1_000);
  const wall = new NetworkWallClock(clock);
  wall.set(Date.UTC(2026, 5, 17, 10, 0, 0));
  const options = { uptime: clock, wall, compactAtBytes: 512, maxBytes: 8_192, dayWindowMs: 60_000 };
  const event = (i: number): AlarmEvent => ({ type: "input", source: "door", state: i % 2, alarm: i % 2 === 1, text: `event ${i}` });
  let outbox = Outbox.open(new FileLogStore(flash.File, LOG), { bootId: 1, ...options });
  for (let i = 1; i <= 10; i++) outbox.append(event(i));
  outbox.markDelivered(6);
  clock.advance(120_000); // delivered events are now older than the day window
  for (let i = 11; i <= 30; i++) outbox.append(event(i));
  const sizeBefore = flash.files.get(LOG)?.length ?? 0;
  outbox.markDelivered(8); // the file is over compactAtBytes: this compacts through replace
  assert.ok(flash.log.some((line) => line.startsWith(`rename ${LOG}`)), "a compaction replaced the file");
  assert.ok((flash.files.get(LOG)?.length ?? 0) < sizeBefore, "the old delivered events were dropped");
  flash.powerCut(); // and reboot: the first store's read handle is gone
  flash.reboot();
  outbox = Outbox.open(new FileLogStore(flash.File, LOG), { bootId: 2, ...options });
  assert.is(outbox.report.skippedBytes, 0);
  assert.is(outbox.lastSeq, 30);
  assert.equal([...outbox.pending()].map((e) => e.text), Array.from({ length: 22 }, (_, i) => `event ${i + 9}`));
});

log.run();

// ---------------------------------------------------------------------------------------------

const kv = suite("FileKeyValueStore");

kv("values round-trip, a shorter value replaces a longer one exactly, delete forgets", () => {
  const flash = new FakeFlash();
  const store = new FileKeyValueStore(flash.File, DIR);
  assert.is(store.get("armed"), null);
  store.put("cmd-ledger", bytes("a long ledger value"));
  store.put("cmd-ledger", bytes("short"));
  assert.is(text(store.get("cmd-ledger")), "short");
  store.put("boot", new Uint8Array(0));
  assert.equal(store.get("boot"), new Uint8Array(0));
  store.delete("cmd-ledger");
  assert.is(store.get("cmd-ledger"), null);
  store.delete("never-written");
  assert.is(writableHandles(flash), 0);
  assert.equal([...flash.files.keys()].sort(), ["/simmail/boot.kv"]);
});

kv("a put is durable when it returns", () => {
  const flash = new FakeFlash();
  new FileKeyValueStore(flash.File, DIR).put("armed", Uint8Array.of(1));
  flash.powerCut();
  flash.reboot();
  assert.equal(new FileKeyValueStore(flash.File, DIR).get("armed"), Uint8Array.of(1));
});

kv("a power cut anywhere in a put leaves the old or the new value, never a mix", () => {
  const points = cutEverywhere(
    () => {
      const flash = new FakeFlash();
      new FileKeyValueStore(flash.File, DIR).put("cmd-ledger", bytes("old value, longer"));
      return flash;
    },
    (flash) => new FileKeyValueStore(flash.File, DIR).put("cmd-ledger", bytes("new value")),
    (flash, cutAt) => {
      const store = new FileKeyValueStore(flash.File, DIR);
      const after = text(store.get("cmd-ledger"));
      if (cutAt === null) assert.is(after, "new value");
      else assert.ok(after === "old value, longer" || after === "new value", `cut ${cutAt}: "${after}"`);
      store.put("cmd-ledger", bytes("next"));
      assert.is(text(store.get("cmd-ledger")), "next", "a leftover temporary file does not get in the way");
    },
  );
  assert.ok(points >= 4, `delete, open, write, close and rename were each cut (${points})`);
});

kv("a failed rename throws and keeps the old value", () => {
  const flash = new FakeFlash();
  const store = new FileKeyValueStore(flash.File, DIR);
  store.put("armed", Uint8Array.of(1));
  flash.failNextRename = true;
  assert.throws(() => store.put("armed", Uint8Array.of(0)), /renaming .* failed/);
  assert.equal(store.get("armed"), Uint8Array.of(1));
});

kv("keys, directories and values are checked", () => {
  const flash = new FakeFlash();
  assert.throws(() => new FileKeyValueStore(flash.File, "/simmail"), /ending in "\/"/);
  assert.throws(() => new FileKeyValueStore(flash.File, "simmail/"), /absolute directory/);
  const store = new FileKeyValueStore(flash.File, DIR);
  for (const key of ["", "../boot", "a.b", "a/b", "x".repeat(49)]) {
    assert.throws(() => store.get(key), /must be 1-48 of A-Z a-z 0-9 _ -/, `key "${key}"`);
  }
  assert.throws(() => store.put("armed", [1] as unknown as Uint8Array), /must be a Uint8Array/);
});

kv.run();
