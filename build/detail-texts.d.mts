// Types for detail-texts.mjs (plain JavaScript, run by Node without a TypeScript step).
import type { Plugin } from "esbuild";

export interface DetailProblem {
  /** 1-based. */
  line: number;
  text: string;
}

export function dropDetails(source: string): { code: string; problems: DetailProblem[] };
export function detailTextsPlugin(): Plugin;
