import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SenderPolicy, type SenderPolicyOptions } from "../../../src/app/sender-policy.ts";
import { seededRandom } from "../../../src/app/wall-clock.ts";
import type { RandomPort } from "../../../src/app/ports.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A random source that returns the given values in turn. */
function scripted(...values: number[]): RandomPort {
  let i = 0;
  return { random: () => values[i++ % values.length] };
}

function policy(options: Partial<SenderPolicyOptions> = {}, now = 0): SenderPolicy {
  return new SenderPolicy(now, { random: scripted(0.5), heartbeatAtMinute: null, ...options });
}

const batching = suite("sender policy: batching");

batching("a burst is gathered, then sent in mails of at most maxEventsPerMail", () => {
  const p = policy({ gatherMs: 2000, maxEventsPerMail: 5 });
  assert.equal(p.next(0, 0), { action: "wait", until: DAY }, "nothing to do until the heartbeat");
  assert.equal(p.next(100, 1), { action: "wait", until: 2100 });
  assert.equal(p.next(1500, 3), { action: "wait", until: 2100 }, "later events do not extend the wait");
  assert.equal(p.next(2100, 7), { action: "events", count: 5 });
  assert.equal(p.next(2200, 9), { action: "wait", until: null }, "one mail at a time");
  assert.is(p.sending, "events");
  p.succeeded(5000);
  assert.equal(p.next(5000, 4), { action: "events", count: 4 }, "what piled up in flight goes at once");
  p.succeeded(6000);
  assert.equal(p.next(6000, 0), { action: "wait", until: DAY });
  assert.equal(p.next(7000, 1), { action: "wait", until: 9000 }, "a new burst gathers again");
});

batching("gatherMs 0 sends the first event at once", () => {
  const p = policy({ gatherMs: 0 });
  assert.equal(p.next(10, 1), { action: "events", count: 1 });
});

batching("success and failure need a mail in flight", () => {
  const p = policy();
  assert.throws(() => p.succeeded(0), /SenderPolicy.succeeded: no mail is in flight/);
  assert.throws(() => p.failed(0), /SenderPolicy.failed: no mail is in flight/);
});

batching("eventsDue says, without starting a mail, whether next() would send events now", () => {
  const p = policy({ gatherMs: 2000, retryBaseMs: 1000, jitter: 0 });
  assert.not.ok(p.eventsDue(0, 0), "nothing pending");
  assert.not.ok(p.eventsDue(100, 1), "the first look starts the gather time");
  assert.ok(p.eventsDue(2100, 1), "gathered");
  assert.ok(p.eventsDue(2100, 1), "asking again changes nothing");
  assert.equal(p.next(2100, 1), { action: "events", count: 1 }, "next() starts the mail eventsDue announced");
  assert.not.ok(p.eventsDue(2200, 2), "one mail at a time");
  p.failed(2200);
  assert.not.ok(p.eventsDue(2300, 2), "backing off");
  assert.ok(p.eventsDue(3200, 2), "the backoff is over");
  const q = policy({ gatherMs: 0, mailsPerHour: 1 });
  q.requestStatus();
  assert.not.ok(q.eventsDue(0, 0), "a status mail waits for the poll");
  q.next(0, 1);
  q.succeeded(0);
  assert.not.ok(q.eventsDue(1000, 1), "the hourly cap holds");
  assert.ok(q.eventsDue(HOUR, 1), "the cap frees after the hour");
});

batching.run();

const retry = suite("sender policy: retry with backoff and jitter");

retry("delays double from the base up to the cap, and success resets them", () => {
  const p = policy({ gatherMs: 0, retryBaseMs: 1000, retryMaxMs: 20_000, jitter: 0 });
  let now = 0;
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const decision = p.next(now, 3);
    assert.equal(decision, { action: "events", count: 3 }, `attempt ${i + 1}`);
    delays.push(p.failed(now));
    assert.equal(p.next(now + delays[i] - 1, 3), { action: "wait", until: now + delays[i] });
    now += delays[i];
  }
  assert.equal(delays, [1000, 2000, 4000, 8000, 16_000, 20_000, 20_000, 20_000]);
  assert.is(p.failures, 8);
  assert.equal(p.next(now, 3), { action: "events", count: 3 });
  p.succeeded(now);
  assert.is(p.failures, 0);
  p.next(now, 1);
  assert.is(p.failed(now), 1000, "back to the base after a success");
});

retry("jitter spreads each delay within ±jitter of its nominal value", () => {
  const low = policy({ gatherMs: 0, retryBaseMs: 10_000, jitter: 0.25, random: scripted(0) });
  low.next(0, 1);
  assert.is(low.failed(0), 7500);
  const high = policy({ gatherMs: 0, retryBaseMs: 10_000, jitter: 0.25, random: scripted(0.999999) });
  high.next(0, 1);
  assert.is(high.failed(0), 12_500);

  const p = policy({ gatherMs: 0, retryBaseMs: 1000, retryMaxMs: 64_000, jitter: 0.2, random: seededRandom(42) });
  const seen = new Set<number>();
  let now = 0;
  for (let i = 0; i < 200; i++) {
    p.next(now, 1);
    const delay = p.failed(now);
    const nominal = Math.min(64_000, 1000 * 2 ** Math.min(i, 30));
    assert.ok(delay >= nominal * 0.8 && delay <= nominal * 1.2, `failure ${i + 1}: ${delay} ms not within ±20 % of ${nominal}`);
    if (nominal === 64_000) seen.add(delay);
    now += delay;
  }
  assert.ok(seen.size > 150, "capped delays still vary");
});

retry("a heartbeat waits for the backoff like any mail", () => {
  const p = policy({ gatherMs: 0, retryBaseMs: 60_000, jitter: 0, heartbeatIntervalMs: HOUR });
  assert.equal(p.next(HOUR, 0), { action: "status", heartbeat: true });
  p.failed(HOUR);
  assert.equal(p.next(HOUR + 1, 0), { action: "wait", until: HOUR + 60_000 });
  assert.equal(p.next(HOUR + 60_000, 0), { action: "status", heartbeat: true });
  p.succeeded(HOUR + 60_000);
  assert.is(p.nextHeartbeatAt, 2 * HOUR + 60_000);
});

retry.run();

const cap = suite("sender policy: hourly cap and overflow summary");

cap("no more than mailsPerHour mails in any sliding hour", () => {
  const p = policy({ gatherMs: 0, mailsPerHour: 3, maxEventsPerMail: 10 });
  const times = [0, 60_000, 120_000];
  for (const t of times) {
    assert.equal(p.next(t, 1), { action: "events", count: 1 });
    p.succeeded(t);
  }
  assert.is(p.mailsInLastHour(120_000), 3);
  assert.equal(p.next(130_000, 2), { action: "wait", until: HOUR });
  assert.equal(p.next(HOUR, 2), { action: "events", count: 2 }, "the first mail left the window");
  p.succeeded(HOUR);
  assert.equal(p.next(HOUR + 1, 1), { action: "wait", until: HOUR + 60_000 });
  assert.is(p.mailsInLastHour(HOUR + 1), 3);
});

cap("events that pile up behind the cap go out as one summary when it lifts", () => {
  const p = policy({ gatherMs: 0, mailsPerHour: 2, maxEventsPerMail: 5 });
  for (const t of [0, 1000]) {
    p.next(t, 5);
    p.succeeded(t);
  }
  assert.equal(p.next(2000, 3), { action: "wait", until: HOUR });
  assert.equal(p.next(30 * 60_000, 40), { action: "wait", until: HOUR });
  assert.equal(p.next(HOUR, 57), { action: "summary", count: 57 });
  p.succeeded(HOUR);
  assert.equal(p.next(HOUR + 1000, 3), { action: "events", count: 3 }, "after the summary: plain batches again");
});

cap("capped but few events: a normal batch, no summary", () => {
  const p = policy({ gatherMs: 0, mailsPerHour: 1, maxEventsPerMail: 5 });
  p.next(0, 1);
  p.succeeded(0);
  assert.equal(p.next(10, 2), { action: "wait", until: HOUR });
  assert.equal(p.next(HOUR, 4), { action: "events", count: 4 });
});

cap("a failed summary is retried as a summary of everything pending then", () => {
  const p = policy({ gatherMs: 0, mailsPerHour: 1, maxEventsPerMail: 5, retryBaseMs: 1000, jitter: 0 });
  p.next(0, 1);
  p.succeeded(0);
  p.next(10, 30);
  assert.equal(p.next(HOUR, 30), { action: "summary", count: 30 });
  p.failed(HOUR);
  assert.equal(p.next(HOUR + 1000, 33), { action: "summary", count: 33 });
});

cap("failed mails do not count against the cap", () => {
  const p = policy({ gatherMs: 0, mailsPerHour: 2, retryBaseMs: 1000, jitter: 0 });
  let now = 0;
  for (let i = 0; i < 5; i++) {
    assert.equal(p.next(now, 1), { action: "events", count: 1 });
    now += p.failed(now);
  }
  assert.is(p.mailsInLastHour(now), 0);
});

cap.run();

const heartbeat = suite("sender policy: heartbeat and status");

heartbeat("before the wall time is known: every interval from start", () => {
  const p = new SenderPolicy(5000, { random: scripted(0.5), heartbeatIntervalMs: DAY });
  assert.is(p.nextHeartbeatAt, 5000 + DAY);
  assert.equal(p.next(5000 + DAY, 0), { action: "status", heartbeat: true });
  p.succeeded(5000 + DAY + 3000);
  assert.is(p.nextHeartbeatAt, 5000 + 2 * DAY + 3000);
});

heartbeat("with the wall time: at the configured local time of day, every day", () => {
  // Uptime 0 is 2026-06-17 06:30 UTC; heartbeat at 08:00 local, local = UTC+2.
  const bootUtc = Date.UTC(2026, 5, 17, 6, 30);
  const p = new SenderPolicy(0, { random: scripted(0.5), heartbeatAtMinute: 8 * 60, timezoneOffsetMinutes: 120 });
  p.setWallOffset(1000, bootUtc);
  const firstAt = Date.UTC(2026, 5, 18, 6, 0) - bootUtc; // 08:00 local = 06:00 UTC: today's has passed
  assert.is(p.nextHeartbeatAt, firstAt);
  assert.equal(p.next(firstAt - 1, 0), { action: "wait", until: firstAt });
  assert.equal(p.next(firstAt, 0), { action: "status", heartbeat: true });
  p.succeeded(firstAt + 20_000);
  assert.is(p.nextHeartbeatAt, firstAt + DAY);
});

heartbeat("the time of day today when it is still ahead", () => {
  const bootUtc = Date.UTC(2026, 5, 17, 5, 30);
  const p = new SenderPolicy(0, { random: scripted(0.5), heartbeatAtMinute: 6 * 60 });
  p.setWallOffset(0, bootUtc);
  assert.is(p.nextHeartbeatAt, 30 * 60_000);
});

heartbeat("learning the time does not push back a heartbeat that is already due", () => {
  const p = new SenderPolicy(0, { random: scripted(0.5), heartbeatIntervalMs: HOUR, heartbeatAtMinute: 8 * 60, retryBaseMs: 60_000, jitter: 0, gatherMs: 0 });
  assert.equal(p.next(HOUR, 0), { action: "status", heartbeat: true });
  p.failed(HOUR);
  p.setWallOffset(HOUR + 1000, Date.UTC(2026, 5, 17, 12, 0));
  assert.is(p.nextHeartbeatAt, HOUR);
  assert.equal(p.next(HOUR + 60_000, 0), { action: "status", heartbeat: true });
  p.succeeded(HOUR + 60_000);
  assert.is(p.nextHeartbeatAt + Date.UTC(2026, 5, 17, 12, 0), Date.UTC(2026, 5, 18, 8, 0), "then the next one at 08:00");
});

heartbeat("a requested status goes after pending events; one mail serves a due heartbeat too", () => {
  const p = policy({ gatherMs: 0, heartbeatIntervalMs: HOUR });
  p.requestStatus();
  assert.equal(p.next(10, 2), { action: "events", count: 2 });
  p.succeeded(20);
  assert.equal(p.next(30, 0), { action: "status", heartbeat: false });
  p.succeeded(40);
  assert.equal(p.next(50, 0), { action: "wait", until: HOUR });
  p.requestStatus();
  assert.equal(p.next(HOUR, 0), { action: "status", heartbeat: true });
  p.succeeded(HOUR);
  assert.equal(p.next(HOUR + 1, 0), { action: "wait", until: 2 * HOUR });
});

heartbeat("a status request made while a status mail is in flight gets its own mail", () => {
  const p = policy({ gatherMs: 0 });
  p.requestStatus();
  assert.equal(p.next(0, 0), { action: "status", heartbeat: false });
  p.succeeded(10);
  p.requestStatus();
  assert.equal(p.next(20, 0), { action: "status", heartbeat: false });
  p.requestStatus();
  p.succeeded(30);
  assert.equal(p.next(40, 0), { action: "status", heartbeat: false }, "asked again while in flight: the mail under way started before");
});

heartbeat("bad settings are refused by name", () => {
  const random = scripted(0.5);
  assert.throws(() => new SenderPolicy(0, {} as never), /a random source is needed/);
  assert.throws(() => new SenderPolicy(0, { random, maxEventsPerMail: 0 }), /maxEventsPerMail must be a whole number of 1 or more, not 0/);
  assert.throws(() => new SenderPolicy(0, { random, retryBaseMs: 10_000, retryMaxMs: 5000 }), /retryMaxMs \(5000\) is below retryBaseMs \(10000\)/);
  assert.throws(() => new SenderPolicy(0, { random, jitter: 1.5 }), /jitter 1.5 is not a fraction 0-1/);
  assert.throws(() => new SenderPolicy(0, { random, heartbeatAtMinute: 1440 }), /heartbeatAtMinute 1440 is not a minute of the day/);
  assert.throws(() => new SenderPolicy(0, { random, timezoneOffsetMinutes: 900 }), /time zone offset 900 min is not within ±14 h/);
  assert.throws(() => new SenderPolicy(0, { random, gatherMs: -1 }), /gatherMs must be a duration in ms \(0 or more\), not -1/);
  assert.throws(() => new SenderPolicy(Number.NaN, { random }), /now \(NaN\) is not a time in ms/);
  assert.throws(() => new SenderPolicy(0, { random }).next(0, -1), /-1 is not a count of pending events/);
});

heartbeat.run();
