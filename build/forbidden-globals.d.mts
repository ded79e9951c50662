// Types for forbidden-globals.mjs (plain JavaScript, run by Node without a TypeScript step).

export interface SourceMapJson {
  version: number;
  sources: string[];
  mappings: string;
  names?: string[];
  sourcesContent?: Array<string | null>;
}

export interface OriginalPosition {
  file: string;
  /** 1-based. */
  line: number;
  /** 0-based. */
  column: number;
}

export interface ForbiddenGlobalUse {
  /** As written: "setTimeout" or "globalThis.setTimeout". */
  name: string;
  /** 1-based line in the checked source. */
  line: number;
  /** 0-based column in the checked source. */
  column: number;
  /** Where the use comes from, when a source map of the checked source was given. */
  original?: OriginalPosition;
}

export const FORBIDDEN_GLOBALS: string[];

export function findForbiddenGlobals(
  source: string,
  options?: { names?: string[]; sourceMap?: SourceMapJson | string },
): ForbiddenGlobalUse[];
