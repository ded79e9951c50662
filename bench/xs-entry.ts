// What bench/xs.ts loads into XS next to dist/xs/simmail-core.js (bundled to an IIFE that
// defines globalThis.simmailBench): the stream generator, the engine replay and the
// responders, all taking the core as a parameter.
export { generateModemStream } from "./modem-stream.ts";
export { cutIntoReads, engineReplay, serialOnly } from "./engine-replay.ts";
export { createLoopBench } from "./responders.ts";
export { createPathBench, patternBytes, pop3Answer, replayResponder } from "./paths.ts";
