// Wire efficiency: our SmtpClient and Pop3Client against the SIM7000 simulator (sim/)
// through the kit's mock UART (ESP32 FIFOs, 10 bits per byte), with real SMTP and POP3 servers
// (sim/servers/) behind the simulator. The UART, the modem and the engine run on a
// virtual clock; the simulator's network runs on real time, and the virtual clock stands still
// while the simulator waits on a server, so network latency is no part of the figures.
// Ideal time: every byte that crossed the UART, in either direction, back to back at line
// rate. Efficiency = ideal / elapsed.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ByteSource } from "../src/mail/message.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const SIMULATOR = "sim/modem/modem.ts";
const SIM_CLOCK = "host-tests/kit/virtual-time.ts";
const SERVERS = "sim/servers/index.ts";
const PAYLOAD = 64 * 1024;
const BAUD_RATES = [115_200, 921_600];
/** Virtual time an exchange may take before the run counts as stuck. */
const VIRTUAL_LIMIT_MS = 600_000;

export interface WireRun {
  exchange: string;
  baud: number;
  elapsedMs: number;
  idealMs: number;
  efficiency: number;
  /** Bytes that crossed the UART: host → modem, modem → host. */
  txBytes: number;
  rxBytes: number;
}

export type WireResult = { measured: true; runs: WireRun[]; method: string } | { measured: false; reason: string };

/** 64 KiB of attachment bytes, all byte values, made on the fly. */
class PatternSource implements ByteSource {
  readonly size = PAYLOAD;
  private position = 0;
  read(out: Uint8Array, offset: number, max: number): number {
    const n = Math.min(max, this.size - this.position);
    for (let i = 0; i < n; i++) out[offset + i] = ((this.position + i) * 167 + 13) & 0xff;
    this.position += n;
    return n;
  }
  rewind(): void {
    this.position = 0;
  }
  bytes(): Buffer {
    const out = Buffer.alloc(this.size);
    this.rewind();
    this.read(out, 0, this.size);
    this.rewind();
    return out;
  }
}

/** A 64 KiB plain-text mail as a server stores it (CRLF lines, some starting with a dot). */
function plainMail(): string {
  const head = "From: Ops <ops@simmail.test>\r\nTo: Bob <bob@simmail.test>\r\nSubject: Monthly log\r\nDate: Fri, 17 May 2024 08:31:12 +0000\r\nMessage-ID: <bench-64k@simmail.test>\r\n\r\n";
  const lines: string[] = [];
  let size = head.length;
  for (let i = 0; size < PAYLOAD - 3; i++) {
    const line = i % 9 === 4
      ? `.${i} a line the server dot-stuffs on the way out`
      : `${String(i).padStart(5, "0")} 10:${String(i % 60).padStart(2, "0")}:00 zone ${i % 8 + 1} temperature ${(18 + (i % 7) * 0.7).toFixed(1)} C battery ok`;
    const room = PAYLOAD - 2 - size;
    const text = line.length + 2 <= room ? line : line.slice(0, Math.max(0, room - 2));
    lines.push(text);
    size += text.length + 2;
  }
  return `${head}${lines.join("\r\n")}\r\n`;
}

export async function measureWire(): Promise<WireResult> {
  for (const file of [SIMULATOR, SIM_CLOCK, SERVERS]) {
    if (!existsSync(`${root}${file}`)) return { measured: false, reason: `${file} does not exist yet` };
  }
  const [{ SimModem }, { runWithNetwork }, { startMailServers }, { createUartPair, wireTimeMs }, { VirtualClock }, { CollectSink }, core] = await Promise.all([
    import("../sim/modem/modem.ts"),
    import("../host-tests/kit/virtual-time.ts"),
    import("../sim/servers/index.ts"),
    import("../host-tests/kit/mock-uart.ts"),
    import("../sim/scheduler.ts"),
    import("../host-tests/kit/mail-io.ts"),
    import("../src/index.ts"),
  ]);
  const { simpleParser } = await import("mailparser");

  const servers = await startMailServers();
  try {
    const runs: WireRun[] = [];
    for (const baud of BAUD_RATES) {
      const clock = new VirtualClock();
      const uart = createUartPair({ scheduler: clock, baud });
      const sim = new SimModem({ echo: false });
      sim.attach(uart.modem);
      sim.powerOn({ quiet: true });
      const engine = new core.AtEngine({ serial: uart.host, timers: clock });
      uart.host.attach(engine);

      /** Runs the clock until `work` settles; it stands still while the simulator waits on a server. */
      const drive = async <T>(work: Promise<T>): Promise<T> => {
        let settled = false;
        let failure: unknown = null;
        let value: T | undefined;
        work.then((v) => { value = v; settled = true; }, (e: unknown) => { failure = e; settled = true; });
        if (!(await runWithNetwork(clock, sim, () => settled, VIRTUAL_LIMIT_MS))) {
          throw new Error(`the exchange stalled: not done after ${VIRTUAL_LIMIT_MS} ms of virtual time, or nothing left to run`);
        }
        if (failure !== null) throw failure;
        return value as T;
      };
      /** Elapsed virtual time and UART bytes of one exchange. */
      const measure = async (exchange: string, work: () => Promise<unknown>): Promise<void> => {
        const tx = uart.stats.txBytes;
        const rx = uart.stats.rxBytes;
        const start = clock.now();
        await drive(work());
        // The exchange ends when its last byte has crossed the wire.
        const elapsedMs = Math.max(uart.stats.txLastAt ?? 0, uart.stats.rxLastAt ?? 0, clock.now()) - start;
        const txBytes = uart.stats.txBytes - tx;
        const rxBytes = uart.stats.rxBytes - rx;
        const idealMs = wireTimeMs(txBytes + rxBytes, baud);
        runs.push({ exchange, baud, elapsedMs, idealMs, efficiency: idealMs / elapsedMs, txBytes, rxBytes });
      };

      // The engine syncs with the modem once, as a device does at boot; not part of a mail.
      await drive(core.runStep(engine, new core.Step({ request: "AT", timeoutMs: 1000 })));

      const smtp = new core.SmtpClient(engine);
      const source = new PatternSource();
      const before = (await servers.messages("alice")).length;
      await measure("send a mail with a 64 KiB attachment", () => smtp.send(
        { server: { host: servers.host, port: servers.smtpPort, user: "alarm", password: "alarm-secret" }, cid: 0 },
        {
          from: { address: "alarm@simmail.test", name: "Alarm" },
          to: [{ address: "alice@simmail.test" }],
          subject: "Log",
          body: "The log is attached.",
          attachment: { name: "log.bin", source },
        },
      ));
      const [raw] = (await servers.waitForMessages("alice", before + 1)).slice(before);
      const parsed = await simpleParser(raw);
      const attachment = parsed.attachments[0]?.content;
      if (attachment === undefined || !attachment.equals(source.bytes())) throw new Error("the server did not receive the 64 KiB attachment intact");

      const mail = plainMail();
      await servers.deliver("bob", mail);
      const pop3 = new core.Pop3Client(engine, clock);
      const sink = new CollectSink();
      await measure("retrieve a 64 KiB mail", async () => {
        await pop3.login({ server: { host: servers.host, port: servers.pop3Port, user: "bob", password: "bob-secret" }, cid: 0 });
        await pop3.retrieve(1, sink);
        await pop3.delete(1);
        await pop3.logout();
      });
      if (sink.bytes.toString("latin1") !== mail) throw new Error("the retrieved mail differs from the one the server holds");

      engine.close();
      sim.close();
    }
    return {
      measured: true,
      runs,
      method:
        "SmtpClient.send (64 KiB binary attachment, host base64) and Pop3Client login, retrieve, delete, logout (a 64 KiB mail), " +
        "each against the SIM7000 simulator over the kit's mock UART (ESP32 128-byte FIFOs, 10 bits per byte, onReadable per " +
        "96 bytes or at idle) with real smtp-server and Dovecot behind it on 127.0.0.1. The UART, modem and engine run on a " +
        "virtual clock that stands still while the simulator waits on a server, so network latency and host CPU time are not " +
        "counted: elapsed is what the protocol and the host's use of the UART cost. The engine's one-time sync (AT, quiet gap) " +
        "happens before. The server copies are checked byte for byte.",
    };
  } finally {
    await servers.stop();
  }
}
