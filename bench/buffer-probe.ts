// Child process of bench/footprint.ts (run with --expose-gc): counts the bytes of the buffers
// the core and the alarm app hold once constructed. The typed-array and ArrayBuffer
// constructors are wrapped before any module loads; every allocation is kept as a WeakRef with
// its size and the source line that made it, and after a full GC only the ones still alive
// count. Views over existing buffers allocate nothing and are not counted.
// Prints one JSON object (BufferProbeResult) on stdout.

export interface BufferGroup {
  name: string;
  /** Bytes of buffers made in this group and still alive with the objects constructed. */
  bytes: number;
  /** Where they were made: "file:line" → bytes. */
  sites: Record<string, number>;
}

export interface BufferProbeResult {
  groups: BufferGroup[];
  /** Most bytes of buffers made during the operation and alive at once (sampled per chunk). */
  peaks: Record<string, number>;
}

interface Allocation {
  ref: WeakRef<object>;
  bytes: number;
  site: string;
  group: string;
}

const allocations: Allocation[] = [];
let group = "";

/** The first stack frame inside src/: who asked for the buffer. */
function allocationSite(): string {
  const stack = new Error().stack ?? "";
  for (const frame of stack.split("\n").slice(2)) {
    const m = /\/src\/(.+?):(\d+):\d+\)?$/.exec(frame);
    if (m) return `src/${m[1]}:${m[2]}`;
  }
  return "(outside src/)";
}

function isExistingBuffer(value: unknown): boolean {
  return value instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer);
}

function wrap(name: string, makesStorage: (args: unknown[]) => boolean): void {
  const target = (globalThis as Record<string, unknown>)[name] as new (...args: unknown[]) => { byteLength: number };
  (globalThis as Record<string, unknown>)[name] = new Proxy(target, {
    construct(ctor, args, newTarget) {
      const result = Reflect.construct(ctor, args, newTarget) as { byteLength: number };
      if (group !== "" && makesStorage(args)) {
        allocations.push({ ref: new WeakRef(result), bytes: result.byteLength, site: allocationSite(), group });
      }
      return result;
    },
  });
}

wrap("ArrayBuffer", () => true);
for (const name of [
  "Uint8Array", "Int8Array", "Uint8ClampedArray", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
  "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
]) {
  wrap(name, (args) => !isExistingBuffer(args[0]));
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("buffer-probe needs node --expose-gc");

// Modules load after the wrapping, so their tables count too.
group = "tables built when the modules load";
const core = await import("../src/index.ts");
const app = await import("../src/app/alarm.ts");

/** Runs `make` with counting off: the platform's own buffers are not the app's. */
function uncounted<T>(make: () => T): T {
  const saved = group;
  group = "";
  try {
    return make();
  } finally {
    group = saved;
  }
}

// A platform that holds no buffer of its own: an empty log, a key-value store keeping plain
// arrays (on the device the values live in flash, not in RAM).
group = "";
const idle = { arm() {}, disarm() {}, close() {} };
const timers = { deadline: () => idle };
const clock = { now: () => 0 };
const serial = { read: () => 0, write: () => true };
const values = new Map<string, number[]>();
const platform = {
  serial,
  attachSerial() {},
  timers,
  clock,
  log: { size: () => 0, read: () => 0, append() {}, replace() {} },
  store: {
    get: (key: string) => {
      const value = values.get(key);
      return value === undefined ? null : uncounted(() => Uint8Array.from(value));
    },
    put: (key: string, value: Uint8Array) => void values.set(key, Array.from(value)),
    delete: (key: string) => void values.delete(key),
  },
  crypto: {
    hmacSha256: () => uncounted(() => new Uint8Array(32)),
    randomBytes: (n: number) => uncounted(() => new Uint8Array(n).fill(0x5a)),
  },
  inputs: { DOOR: { read: () => 1 as const }, WINDOW: { read: () => 1 as const }, TAMPER: { read: () => 1 as const }, TEST: { read: () => 1 as const } },
  led: { set() {} },
};
const config = {
  deviceId: "panel-7",
  siteName: "Pump house",
  modem: { apn: "iot.example" },
  smtp: { host: "smtp.example.net", port: 587, user: "alarm", password: "secret", from: { address: "alarm@example.net" }, to: [{ address: "ops@example.net" }] },
  pop3: { host: "pop.example.net", user: "alarm", password: "secret", allowlist: ["ops@example.net"], secret: "0123456789abcdef0123456789abcdef" },
  inputs: [
    { name: "DOOR", alarmWhen: 0 as const },
    { name: "WINDOW", alarmWhen: 0 as const },
    { name: "TAMPER", alarmWhen: 0 as const },
    { name: "TEST", alarmWhen: 0 as const, test: true },
  ],
};

// What a device holds: a module-level binding keeps the objects alive through the GC below.
const held: unknown[] = [];
group = "AtEngine (default options)";
const engine = new core.AtEngine({ serial, timers });
held.push(engine);
group = "SmtpClient";
held.push(new core.SmtpClient(engine));
group = "Pop3Client";
held.push(new core.Pop3Client(engine, timers));
// The app keeps the POP3 client and the header reader of its command polls for good, so a
// poll holds no buffer beyond these. Its mail dialect (SMTP and POP3 clients) is made at the
// first bring-up from the probe's answer, its mailbox at the first poll: made here as it does.
group = "AlarmApp (its own engine, SMTP and POP3 clients, command header reader, outbox, inputs)";
const alarm = new app.AlarmApp(config, platform);
const mail = core.openMailDialect({ dialect: "sim7000", detected: false, limits: core.DEFAULT_LIMITS, tls: null, answers: {} }, alarm.modem, timers, 115_200);
held.push(alarm, mail, mail.mailbox);
group = "";

gc();
await new Promise((resolve) => setImmediate(resolve));
gc();

// Peak: a command poll's retrieve into the poll's header reader and an alarm send with a 64 KiB
// attachment, through the same clients (bench/paths.ts). Buffers the core makes during the
// operation are sampled at every chunk (source read, sink write): the most alive at once.
// Without a GC between samples, garbage still counts: the peak is an upper bound.
const paths = await import("./paths.ts");
const bench = uncounted(() => paths.createPathBench(core));
const attachment = uncounted(() => paths.patternBytes(64 * 1024));
const answer = uncounted(() => paths.pop3Answer(64 * 1024));
const peaks: Record<string, number> = {};
async function peakDuring(name: string, run: () => Promise<unknown>): Promise<void> {
  const from = allocations.length;
  let peak = 0;
  bench.sample = () => {
    let live = 0;
    for (let i = from; i < allocations.length; i++) {
      const a = allocations[i];
      if (a.site.startsWith("src/") && a.ref.deref() !== undefined) live += a.bytes;
    }
    if (live > peak) peak = live;
  };
  group = name;
  await run();
  group = "";
  bench.sample = null;
  peaks[name] = peak;
}
await peakDuring("during a command poll", () => bench.retrieve(answer.wire));
await peakDuring("during an alarm send", () => bench.send(attachment));

const groups = new Map<string, BufferGroup>();
for (const a of allocations) {
  const g = groups.get(a.group) ?? { name: a.group, bytes: 0, sites: {} };
  groups.set(a.group, g);
  if (a.ref.deref() === undefined) continue;
  g.bytes += a.bytes;
  g.sites[a.site] = (g.sites[a.site] ?? 0) + a.bytes;
}
const result: BufferProbeResult = { groups: [...groups.values()].filter((g) => !(g.name in peaks)), peaks };
process.stdout.write(`${JSON.stringify(result)}\n`);
