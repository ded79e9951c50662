// Content-Type values (RFC 2045 section 5): `type/subtype; name=value; name="quoted"`.

export interface ContentType {
  /** "type/subtype", lowercase; "text/plain" when the field is missing or unreadable. */
  mimeType: string;
  type: string;
  subtype: string;
  /** Lowercase charset parameter; "us-ascii" for text/* without one (RFC 2045 default), else "". */
  charset: string;
  /** The boundary parameter as written (case matters); "" when absent. */
  boundary: string;
}

const DEFAULT_TEXT: ContentType = { mimeType: "text/plain", type: "text", subtype: "plain", charset: "us-ascii", boundary: "" };

function isTokenChar(c: number): boolean {
  // RFC 2045 token: printable ASCII except SPACE and tspecials ()<>@,;:\"/[]?=
  return c > 32 && c < 127 && "()<>@,;:\\\"/[]?=".indexOf(String.fromCharCode(c)) < 0;
}

/** Removes (comments), honoring quoted strings and quoted-pairs. */
function stripComments(value: string): string {
  let out = "";
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\" && (inQuote || depth > 0) && i + 1 < value.length) {
      if (depth === 0) out += ch + value[i + 1];
      i++;
    } else if (depth > 0) {
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
    } else if (ch === '"') {
      inQuote = !inQuote;
      out += ch;
    } else if (ch === "(" && !inQuote) depth = 1;
    else out += ch;
  }
  return out;
}

/** Parses a Content-Type value; an empty or malformed type gives text/plain. Never throws. */
export function parseContentType(value: string | null): ContentType {
  if (value === null) return { ...DEFAULT_TEXT };
  const text = stripComments(value);
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\r" || text[i] === "\n")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
    return text.slice(start, i);
  };
  skipSpace();
  const type = token().toLowerCase();
  skipSpace();
  let subtype = "";
  if (text[i] === "/") {
    i++;
    skipSpace();
    subtype = token().toLowerCase();
  }
  if (type === "" || subtype === "") return { ...DEFAULT_TEXT };
  const result: ContentType = { mimeType: `${type}/${subtype}`, type, subtype, charset: "", boundary: "" };
  while (i < text.length) {
    // Move to the next ";" (skipping junk), then read name=value.
    while (i < text.length && text[i] !== ";") {
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      }
      i++;
    }
    if (i >= text.length) break;
    i++;
    skipSpace();
    const name = token().toLowerCase();
    skipSpace();
    if (text[i] !== "=") continue;
    i++;
    skipSpace();
    let paramValue = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        paramValue += text[i++];
      }
      i++;
    } else {
      // Lenient: unquoted values that break the token rules ("boundary=--=_x") are common.
      const start = i;
      while (i < text.length && text[i] !== ";" && text[i] !== " " && text[i] !== "\t") i++;
      paramValue = text.slice(start, i);
    }
    if (name === "charset" && result.charset === "") result.charset = paramValue.toLowerCase();
    else if (name === "boundary" && result.boundary === "") result.boundary = paramValue;
  }
  if (result.charset === "" && type === "text") result.charset = "us-ascii";
  return result;
}
