// The why of a message: advice and explanations that follow what failed. Host builds keep it;
// the device build (build/build.mjs, build/detail-texts.mjs) replaces every `detail("…")` with ""
// to save flash, so a message must name what failed (key, value, range) outside `detail`.

/** `text` here; "" in the device bundle. Its argument must be one string literal. */
export function detail(text: string): string {
  return text;
}
