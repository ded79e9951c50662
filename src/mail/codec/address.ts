// Mailboxes in From/To/Cc values (RFC 5322 section 3.4), parsed leniently: display names
// quoted or not, quoted-pairs, comments, groups, and RFC 2047 words in names.

import { decodeHeaderValue } from "./rfc2047.ts";

export interface ParsedAddress {
  /** Display name, decoded; "" when there is none. */
  name: string;
  /** The addr-spec as written, e.g. "alarm@example.com". */
  address: string;
  /**
   * Set when the mailbox is not one address: two <...> parts, or an address beside the <...>
   * (`<a@x> <b@y>`, `Name <a@x> b@y`). Parsers differ on which one such a value names.
   */
  ambiguous?: true;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const LESS = 60;
const GREATER = 62;
const COMMA = 44;
const COLON = 58;
const SEMICOLON = 59;

/** Collapses runs of spaces/tabs/line breaks to one space and trims. */
function collapseWhitespace(text: string): string {
  return text.replace(/[ \t\r\n]+/g, " ").trim();
}

/** Collects one mailbox while the list is scanned. */
class MailboxScan {
  /** Text outside <> and comments, quotes removed and quoted-pairs resolved. */
  outside = "";
  /** Same, but with the quotes kept (an addr-spec with a quoted local part). */
  outsideRaw = "";
  angle = "";
  sawAngle = false;
  comment = "";
  sawComment = false;
  /** <...> parts in this mailbox. */
  angles = 0;
  /** Text after the closing >, outside comments. */
  afterAngle = "";

  clear(): void {
    this.outside = "";
    this.outsideRaw = "";
    this.angle = "";
    this.sawAngle = false;
    this.comment = "";
    this.sawComment = false;
    this.angles = 0;
    this.afterAngle = "";
  }

  take(list: ParsedAddress[], problems: string[] | undefined): void {
    if (this.sawAngle) {
      const address = this.angle.trim();
      const ambiguous = this.angles > 1 || this.afterAngle.includes("@");
      if (address !== "") list.push({ name: decodeHeaderValue(collapseWhitespace(this.outside), problems), address, ...(ambiguous ? { ambiguous: true as const } : {}) });
    } else {
      const address = collapseWhitespace(this.outsideRaw);
      if (address !== "") list.push({ name: decodeHeaderValue(collapseWhitespace(this.comment), problems), address });
    }
    this.clear();
  }
}

/**
 * Every mailbox in an address-list value ("a@b, Name <c@d>, group: e@f;"). Never throws.
 * `problems` collects what the names' RFC 2047 words could not decode (decodeHeaderValue).
 */
export function parseAddressList(value: string, problems?: string[]): ParsedAddress[] {
  const list: ParsedAddress[] = [];
  const scan = new MailboxScan();
  let inQuote = false;
  let inAngle = false;
  let commentDepth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ch = value[i];
    if (commentDepth > 0) {
      if (c === BACKSLASH && i + 1 < value.length) {
        if (!scan.sawComment) scan.comment += value[++i];
        else i++;
      } else if (c === OPEN_PAREN) {
        commentDepth++;
        if (!scan.sawComment) scan.comment += ch;
      } else if (c === CLOSE_PAREN) {
        if (--commentDepth === 0) scan.sawComment = true;
        else if (!scan.sawComment) scan.comment += ch;
      } else if (!scan.sawComment) scan.comment += ch;
      continue;
    }
    if (inQuote) {
      if (c === BACKSLASH && i + 1 < value.length) {
        const escaped = value[++i];
        if (inAngle) scan.angle += escaped;
        else {
          scan.outside += escaped;
          scan.outsideRaw += "\\" + escaped;
        }
      } else if (c === QUOTE) {
        inQuote = false;
        if (inAngle) scan.angle += ch;
        else scan.outsideRaw += ch;
      } else if (inAngle) scan.angle += ch;
      else {
        scan.outside += ch;
        scan.outsideRaw += ch;
      }
      continue;
    }
    if (c === QUOTE) {
      inQuote = true;
      if (inAngle) scan.angle += ch;
      else scan.outsideRaw += ch;
    } else if (c === OPEN_PAREN) {
      commentDepth = 1;
    } else if (inAngle) {
      if (c === GREATER) inAngle = false;
      else scan.angle += ch;
    } else if (c === LESS) {
      inAngle = true;
      scan.sawAngle = true;
      scan.angles++;
      scan.angle = "";
    } else if (c === COMMA || c === SEMICOLON) {
      scan.take(list, problems);
    } else if (c === COLON && !scan.sawAngle) {
      scan.clear(); // "group name:" introduces the group's members
    } else {
      if (scan.angles > 0) scan.afterAngle += ch;
      scan.outside += ch;
      scan.outsideRaw += ch;
    }
  }
  scan.take(list, problems);
  return list;
}

/** The first mailbox of a value: `"Name" <a@b>`, `Name <a@b>`, `a@b`, `a@b (Name)`. */
export function parseAddress(value: string, problems?: string[]): ParsedAddress {
  const list = parseAddressList(value, problems);
  return list.length > 0 ? list[0] : { name: "", address: "" };
}
