// Transport security of the modem's SMTP and POP3 sessions: AT+EMAILSSL picks clear text,
// TLS from the first byte or STARTTLS/STLS; AT+CSSLCFG sets the TLS version and the SNI name
// of the SSL context it uses. And the switch that refuses to hand the modem a password that
// would cross the network in clear text.

import type { AtEngine } from "../transport/engine.ts";
import { AtCommandError } from "../transport/errors.ts";
import { quotingProblem } from "../transport/tx.ts";
import { runStep, steps } from "../transport/step.ts";
import type { TlsCapabilities } from "../modem/probe.ts";
import { InsecureCredentialsError, MailParameterError } from "./errors.ts";
import { detail } from "../transport/detail.ts";

const TLS = steps({
  version: { request: 'AT+CSSLCFG="sslversion",<SSL context>,<TLS version>', timeoutMs: 5000 },
  sni: { request: 'AT+CSSLCFG="sni",<SSL context>,"<SNI>"', timeoutMs: 5000 },
  mode: { request: "AT+EMAILSSL=<mode>[,<SSL context>]", timeoutMs: 5000 },
});

/** "tls": TLS from the first byte (ports 465, 995); "starttls": STARTTLS / STLS on the plain port. */
export type Security = "none" | "tls" | "starttls";

/** `<sslversion>` of AT+CSSLCFG="sslversion". */
export const TLS_VERSIONS = { "ssl3.0": 0, "tls1.0": 1, "tls1.1": 2, "tls1.2": 3, "all": 4 } as const;
export type TlsVersion = keyof typeof TLS_VERSIONS;

export interface SecuritySettings {
  /** Default "none". */
  security?: Security;
  /** TLS version (AT+CSSLCFG="sslversion"); default: the modem's setting. */
  tlsVersion?: TlsVersion;
  /** SNI name, also the name the certificate must carry (AT+CSSLCFG="sni"); default: the modem's. */
  sni?: string;
  /** SSL context for AT+EMAILSSL and AT+CSSLCFG. Default 0. */
  sslContext?: number;
  /**
   * Refuse (InsecureCredentialsError) to give the modem a password unless the session is
   * secured with TLS. Default false: the SIM7000 firmware this runs on has no AT+EMAILSSL.
   */
  requireSecureCredentials?: boolean;
}

const MODE: Record<Security, number> = { none: 0, tls: 1, starttls: 2 };
/** The security values a setting can take (the settings schema lists these). */
export const SECURITY_MODES = Object.keys(MODE) as Security[];

/** Detail of code 63 on a TLS session: the spec has no TLS code, so a failed handshake lands there. */
export const TLS_HINT = "or the TLS handshake failed" + detail(": certificate not trusted, name (SNI) not in it, or no common TLS version");
const SNI_MAX_LENGTH = 64;

/** The AT+EMAILSSL / AT+CSSLCFG commands one session needs, worked out before any is written. */
export interface SecurityPlan {
  protocol: "smtp" | "pop3";
  mode: number;
  /** A password rides on this session and requireSecureCredentials is on. */
  mustBeSecure: boolean;
  context: number;
  /** Whether AT+EMAILSSL takes `<ctxindex>` (SIM7080) or not (SIM800). */
  withContext: boolean;
  /** The probe found AT+EMAILSSL: write it every time (SMTP and POP3 share the one setting). */
  modemHasTls: boolean;
  version: number | null;
  sni: string | null;
}

/**
 * Checks the settings against what the modem can do (`tls`: from the probe; undefined = not
 * probed, so try). `credentials`: whether the session would carry a password.
 */
export function planSecurity(protocol: "smtp" | "pop3", settings: SecuritySettings, tls: TlsCapabilities | null | undefined, credentials: boolean): SecurityPlan {
  const security = settings.security ?? "none";
  if (!Object.prototype.hasOwnProperty.call(MODE, security)) {
    throw new MailParameterError(protocol, "security", `"${String(security)}" is none of "none", "tls", "starttls"`);
  }
  if (credentials && settings.requireSecureCredentials === true) {
    if (security === "none") throw new InsecureCredentialsError(protocol, "security is \"none\"");
    if (tls === null) throw new InsecureCredentialsError(protocol, "this modem firmware has no AT+EMAILSSL");
  }
  const mode = MODE[security];
  if (mode !== 0 && tls === null) {
    throw new MailParameterError(protocol, "security", `"${security}" needs AT+EMAILSSL, which this modem firmware lacks`);
  }
  if (mode !== 0 && tls !== undefined && tls !== null && mode > tls.modes[1]) {
    throw new MailParameterError(protocol, "security", `"${security}" is AT+EMAILSSL=${mode}; this modem takes ${tls.modes[0]}-${tls.modes[1]}`);
  }
  const context = settings.sslContext ?? 0;
  const contexts = tls?.contexts ?? [0, 5];
  if (!Number.isInteger(context) || context < contexts[0] || context > contexts[1]) {
    throw new MailParameterError(protocol, "SSL context", `${context} is outside ${contexts[0]}-${contexts[1]}`);
  }
  const withContext = tls === undefined || tls === null || tls.contexts !== null;
  if (!withContext && context !== 0) throw new MailParameterError(protocol, "SSL context", "this modem's AT+EMAILSSL has no context index");

  const versionName = settings.tlsVersion;
  let version: number | null = null;
  if (versionName !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(TLS_VERSIONS, versionName)) {
      throw new MailParameterError(protocol, "TLS version", `"${String(versionName)}" is none of ${Object.keys(TLS_VERSIONS).join(", ")}`);
    }
    version = TLS_VERSIONS[versionName];
  }
  const sni = settings.sni ?? null;
  // A name has no spaces; what else may go in quotes is the one quoting rule's to say.
  if (sni !== null && (typeof sni !== "string" || sni.length > SNI_MAX_LENGTH || sni.includes(" ") || quotingProblem(sni) !== null)) {
    throw new MailParameterError(protocol, "SNI", `must be up to ${SNI_MAX_LENGTH} printable ASCII characters without spaces or quotes`);
  }
  if ((version !== null || sni !== null) && mode === 0) {
    throw new MailParameterError(protocol, version !== null ? "TLS version" : "SNI", "is set but security is \"none\"");
  }
  if ((version !== null || sni !== null) && tls !== undefined && tls !== null && !tls.sslConfig) {
    throw new MailParameterError(protocol, version !== null ? "TLS version" : "SNI", "needs AT+CSSLCFG, which this modem firmware lacks");
  }
  const mustBeSecure = credentials && settings.requireSecureCredentials === true;
  if (mustBeSecure && version !== null && version < TLS_VERSIONS["tls1.1"]) {
    throw new InsecureCredentialsError(protocol, `TLS version "${versionName}" is broken; use tls1.1 or later`);
  }
  return { protocol, mode, mustBeSecure, context, withContext, modemHasTls: tls !== undefined && tls !== null, version, sni };
}

/**
 * Writes the plan: AT+CSSLCFG first, then AT+EMAILSSL. `lastMode` is the AT+EMAILSSL mode
 * this client last wrote (0 after a reset). Clear text costs no command on a modem not known
 * to have TLS that this client never switched, so a firmware without AT+EMAILSSL never sees
 * one. Returns the mode now set.
 */
export async function writeSecurity(engine: AtEngine, plan: SecurityPlan, lastMode: number): Promise<number> {
  if (plan.mode === 0 && lastMode === 0 && !plan.modemHasTls) return 0;
  if (plan.version !== null) await runStep(engine, TLS.version, [plan.context, plan.version]);
  if (plan.sni !== null) await runStep(engine, TLS.sni, [plan.context, plan.sni]);
  try {
    await runStep(engine, TLS.mode, [plan.mode, plan.withContext ? plan.context : null]);
  } catch (error) {
    // Not probed, and the firmware has no AT+EMAILSSL (or not this form).
    if (!(error instanceof AtCommandError) || plan.mode === 0) throw error;
    const problem = `the modem answered ${error.reply} to AT+EMAILSSL=${plan.mode}`;
    if (plan.mustBeSecure) throw new InsecureCredentialsError(plan.protocol, problem);
    throw new MailParameterError(plan.protocol, "security", `${problem}: no TLS in this firmware?`);
  }
  return plan.mode;
}
