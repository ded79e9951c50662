// Finds uses of globals that a plain Moddable build lacks, in JavaScript source text: strings,
// template texts, comments and regular expressions are skipped, and so are property names
// (`obj.console`) and object keys (`{ console: 1 }`).

export const FORBIDDEN_GLOBALS = [
  "setTimeout", "setInterval", "clearTimeout", "clearInterval", "setImmediate",
  "console", "Buffer", "process", "require", "TextEncoder", "TextDecoder", "performance",
  "window", "document", "queueMicrotask", "structuredClone", "__dirname",
];

const IDENTIFIER = /[A-Za-z_$][\w$]*/y;

/** Returns `{ name, line }` for each forbidden global used in `source`. */
export function findForbiddenGlobals(source, names = FORBIDDEN_GLOBALS) {
  const wanted = new Set(names);
  const hits = [];
  let line = 1;
  let i = 0;
  let lastSignificant = "";
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (source[k] === "\n") line++;
      i = stop;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      i++;
      while (i < n && source[i] !== c) {
        // Template expressions are skipped with the text: a small blind spot, kept for simplicity.
        if (source[i] === "\\") i++;
        else if (source[i] === "\n") line++;
        i++;
      }
      i++;
      lastSignificant = c;
      continue;
    }
    if (c === "/" && /[(,=:[!&|?{};+\-*%<>~^]|^$/.test(lastSignificant)) {
      // A regular expression literal.
      i++;
      let inClass = false;
      while (i < n && (inClass || source[i] !== "/")) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i++;
      }
      i++;
      lastSignificant = "/";
      continue;
    }
    IDENTIFIER.lastIndex = i;
    const m = IDENTIFIER.exec(source);
    if (m !== null && (i === 0 || !/[\w$]/.test(source[i - 1]))) {
      const word = m[0];
      const before = lastSignificant;
      let j = i + word.length;
      while (j < n && (source[j] === " " || source[j] === "\t")) j++;
      const isProperty = before === ".";
      const isKey = source[j] === ":" && (before === "{" || before === ",");
      if (wanted.has(word) && !isProperty && !isKey) hits.push({ name: word, line });
      i += word.length;
      lastSignificant = word[word.length - 1];
      continue;
    }
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return hits;
}
