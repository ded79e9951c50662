// Typed errors of modem bring-up and the bearer, each with a stable `code` (see src/transport/errors.ts).

export type ModemErrorCode = "bring-up" | "no-email-support" | "bearer-lost";

export type ModemStep =
  | "sync" | "echo" | "sim" | "signal" | "attach" | "apn" | "bearer" | "time" | "probe" | "restart";

export class ModemError extends Error {
  override readonly name: string = "ModemError";
  readonly code: ModemErrorCode = "bring-up";
  readonly step: ModemStep;
  constructor(step: ModemStep, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.step = step;
  }
}

/** The modem has no email AT commands (or answers them all with a failure). */
export class NoEmailSupportError extends ModemError {
  override readonly name: string = "NoEmailSupportError";
  override readonly code: ModemErrorCode = "no-email-support";
  constructor(detail: string) {
    super("probe", `this modem firmware has no usable email AT commands: ${detail}`);
  }
}

/** The network released the bearer (`+SAPBR <cid>: DEACT`) while email work was running. */
export class BearerLostError extends ModemError {
  override readonly name: string = "BearerLostError";
  override readonly code: ModemErrorCode = "bearer-lost";
  readonly cid: number;
  constructor(cid: number) {
    super("bearer", `the network released bearer ${cid} (+SAPBR ${cid}: DEACT)`);
    this.cid = cid;
  }
}
