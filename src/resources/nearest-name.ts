/** The known name a mistyped one was most likely meant to be: "Did you mean …?" in messages. */

/**
 * The candidate closest to `word` by edit distance (insertions, deletions, substitutions), when it
 * is close enough to be a typo: at most 2 edits, or a third of the word's length for long words,
 * and fewer edits than the word has letters ("vm" is not a typo of "id"). Undefined when nothing
 * is that close, so an unrelated name is never suggested.
 */
export function nearestName(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) && bestD < word.length ? best : undefined;
}

/** ` Did you mean "image"?` when a known name is near `word`; empty otherwise. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const near = nearestName(word, known);
  return near ? ` Did you mean "${near}"?` : '';
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
