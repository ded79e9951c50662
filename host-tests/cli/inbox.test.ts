// `simmail inbox` as people read mail: the CLI as a process on the simulated SIM7000 (and the
// classic dialect) with real Dovecot behind it, on mails made with nodemailer and delivered
// through the simulator's SMTP server. Every decoded field is checked against mailparser's
// reading of the same bytes, every saved part against mailparser's attachment.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { runSimmail, startSimulator, type CliRun, type SimInfo, type SimProcess } from "../kit/cli-process.ts";

/** The simulator's JSON line also says where its servers listen on this machine. */
type Info = SimInfo & { smtp: { address: string } };

/** Every control a terminal acts on (C0 but tab and LF, DEL, C1): none may reach stdout or stderr. */
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Latin-1 bytes of a header line spliced into a built mail, replacing the line that starts with `name:`. */
function withHeader(raw: Buffer, name: string, value: string): Buffer {
  const text = raw.toString("latin1");
  const at = text.search(new RegExp(`^${name}:`, "m"));
  assert.ok(at >= 0, `the mail has a ${name} line`);
  let end = text.indexOf("\r\n", at);
  while (text[end + 2] === " " || text[end + 2] === "\t") end = text.indexOf("\r\n", end + 2);
  return Buffer.from(`${text.slice(0, at)}${name}: ${value}${text.slice(end)}`, "latin1");
}

async function compose(options: ConstructorParameters<typeof MailComposer>[0], headers: Record<string, string> = {}): Promise<Buffer> {
  let raw: Buffer = await new MailComposer({ date: new Date("2026-12-01T20:13:14Z"), ...options }).compile().build();
  for (const [name, value] of Object.entries(headers)) raw = withHeader(raw, name, value);
  return raw;
}

/** Two characters that are not base64 put into the first base64 line of the mail. */
function withBadBase64(raw: Buffer): Buffer {
  const text = raw.toString("latin1");
  const at = text.indexOf("Content-Transfer-Encoding: base64\r\n\r\n") + 37 + 8;
  return Buffer.from(`${text.slice(0, at)}!*${text.slice(at)}`, "latin1");
}

const randomish = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 131 + seed * 7 + (i >> 5)) & 0xff));

/** The mails, in delivery (and so POP3) order. */
async function mails(): Promise<Record<string, Buffer>> {
  return {
    // Encoded words in Q and B forms, ISO-8859-1, UTF-8 and Windows-1252 names, a comment in From.
    names: await compose({
      from: "x@simmail.test", to: [{ name: "Bob Müller", address: "bob@simmail.test" }, "carol@simmail.test"], cc: "cc@simmail.test",
      subject: "placeholder", text: "Hallo Bob,\r\nbis bald.\r\n",
    }, {
      From: "=?ISO-8859-1?Q?Andr=E9?= Pirard (Uni Li=?ISO-8859-1?Q?=E8ge?=) <andre@simmail.test>",
      Cc: "=?windows-1252?Q?Fran=E7ois_=80uro?= <francois@simmail.test>, =?UTF-8?B?Wm/Dqw==?= <zoe@simmail.test>",
      Subject: "=?UTF-8?B?R3LDvMOfZQ==?= aus =?utf-8?q?K=C3=B6ln?=",
    }),
    // A folded subject over 4 KiB, made and folded by nodemailer.
    long: await compose({
      from: { name: "Zoë Ünal", address: "zoe@simmail.test" }, to: "bob@simmail.test",
      subject: `Langer Betreff: ${"Grüße aus Köln und Düsseldorf – ".repeat(110)}Ende`,
      text: "kurz\r\n",
    }),
    // multipart/mixed: quoted-printable text, two attachments, one with an RFC 2231 name.
    parts: await compose({
      from: "Alarm <alarm@simmail.test>", to: "bob@simmail.test", subject: "placeholder",
      text: `Guten Tag,\r\nim Anhang der Bericht für März – mit Umlauten äöü und einer Zeile, die so lang ist, dass quoted-printable sie weich umbrechen muss.\r\nGrüße\r\n`,
      textEncoding: "quoted-printable",
      attachments: [
        { filename: "report.txt", content: "plain report\r\nline 2\r\n" },
        { filename: "Übersicht März 2026 – ein sehr langer Dateiname für RFC 2231.pdf", content: randomish(20_000, 1), contentType: "application/pdf" },
      ],
    }, { Subject: `=?windows-1252?B?${Buffer.from([0x93, 0x42, 0x65, 0x72, 0x69, 0x63, 0x68, 0x74, 0x94, 0x20, 0x80, 0x20, 0x32, 0x30, 0x32, 0x36]).toString("base64")}?=` }),
    // What cannot be decoded: broken and unknown encoded words, bad base64, terminal controls.
    broken: withBadBase64(await compose({
      from: "Evil <evil@simmail.test>", to: "bob@simmail.test", subject: "placeholder",
      text: "Zeile eins\r\nZeile zwei mit Umlaut \u00e4 und \u001b[2J einem Steuerzeichen\r\n", textEncoding: "base64",
      attachments: [{ filename: "../../etc/pass\u001b[31mwd", content: randomish(3000, 2) }],
    }, {
      Subject: "=?utf-8?q?Rechnung=ZZ?= fertig =?koi8-r?q?=F0=D2=C9?= =?utf-8?q?=1B]0;owned=07=1B[2J?=",
    })),
    // A text in a charset simmail does not know.
    koi8: Buffer.concat([
      await compose({ from: "ivan@simmail.test", to: "bob@simmail.test", subject: "koi8", text: "x" }, { "Content-Type": "text/plain; charset=koi8-r", "Content-Transfer-Encoding": "8bit" }).then((mail) => mail.subarray(0, mail.indexOf("\r\n\r\n") + 4)),
      Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4, 0x0d, 0x0a]), // "Привет" in KOI8-R
    ]),
  };
}

const inbox = suite("CLI inbox: decoded headers, a readable list, parts saved");

let sim: SimProcess<Info>;
let raw: Record<string, Buffer>;
let parsed: Record<string, ParsedMail>;
const order = ["names", "long", "parts", "broken", "koi8"] as const;
const number = (name: (typeof order)[number]) => String(order.indexOf(name) + 1);

inbox.before(async () => {
  process.env.TZ = "UTC"; // list shows local time; the CLI runs with this environment
  sim = await startSimulator<Info>("simmail-inbox-");
  raw = await mails();
  const transport = createTransport({ host: sim.info.smtp.address, port: sim.info.smtp.port, secure: false, ignoreTLS: true, auth: { user: "alarm", pass: "alarm-secret" } });
  for (const name of order) await transport.sendMail({ envelope: { from: "alarm@simmail.test", to: ["bob@simmail.test"] }, raw: raw[name] });
  transport.close();
  parsed = {};
  for (const name of order) parsed[name] = await simpleParser(raw[name]);
});

inbox.after(() => sim.stop());

const pop3 = () => ["--port", sim.port, "--apn", "internet", "--pop3", `${sim.info.pop3.host}:${sim.info.pop3.port}`, "--user", "bob"];
const simmail = (args: string[]): Promise<CliRun> => runSimmail(["inbox", ...pop3(), ...args], "bob-secret");

function assertSafe(run: CliRun): void {
  assert.not.match(run.stdout, TERMINAL_CONTROL, "stdout has no terminal controls");
  assert.not.match(run.stderr, TERMINAL_CONTROL, "stderr has no terminal controls");
}

const addresses = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a === undefined ? [] : [a]).flatMap((o) => o.value).map((v) => ({ name: v.name, address: v.address ?? "" }));
/** Text as a terminal is given it: LF line ends, every control but tab and LF replaced. */
const asShown = (text: string) => text.replace(/\r\n/g, "\n").replace(TERMINAL_CONTROL_ALL, "\ufffd");
const TERMINAL_CONTROL_ALL = new RegExp(TERMINAL_CONTROL.source, "g");
const controlsReplaced = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "\ufffd");

inbox("read --out keeps the exact bytes: the mails arrived as composed", async () => {
  for (const name of order) {
    const file = join(sim.work, `${name}.eml`);
    const run = await simmail(["read", number(name), "--out", file]);
    assert.is(run.status, 0, run.stderr);
    assert.ok(readFileSync(file).equals(raw[name]), `${name}: byte-identical`);
  }
});

inbox("list: one line per mail, number, size, date, sender and subject decoded; --json adds the unique id", async () => {
  const human = await simmail(["list"]);
  assert.is(human.status, 0, human.stderr);
  assertSafe(human);
  const lines = human.stdout.trimEnd().split("\n");
  assert.is(lines.length, order.length);
  const json = await simmail(["list", "--json"]);
  assert.is(json.status, 0, json.stderr);
  const { messages } = JSON.parse(json.stdout);
  for (const [i, name] of order.entries()) {
    const mail = parsed[name];
    const [n, size, date, sender, subject] = lines[i].split("\t");
    assert.is(n, String(i + 1));
    assert.is(Number(size), raw[name].length, `${name}: size`);
    assert.is(date, mail.date!.toISOString().slice(0, 16).replace("T", " "), `${name}: date`);
    const from = addresses(mail.from)[0];
    assert.is(sender, from.name || from.address, `${name}: sender`);
    const entry = messages[i];
    assert.match(entry.uid, /^[0-9a-f]{16}$/);
    assert.is(entry.size, raw[name].length);
    assert.is(entry.date, mail.date!.toISOString());
    assert.equal(entry.from, from);
    if (name !== "broken") {
      assert.is(subject, mail.subject, `${name}: subject`);
      assert.is(entry.subject, mail.subject);
    }
  }
  assert.ok(Buffer.byteLength(parsed.long.subject!) > 4096, "the long subject is over 4 KiB");
});

inbox("headers N: From, To, Cc, Date, Subject decoded as mailparser reads them; --raw as served; --json both", async () => {
  for (const name of ["names", "long", "parts"] as const) {
    const mail = parsed[name];
    const run = await simmail(["headers", number(name)]);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stderr, "", `${name}: nothing to note`);
    assertSafe(run);
    const field = (label: string) => run.stdout.split("\n").find((line) => line.startsWith(`${label}:`))?.replace(/^\w+:\s+/, "");
    assert.is(field("Subject"), mail.subject, `${name}: Subject`);
    assert.is(field("Date"), raw[name].toString("latin1").match(/^Date: (.*)$/m)![1].trim(), `${name}: Date as written`);
    for (const [label, list] of [["From", mail.from], ["To", mail.to], ["Cc", mail.cc]] as const) {
      for (const { name: display, address } of addresses(list)) {
        assert.ok(field(label)!.includes(display) && field(label)!.includes(address), `${name}: ${label} shows ${display} <${address}>: ${field(label)}`);
      }
    }
    const json = JSON.parse((await simmail(["headers", number(name), "--json"])).stdout);
    assert.is(json.subject, mail.subject);
    assert.equal(json.addresses.from, addresses(mail.from), `${name}: From as mailparser reads it`);
    assert.equal(json.addresses.to, addresses(mail.to), `${name}: To`);
    assert.equal(json.addresses.cc, addresses(mail.cc), `${name}: Cc`);
    const head = raw[name].subarray(0, raw[name].indexOf("\r\n\r\n") + 4).toString("utf8");
    assert.is(json.raw, head, `${name}: --json raw is the header block as served`);
    const block = await simmail(["headers", number(name), "--raw"]);
    assert.is(block.stdout, head, `${name}: --raw is the header block as served`);
  }
  const names = JSON.parse((await simmail(["headers", number("names"), "--json"])).stdout);
  assert.is(names.subject, "Grüße aus Köln", "B and Q words, adjacent whitespace dropped");
  assert.is(names.from, "André Pirard (Uni Liège) <andre@simmail.test>", "ISO-8859-1, the comment kept");
  assert.equal(names.addresses.cc.map((a: { name: string }) => a.name), ["François €uro", "Zoë"], "Windows-1252 and UTF-8 B names");
  assert.is(JSON.parse((await simmail(["headers", number("parts"), "--json"])).stdout).subject, "“Bericht” € 2026", "a Windows-1252 B word");
});

inbox("undecodable headers: shown as written with a note on stderr, never a crash; terminal controls replaced", async () => {
  const mail = parsed.broken;
  const run = await simmail(["headers", number("broken")]);
  assert.is(run.status, 0, run.stderr);
  assertSafe(run);
  const subject = run.stdout.split("\n").find((line) => line.startsWith("Subject:"))!.replace(/^Subject:\s+/, "");
  assert.is(subject, "=?utf-8?q?Rechnung=ZZ?= fertig =?koi8-r?q?=F0=D2=C9?= \ufffd]0;owned\ufffd\ufffd[2J");
  assert.match(run.stderr, /simmail: note: mail 4, Subject: =\?utf-8\?q\?Rechnung=ZZ\?= is a broken encoded word .*: kept as written/);
  assert.match(run.stderr, /simmail: note: mail 4, Subject: =\?koi8-r\?q\?=F0=D2=C9\?= is in the charset "koi8-r", which simmail does not know: kept as written/);
  // mailparser decodes what it can; where both read the text, they agree.
  assert.ok(mail.subject!.includes(" fertig "), mail.subject);
  assert.ok(controlsReplaced(mail.subject!).endsWith("\ufffd]0;owned\ufffd\ufffd[2J"), "the control characters are the same ones");
  const json = await simmail(["headers", number("broken"), "--json"]);
  assert.not.match(json.stdout, TERMINAL_CONTROL);
  assert.ok(JSON.parse(json.stdout).subject.endsWith("\u001b]0;owned\u0007\u001b[2J"), "--json keeps the exact text, escaped");
  assert.is(JSON.parse(json.stdout).notes.length, 2);
});

inbox("read N: the text part decoded (charset, quoted-printable) as mailparser reads it; attachments named on stderr", async () => {
  for (const name of ["names", "parts", "broken"] as const) {
    const run = await simmail(["read", number(name)]);
    assert.is(run.status, 0, run.stderr);
    assertSafe(run);
    const text = asShown(parsed[name].text!);
    assert.is(run.stdout, text.endsWith("\n") ? text : `${text}\n`, `${name}: the text`);
  }
  const parts = await simmail(["read", number("parts")]);
  assert.match(parts.stderr, /^simmail: part 2 "report\.txt" \(text\/plain\) not shown: --save-parts DIR saves it$/m);
  assert.match(parts.stderr, /^simmail: part 3 "Übersicht März 2026 – ein sehr langer Dateiname für RFC 2231\.pdf" \(application\/pdf\) not shown/m);
  const json = JSON.parse((await simmail(["read", number("parts"), "--json"])).stdout);
  assert.is(json.text, parsed.parts.text);
  assert.equal(json.parts.map((p: { filename: string }) => p.filename), ["", ...parsed.parts.attachments.map((a) => a.filename)]);
});

inbox("read N: bad base64, an unknown charset and control characters give the text as it is, with a note", async () => {
  const broken = await simmail(["read", number("broken")]);
  assert.is(broken.status, 0, broken.stderr);
  assert.ok(broken.stdout.includes("\ufffd[2J einem Steuerzeichen"), broken.stdout);
  assert.match(broken.stderr, /^simmail: note: mail 4, part 1: 2 characters that are not base64 were skipped$/m);
  const koi8 = await simmail(["read", number("koi8")]);
  assert.is(koi8.status, 0, koi8.stderr);
  assert.is(parsed.koi8.text, "Привет\n", "mailparser knows KOI8-R");
  assert.is(koi8.stdout, "\u00f0\u00d2\u00c9\u00d7\u00c5\u00d4\n", "simmail shows the bytes as they are");
  assert.match(koi8.stderr, /^simmail: note: mail 5, part 1 \(text\/plain\): the charset "koi8-r" is not one simmail knows: shown byte for byte as ISO-8859-1$/m);
});

inbox("read N --save-parts DIR: each attachment byte-identical to mailparser's, under its decoded, safe name; no overwriting without --force", async () => {
  const dir = join(sim.work, "parts");
  const run = await simmail(["read", number("parts"), "--save-parts", dir]);
  assert.is(run.status, 0, run.stderr);
  assert.equal(readdirSync(dir).sort(), parsed.parts.attachments.map((a) => a.filename!).sort());
  for (const attachment of parsed.parts.attachments) {
    assert.ok(readFileSync(join(dir, attachment.filename!)).equals(attachment.content), `${attachment.filename} identical`);
    assert.match(run.stderr, new RegExp(`saved as ${join(dir, attachment.filename!).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  }
  assert.is(run.stdout, parsed.parts.text, "the text is shown as well");

  writeFileSync(join(dir, "report.txt"), "mine");
  const pdf = parsed.parts.attachments[1].filename!;
  rmSync(join(dir, pdf));
  const again = await simmail(["read", number("parts"), "--save-parts", dir]);
  assert.is(again.status, 1, again.stderr);
  assert.is(again.stderr.split("\n").filter((line) => line.startsWith("simmail: not replaced")).join("\n"),
    `simmail: not replaced: ${join(dir, "report.txt")} is there already (--force replaces it); the other parts were saved`);
  assert.not.match(again.stderr, /simmail help/, "not a usage hint: nothing was wrong with the command line");
  assert.is(readFileSync(join(dir, "report.txt"), "utf8"), "mine", "the file that was there is untouched");
  assert.ok(readFileSync(join(dir, pdf)).equals(parsed.parts.attachments[1].content), "the other part was saved");
  const forced = await simmail(["read", number("parts"), "--save-parts", dir, "--force"]);
  assert.is(forced.status, 0, forced.stderr);
  assert.ok(readFileSync(join(dir, "report.txt")).equals(parsed.parts.attachments[0].content), "--force replaced it");

  const linked = join(sim.work, "linked");
  mkdirSync(linked);
  const target = join(sim.work, "link-target");
  writeFileSync(target, "not to be written through a link");
  symlinkSync(target, join(linked, "report.txt"));
  const link = await simmail(["read", number("parts"), "--save-parts", linked, "--force"]);
  assert.is(link.status, 1, link.stderr);
  assert.match(link.stderr, new RegExp(`not replaced: ${join(linked, "report.txt")} is not a plain file \\(--force replaces only plain files\\); the other parts were saved`));
  assert.is(readFileSync(target, "utf8"), "not to be written through a link");
  assert.ok(readFileSync(join(linked, pdf)).equals(parsed.parts.attachments[1].content));

  const unsafe = join(sim.work, "unsafe");
  mkdirSync(unsafe);
  const evil = await simmail(["read", number("broken"), "--save-parts", unsafe]);
  assert.is(evil.status, 0, evil.stderr);
  assertSafe(evil);
  assert.equal(readdirSync(unsafe), ["_._etc_pass_[31mwd"], "no path separator, no dot-dot, no control character");
  assert.ok(readFileSync(join(unsafe, "_._etc_pass_[31mwd")).equals(parsed.broken.attachments[0].content));
  assert.not.ok(existsSync(join(sim.work, "..", "etc")), "nothing outside the folder");
  assert.match(evil.stderr, /note: mail 4, part 2 .*: saved as "_\._etc_pass_\[31mwd", the name made safe/);
});

inbox("usage: flags of another action, a file where the folder should be, an extra argument", async () => {
  const file = join(sim.work, "a-file");
  writeFileSync(file, "");
  for (const [args, message] of [
    [["list", "--raw"], /--raw is for inbox headers, not list/],
    [["headers", "1", "--save-parts", file], /--save-parts is for inbox read, not headers/],
    [["read", "1", "--force"], /--force is for --save-parts/],
    [["read", "1", "--save-parts", file], /--save-parts .*a-file: not a folder/],
    [["read", "1", "2"], /inbox read takes one message number \(got "2" too\)/],
    [["headers", "1x"], /inbox headers needs a message number \(got "1x"\)/],
  ] as const) {
    const run = await simmail([...args]);
    assert.is(run.status, 1, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});

inbox.run();

const classic = suite("CLI inbox in the classic dialect (AT+POP3HDR: From, Date and Subject only; AT+POP3READ)");
let classicSim: SimProcess<Info>;

classic.before(async () => {
  classicSim = await startSimulator<Info>("simmail-inbox-classic-", ["--dialect", "classic"]);
  const transport = createTransport({ host: classicSim.info.smtp.address, port: classicSim.info.smtp.port, secure: false, ignoreTLS: true, auth: { user: "alarm", pass: "alarm-secret" } });
  for (const name of ["names", "parts"] as const) await transport.sendMail({ envelope: { from: "alarm@simmail.test", to: ["bob@simmail.test"] }, raw: raw[name] });
  transport.close();
});

classic.after(() => classicSim.stop());

classic("list and headers read the same as in the SIM7000 dialect; read shows the text the modem gives", async () => {
  const common = ["inbox", "--port", classicSim.port, "--dialect", "classic", "--apn", "internet", "--pop3", `${classicSim.info.pop3.host}:${classicSim.info.pop3.port}`, "--user", "bob"];
  const list = await runSimmail([...common, "list", "--json"], "bob-secret");
  assert.is(list.status, 0, list.stderr);
  const messages = JSON.parse(list.stdout).messages;
  assert.equal(messages.map((m: { subject: string; uid: string | null }) => [m.subject, m.uid]), [[parsed.names.subject, null], [parsed.parts.subject, null]]);
  const headers = JSON.parse((await runSimmail([...common, "headers", "1", "--json"], "bob-secret")).stdout);
  assert.equal([headers.subject, headers.addresses.from], [parsed.names.subject, addresses(parsed.names.from)]);
  assert.equal([headers.to, headers.cc], [null, null], "the modem's header has no To or Cc");
  const dir = join(classicSim.work, "parts");
  const read = await runSimmail([...common, "read", "2", "--save-parts", dir], "bob-secret");
  assert.is(read.status, 0, read.stderr);
  assert.is(read.stdout, parsed.parts.text, "the text as the modem gives it, decoded");
  assert.equal(readdirSync(dir), [], "the classic modem keeps attachments in its own file system");
  assert.match(read.stderr, /note: mail 2: in the classic dialect the modem keeps a mail's attachments in its own file system \(AT\+POP3GET saves them in C:\/Email or D:\/Email\): none came over the serial port/);
});

classic.run();

const bounded = suite("CLI inbox: what list --json and headers --raw hold is bounded, with a clear message past the bound");
let boundedSim: SimProcess<Info>;
/** Header bytes of the first mail: over the 1 MiB headers --raw holds. */
const HUGE_HEADER = 1_200_000;

bounded.before(async () => {
  boundedSim = await startSimulator<Info>("simmail-inbox-bounded-");
  const transport = createTransport({ host: boundedSim.info.smtp.address, port: boundedSim.info.smtp.port, secure: false, ignoreTLS: true, auth: { user: "alarm", pass: "alarm-secret" } });
  const envelope = { from: "alarm@simmail.test", to: ["bob@simmail.test"] };
  const padding = `X-Padding: ${"p".repeat(70)}\r\n`.repeat(Math.ceil(HUGE_HEADER / 82));
  await transport.sendMail({ envelope, raw: `${padding}From: Big <big@simmail.test>\r\nSubject: a large header\r\n\r\nbody\r\n` });
  // 1000 more: 1001 mails in all, one over what list --json answers in one document.
  for (let i = 2; i <= 1001; i++) await transport.sendMail({ envelope, raw: `From: x@simmail.test\r\nSubject: mail ${i}\r\n\r\n.\r\n` });
  transport.close();
});

bounded.after(() => boundedSim.stop());

bounded("headers --raw and --json stop at 1 MiB of header and say so; headers N still shows the fields; list --json refuses 1001 mails up front", async () => {
  const common = ["inbox", "--port", boundedSim.port, "--apn", "internet", "--pop3", `${boundedSim.info.pop3.host}:${boundedSim.info.pop3.port}`, "--user", "bob"];
  for (const flag of ["--raw", "--json"]) {
    const run = await runSimmail([...common, "headers", "1", flag], "bob-secret");
    assert.is(run.status, 2, `${flag}: ${run.stdout} ${run.stderr}`);
    const message = flag === "--json" ? JSON.parse(run.stdout).error : run.stderr;
    assert.match(message, /mail 1: its header block is larger than 1048576 bytes, more than inbox headers --raw or --json holds in memory; inbox headers 1 shows its fields decoded, inbox read 1 --out FILE saves the whole mail/);
  }
  const decoded = await runSimmail([...common, "headers", "1"], "bob-secret");
  assert.is(decoded.status, 0, decoded.stderr);
  assert.match(decoded.stdout, /^Subject: +a large header$/m, "the fields of any header size, through the fixed-size reader");
  const list = await runSimmail([...common, "list", "--json"], "bob-secret");
  assert.is(list.status, 2, list.stderr);
  assert.match(JSON.parse(list.stdout).error, /^the mailbox holds 1001 mails, more than the 1000 inbox list --json answers in one document; inbox list without --json shows them all, a line per mail as it is read$/);
});

bounded.run();
