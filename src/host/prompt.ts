// Asks for a secret on the terminal without echoing it (the CLI's password when
// SIMMAIL_PASSWORD is not set). Only for a TTY: the caller checks.

/** The line typed after `prompt` (on stderr), not echoed; null when the user gives up (Ctrl-C, Ctrl-D). */
export function askHidden(prompt: string): Promise<string | null> {
  const input = process.stdin;
  // Raw (no echo) before the prompt shows, so that nothing typed after it is echoed.
  input.setRawMode(true);
  process.stderr.write(prompt);
  input.setEncoding("utf8");
  input.resume();
  return new Promise((resolve) => {
    let text = "";
    const finish = (result: string | null) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      resolve(result);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish(text);
        if (ch === "\u0003" || ch === "\u0004") return finish(null);
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else text += ch;
      }
    };
    input.on("data", onData);
  });
}
