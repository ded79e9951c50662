// What every SIM7000 email session (SMTP or POP3) sets first: the bearer profile it uses
// (AT+EMAILCID) and how long the modem waits for the server (AT+EMAILTO); checked against the
// ranges the modem's test commands report.

import type { AtEngine } from "../transport/engine.ts";
import { runStep, steps } from "../transport/step.ts";
import type { EmailLimits } from "../modem/limits.ts";
import { MailParameterError } from "./errors.ts";

const SESSION = steps({
  bearer: { request: "AT+EMAILCID=<cid>", timeoutMs: 5000 },
  serverTimeout: { request: "AT+EMAILTO=<seconds>", timeoutMs: 5000 },
});

/** A session's bearer profile and server timeout in seconds (defaults 1 and 30), checked. */
export function checkSession(protocol: "smtp" | "pop3", settings: { cid?: number; timeoutSeconds?: number }, limits: EmailLimits): { cid: number; timeoutSeconds: number } {
  const cid = settings.cid ?? 1;
  if (!Number.isInteger(cid) || cid < limits.cid[0] || cid > limits.cid[1]) {
    throw new MailParameterError(protocol, "bearer cid", `${cid} is outside ${limits.cid[0]}-${limits.cid[1]}`);
  }
  const timeoutSeconds = settings.timeoutSeconds ?? 30;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < limits.timeout[0] || timeoutSeconds > limits.timeout[1]) {
    throw new MailParameterError(protocol, "timeout", `${timeoutSeconds} s is outside ${limits.timeout[0]}-${limits.timeout[1]} s`);
  }
  return { cid, timeoutSeconds };
}

export async function writeSession(engine: AtEngine, cid: number, timeoutSeconds: number): Promise<void> {
  await runStep(engine, SESSION.bearer, [cid]);
  await runStep(engine, SESSION.serverTimeout, [timeoutSeconds]);
}
