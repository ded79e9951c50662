// The modem dates every mail it sends by its own clock (the Date header), and a SIM7000 starts
// at 1980-01-06 until something sets it. Where the network gave it the time (NITZ after
// registration, AT+CLTS; or an earlier AT+CNTP) the clock reads a plausible date and is kept;
// otherwise it is set from this computer's clock, which the user is told once.

import { ModemError } from "../modem/errors.ts";
import type { Modem } from "../modem/modem.ts";

/** Before this, a modem clock was never set (it counts from 1980, or a firmware's build year). */
const PLAUSIBLE_FROM_MS = Date.UTC(2024, 0, 1);

/** Sets the modem's clock from the host's unless it already holds network time; `say` gets the one note. */
export async function ensureModemClock(modem: Modem, say: (text: string) => void, now = Date.now()): Promise<void> {
  const clock = await modem.clock().catch((error: unknown) => {
    if (error instanceof ModemError) return null;
    throw error;
  });
  if (clock !== null && clock.epochMs >= PLAUSIBLE_FROM_MS) return;
  // The host's zone in quarter hours east of UTC, as AT+CCLK writes it.
  const zone = Math.round(-new Date(now).getTimezoneOffset() / 15);
  const was = clock === null ? "could not be read" : `read ${new Date(clock.epochMs).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  const host = `${new Date(now).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  try {
    await modem.setClock(now, zone);
  } catch (error) {
    // A firmware that refuses AT+CCLK= still sends: the mail is dated by its clock, as said.
    if (!(error instanceof ModemError)) throw error;
    say(`the modem has no network time (its clock ${was}) and refused to be set (${error.message}): the mail will carry its date`);
    return;
  }
  say(`the modem has no network time (its clock ${was}): set it from this computer's clock, ${host}, for the mail's date`);
}
