import fc from 'fast-check';

/** Cases per property: 2,000 under `npm test`, 100,000 under `npm run fuzz` (FUZZ_RUNS). */
export const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 2_000);

/** Pieces of text that trip regex engines and parsers: markup, separators, markers, odd code units. */
export const nastyPiece: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '.', '!', '?', '。', ',', '，', ';', ' ', '  ', '\t', '\n', '\u3000', '\u00a0', '<', '>', '<at>', '</at>', '<b>', '&nbsp;', '&',
    'for ', 'por ', 'pentru ', 'timp de ', 'de ', 'para ', '为', '为期', '启用', 'SMTP', 'smtp ', 'enable ', 'disable ', 'status ',
    'bob', 'Ștefan', 'josé', '7', '30 days', '400 days', 'permanently', 'forever', '永久', 'help',
    '\u0000', '\ud800', '\udc00', '\ufeff', '\u200b', '\u2028', "'", '%27', '%', '#', '+', '😀', 'a\u0300',
  ),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

/**
 * Text up to `maxLength` characters, built by repeating a short run of nasty pieces: repetition is
 * what makes a backtracking pattern take quadratic time, and it keeps huge inputs cheap to generate.
 */
export function abusiveText(maxLength: number): fc.Arbitrary<string> {
  return fc.tuple(fc.array(nastyPiece, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: maxLength }), fc.string({ unit: 'binary', maxLength: 3 }))
    .map(([pieces, length, end]) => {
      const unit = pieces.join('') || 'a';
      return (unit.repeat(Math.ceil(length / unit.length)).slice(0, Math.max(0, length - end.length)) + end).slice(0, maxLength);
    });
}

/** Percentile of a list of durations (ms). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
