// The simulator's SIM7000 (sim/modem) as the XS suites run it: on the modem end of a UART, its
// network the in-memory mail servers (sim/servers/memory.ts) on the same virtual clock, and a
// record of every command it refused. The one modem double of every suite, under XS as under Node.

import { SimModem, type SimOptions } from "../../../sim/modem/modem.ts";
import type { ModemSerial } from "../../../sim/modem/serial.ts";
import type { Scheduler } from "../../../sim/scheduler.ts";
import { MemoryMailService } from "../../../sim/servers/memory.ts";

/** Where the app sends and reads mail: the server names of its settings and their logins. */
export interface XsServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface XsModemOptions {
  /** UTC ms at virtual time 0: the modem clock's start and what AT+CNTP sets it to, in step. */
  wallAtZero: number;
  smtp: XsServer;
  pop3?: XsServer;
  /** Simulator options on top (boot, autobaud, delays). */
  sim?: SimOptions;
}

/** Both servers listen here (on their ports), whatever names the settings give them. */
const MAIL_ADDRESS = "10.0.0.25";

export function createXsModem(serial: ModemSerial, clock: Scheduler, options: XsModemOptions) {
  const pop3 = options.pop3 ?? { host: "pop3.invalid", port: 110, user: "", password: "" };
  const mail = new MemoryMailService({
    clock,
    smtp: { address: MAIL_ADDRESS, port: options.smtp.port, user: options.smtp.user, password: options.smtp.password },
    pop3: { address: MAIL_ADDRESS, port: pop3.port, user: pop3.user, password: pop3.password },
  });
  /** "command: why" for each command the modem answered ERROR to (syntax or parameters). */
  const refused: string[] = [];
  let command = "";
    const sim = new SimModem({
    hosts: { [options.smtp.host]: MAIL_ADDRESS, [pop3.host]: MAIL_ADDRESS },
    networkClock: clock,
    clock: { startMs: options.wallAtZero },
    networkTime: () => options.wallAtZero + clock.now(),
    trace: (line) => {
      // The modem traces each command line, then (indented) why it refused one.
      if (line.startsWith("command ")) command = line.slice(8);
      else if (line.startsWith("  ")) refused.push(`${command}: ${line.trim()}`);
    },
    ...options.sim,
  }, { connector: mail.connector, parseMessage: null });
  sim.attach(serial);
  return { sim, mail, refused };
}
