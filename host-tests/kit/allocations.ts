// Counts the typed arrays and ArrayBuffers made while a function runs, by wrapping the global
// constructors: how the tests show that a hot path allocates nothing per byte or per chunk.

export const COUNTED = ["Uint8Array", "Uint16Array", "Int8Array", "Uint32Array", "Int32Array", "Float64Array", "ArrayBuffer"] as const;
export type AllocationCounts = Record<(typeof COUNTED)[number], number>;

/** Every counted constructor at 0: what a path that allocates nothing gives. */
export function noAllocations(): AllocationCounts {
  return Object.fromEntries(COUNTED.map((name) => [name, 0])) as AllocationCounts;
}

/** Runs `body` with the global buffer constructors wrapped to count constructions, per kind. */
export function countingAllocations(body: () => void): AllocationCounts {
  const globals = globalThis as unknown as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  const counts = noAllocations();
  for (const name of COUNTED) {
    const original = globals[name] as new (...args: unknown[]) => object;
    originals.set(name, original);
    globals[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        counts[name]++;
        return Reflect.construct(target, args, newTarget === globals[name] ? target : newTarget);
      },
    });
  }
  try {
    body();
  } finally {
    for (const [name, original] of originals) globals[name] = original;
  }
  return counts;
}

/** Runs `body` and gives how many typed arrays and ArrayBuffers it constructed in all. */
export function allocationsDuring(body: () => void): number {
  const counts = countingAllocations(body);
  let total = 0;
  for (const name of COUNTED) total += counts[name];
  return total;
}
