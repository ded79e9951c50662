// The device build's short messages: every `detail("…")` in src/ (src/transport/detail.ts) becomes
// "", so that the explanation's bytes never reach the bytecode. The argument must be one string
// literal (quotes, or a template without ${}); any other use of `detail(` fails the build,
// naming the place, so that no explanation is kept by accident or dropped with code around it.
import { readFileSync } from "node:fs";

const LITERAL = String.raw`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|` + "`(?:[^`\\\\$]|\\\\.|\\$(?!\\{))*`";
const CALL = new RegExp(String.raw`(?<![\w$.])detail\(\s*(?:${LITERAL})\s*\)`, "g");
const LEFT = /(?<![\w$.])detail\(/;
const COMMENT = /^\s*(\/\/|\*|\/\*)/;

/** `source` with every detail call replaced by "", and the places of those that could not be. */
export function dropDetails(source) {
  const code = source.replace(CALL, '""');
  const problems = [];
  code.split("\n").forEach((line, index) => {
    if (!COMMENT.test(line) && !/^export function detail\(/.test(line) && LEFT.test(line)) problems.push({ line: index + 1, text: line.trim() });
  });
  return { code, problems };
}

/** The esbuild plugin: src/**\/*.ts loaded with their details dropped. */
export function detailTextsPlugin() {
  return {
    name: "detail-texts",
    setup(b) {
      b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
        const { code, problems } = dropDetails(readFileSync(args.path, "utf8"));
        return {
          contents: code,
          loader: "ts",
          errors: problems.map((problem) => ({
            text: `detail( takes one string literal (the device build drops it): ${problem.text}`,
            location: { file: args.path, line: problem.line },
          })),
        };
      });
    },
  };
}
