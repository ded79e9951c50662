// Field behaviour, not in the spec: what a real SIM7000 does with a session its host walked
// away from (a program killed mid-send or mid-read, a host that rebooted). Public logs and
// what users of simmail met: after an abandoned send the next AT+SMTPSEND answers ERROR for
// 30-45 s, until the modem gives the mail up; an abandoned POP3 login keeps AT+POP3IN (and
// the other POP3 commands a new host starts with) answered ERROR for about 60 s. The spec
// names neither timeout, so `SimOptions.abandonedSessions` defaults to SPEC_SESSIONS (the
// session waits for ever); FIELD_SESSIONS is what `main.ts` (simmail sim) and field tests use.
//
// A data phase the host left open (AT+SMTPBODY=<n> after DOWNLOAD, AT+SMTPFT=<n> after
// `+SMTPFT: 2,<n>`) has no timeout on real modems either: the modem stays deaf, taking every
// byte as data, until it has the n bytes (modem.ts `startDataPhase`, in both profiles).

import type { TimerHandle } from "../scheduler.ts";
import type { ModemPort } from "./modem.ts";

export interface AbandonedSessionTimes {
  /** A send waiting for the host's next AT+SMTPFT ends this long after the last one (`+SMTPSEND: 64`); null: never. */
  smtpMs: number | null;
  /** A POP3 login with no POP3 command for this long ends (`+POP3OUT: 64`); null: never. */
  pop3Ms: number | null;
}

/** The spec's modem: a session waits for its host for ever. */
export const SPEC_SESSIONS: AbandonedSessionTimes = { smtpMs: null, pop3Ms: null };
/** As SIM7000 modules in the field: 40 s for a send (30-45 s seen), 60 s for a POP3 login. */
export const FIELD_SESSIONS: AbandonedSessionTimes = { smtpMs: 40_000, pop3Ms: 60_000 };

/** One session's abandonment timer on the modem clock: `touch()` on every host step, `stop()` when the session ends. */
export class AbandonWatch {
  private readonly port: ModemPort;
  private readonly ms: number | null;
  private readonly expired: () => void;
  private timer: TimerHandle | null = null;

  constructor(port: ModemPort, ms: number | null, expired: () => void) {
    this.port = port;
    this.ms = ms;
    this.expired = expired;
  }

  touch(): void {
    this.stop();
    if (this.ms === null) return;
    this.timer = this.port.setTimer(() => {
      this.timer = null;
      this.port.trace(`session abandoned by the host for ${this.ms} ms: the modem ends it`);
      this.expired();
    }, this.ms);
  }

  stop(): void {
    if (this.timer !== null) this.port.clearTimer(this.timer);
    this.timer = null;
  }
}
