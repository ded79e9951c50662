// What the CLI prints from a mail or the modem (no terminal controls get through) and the file
// names it saves attachments under (nothing outside the folder, nothing hidden or disguised).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { printable, printableBlock, printableLine, safeFileName, StringText, TerminalText, terminalJson } from "../../src/host/cli-text.ts";
import { isControl, withoutControls } from "../../src/transport/bytes.ts";
import { CHARSET_UTF8, CharsetDecoder } from "../../src/mail/codec/charset.ts";

const test = suite("cli/text: terminal-safe output and file names");

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test("the control rule: C0 but tab and LF, DEL and C1; nothing else", () => {
  const controls = [];
  for (let c = 0; c < 0x100; c++) if (isControl(c)) controls.push(c);
  const expected = [...Array(0x20).keys()].filter((c) => c !== 9 && c !== 10).concat([...Array(0x21).keys()].map((k) => 0x7f + k));
  assert.equal(controls, expected);
  assert.not.ok(isControl(0xa0) || isControl(0x20ac) || isControl(0x1f600));
});

test("one rule: the CLI's U+FFFD and the traces' ? replace exactly the characters isControl names", () => {
  for (let c = 0; c < 0x3000; c++) {
    if (c === 13) continue; // CR: printable() keeps CRLF as a line end, tested below
    const text = `a${String.fromCharCode(c)}b`;
    const control = isControl(c);
    assert.is(printable(text), control ? "a\ufffdb" : text, `printable U+${c.toString(16)}`);
    assert.is(withoutControls(text), control ? "a?b" : text, `withoutControls U+${c.toString(16)}`);
    if (c !== 9 && c !== 10) assert.is(printableLine(text), control ? "a\ufffdb" : text, `printableLine U+${c.toString(16)}`);
  }
  assert.is(withoutControls("a\rb"), "a?b");
  assert.is(printable("a\rb"), "a\ufffdb");
});

test("printable, printableLine, printableBlock: ESC sequences, bare CR, BEL, C1 CSI replaced; text kept", () => {
  const evil = "Grüße\u001b[2J\u001b]0;title\u0007 ok\rfake\u009b31m\u007f\ttab\r\nnext\n";
  assert.is(printable(evil), "Grüße\ufffd[2J\ufffd]0;title\ufffd ok\ufffdfake\ufffd31m\ufffd\ttab\nnext\n");
  assert.is(printableLine(evil), "Grüße\ufffd[2J\ufffd]0;title\ufffd ok\ufffdfake\ufffd31m\ufffd tab\ufffd\ufffdnext\ufffd");
  assert.is(printableBlock("Subject: a\u001bb\r\n c\rd\r\n"), "Subject: a\ufffdb\r\n c\ufffdd\r\n", "CRLF kept as served");
  fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => {
    assert.not.match(printable(text), CONTROL);
    assert.not.match(printableLine(text), /[\u0000-\u001f\u007f-\u009f]/);
    assert.not.match(printableBlock(text).replace(/\r\n/g, "\n"), CONTROL);
  }), { numRuns: 300 });
});

test("terminalJson: the same data, with DEL and C1 escaped as well", () => {
  const value = { subject: "a\u009b2J\u007f\u001b€", list: ["\u0085"] };
  const json = terminalJson(value);
  assert.not.match(json, CONTROL);
  assert.equal(JSON.parse(json), value);
});

test("TerminalText and StringText: decoded text streamed in any split is printable()'s text, CRLF as LF", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.array(fc.nat(400)), fc.integer({ min: 8, max: 64 }), (text, cuts, size) => {
    const bytes = new Uint8Array(Buffer.from(text, "utf8"));
    const written: Buffer[] = [];
    const shown = new TerminalText((chunk) => written.push(Buffer.from(chunk)), size);
    const kept = new StringText();
    for (const sink of [shown, kept]) {
      const decoder = new CharsetDecoder(sink);
      decoder.begin(CHARSET_UTF8);
      let start = 0;
      for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b).concat(bytes.length)) {
        decoder.write(bytes, start, cut - start);
        start = cut;
      }
      decoder.end();
    }
    shown.flush();
    assert.is(Buffer.concat(written).toString("utf8"), printable(text));
    assert.is(kept.toString(), text.replace(/\r\n/g, "\n"));
    assert.is(shown.controls, (text.replace(/\r\n/g, "\n").match(new RegExp(CONTROL.source, "g")) ?? []).length);
  }), { numRuns: 300 });
});

test("safeFileName: no separators, no dot-dot, no leading dot, no controls or bidi overrides, at most 255 bytes", () => {
  const cases: Array<[string, string]> = [
    ["report.pdf", "report.pdf"],
    ["Übersicht März 2026 – Bericht.pdf", "Übersicht März 2026 – Bericht.pdf"],
    ["../../etc/passwd", "_._etc_passwd"],
    ["..\\..\\boot.ini", "_._boot.ini"],
    ["/absolute/path.txt", "_absolute_path.txt"],
    ["..", ""],
    [".", ""],
    ["...hidden", "hidden"],
    [" .bashrc ", "bashrc"],
    ["a\u001b[31mb\u0007.txt", "a_[31mb_.txt"],
    ["invoice\u202egpj.exe", "invoice_gpj.exe"],
    ["name\u0000.txt", "name_.txt"],
    ["trailing dots...", "trailing dots"],
    ["///", ""],
    ["\ufffd.pdf", "_.pdf"],
  ];
  for (const [name, safe] of cases) assert.is(safeFileName(name), safe, JSON.stringify(name));
  const long = `${"ä".repeat(200)}.pdf`;
  const cut = safeFileName(long);
  assert.ok(Buffer.byteLength(cut) <= 255 && cut.endsWith(".pdf") && cut.startsWith("ää"), cut);
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (name) => {
    const safe = safeFileName(name);
    assert.not.match(safe, /[/\\]|\.\.|^\.|[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    assert.ok(Buffer.byteLength(safe) <= 255);
    assert.ok(safe === safe.trim());
  }), { numRuns: 500 });
});

test.run();
