// The edge values of a setting, worked out from its rule in src/app/settings-schema.ts: the
// bounds of its range (accepted) and one past them (refused), every choice, a value its text
// rule refuses. The device and CLI suites run every key through them, so a new key is covered
// the day it is added; their hand-written cases check that the rules themselves are right.

import type { Range, Setting, TextRule } from "../../src/app/settings-schema.ts";

export interface Edge {
  /** As text, the form of `mcconfig key=value` and of a CLI flag. */
  value: string;
  /** What the case is, for assertion messages. */
  note: string;
}

export interface RefusedEdge extends Edge {
  /** The range the refusal must state (its bounds and its source), when a bound was passed. */
  range?: Range;
}

const DOMAIN = "@example.com";

/** A text of `length` characters that `rule` accepts, or null when the rule needs other keys to judge. */
export function sampleText(rule: TextRule | undefined, length: number): string | null {
  switch (rule) {
    case "address": return "a".repeat(Math.max(1, length - DOMAIN.length)) + DOMAIN;
    case "absolute-path": return "/" + "a".repeat(Math.max(0, length - 1));
    case "absolute-directory": return "/" + "a".repeat(Math.max(0, length - 2)) + "/";
    case "command-secret": return "s".repeat(Math.max(16, length));
    case "security": return null;
    default: return "a".repeat(length);
  }
}

/** A value each text rule refuses whatever its length. */
const REFUSED_TEXT: Record<TextRule, string | null> = {
  "at-string": 'a"b',
  "display-name": 'a"b',
  header: "a\nb",
  host: "a b",
  address: "ops",
  "device-id": "a|b",
  "command-secret": "short-secret",
  security: null, // the planner judges it with the security keys: see the hand-written cases
  "absolute-path": "relative/path",
  "absolute-directory": "/no-trailing-slash",
  "directory-name": "../etc",
};

function addressList(count: number, length = DOMAIN.length + 3): string {
  return Array.from({ length: count }, (_, i) => sampleText("address", length)!.replace(/^a/, String.fromCharCode(97 + (i % 26)))).join(",");
}

const decimalText = (n: number) => String(Math.round(n * 100) / 100);

export function edges(setting: Setting): { accepted: Edge[]; refused: RefusedEdge[] } {
  const accepted: Edge[] = [];
  const refused: RefusedEdge[] = [];
  const range = setting.range;
  const ok = (value: string, note: string) => accepted.push({ value, note });
  const no = (value: string, note: string, withRange?: Range) => refused.push({ value, note, ...(withRange ? { range: withRange } : {}) });
  switch (setting.type) {
    case "integer": {
      const r = range!;
      const step = setting.step ?? 1;
      ok(String(r.min), "the lower bound");
      ok(String(r.max), "the upper bound");
      no(String(r.min - step), "one step below", r);
      no(String(r.max + step), "one step above", r);
      if (step > 1) no(String(r.min + 1), "not a multiple of the step", r);
      no("1.5x", "not a number", r);
      break;
    }
    case "gpio": {
      const r = range!;
      ok(String(r.min), "the lower bound");
      ok(String(r.max), "the upper bound");
      if (setting.default === undefined) no("-1", "none, for a pin that is required");
      else ok("-1", "none");
      no(String(r.min - 2), "below -1", r);
      no(String(r.max + 1), "one above", r);
      break;
    }
    case "decimal": {
      const r = range!;
      ok(decimalText(r.min), "the lower bound");
      ok(decimalText(r.max), "the upper bound");
      no(decimalText(r.min - 0.01), "just below", r);
      no(decimalText(r.max + 0.01), "just above", r);
      break;
    }
    case "flag":
      for (const value of ["true", "false", "1", "0"]) ok(value, "a flag");
      no("yes", "not a flag");
      break;
    case "choice":
      for (const choice of setting.choices!) ok(choice, "a choice");
      no("not-a-choice", "none of the choices");
      break;
    case "time":
      for (const value of ["00:00", "23:59", "none"]) ok(value, "a time of day");
      for (const value of ["24:00", "23:60", "8h"]) no(value, "not a time of day");
      break;
    case "text": {
      const bad = REFUSED_TEXT[setting.text ?? "at-string"];
      if (setting.text !== undefined && bad !== null) no(bad, `refused by the ${setting.text} rule`);
      if (range !== undefined) {
        const atMax = sampleText(setting.text, range.max);
        if (atMax !== null) {
          ok(atMax, "the longest");
          no(sampleText(setting.text, range.max + 1)!, "one character too long", range);
        }
        if (range.min > 1) no(sampleText(setting.text, range.min - 1)!, "one character too short", range);
      } else {
        const sample = sampleText(setting.text, 8);
        if (sample !== null) ok(sample, "a plain value");
      }
      break;
    }
    case "addresses": {
      no("ops", "not an address");
      if (range !== undefined) {
        ok(addressList(range.max), "the most addresses");
        if (range.min >= 1) ok(addressList(range.min), "the fewest addresses");
        no(addressList(range.max + 1), "one address too many", range);
      } else ok(addressList(3), "some addresses");
      const length = setting.itemLength;
      if (length !== undefined) {
        ok(addressList(1, length.max), "the longest address");
        no(addressList(1, length.max + 1), "an address one character too long", length);
      }
      break;
    }
    case "inputs":
      break; // each field by INPUT_FIELDS, inside an entry
  }
  return { accepted, refused };
}
