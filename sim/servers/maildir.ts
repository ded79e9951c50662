// The maildir order both POP3 servers (Dovecot and the Node one) and messages() agree on.
import { promises as fs } from "node:fs";
import { join } from "node:path";

/** The paths of the messages in a maildir's new/ and cur/, in delivery order (the Q<sequence> in their names). */
export async function maildirFiles(maildir: string): Promise<string[]> {
  const files: Array<{ path: string; sequence: number }> = [];
  for (const folder of ["new", "cur"]) {
    for (const name of await fs.readdir(join(maildir, folder))) {
      const sequence = /Q(\d+)\./.exec(name);
      files.push({ path: join(maildir, folder, name), sequence: sequence ? Number(sequence[1]) : Number.MAX_SAFE_INTEGER });
    }
  }
  files.sort((a, b) => a.sequence - b.sequence);
  return files.map((file) => file.path);
}
