// Finds uses of globals that a plain Moddable build lacks, in JavaScript source text.
//
// esbuild parses the text and replaces every *unbound* reference to a forbidden name with a
// marker identifier (its `define` option): strings, comments, regular expressions, property
// names (`obj.console`), object keys, class members and local bindings that shadow a global
// (`function f(process) {}`) are left alone, because the parser knows what they are. The
// markers left in the output are the uses; a source map turns them back into positions.

import { transformSync } from "esbuild";

/**
 * Host globals a plain Moddable build does not define. xsnap adds some (setImmediate,
 * performance, TextEncoder, TextDecoder), so a run under xsnap alone would not catch them.
 * queueMicrotask is missing from XS too: code that needs a job uses a resolved Promise.
 * (`global` is not here: XS defines it, as an alias of globalThis.)
 */
export const FORBIDDEN_GLOBALS = [
  "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate",
  "queueMicrotask", "structuredClone", "console", "Buffer", "process", "require", "__dirname",
  "__filename", "TextEncoder", "TextDecoder", "performance", "crypto", "fetch", "atob", "btoa",
  "window", "document", "navigator", "self",
];

const MARKER_PREFIX = "__simmail_forbidden_global_";
const MARKER = new RegExp(`\\b${MARKER_PREFIX}(\\d+)__\\b`, "g");
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Decodes a source map's `mappings` into, per generated line, the segments
 * `[generatedColumn, sourceIndex, originalLine, originalColumn]` (0-based; source-less segments dropped).
 */
function decodeMappings(mappings) {
  const lines = [];
  let segments = [];
  let generatedColumn = 0;
  const state = [0, 0, 0]; // sourceIndex, originalLine, originalColumn: relative across lines
  let fields = [];
  let value = 0;
  let shift = 0;
  const endSegment = () => {
    if (fields.length === 0) return;
    generatedColumn += fields[0];
    if (fields.length >= 4) {
      state[0] += fields[1];
      state[1] += fields[2];
      state[2] += fields[3];
      segments.push([generatedColumn, state[0], state[1], state[2]]);
    }
    fields = [];
  };
  for (const char of mappings) {
    if (char === ";" || char === ",") {
      endSegment();
      if (char === ";") {
        lines.push(segments);
        segments = [];
        generatedColumn = 0;
      }
      continue;
    }
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`source map: "${char}" is not a base64 VLQ digit`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  endSegment();
  lines.push(segments);
  return lines;
}

/**
 * The original position of a generated one (0-based line and column) in a decoded map: the
 * last segment at or before the column on that line. Null when the line has none.
 */
function originalPosition(map, decodedLines, line, column) {
  const segments = decodedLines[line] ?? [];
  let found = null;
  for (const segment of segments) {
    if (segment[0] > column) break;
    found = segment;
  }
  if (found === null) return null;
  return { file: map.sources[found[1]], line: found[2] + 1, column: found[3] };
}

/**
 * Returns one `{ name, line, column }` (line 1-based, column 0-based) per use of a forbidden
 * global in `source`, in source order; `name` is as written (`setTimeout` or `globalThis.setTimeout`).
 * With `sourceMap` (the JSON source map of `source`, e.g. a bundle's), each hit also gets
 * `original: { file, line, column }`, the position in the file the bundle was made from.
 * Throws when `source` does not parse.
 */
export function findForbiddenGlobals(source, { names = FORBIDDEN_GLOBALS, sourceMap } = {}) {
  const written = names.flatMap((name) => (name.includes(".") ? [name] : [name, `globalThis.${name}`]));
  const define = Object.fromEntries(written.map((name, index) => [name, `${MARKER_PREFIX}${index}__`]));
  let result;
  try {
    result = transformSync(source, { define, loader: "js", sourcemap: "external", logLevel: "silent" });
  } catch (error) {
    throw new Error(`cannot check for forbidden globals, the source does not parse: ${error.message}`);
  }
  const ownMap = JSON.parse(result.map);
  const ownLines = decodeMappings(ownMap.mappings);
  const bundleMap = sourceMap === undefined ? null : typeof sourceMap === "string" ? JSON.parse(sourceMap) : sourceMap;
  const bundleLines = bundleMap === null ? null : decodeMappings(bundleMap.mappings);

  const hits = [];
  const outputLines = result.code.split("\n");
  for (let outputLine = 0; outputLine < outputLines.length; outputLine++) {
    for (const match of outputLines[outputLine].matchAll(MARKER)) {
      const at = originalPosition(ownMap, ownLines, outputLine, match.index);
      if (at === null) throw new Error(`no source position for a use of ${written[Number(match[1])]} (output line ${outputLine + 1})`);
      const hit = { name: written[Number(match[1])], line: at.line, column: at.column };
      if (bundleMap !== null) {
        const original = originalPosition(bundleMap, bundleLines, at.line - 1, at.column);
        if (original !== null) hit.original = original;
      }
      hits.push(hit);
    }
  }
  return hits.sort((a, b) => a.line - b.line || a.column - b.column);
}
