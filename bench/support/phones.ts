/**
 * Synthetic phone numbers for the scrub bench. Owner i has `onFile(i)`: +8613 followed by a
 * 9-digit permutation of i (multiplying by a number coprime to 10^9 is a bijection mod 10^9),
 * so numbers are distinct, scattered, and never form long consecutive runs. `offFile` numbers
 * use the +8615 prefix and so are never on file.
 */
const MULT = 2_654_435_761; // odd, not a multiple of 5: coprime to 10^9

export const onFile = (i: number) => `+8613${String((i * MULT) % 1_000_000_000).padStart(9, "0")}`;

/** A small deterministic PRNG (mulberry32) so every run scrubs the same lists. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `size` numbers, `hitRate` of them owners' (chosen at random among `owners`), in random order. */
export function scrubList(owners: number, size: number, hitRate: number, random: () => number): string[] {
  const hits = Math.round(size * hitRate);
  const list: string[] = [];
  for (let i = 0; i < hits; i++) list.push(onFile(Math.floor(random() * owners)));
  for (let i = hits; i < size; i++) {
    list.push(`+8615${String(Math.floor(random() * 1_000_000_000)).padStart(9, "0")}`);
  }
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}
