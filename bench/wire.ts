// A wire model of the ESP32 + SIM7000 link that can fail: host CPU, callback latency, the modem's
// round trips and the UART FIFOs, on a virtual clock. One byte takes 10 bits on the wire.
//
// Host CPU: XS compute units (measured under xsnap, bench/xs.ts) turned into device time at
// DEVICE_UNITS_PER_SECOND. That figure is this machine's XS speed divided by the device factor:
// xsnap (metering on) runs 50-80 million units a second here; XS on a 240 MHz ESP32 (Xtensa
// LX6, code in flash behind a cache, no JIT) is taken as 50 times slower (the bracket is 30x to
// 100x: a bytecode costs XS some tens of host instructions, an ESP32 runs 240 MHz against the
// host's few GHz with several instructions a cycle, and flash cache misses cost more again).
// Every figure below is a setting; the bench prints them beside its results.
//
// Receive: the modem answers a read at line rate with no flow control. Bytes land in the
// 128-byte RX FIFO; a callback (after `callbackLatencyMs`) reads up to 128 bytes and the host is
// busy for their compute; the engine reads again at once while bytes wait. A byte that arrives
// at a full FIFO is lost, and counted. Transmit: the host fills the 128-byte TX FIFO; when it
// drains to `txRefillThreshold` bytes a callback refills it (latency, then the refill's compute).

/** Settings of the model, every one a named assumption. */
export interface WireModelSettings {
  baud: number;
  /** How much slower XS runs on the device than under xsnap on this machine. */
  deviceFactor: number;
  /** XS compute units per second under xsnap on this machine (bench/xs.ts measures it). */
  hostUnitsPerSecond: number;
  /** From a UART interrupt to the JavaScript callback running (Moddable posts it to the main task). */
  callbackLatencyMs: number;
  /** Modem and network round trip per AT+SMTPFT and AT+POP3READ (LTE-M: tens to a few hundred ms). */
  rttMs: number;
  rxFifo: number;
  txFifo: number;
  /** TX FIFO level at which the refill interrupt fires (ESP-IDF's default empty threshold). */
  txRefillThreshold: number;
}

/**
 * One 128-byte TX FIFO refill (onWritable, the transmitter's pump, one write) in XS units:
 * halving the writes (256-byte ones in bench/paths.ts) saved 3.3 units per raw attachment byte,
 * about 1,330 units per 256-byte write pair less the copy, so about 520 a refill.
 */
export const TX_REFILL_UNITS = 520;

/** xsnap's speed on the machine the defaults were taken on (bench/xs.ts prints today's). */
export const HOST_UNITS_PER_SECOND = 55e6;

export const DEFAULT_WIRE_SETTINGS: Omit<WireModelSettings, "baud"> = {
  deviceFactor: 50,
  hostUnitsPerSecond: HOST_UNITS_PER_SECOND,
  callbackLatencyMs: 1,
  rttMs: 100,
  rxFifo: 128,
  txFifo: 128,
  txRefillThreshold: 10,
};

/** What one path costs the host, in XS compute units (bench/xs.ts, responder taken out). */
export interface PathCost {
  /** Per payload byte, every per-chunk cost spread over the bytes (conservative for the FIFO). */
  unitsPerByte: number;
  /** Send only: one TX FIFO refill (onWritable, transmitter pump, one write). */
  refillUnits?: number;
}

export interface WireOutcome {
  payloadBytes: number;
  elapsedMs: number;
  /** What the protocol allows: the same bytes and round trips with no host CPU and no callback latency. */
  bestMs: number;
  payloadPerSecond: number;
  bestPayloadPerSecond: number;
  /** payloadPerSecond / bestPayloadPerSecond. */
  efficiency: number;
  bytesLost: number;
  chunks: number;
}

const deviceSeconds = (units: number, s: WireModelSettings): number => (units * s.deviceFactor) / s.hostUnitsPerSecond;

/**
 * Bytes arriving back to back from `start` at line rate into the RX FIFO, drained by the host.
 * Returns when the host has processed the last one, and how many were lost.
 */
function receive(start: number, bytes: number, unitsPerByte: number, s: WireModelSettings): { end: number; lost: number } {
  const byteTime = 10 / s.baud;
  const perByte = deviceSeconds(unitsPerByte, s);
  const latency = s.callbackLatencyMs / 1000;
  let fifo = 0;
  let lost = 0;
  /** When the host can next read: a pending callback's time, or the end of its current work. */
  let readAt = Number.POSITIVE_INFINITY;
  let arrived = 0;
  let t = start;
  let processed = 0;
  while (processed + lost < bytes) {
    const nextArrival = arrived < bytes ? start + (arrived + 1) * byteTime : Number.POSITIVE_INFINITY;
    if (nextArrival <= readAt) {
      t = nextArrival;
      arrived++;
      if (fifo === s.rxFifo) lost++;
      else fifo++;
      // A byte at an idle host raises the interrupt: its callback runs after the latency.
      if (readAt === Number.POSITIVE_INFINITY) readAt = t + latency;
      continue;
    }
    t = readAt;
    const n = fifo < s.rxFifo ? fifo : s.rxFifo;
    fifo -= n;
    processed += n;
    // The engine reads again as soon as its work is done while bytes wait; else it waits for the next interrupt.
    const busyUntil = t + n * perByte;
    readAt = Number.POSITIVE_INFINITY;
    // Bytes that arrive while busy are read right after.
    while (arrived < bytes && start + (arrived + 1) * byteTime <= busyUntil) {
      arrived++;
      if (fifo === s.rxFifo) lost++;
      else fifo++;
    }
    t = busyUntil;
    if (fifo > 0) readAt = t;
  }
  return { end: t, lost };
}

/** Host bytes through the TX FIFO from `start` (FIFO empty); returns when the last byte has left the wire. */
function transmit(start: number, bytes: number, refillUnits: number, s: WireModelSettings): number {
  const byteTime = 10 / s.baud;
  const refill = s.callbackLatencyMs / 1000 + deviceSeconds(refillUnits, s);
  let t = start;
  let left = bytes;
  let level = 0;
  for (;;) {
    const n = left < s.txFifo - level ? left : s.txFifo - level;
    left -= n;
    level += n;
    if (left === 0) return t + level * byteTime;
    // The FIFO sends down to the threshold, the interrupt fires, and it keeps sending (or runs
    // dry, the wire idle) until the refill callback has run.
    t += (level - s.txRefillThreshold) * byteTime;
    level = s.txRefillThreshold;
    t += refill;
    level = Math.max(0, level - refill / byteTime);
  }
}

const lineBytes = (text: string): number => text.length;

/** Pop3Client.retrieve of `mailBytes` in AT+POP3READ=<reqLength> chunks. */
export function modelRetrieve(mailBytes: number, reqLength: number, cost: PathCost, s: WireModelSettings): WireOutcome {
  const byteTime = 10 / s.baud;
  const rtt = s.rttMs / 1000;
  let t = 0;
  let best = 0;
  let lost = 0;
  let chunks = 0;
  for (let sent = 0; sent < mailBytes; chunks++) {
    const n = Math.min(reqLength, mailBytes - sent);
    sent += n;
    const request = lineBytes(`AT+POP3READ=${reqLength}\r`);
    const answer = lineBytes(`\r\n+POP3READ: ${sent === mailBytes ? 2 : 1},${n}\r\n`) + n + lineBytes("\r\nOK\r\n");
    t = transmit(t, request, cost.refillUnits ?? 0, s) + rtt;
    best += request * byteTime + rtt + answer * byteTime;
    const r = receive(t, answer, cost.unitsPerByte * n / answer, s);
    t = r.end;
    lost += r.lost;
  }
  return outcome(mailBytes, t, best, lost, chunks);
}

/**
 * SmtpClient's AT+SMTPFT loop for `rawBytes` of attachment, host base64 in 76-character lines:
 * the chunk's compute, AT+SMTPFT=<n>, `+SMTPFT: 2,<n>`, n payload bytes through the TX FIFO,
 * the round trip, `OK` and `+SMTPFT: 1,<max>`.
 */
export function modelSend(rawBytes: number, chunkMax: number, cost: PathCost, s: WireModelSettings): WireOutcome {
  const byteTime = 10 / s.baud;
  const rtt = s.rttMs / 1000;
  const encoded = 4 * Math.ceil(rawBytes / 3) + 2 * Math.ceil((4 * Math.ceil(rawBytes / 3)) / 76);
  const refillUnits = cost.refillUnits ?? 0;
  const refills = encoded / s.txFifo;
  // The chunk's own compute: everything but the refills.
  const prepareUnitsPerByte = Math.max(0, (cost.unitsPerByte * rawBytes - refillUnits * refills) / encoded);
  const prepare = (n: number) => deviceSeconds(prepareUnitsPerByte * n, s);
  // The first chunk is encoded after the modem's first offer; each later one while the modem's
  // answer to the last is on its way (AttachmentUpload prepares ahead).
  let t = prepare(Math.min(chunkMax, encoded));
  let best = 0;
  let lost = 0;
  let chunks = 0;
  for (let sent = 0; sent < encoded; chunks++) {
    const n = Math.min(chunkMax, encoded - sent);
    sent += n;
    const request = lineBytes(`AT+SMTPFT=${n}\r`);
    const confirm = lineBytes(`\r\n+SMTPFT: 2,${n}\r\n`);
    const next = lineBytes(`\r\nOK\r\n\r\n+SMTPFT: 1,${chunkMax}\r\n`);
    t = transmit(t, request, refillUnits, s);
    const c = receive(t, confirm, 0, s);
    const payloadOut = transmit(c.end, n, refillUnits, s);
    const ready = payloadOut + prepare(Math.min(chunkMax, encoded - sent));
    const r = receive(payloadOut + rtt, next, 0, s);
    t = Math.max(r.end, ready);
    lost += c.lost + r.lost;
    best += (request + confirm + n + next) * byteTime + rtt;
  }
  return outcome(rawBytes, t, best, lost, chunks);
}

function outcome(payloadBytes: number, elapsed: number, best: number, bytesLost: number, chunks: number): WireOutcome {
  const payloadPerSecond = payloadBytes / elapsed;
  const bestPayloadPerSecond = payloadBytes / best;
  return {
    payloadBytes, elapsedMs: elapsed * 1000, bestMs: best * 1000, payloadPerSecond, bestPayloadPerSecond,
    efficiency: payloadPerSecond / bestPayloadPerSecond, bytesLost, chunks,
  };
}

/**
 * The longest AT+POP3READ request whose answer (framing included) the host takes in without a
 * lost byte at these settings; 0 when not even the framing fits.
 */
export function safeReadLength(cost: PathCost, s: WireModelSettings, upTo: number): number {
  let best = 0;
  for (let n = 16; n <= upTo; n += 16) {
    if (modelRetrieve(n, n, cost, s).bytesLost === 0) best = n;
    else break;
  }
  return best;
}
